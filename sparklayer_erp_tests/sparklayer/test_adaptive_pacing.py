"""Adaptive pacing: 429s back the request rate off (and hold everyone for Retry-After), successes win it back,
and every client of one site in the process shares the pace — measured on the manual clock."""

from __future__ import annotations

import pytest

from sparklayer_erp.demo.sandbox.server import SandboxHandle
from sparklayer_erp.sparklayer.clock import ManualClock
from sparklayer_erp.sparklayer.ratelimit import AdaptivePacer
from sparklayer_erp_tests.sparklayer.conftest import MakeClient


def test_a_429_halves_the_rate_down_to_the_floor_and_one_burst_counts_once() -> None:
    clock = ManualClock()
    pacer = AdaptivePacer(8.0, clock=clock, floor=0.5, cooldown_s=1.0)
    pacer.throttled(None)
    assert pacer.rate == pytest.approx(4.0)
    pacer.throttled(None)  # same burst (within the cool-down): no second halving
    assert pacer.rate == pytest.approx(4.0)
    for _ in range(10):
        clock.sleep(1.0)
        pacer.throttled(None)
    assert pacer.rate == pytest.approx(0.5)  # never below the floor
    assert pacer.decreases == 4  # 8 → 4 → 2 → 1 → 0.5


def test_successes_recover_the_rate_gradually_up_to_the_configured_rate() -> None:
    clock = ManualClock()
    pacer = AdaptivePacer(4.0, clock=clock, recover_every=10, recover_step=0.1, cooldown_s=0)
    pacer.throttled(None)
    assert pacer.rate == pytest.approx(2.0)
    for _ in range(9):
        pacer.succeeded()
    assert pacer.rate == pytest.approx(2.0)  # not yet: 10 successes per step
    pacer.succeeded()
    assert pacer.rate == pytest.approx(2.2)
    pacer.throttled(None)  # a 429 restarts the count
    assert pacer.rate == pytest.approx(1.1)
    for _ in range(5):
        pacer.succeeded()
    pacer.throttled(None)
    assert pacer.rate == pytest.approx(0.55)
    for _ in range(1000):
        pacer.succeeded()
    assert pacer.rate == pytest.approx(4.0)  # capped at the configured rate


def test_the_backed_off_rate_spaces_requests_wider_and_retry_after_holds_every_request() -> None:
    clock = ManualClock()
    pacer = AdaptivePacer(10.0, clock=clock, cooldown_s=0)
    pacer.acquire()
    pacer.acquire()
    assert clock.sleeps == pytest.approx([0.1])
    pacer.throttled(3.0)  # rate 5/s and nothing before 3 s from now
    start = clock.monotonic()
    waited = pacer.acquire()
    assert waited == pytest.approx(3.0) and clock.monotonic() - start == pytest.approx(3.0)
    assert pacer.acquire() == pytest.approx(0.2)  # 1 / 5 rps


def test_every_client_of_one_site_shares_the_pace(make_client: MakeClient, clock: ManualClock,
                                                  fresh_shop: SandboxHandle) -> None:
    first = make_client(requests_per_second=8)
    second = make_client(requests_per_second=8)
    other_clock = make_client(requests_per_second=8, clock=ManualClock())
    assert first.pacer is second.pacer and first.pacer is not None
    assert other_clock.pacer is not first.pacer

    fresh_shop.admin.set_faults(rate_limit_next=1, retry_after_s=2)
    first.list_stock_locations()  # 429 (Retry-After 2), then 200
    assert first.stats.retries == 1
    assert second.pacer.rate == pytest.approx(4.0)
    before = clock.monotonic()
    second.list_stock_locations()
    second.list_stock_locations()
    # the retry just took the token: the backed-off 4 rps spaces the other client's calls 0.25 s apart too
    assert clock.monotonic() - before == pytest.approx(0.5)  # (at 8 rps it would be 0.25)


def test_retry_after_is_waited_once_not_twice(make_client: MakeClient, clock: ManualClock,
                                             fresh_shop: SandboxHandle) -> None:
    """The retry's own Retry-After sleep satisfies the hold: no second wait stacked on it."""
    client = make_client(requests_per_second=100)
    client.list_stock_locations()  # token fetched, bucket used
    fresh_shop.admin.set_faults(rate_limit_next=1, retry_after_s=7)
    clock.sleeps.clear()
    client.list_stock_locations()
    assert clock.sleeps == pytest.approx([0.01, 7.0])  # the 100 rps spacing, then Retry-After once
    assert client.pacer is not None and client.pacer.rate == pytest.approx(50.0)


def test_pacing_off_has_no_pacer(make_client: MakeClient) -> None:
    assert make_client(requests_per_second=None).pacer is None
