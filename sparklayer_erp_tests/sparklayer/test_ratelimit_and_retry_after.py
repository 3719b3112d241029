"""The token bucket and Retry-After parsing, on the manual clock (no real waiting)."""

from __future__ import annotations

import datetime as dt
import math

import httpx
import pytest

from sparklayer_erp.sparklayer.client import SparkLayerClient
from sparklayer_erp.sparklayer.clock import ManualClock
from sparklayer_erp.sparklayer.ratelimit import TokenBucket
from sparklayer_erp.sparklayer.retry import parse_retry_after

from .conftest import MakeClient


def _max_in_window(stamps: list[float], window: float) -> int:
    best = 0
    for i, start in enumerate(stamps):
        best = max(best, sum(1 for t in stamps[i:] if t < start + window - 1e-9))
    return best


@pytest.mark.parametrize("rate", [1.0, 7.5, 10.0, 50.0])
def test_bucket_never_exceeds_the_rate(rate: float) -> None:
    clock = ManualClock()
    bucket = TokenBucket(rate, clock=clock)
    stamps = []
    for i in range(200):
        if i % 17 == 0:
            clock.advance(0.013)  # the caller does some work now and then
        bucket.acquire()
        stamps.append(clock.monotonic())
    # in any one-second window at most ceil(rate) requests (10 at 10/s, 8 at 7.5/s)
    assert _max_in_window(stamps, 1.0) <= math.ceil(rate)
    assert _max_in_window(stamps, 10.0) <= math.ceil(10 * rate)
    # stricter: consecutive requests are never closer than 1/rate
    gaps = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
    assert min(gaps) >= 1 / rate - 1e-9
    # and it does not under-deliver: 200 requests take about 200/rate seconds
    assert stamps[-1] - stamps[0] == pytest.approx(199 / rate, rel=0.05)


def test_bucket_lets_an_idle_caller_through_without_waiting() -> None:
    clock = ManualClock()
    bucket = TokenBucket(10, clock=clock)
    assert bucket.acquire() == 0
    clock.advance(5)
    assert bucket.acquire() == 0
    assert bucket.acquire() == pytest.approx(0.1)


def test_retry_after_both_forms() -> None:
    now = dt.datetime(2025, 1, 1, 12, 0, 0, tzinfo=dt.UTC)
    assert parse_retry_after("7", now) == 7.0
    assert parse_retry_after("Wed, 01 Jan 2025 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Wed, 01 Jan 2025 11:59:00 GMT", now) == 0.0  # in the past: go now
    assert parse_retry_after("1.5", now) == 1.5
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after("-3", now) is None
    assert parse_retry_after(None, now) is None


def test_http_date_retry_after_is_waited_exactly() -> None:
    """Edge unit test on a MockTransport: the sandbox sends delta-seconds, real servers may send a date."""
    clock = ManualClock(dt.datetime(2025, 1, 1, 12, 0, 0, tzinfo=dt.UTC))
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if request.url.path == "/api/auth/token":
            return httpx.Response(200, json={"access_token": "tok", "expires_in": 3600})
        if len(calls) == 2:
            return httpx.Response(429, headers={"Retry-After": "Wed, 01 Jan 2025 12:00:42 GMT"})
        return httpx.Response(200, json=[])

    client = SparkLayerClient(
        "http://sparklayer.test", "s", "c", "secret", clock=clock, requests_per_second=None,
        transport=httpx.MockTransport(handler),
    )
    assert client.list_stock_locations() == []
    assert clock.sleeps == [42.0]
    assert client.stats.retries == 1


def test_client_paces_real_requests(make_client: MakeClient, clock: ManualClock) -> None:
    """Through the sandbox: 1 token + 10 calls at 5/s are spaced exactly 0.2 s apart on the clock."""
    client = make_client(requests_per_second=5)
    start = clock.monotonic()
    for _ in range(10):
        client.list_stock_locations()
    assert client.stats.requests == 11
    assert clock.sleeps == pytest.approx([0.2] * 10)
    assert clock.monotonic() - start == pytest.approx(2.0)
    assert client.stats.rate_limit_wait_s == pytest.approx(2.0)
