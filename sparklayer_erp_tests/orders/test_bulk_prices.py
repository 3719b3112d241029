"""The bulk price read the order sync relies on gives exactly the ERP's single-price answers."""

from __future__ import annotations

from decimal import Decimal

from sparklayer_erp.demo import demo_data
from sparklayer_erp.erp.tryton.adapter import TrytonErp, UnknownErpReference


def test_bulk_prices_equal_single_lookups_across_quantity_breaks_and_price_lists(erp: TrytonErp, monkeypatch):
    # level-price customers (TRADE, WHOLESALE, DISTRIBUTOR) and one with a contract list (C1001)
    accounts = ["C1001", "C1002", "C1003", "C1006"]
    lines = [("SKU-COLA-S", "Unit"), ("SKU-COLA-L", "Case of 12"), ("SKU-OJ-M", "Case of 6"),
             (demo_data.PRODUCTS[0].sku, "Unit")]
    # 1..600 units: below and across the demo's volume breaks at 120, 240 and 480 units
    quantities = {"Unit": [1, 119, 120, 121, 239, 240, 480, 600], "Case of 12": [1, 9, 10, 11, 20, 40, 50],
                  "Case of 6": [1, 19, 20, 21, 40, 80, 100]}
    requests = [(a, sku, Decimal(q), unit) for a in accounts for sku, unit in lines for q in quantities[unit]]
    requests += [("C1002", "SKU-DOES-NOT-EXIST", Decimal(1), "Unit"), ("NO-SUCH-CUSTOMER", "SKU-COLA-S", Decimal(1),
                                                                       "Unit")]
    reads = []
    real_read = erp.rpc.search_read
    monkeypatch.setattr(erp.rpc, "search_read", lambda *a, **kw: reads.append(a[0]) or real_read(*a, **kw))

    bulk = erp.customer_prices(requests)
    monkeypatch.undo()

    for account, sku, quantity, unit in requests:
        try:
            single = erp.customer_price(account, sku, quantity, unit)
        except UnknownErpReference:
            single = None
        assert bulk[(account, sku, quantity, unit)] == single, (account, sku, quantity, unit)
    assert len({v for v in bulk.values() if v is not None}) > len(lines)  # breaks and lists really differ
    assert len(reads) <= 3 + len(accounts) * 3 * 4  # a few reads for the lot (lists x units x brackets) ...
    assert len(reads) < len(requests) // 3  # ... not one or two per price
