"""Both pagination styles at their edges: 0, 1, exactly one page, one page + 1 rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from sparklayer_erp.demo import demo_data
from sparklayer_erp.demo.sandbox.server import SandboxHandle
from sparklayer_erp.sparklayer.client import SparkLayerClient
from sparklayer_erp.sparklayer.models import PriceList

PAGE = 3
EDGES = [(0, 1), (1, 1), (PAGE, 1), (PAGE + 1, 2)]  # (rows, requests a v2 walk needs)


def _requests(client: SparkLayerClient) -> int:
    return client.stats.requests - client.stats.token_fetches


@pytest.mark.parametrize(("rows", "requests"), EDGES)
def test_price_lists_v2_walk(client: SparkLayerClient, rows: int, requests: int) -> None:
    made = [PriceList(f"list-{n}", f"List {n}", "GBP") for n in range(rows)]
    for price_list in made:
        client.create_price_list(price_list)
    before = _requests(client)
    got = list(client.iter_price_lists(page_size=PAGE))
    assert [p.slug for p in got] == [p.slug for p in made]
    assert _requests(client) - before == requests


def test_price_list_page_size_is_bounded(client: SparkLayerClient) -> None:
    with pytest.raises(ValueError):
        list(client.iter_price_lists(page_size=251))


def _place_orders(sandbox: SandboxHandle, count: int) -> list[str]:
    customer = demo_data.CUSTOMERS[0].sparklayer_id
    ids = []
    for n in range(count):
        order = sandbox.admin.place_order(
            customer, [("SKU-COLA-S", 1 + n)], "invoice", po_number=f"PO-{n}",
            unit_price_overrides={"SKU-COLA-S": Decimal("0.80")},
        )
        ids.append(order["purchase_identifiers"]["sparklayer"])
    return ids


# limit/offset stops on a short page, so exactly one full page costs a second (empty) request
@pytest.mark.parametrize(("rows", "requests"), [(0, 1), (1, 1), (PAGE, 2), (PAGE + 1, 2)])
def test_purchases_walk(client: SparkLayerClient, sandbox: SandboxHandle, rows: int, requests: int) -> None:
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    placed = _place_orders(sandbox, rows)
    before = _requests(client)
    got = list(client.iter_purchases(since, page_size=PAGE))
    assert [p.sparklayer_id for p in got] == placed  # oldest change first
    assert _requests(client) - before == requests
    if got:
        assert got[0].customer_reference == "PO-0" and got[0].lines[0].quantity == 1


def test_purchases_window_and_page(client: SparkLayerClient, sandbox: SandboxHandle) -> None:
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    placed = _place_orders(sandbox, 4)
    stamps = [client.get_purchase("sparklayer", p).last_updated_at for p in placed]
    assert all(s is not None for s in stamps)
    # [gte, lte] is inclusive at both ends, on microsecond stamps
    window = list(client.iter_purchases(stamps[1], updated_until=stamps[2], page_size=2))
    assert [p.sparklayer_id for p in window] == placed[1:3]
    page = client.fetch_purchases_page(since, limit=2, offset=2)
    assert [p.sparklayer_id for p in page] == placed[2:]
    assert client.fetch_purchases_page(since, limit=2, offset=2, type="quote") == []


def test_customers_walk(client: SparkLayerClient) -> None:
    seeded = len(demo_data.CUSTOMERS) + 1  # plus the unlinked newcomer
    before = _requests(client)
    customers = list(client.iter_customers(page_size=10))
    assert len(customers) == seeded
    assert len({c.id for c in customers}) == seeded
    assert _requests(client) - before == -(-seeded // 10)
