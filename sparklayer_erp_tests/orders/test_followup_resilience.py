"""Throttling slows the follow-up down; it never fails it. One order whose SparkLayer calls keep being answered
with 429 (a sandbox fault rule for that purchase's path only) is counted and left for the next run; the
other orders are written and the run succeeds. Only SparkLayer being down for several orders in a row fails
the run."""

from __future__ import annotations

import dagster as dg
import pytest

from sparklayer_erp.demo.sandbox.server import SandboxHandle
from sparklayer_erp.orders.definitions import ORDER_ASSETS
from sparklayer_erp.orders.followup import MAX_CONSECUTIVE_FAILURES, WRITE_FAILED, OrderFollowup
from sparklayer_erp.orders.sync import OrderSync, fetch_requested
from sparklayer_erp.sparklayer.errors import SparkLayerRateLimited
from sparklayer_erp_tests.orders.shop import Shop

STATUS = [a for a in ORDER_ASSETS if a.key.path[-1] == "sparklayer_order_status"]


def _orders_in_the_erp(shop: Shop, ledger, erp, client, n: int) -> list[str]:
    buyer = shop.demo("C1006")  # no credit limit: invoice orders are committed whatever other tests do
    shop.link(ledger, buyer)
    pids = [shop.place(buyer, [("SKU-COLA-L", 12)], "invoice") for _ in range(n)]
    OrderSync(ledger, erp).run(fetch_requested(client, pids, None))
    assert all(ledger.get_order_link(pid).erp_order_id for pid in pids)
    return pids


def _status_run(resources) -> tuple[bool, dict]:
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(STATUS, resources=resources, instance=instance)
    (event,) = result.get_asset_materialization_events()
    return result.success, event.materialization.metadata


def test_one_order_that_keeps_failing_is_counted_and_written_by_a_later_run(
        shop: Shop, ledger, erp, client, resources, sandbox: SandboxHandle):
    first, stuck, last = _orders_in_the_erp(shop, ledger, erp, client, 3)
    # every SparkLayer call about ``stuck`` (GET, transactions, PUT) is throttled; Retry-After 0 keeps it quick
    sandbox.admin.set_faults(rate_limit_rate=1.0, retry_after_s=0, path_prefix=f"/api/v1/purchases/sparklayer/{stuck}")
    try:
        ok, meta = _status_run(resources)
        injected = sandbox.admin.faults()["injected"]
    finally:
        sandbox.admin.clear_faults()

    assert ok  # the run succeeded despite the one order
    assert meta["failed_writes"].value == 1
    assert meta["failed_write_orders"].value == [stuck]
    assert meta["status_written"].value == 2 and meta["write_failed"].value == 1
    assert injected["rate_limit"] >= 5  # the client retried it (max_attempts=5) before giving up
    assert ledger.get_order_link(stuck).last_status_hash is None  # so the next run writes it again
    assert all(ledger.get_order_link(pid).last_status_hash for pid in (first, last))
    assert shop.purchase(first).status == shop.purchase(last).status != shop.purchase(stuck).status
    failed = ledger.audit_entries(key=stuck, operation="put_purchase")
    assert [e.outcome for e in failed] == ["error"]
    assert not ledger.open_exceptions(kind="erp_refused")  # a transient failure raises no exception row

    ok, meta = _status_run(resources)  # SparkLayer answers again: the next run writes it

    assert ok and meta["failed_writes"].value == 0 and meta["status_written"].value == 1
    assert ledger.get_order_link(stuck).last_status_hash is not None
    assert shop.purchase(stuck).status == shop.purchase(first).status
    assert shop.erp_order_count([first, stuck, last]) == {first: 1, stuck: 1, last: 1}


def test_sparklayer_down_for_several_orders_in_a_row_fails_the_run(shop: Shop, ledger, erp, client,
                                                                   sandbox: SandboxHandle):
    pids = _orders_in_the_erp(shop, ledger, erp, client, MAX_CONSECUTIVE_FAILURES + 1)
    sandbox.admin.set_faults(rate_limit_rate=1.0, retry_after_s=0, path_prefix="/api/v1/purchases/")
    try:
        with pytest.raises(SparkLayerRateLimited):
            OrderFollowup(ledger, erp, client).write_back_status()
    finally:
        sandbox.admin.clear_faults()
    failed = [pid for pid in pids if ledger.audit_entries(key=pid, operation="put_purchase")]
    assert len(failed) == MAX_CONSECUTIVE_FAILURES - 1  # recorded, then the third in a row stopped the run
    assert all(ledger.get_order_link(pid).last_status_hash is None for pid in pids)

    report = OrderFollowup(ledger, erp, client).write_back_status()  # back up: everything is written

    assert report.counts == {"status written": len(pids)} and not report.failed
    assert WRITE_FAILED not in report.counts
