"""Orders that cannot go to the ERP as they are: held with an owner, and released by themselves once fixed."""

from __future__ import annotations

from decimal import Decimal

import dagster as dg

from sparklayer_erp.domain.models import ErpOrderState
from sparklayer_erp.domain.orders import PricePolicy
from sparklayer_erp.ledger import ExceptionStatus, SyncState
from sparklayer_erp.orders.definitions import ORDER_ASSETS
from sparklayer_erp.orders.sync import OrderSync, Outcome, SyncSettings, fetch_requested
from sparklayer_erp_tests.orders.shop import Shop

SYNC = [a for a in ORDER_ASSETS if a.key.path[-1] == "erp_sales_orders"]


def _sweep(resources) -> dict:
    """The sweep run: no purchase ids, so the last 24 h are re-read and held orders retried."""
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(SYNC, resources=resources, instance=instance)
    assert result.success
    return result.get_asset_materialization_events()[0].materialization.metadata


def test_order_from_an_unlinked_customer_waits_for_the_link_then_goes_through(shop: Shop, ledger, resources,
                                                                              sandbox):
    buyer = shop.demo("C1012")  # known to the ERP, but no customer link yet: the account is never guessed
    pid = shop.place(buyer, [("SKU-NUTS-L", 12)], "on_account", po="PO-NOLINK")

    first = _sweep(resources)

    assert first["quarantined"].value >= 1
    (held,) = [e for e in ledger.open_exceptions(kind="missing_customer_link") if e.entity_id == pid]
    assert held.owner_team == "sales_operations" and "PO-NOLINK" in held.message
    assert ledger.get_order_link(pid).sync_state == SyncState.QUARANTINED
    assert shop.erp_order_count([pid]) == {}
    log = sandbox.admin.sync_log("sparklayer-erp", "orders")
    assert pid in {e["external_id"] for e in log["errors"]}  # per-order errors reach SparkLayer's sync log

    shop.link(ledger, buyer)  # sales operations link the customer (the customers push does this in real life)
    second = _sweep(resources)

    assert second["created"].value >= 1
    link = ledger.get_order_link(pid)
    assert link.sync_state == SyncState.PENDING_APPROVAL and link.account_code == "C1012"
    assert shop.erp_order_count([pid]) == {pid: 1}
    assert ledger.get_exception(held.id).status == ExceptionStatus.RESOLVED
    log = sandbox.admin.sync_log("sparklayer-erp", "orders")
    assert pid not in {e["external_id"] for e in log["errors"]}


def test_a_price_mismatch_follows_the_configured_policy(shop: Shop, ledger, client, erp):
    buyer = shop.demo("C1018")
    shop.link(ledger, buyer)
    sku, units = "SKU-PRTZ-L", 12
    erp_case = erp.customer_price(buyer.account_code, sku, Decimal(1), "Case of 12")
    shop_unit = (erp_case / 12 - Decimal("0.05")).quantize(Decimal("0.0001"))  # 0.60 a case below the ERP
    pids = {policy: shop.place(buyer, [(sku, units)], "on_account", prices={sku: shop_unit},
                               po=f"PO-{policy.value}") for policy in PricePolicy}

    results = {}
    for policy, pid in pids.items():
        sync = OrderSync(ledger, erp, SyncSettings(policy=policy, tolerance=Decimal("0.01")))
        (results[policy],) = sync.run(fetch_requested(client, [pid], None)).results

    held = results[PricePolicy.HOLD_FOR_FINANCE]
    assert held.outcome is Outcome.QUARANTINED and held.exception_kinds == ("price_mismatch",)
    (exc,) = [e for e in ledger.open_exceptions(kind="price_mismatch")]
    assert exc.owner_team == "finance" and exc.entity_id == pids[PricePolicy.HOLD_FOR_FINANCE]
    assert shop.erp_order_count([held.purchase_id]) == {}

    def erp_line_price(policy: PricePolicy) -> Decimal:
        link = ledger.get_order_link(pids[policy])
        (line,) = erp.order_status([link.erp_order_id])[0].lines
        return line.unit_price

    assert results[PricePolicy.ERP_WINS].outcome is Outcome.PENDING_APPROVAL
    assert erp_line_price(PricePolicy.ERP_WINS) == erp_case
    assert "ERP price used" in results[PricePolicy.ERP_WINS].detail
    assert results[PricePolicy.SPARKLAYER_WINS].outcome is Outcome.PENDING_APPROVAL
    assert erp_line_price(PricePolicy.SPARKLAYER_WINS) == shop_unit * 12
    assert "shop price used" in results[PricePolicy.SPARKLAYER_WINS].detail


def test_an_erp_total_that_differs_from_the_shop_is_an_exception_for_finance(shop: Shop, ledger, client, erp):
    """Tryton rounds a half cent to even where the shop rounds it up: the order goes in, finance is told."""
    buyer = shop.demo("C1006")
    shop.link(ledger, buyer)
    price = shop.erp_unit_price(buyer.account_code, "SKU-WATER-S", 1)
    quantity = next(q for q in range(1, 40) if (price * q * 1000) % 10 == 5)  # a line amount ending in ½ cent
    pid = shop.place(buyer, [("SKU-WATER-S", quantity)], "on_account", rounding_gap=True)

    (result,) = OrderSync(ledger, erp).run(fetch_requested(client, [pid], None)).results

    assert result.outcome is Outcome.PENDING_APPROVAL and result.exception_kinds == ("amount_mismatch",)
    (exc,) = ledger.open_exceptions(kind="amount_mismatch")
    status = erp.order_status([ledger.get_order_link(pid).erp_order_id])[0]
    assert exc.owner_team == "finance" and exc.entity_id == pid
    assert abs(Decimal(exc.detail["difference"])) == Decimal("0.01")
    assert Decimal(exc.detail["erp_total"]) == status.total
    assert status.state is ErpOrderState.PENDING_APPROVAL


def test_a_sweep_can_look_further_back_after_a_long_outage(resources):
    config = {"ops": {"erp_sales_orders": {"config": {"sweep_hours": 72}}}}
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(SYNC, resources=resources, instance=instance, run_config=config)
    assert result.success
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["mode"].value == "sweep: last 72 h re-read, held orders retried"
