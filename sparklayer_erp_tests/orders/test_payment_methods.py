"""Orders placed in the sandbox shop become the right ERP orders, driven through the Dagster assets."""

from __future__ import annotations

from decimal import Decimal

import dagster as dg

from sparklayer_erp.domain.models import ErpOrderState
from sparklayer_erp.ledger import SyncState
from sparklayer_erp.orders.definitions import ORDER_ASSETS
from sparklayer_erp_tests.orders.shop import Shop

SYNC = [a for a in ORDER_ASSETS if a.key.path[-1] == "erp_sales_orders"]
FOLLOWUP = [a for a in ORDER_ASSETS if a.key.path[-1] != "erp_sales_orders"]


def _materialize(assets, resources, **config):
    run_config = {"ops": {"erp_sales_orders": {"config": config}}} if config else None
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(assets, resources=resources, instance=instance, run_config=run_config)
    assert result.success
    return {e.asset_key.path[-1]: e.materialization.metadata for e in result.get_asset_materialization_events()}


def test_each_payment_method_becomes_the_right_erp_order(shop: Shop, ledger, resources, erp):
    buyer = shop.demo("C1006")  # no credit limit in the ERP: committing its orders never depends on other tests
    shop.link(ledger, buyer)
    lines = [("SKU-COLA-L", 24)]  # 24 cans of a case-of-12 SKU: 2 cases in the ERP
    on_account = shop.place(buyer, lines, "on_account", po="PO-ACC-1")
    invoice = shop.place(buyer, lines, "invoice", po="PO-INV-1")
    card = shop.place(buyer, lines, "platform_upfront", po="PO-CARD-1")
    pids = [on_account, invoice, card]

    meta = _materialize(SYNC, resources, purchase_ids=pids)["erp_sales_orders"]

    assert meta["created"].value == 3
    assert (meta["pending_approval"].value, meta["committed"].value, meta["quarantined"].value) == (1, 2, 0)
    assert "PO-CARD-1" in meta["orders"].value and "the follow-up records the card payment" in meta["orders"].value
    assert shop.erp_order_count(pids) == {pid: 1 for pid in pids}
    links = ledger.order_links_for(pids)
    assert links[on_account].sync_state == SyncState.PENDING_APPROVAL
    assert links[invoice].sync_state == links[card].sync_state == SyncState.COMMITTED
    assert links[on_account].account_code == "C1006"
    statuses = {s.purchase_id: s for s in erp.order_status([link.erp_order_id for link in links.values()])}
    assert statuses[on_account].state is ErpOrderState.PENDING_APPROVAL  # no ledger impact until approved
    assert statuses[invoice].state is ErpOrderState.COMMITTED
    assert statuses[invoice].po_number == "PO-INV-1"
    assert [(ln.sku, ln.quantity, ln.unit) for ln in statuses[invoice].lines] == [("SKU-COLA-L", 2, "Case of 12")]
    # the order sync only puts orders in the ERP: the card order's invoice is not settled by it (the run ends
    # as soon as the ERP has the orders, so the next batch is not held behind a payment)
    assert all(i.state != "paid" for i in statuses[card].invoices)
    assert statuses[invoice].invoices[0].state == "draft"  # by invoice: finance posts it, on terms

    # the follow-up approves the pay-on-account order, settles the card order's invoice with the checkout
    # payment and writes the ERP's truth back to SparkLayer
    followup = _materialize(FOLLOWUP, resources)
    assert followup["erp_order_approvals"]["approved"].value == 1
    assert "PO-CARD-1" in followup["erp_card_payments"]["orders"].value
    card_invoices = erp.order_status([links[card].erp_order_id])[0].invoices
    assert card_invoices and all(i.state == "paid" and i.amount_due == 0 for i in card_invoices)  # never unpaid
    assert erp.order_status([links[on_account].erp_order_id])[0].state is ErpOrderState.COMMITTED
    for pid in pids:
        purchase = shop.purchase(pid)
        assert purchase.internal_id == statuses[pid].number
        assert purchase.status == "processing"
    assert followup["sparklayer_order_status"]["status_written"].value == 3

    # a second pass changes nothing: no second ERP order, no second write-back
    again = _materialize(SYNC, resources, purchase_ids=pids)["erp_sales_orders"]
    assert again["created"].value == 0 and again["unchanged"].value == 3
    assert _materialize(FOLLOWUP, resources)["sparklayer_order_status"].get("status_written") is None
    assert shop.erp_order_count(pids) == {pid: 1 for pid in pids}


def test_a_pack_size_order_is_converted_and_a_part_pack_is_held(shop: Shop, ledger, resources, erp):
    buyer = shop.demo("C1006")
    shop.link(ledger, buyer)
    whole = shop.place(buyer, [("SKU-CHOC-L", 12)], "on_account")  # case of 12
    part = shop.place(buyer, [("SKU-CHOC-L", 30)], "on_account")  # the shop has no pack rule: 2.5 cases

    meta = _materialize(SYNC, resources, purchase_ids=[whole, part])["erp_sales_orders"]

    assert (meta["created"].value, meta["quarantined"].value) == (1, 1)
    status = erp.order_status([ledger.get_order_link(whole).erp_order_id])[0]
    assert [(ln.sku, ln.quantity, ln.unit) for ln in status.lines] == [("SKU-CHOC-L", Decimal(1), "Case of 12")]
    held = ledger.open_exceptions(kind="not_whole_pack")
    assert [(e.entity_id, e.owner_team) for e in held] == [(part, "ecommerce")]
    assert "30 units" in held[0].message
    assert ledger.get_order_link(part).sync_state == SyncState.QUARANTINED
    assert shop.erp_order_count([part]) == {}
