"""Cancellations and changes made in SparkLayer, before and after the point of no return, and the ERP's
status (shipped with tracking, invoiced, paid, cancelled) written back to the SparkLayer purchase."""

from __future__ import annotations

from decimal import Decimal

from sparklayer_erp.domain.models import ErpOrderState
from sparklayer_erp.ledger import ExceptionStatus, SyncState
from sparklayer_erp.orders.followup import OrderFollowup
from sparklayer_erp.orders.sync import OrderSync, Outcome, fetch_requested
from sparklayer_erp_tests.erp import warehouse
from sparklayer_erp_tests.orders.shop import Shop


def _sync(ledger, erp, client, pids):
    return {r.purchase_id: r for r in OrderSync(ledger, erp).run(fetch_requested(client, pids, None)).results}


def _status(erp, ledger, pid):
    return erp.order_status([ledger.get_order_link(pid).erp_order_id])[0]


def test_cancel_and_change_before_the_point_of_no_return_are_applied_to_the_erp(shop: Shop, ledger, erp, client):
    buyer = shop.demo("C1006")
    shop.link(ledger, buyer)
    pending = shop.place(buyer, [("SKU-COLA-L", 12)], "on_account", po="PO-AMEND")
    committed = shop.place(buyer, [("SKU-CRSP-L", 12)], "invoice", po="PO-CANCEL")
    confirmed = shop.place(buyer, [("SKU-CRSP-L", 12)], "invoice", po="PO-AMEND-LATE")
    _sync(ledger, erp, client, [pending, committed, confirmed])

    shop.amend(buyer, pending, [("SKU-COLA-L", 24), ("SKU-CHOC-L", 12)])
    shop.cancel(committed)
    shop.amend(buyer, confirmed, [("SKU-CRSP-L", 24)])
    results = _sync(ledger, erp, client, [pending, committed, confirmed])

    assert results[pending].outcome is Outcome.AMENDED
    lines = {(ln.sku, ln.quantity, ln.unit) for ln in _status(erp, ledger, pending).lines}
    assert lines == {("SKU-COLA-L", Decimal(2), "Case of 12"), ("SKU-CHOC-L", Decimal(1), "Case of 12")}
    assert results[committed].outcome is Outcome.CANCELLED
    assert _status(erp, ledger, committed).state is ErpOrderState.CANCELLED
    assert ledger.get_order_link(committed).sync_state == SyncState.CANCELLED
    # A confirmed Tryton order cannot take new lines: operations decide, the ERP order is untouched.
    assert results[confirmed].outcome is Outcome.RAISED
    (refused,) = ledger.open_exceptions(kind="erp_refused")
    assert refused.entity_id == confirmed and refused.owner_team == "operations"
    assert [ln.quantity for ln in _status(erp, ledger, confirmed).lines] == [Decimal(1)]
    assert ledger.audit_entries(key=committed, operation="cancel_order")[0].outcome == "ok"

    OrderFollowup(ledger, erp, client).write_back_status()
    cancelled = shop.purchase(committed)
    assert cancelled.status == "cancelled"
    assert "cancellation" in {p.type for p in cancelled.packages}
    assert shop.erp_order_count([pending, committed, confirmed]) == {pending: 1, committed: 1, confirmed: 1}


def test_after_the_point_of_no_return_the_erp_owns_the_order_and_its_status_flows_back(
        shop: Shop, ledger, erp, client, wh):
    buyer = shop.demo("C1006")
    shop.link(ledger, buyer)
    pid = shop.place(buyer, [("SKU-PRTZ-L", 24)], "invoice", po="PO-LATE")
    _sync(ledger, erp, client, [pid])
    erp_id = ledger.get_order_link(pid).erp_order_id
    warehouse.assign_shipments(wh, erp_id)  # stock allocated: the point of no return

    shop.cancel(pid)  # too late
    (result,) = _sync(ledger, erp, client, [pid]).values()

    assert result.outcome is Outcome.RAISED
    (late,) = ledger.open_exceptions(kind="cancel_after_point_of_no_return")
    assert late.entity_id == pid and late.owner_team == "operations"
    status = _status(erp, ledger, pid)
    assert status.state is ErpOrderState.COMMITTED and status.point_of_no_return
    assert not ledger.audit_entries(key=pid, operation="cancel_order")  # the ERP order was not touched

    followup = OrderFollowup(ledger, erp, client)
    followup.write_back_status()
    purchase = shop.purchase(pid)
    assert purchase.status == "processing"  # SparkLayer shows the ERP's status, not the late cancellation
    assert purchase.internal_id == status.number

    warehouse.ship_order(wh, erp_id, tracking="TRK-0042")
    invoice_numbers = warehouse.post_invoices(wh, erp_id)
    followup.write_back_status()
    shipped = shop.purchase(pid)
    assert shipped.status == "shipped"
    shipment = next(p for p in shipped.packages if p.type == "shipment")
    assert [s.tracking_number for s in shipment.shipments] == ["TRK-0042"]
    assert sum(line.quantity for line in shipment.lines) == 24  # the buyer's lines moved to the shipment
    assert shipped.raw["calculated_fulfilment_status"] == "shipped"
    assert {f.visible_id for f in shipped.accounting_files} == set(invoice_numbers)

    warehouse.pay_by_bank(wh, erp_id, reference="BACS-77")
    followup.write_back_status()
    paid = shop.purchase(pid)
    transactions = client.get_transactions("sparklayer", pid)
    assert [t.total for t in transactions] == [_status(erp, ledger, pid).total]
    assert _status(erp, ledger, pid).state is ErpOrderState.DONE  # shipped and paid: the ERP order has ended
    assert paid.status == "complete"
    assert ledger.get_exception(late.id).status == ExceptionStatus.RESOLVED  # nothing left to watch
    assert ledger.get_order_link(pid).sync_state == SyncState.SETTLED
    assert not followup.write_back_status().steps  # nothing changed: nothing written
