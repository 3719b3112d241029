"""Each retry rule against the sandbox's fault switches; every wait is read off the manual clock."""

from __future__ import annotations

import socket
from decimal import Decimal

import pytest

from sparklayer_erp.demo.sandbox.server import SandboxHandle
from sparklayer_erp.sparklayer.client import SparkLayerClient
from sparklayer_erp.sparklayer.clock import ManualClock
from sparklayer_erp.sparklayer.errors import (
    SparkLayerConflict,
    SparkLayerNotFound,
    SparkLayerRateLimited,
    SparkLayerServerError,
    SparkLayerUnavailable,
    SparkLayerValidationError,
)
from sparklayer_erp.sparklayer.models import PriceList, PricingRow

from .conftest import MakeClient


def _api_requests(client: SparkLayerClient) -> int:
    return client.stats.requests - client.stats.token_fetches


def test_429_waits_exactly_retry_after(
    client: SparkLayerClient, sandbox: SandboxHandle, clock: ManualClock
) -> None:
    client.get_token()
    sandbox.admin.set_faults(rate_limit_next=2, retry_after_s=7)
    assert client.list_stock_locations() == []
    assert clock.sleeps == [7.0, 7.0]
    assert _api_requests(client) == 3


def test_5xx_backs_off_exponentially_with_jitter_then_succeeds(
    client: SparkLayerClient, sandbox: SandboxHandle, clock: ManualClock
) -> None:
    client.get_token()
    sandbox.admin.set_faults(server_error_next=3, server_error_status=502)
    client.list_customer_groups()
    assert _api_requests(client) == 4
    first, second, third = clock.sleeps
    # cap doubles from 0.5 s; each wait is drawn from [cap/2, cap]
    assert 0.25 <= first <= 0.5 and 0.5 <= second <= 1.0 and 1.0 <= third <= 2.0


def test_retryable_409_is_retried_and_the_write_lands(
    client: SparkLayerClient, sandbox: SandboxHandle, clock: ManualClock
) -> None:
    client.create_price_list(PriceList("trade", "Trade", "GBP"))
    sandbox.admin.set_faults(conflict_next=1)
    client.patch_pricing("trade", [PricingRow("SKU-COLA-S", "trade", ((1, Decimal("0.72")),))])
    assert len(clock.sleeps) == 1
    assert client.get_pricing("trade") == [PricingRow("SKU-COLA-S", "trade", ((1, Decimal("0.72")),))]


def test_genuine_409_is_not_retried(client: SparkLayerClient, clock: ManualClock) -> None:
    client.create_stock_location("Main warehouse", "WH")
    with pytest.raises(SparkLayerConflict) as caught:
        client.create_stock_location("Main warehouse again", "WH")
    assert caught.value.retryable is False
    assert "resource-already-exists" in caught.value.codes
    assert clock.sleeps == [] and _api_requests(client) == 2


@pytest.mark.parametrize("kind", ["400", "404"])
def test_other_4xx_are_never_retried(client: SparkLayerClient, clock: ManualClock, kind: str) -> None:
    if kind == "400":
        client.create_price_list(PriceList("trade", "Trade", "GBP"))
        with pytest.raises(SparkLayerValidationError) as caught:
            client.create_price_list(PriceList("trade", "Trade again", "GBP"))  # not an upsert
        assert "resource-already-exists" in caught.value.codes
        expected_requests = 2
    else:
        with pytest.raises(SparkLayerNotFound):
            client.get_price_list("no-such-list")
        expected_requests = 1
    assert clock.sleeps == [] and _api_requests(client) == expected_requests


def test_pricing_line_errors_are_kept(client: SparkLayerClient) -> None:
    with pytest.raises(SparkLayerValidationError) as caught:
        client.batch_update_pricing([PricingRow("SKU-1", "trade", ((1, Decimal("-1")),))])
    (item,) = caught.value.errors
    assert item.line == 1 and item.field and item.message
    assert "line 1" in str(caught.value)


def test_attempts_are_capped(make_client: MakeClient, sandbox: SandboxHandle, clock: ManualClock) -> None:
    client = make_client(max_attempts=3)
    client.get_token()
    sandbox.admin.set_faults(server_error_next=10)
    with pytest.raises(SparkLayerServerError) as caught:
        client.list_stock_locations()
    assert caught.value.status == 503
    assert _api_requests(client) == 3 and len(clock.sleeps) == 2


def test_total_wait_is_capped(make_client: MakeClient, sandbox: SandboxHandle, clock: ManualClock) -> None:
    client = make_client(max_attempts=10, max_total_wait_s=60)
    client.get_token()
    sandbox.admin.set_faults(rate_limit_next=10, retry_after_s=25)
    with pytest.raises(SparkLayerRateLimited) as caught:
        client.list_stock_locations()
    assert caught.value.retry_after_s == 25
    assert clock.sleeps == [25.0, 25.0]  # a third wait would pass 60 s in total: give up instead
    assert _api_requests(client) == 3


def test_dropped_connection_is_retried_for_an_idempotent_call(
    client: SparkLayerClient, sandbox: SandboxHandle, clock: ManualClock
) -> None:
    client.get_token()
    sandbox.admin.set_faults(drop_next=2)
    assert client.list_stock_locations() == []
    assert len(clock.sleeps) == 2


def test_non_idempotent_post_is_not_resent_when_it_may_have_landed(
    client: SparkLayerClient, sandbox: SandboxHandle, clock: ManualClock
) -> None:
    client.get_token()
    sandbox.admin.set_faults(server_error_next=1)
    with pytest.raises(SparkLayerServerError):
        client.create_customer_group("wholesale", "Wholesale")
    sandbox.admin.set_faults(drop_next=1)
    with pytest.raises(SparkLayerUnavailable):
        client.create_customer_group("wholesale", "Wholesale")
    assert clock.sleeps == []
    # but a 429 means "not processed": that is re-sent even for a create
    sandbox.admin.set_faults(rate_limit_next=1, retry_after_s=3)
    groups = client.create_customer_group("wholesale", "Wholesale")
    assert "wholesale" in {g.slug for g in groups}
    assert clock.sleeps == [3.0]


def test_connection_refused_is_retried_then_unavailable(make_client: MakeClient, clock: ManualClock) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = make_client(base_url=f"http://127.0.0.1:{port}", max_attempts=4)
    with pytest.raises(SparkLayerUnavailable) as caught:
        client.create_customer_group("x", "X")  # never arrived, so even a create is retried
    assert caught.value.status is None
    assert len(clock.sleeps) == 3
