"""Every drift rule, end to end: a real situation in the sandbox shop and the real Tryton produces it, the
monitor records it as an owned exception, and once a person (or a flow) fixes the cause the next evaluation
closes it by itself.

The module is one working day on a private ERP and shop: orders are placed, synced by the real order flow,
then things go wrong the way they do in practice (the warehouse allocates, the buyer cancels, finance posts an
invoice before the card payment was recorded, ...).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import dagster as dg
import pytest

from sparklayer_erp.demo import demo_data
from sparklayer_erp.domain.drift import DriftConfig
from sparklayer_erp.domain.models import ErpOrderDraft, ErpOrderLine, ErpOrderState, PaymentMethod
from sparklayer_erp.ledger import ExceptionRow, Ledger
from sparklayer_erp.masterdata.assets import erp_stock, sparklayer_stock
from sparklayer_erp.monitoring.watch import MonitorSettings, erp_label, run_drift
from sparklayer_erp.orders.followup import OrderFollowup
from sparklayer_erp.orders.sync import OrderSync
from sparklayer_erp_tests.erp import warehouse
from sparklayer_erp_tests.monitoring.conftest import resources_for

pytestmark = pytest.mark.filterwarnings("ignore::dagster.PreviewWarning")

# No grace periods: the test does not wait; the grace periods themselves are unit-tested in domain_recon.
CONFIG = DriftConfig(stuck_after=dt.timedelta(0), status_grace=dt.timedelta(0), payment_grace=dt.timedelta(0),
                     stale_after={})
SETTINGS = MonitorSettings(pending_grace=dt.timedelta(0))
COLA = [("SKU-COLA-L", 24)]  # two cases of 12; the ERP and the shop round these lines alike


def sync(ledger: Ledger, erp, client, *pids: str):
    """The order sync as production runs it: orders into the ERP; card invoices are left to the follow-up."""
    purchases = [client.get_purchase("sparklayer", pid) for pid in pids]
    return OrderSync(ledger, erp).run(purchases)


def live(ledger: Ledger, kind: str, entity_id: str) -> ExceptionRow | None:
    return next((r for r in ledger.open_exceptions(kind=kind, include_accepted=True) if r.entity_id == entity_id),
                None)


def erp_id(ledger: Ledger, pid: str) -> int:
    link = ledger.get_order_link(pid)
    assert link is not None and link.erp_order_id is not None, f"{pid} has no ERP order"
    return link.erp_order_id


def test_order_drift_rules_fire_on_real_situations_and_close_themselves(shop, ledger, erp, client, wh, admin,
                                                                          sandbox, erp_server, tmp_path):
    buyer = shop.demo("C1006")  # no credit limit in the ERP
    # (a) a customer the shop knows, with an ERP account nobody linked yet: the order is held → stuck
    warehouse.create_customer(admin, "C9001", name="Newcomer Ltd", price_list="TRADE")
    newcomer = demo_data.UNLINKED_SPARKLAYER_CUSTOMER["id"]
    price = shop.erp_unit_price("C9001", "SKU-COLA-L", 24)
    stuck = sandbox.admin.place_order(newcomer, COLA, "platform_upfront", po_number="PO-STUCK",
                                      unit_price_overrides={"SKU-COLA-L": price})["purchase_identifiers"]["sparklayer"]
    # (b) cancelled by the buyer after the warehouse allocated stock; (d) shipped, not yet shown in the shop;
    # (f) changed by the buyer after allocation; (g) pay-later order whose shipment the ERP cancelled;
    # (j) a healthy order that must never be reported
    cancelled_late, shipped, amended, released, healthy = (shop.place(buyer, COLA, "invoice") for _ in range(5))
    pending = shop.place(buyer, [("SKU-LEMON-L", 36)], "on_account")  # (h) waits for approval
    card_cancelled_in_erp = shop.place(buyer, COLA, "platform_upfront")  # (e)
    card_unpaid_in_erp = shop.place(buyer, COLA, "platform_upfront")  # (i)
    sync(ledger, erp, client, stuck, cancelled_late, shipped, amended, released, healthy, pending)
    sync(ledger, erp, client, card_cancelled_in_erp, card_unpaid_in_erp)  # no follow-up yet: unpaid in the ERP
    assert ledger.get_order_link(stuck).erp_order_id is None

    warehouse.assign_shipments(wh, erp_id(ledger, cancelled_late))
    sandbox.admin.cancel_order(cancelled_late)
    warehouse.ship_order(wh, erp_id(ledger, shipped), tracking="TRK-DRIFT-1")
    warehouse.assign_shipments(wh, erp_id(ledger, amended))
    sandbox.admin.amend_order(amended, [("SKU-COLA-L", 36)],
                              unit_price_overrides={"SKU-COLA-L": shop.erp_unit_price("C1006", "SKU-COLA-L", 24)})
    sync(ledger, erp, client, cancelled_late, amended)  # the flow leaves both to the ERP (point of no return)
    wh.model("stock.shipment.out", "cancel", warehouse.shipment_ids(wh, erp_id(ledger, released)))
    assert erp.cancel_order(erp_id(ledger, card_cancelled_in_erp)).ok
    warehouse.post_invoices(wh, erp_id(ledger, card_unpaid_in_erp))  # posted before the card payment was recorded
    # (c) an ERP order carrying a SparkLayer purchase id that SparkLayer does not have
    ghost_pid = f"ghost-{uuid.uuid4().hex[:8]}"
    (ghost,) = erp.create_orders([ErpOrderDraft(
        purchase_id=ghost_pid, account_code="C1006", po_number="PO-GHOST", payment_method=PaymentMethod.INVOICE,
        lines=(ErpOrderLine("SKU-WATER-L", Decimal(1), "Case of 12", Decimal("5.00")),), commit=False)])
    assert ghost.order is not None

    snapshot, outcome = run_drift(client, erp, ledger, CONFIG, SETTINGS)

    statuses = {s.purchase_id: s for s in erp.order_status([erp_id(ledger, p) for p in (cancelled_late,)])}
    expected = {
        ("order_stuck", stuck), ("customer_without_account_code", newcomer),
        ("erp_order_orphaned", erp_label(statuses[cancelled_late])), ("erp_order_orphaned", ghost.order.number),
        ("status_mismatch", shipped), ("status_mismatch", card_cancelled_in_erp),
        ("amount_mismatch", amended), ("draft_order_stock_not_held", released),
        ("draft_order_stock_not_held", pending), ("paid_in_shop_unpaid_in_erp", card_unpaid_in_erp),
    }
    found = {(p.kind, p.entity_id) for p in outcome.problems}
    assert expected <= found, expected - found
    assert not {pid for kind, pid in found if pid == healthy}, "a healthy order must never be reported"
    ghost_row = live(ledger, "erp_order_orphaned", ghost.order.number)
    assert ghost_row is not None and "no longer in SparkLayer" in ghost_row.message
    assert live(ledger, "erp_order_orphaned", erp_label(statuses[cancelled_late])).owner_team == "operations"
    mismatch = live(ledger, "amount_mismatch", amended)
    assert mismatch.owner_team == "finance" and mismatch.detail["difference"] != "0.00"
    assert "shipped" in live(ledger, "status_mismatch", shipped).message
    unpaid = live(ledger, "paid_in_shop_unpaid_in_erp", card_unpaid_in_erp)
    due = erp.order_status([erp_id(ledger, card_unpaid_in_erp)])[0].invoices[0].amount_due
    assert unpaid.owner_team == "finance" and Decimal(unpaid.detail["amount"]) == due > 0
    assert snapshot.lookups == 1  # only the ghost's purchase id had to be looked up one by one

    # a second evaluation counts the same problems again: nothing new opens
    _, again = run_drift(client, erp, ledger, CONFIG, SETTINGS)
    assert again.opened == [] and live(ledger, "status_mismatch", shipped).count == 2

    # --- the fixes, each by the person or flow that owns it -------------------------------------------------
    ledger.upsert_customer_link("C9001", newcomer, demo_data.UNLINKED_SPARKLAYER_CUSTOMER["external_id"],
                                demo_data.UNLINKED_SPARKLAYER_CUSTOMER["email"])
    sync(ledger, erp, client, stuck)  # sales operations linked the account: the held order goes through
    OrderFollowup(ledger, erp, client).record_card_payments()  # ... and the follow-up settles its card invoice
    erp_cancelled = erp_id(ledger, cancelled_late)
    wh.model("stock.shipment.out", "wait", warehouse.shipment_ids(wh, erp_cancelled))  # warehouse stops it
    assert erp.cancel_order(erp_cancelled).ok
    assert erp.cancel_order(ghost.order.erp_id).ok
    OrderFollowup(ledger, erp, client).write_back_status()  # the ERP's truth: shipped (d), cancelled (e)
    assert client.get_purchase("sparklayer", card_cancelled_in_erp).status == "cancelled"
    sandbox.admin.amend_order(amended, COLA,  # the buyer agrees to the order as it ships
                              unit_price_overrides={"SKU-COLA-L": shop.erp_unit_price("C1006", "SKU-COLA-L", 24)})
    sandbox.admin.cancel_order(released)
    sync(ledger, erp, client, released)  # the buyer cancelled: before allocation the flow cancels the ERP order
    assert erp.order_status([erp_id(ledger, released)])[0].state is ErpOrderState.CANCELLED
    OrderFollowup(ledger, erp, client).record_card_payments()
    _push_stock(ledger, sandbox, erp_server, tmp_path)  # the next stock push holds back the pending order

    _, after = run_drift(client, erp, ledger, CONFIG, SETTINGS)

    still = {(p.kind, p.entity_id) for p in after.problems} & expected
    assert still == set()
    assert sum(after.resolved.values()) >= len(expected)
    for kind, entity in expected:
        assert live(ledger, kind, entity) is None, (kind, entity)


def _push_stock(ledger: Ledger, sandbox, server, tmp_path) -> None:
    resources = resources_for(str(ledger.engine.url), sandbox, server, tmp_path / "data")
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize([erp_stock, sparklayer_stock], resources=resources, instance=instance)
    assert result.success
    assert ledger.sync_status("stock").last_success_at is not None


def test_master_data_drift_rules(shop, ledger, erp, client, admin, sandbox):
    """Mapping gaps and stale syncs: a product the ERP stopped selling, an item with no price, a sync that
    has not succeeded; each closes once fixed at the source."""
    buyer = shop.demo("C1012")
    shop.place(buyer, [("SKU-FLAP-S", 10)], "invoice")  # sold in the shop today ...
    flapjack = admin.model("product.template", "search", [("products.code", "=", "SKU-FLAP-S")], 0, 1, None)
    admin.model("product.template", "write", flapjack, {"salable": False})  # ... and no longer by the ERP
    template = admin.search_read("product.template", [("id", "=", flapjack[0])],
                                 ["default_uom", "sale_uom", "account_category"])[0]
    admin.model("product.template", "create", [{
        "name": "Gift box (no price yet)", "type": "goods", "code": "SKU-GIFT-BOX", "salable": True,
        "default_uom": template["default_uom"], "sale_uom": template["sale_uom"],
        "account_category": template["account_category"], "products": [["create", [{}]]]}])
    config = DriftConfig(stale_after={"prices": dt.timedelta(hours=26)})
    ledger.record_sync_start("prices")

    _, outcome = run_drift(client, erp, ledger, config, SETTINGS)

    found = {(p.kind, p.entity_id, p.owner_team.value) for p in outcome.problems}
    assert {("sku_unknown_to_erp", "SKU-FLAP-S", "ecommerce"), ("item_without_price", "SKU-GIFT-BOX", "finance"),
            ("stale_sync", "prices", "operations")} <= found
    assert ("item_without_price", "SKU-FLAP-S", "finance") not in found  # priced; just not for sale
    stale = live(ledger, "stale_sync", "prices")
    assert "since it was set up" in stale.message

    admin.model("product.template", "write", flapjack, {"salable": True})
    gift = admin.model("product.template", "search", [("code", "=", "SKU-GIFT-BOX")], 0, 1, None)
    admin.model("product.template", "write", gift, {"list_price": Decimal("4.50")})
    ledger.record_sync_success("prices")

    _, after = run_drift(client, erp, ledger, config, SETTINGS)

    assert after.resolved["sku_unknown_to_erp"] == 1 and after.resolved["item_without_price"] == 1
    assert after.resolved["stale_sync"] == 1
    for kind, entity in (("sku_unknown_to_erp", "SKU-FLAP-S"), ("item_without_price", "SKU-GIFT-BOX"),
                         ("stale_sync", "prices")):
        assert live(ledger, kind, entity) is None
