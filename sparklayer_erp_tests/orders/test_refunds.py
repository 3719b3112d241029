"""Refunds and credit notes both ways, against the real Tryton and the sandbox shop: a refund recorded in the
shop becomes one ERP credit note (however often the run repeats); a credit note raised in the ERP becomes a
refund transaction in the shop, with a ``returned`` package when the goods came back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sparklayer_erp.domain.models import ErpOrderState
from sparklayer_erp.domain.order_lifecycle import SHOP_REFUND_PREFIX
from sparklayer_erp.erp.tryton.rpc import TrytonRpc
from sparklayer_erp.ledger import ExceptionStatus
from sparklayer_erp.orders.followup import OrderFollowup
from sparklayer_erp.orders.refunds import RefundSync, credit_notes_back
from sparklayer_erp.orders.sync import OrderSync, fetch_requested
from sparklayer_erp.sparklayer.models import Transaction
from sparklayer_erp_tests.erp import warehouse
from sparklayer_erp_tests.orders.shop import Shop


def _sync(ledger, erp, client, pids):
    OrderSync(ledger, erp).run(fetch_requested(client, pids, None))


def _shipped_order(shop: Shop, ledger, erp, client, wh, po: str, *, post: bool = True) -> tuple[str, int]:
    buyer = shop.demo("C1006")
    shop.link(ledger, buyer)
    pid = shop.place(buyer, [("SKU-PRTZ-L", 36), ("SKU-CRSP-L", 12)], "invoice", po=po)
    _sync(ledger, erp, client, [pid])
    erp_id = ledger.get_order_link(pid).erp_order_id
    warehouse.ship_order(wh, erp_id, tracking=f"TRK-{po}")
    if post:
        warehouse.post_invoices(wh, erp_id)
    return pid, erp_id


def _refund(client, pid: str, platform_id: str, amount: str) -> None:
    """The shop refunds the buyer (as the platform records it)."""
    client.put_transaction("sparklayer", pid, Transaction(platform_id=platform_id, type="refund",
                                                          total=-Decimal(amount), currency="GBP",
                                                          apply_to_balance=True))


def _credit_in_erp(wh: TrytonRpc, erp_id: int, comment: str) -> None:
    """Finance credits the order's invoice in full with Tryton's own Credit wizard, notes why, and posts it."""
    invoice = warehouse.invoice_ids(wh, erp_id)[0]
    with wh.wizard("account.invoice.credit", "account.invoice", [invoice]) as session:
        start = TrytonRpc.view_defaults(session.execute("start", {}))
        start["with_refund"] = False
        session.execute("credit", {"start": start})
    (note,) = wh.search_read("account.invoice", [("lines.origin", "like", "account.invoice.line,%"),
                                                 ("state", "=", "draft"), ("party.code", "=", "C1006")], ["id"])
    wh.model("account.invoice", "write", [note["id"]], {"comment": comment, "description": "Damaged in transit"})
    wh.model("account.invoice", "post", [note["id"]])


def test_a_refund_in_the_shop_becomes_one_credit_note_in_the_erp(shop: Shop, ledger, erp, client, wh):
    pid, erp_id = _shipped_order(shop, ledger, erp, client, wh, "PO-REFUND")
    _refund(client, pid, "RF-1", "12.00")

    report = RefundSync(ledger, erp, client).run([pid])
    assert [s.outcome for s in report.steps] == ["credit note raised"]
    for _ in range(2):  # re-runs: by id and by the changed-since window
        RefundSync(ledger, erp, client).run([pid])
        RefundSync(ledger, erp, client).run()

    (status,) = erp.order_status([erp_id])
    (note,) = status.credit_notes
    assert note.total == Decimal("12.00") and note.state == "posted"
    assert note.reference == f"{SHOP_REFUND_PREFIX}refund:{pid}:RF-1"
    assert note.invoice_number == status.invoices[0].number and not note.goods_returned
    assert len(ledger.audit_entries(key=pid, operation="create_credit_note")) == 1

    OrderFollowup(ledger, erp, client).write_back_status()  # the note is the shop's own refund: not echoed
    assert [t.platform_id for t in client.get_transactions("sparklayer", pid)] == ["RF-1"]


def test_a_refund_the_erp_cannot_credit_yet_is_finances_until_it_goes_through(shop: Shop, ledger, erp, client, wh):
    pid, erp_id = _shipped_order(shop, ledger, erp, client, wh, "PO-REFUND-EARLY", post=False)
    _refund(client, pid, "RF-EARLY", "5.00")

    (step,) = RefundSync(ledger, erp, client).run([pid]).steps
    assert step.outcome == "not credited"
    (open_,) = ledger.open_exceptions(kind="refund_not_credited")
    assert open_.entity_id == pid and open_.owner_team == "finance"
    assert erp.order_status([erp_id])[0].credit_notes == ()

    warehouse.post_invoices(wh, erp_id)
    (step,) = RefundSync(ledger, erp, client).run([pid]).steps
    assert step.outcome == "credit note raised"
    assert ledger.get_exception(open_.id).status == ExceptionStatus.RESOLVED
    assert [n.total for n in erp.order_status([erp_id])[0].credit_notes] == [Decimal("5.00")]


def test_a_credit_note_in_the_erp_becomes_a_refund_and_a_return_in_the_shop(shop: Shop, ledger, erp, client, wh):
    pid, erp_id = _shipped_order(shop, ledger, erp, client, wh, "PO-ERP-CREDIT")
    followup = OrderFollowup(ledger, erp, client)
    followup.write_back_status()
    assert shop.purchase(pid).status == "shipped"

    _credit_in_erp(wh, erp_id, "Goods returned: pallet damaged")
    for _ in range(3):
        OrderFollowup(ledger, erp, client).write_back_status()
    (status,) = erp.order_status([erp_id])
    (note,) = status.credit_notes
    refunds = [t for t in client.get_transactions("sparklayer", pid) if t.type == "refund"]
    assert [(t.platform_id, t.total) for t in refunds] == [(f"erp-credit-{note.number}", -status.total)]
    purchase = shop.purchase(pid)
    (returned,) = [p for p in purchase.packages if p.type == "return"]
    assert {ln.sku: ln.quantity for ln in returned.lines} == {"SKU-PRTZ-L": 36, "SKU-CRSP-L": 12}
    assert purchase.status == "returned" and purchase.raw["calculated_fulfilment_status"] == "returned"

    # a refund written back is never credited a second time by the shop-to-ERP direction
    RefundSync(ledger, erp, client).run([pid])
    assert len(erp.order_status([erp_id])[0].credit_notes) == 1


def test_a_credit_note_after_the_order_ended_still_reaches_the_shop(shop: Shop, ledger, erp, client, wh):
    pid, erp_id = _shipped_order(shop, ledger, erp, client, wh, "PO-LATE-CREDIT")
    warehouse.pay_by_bank(wh, erp_id, reference="BACS-LATE")
    followup = OrderFollowup(ledger, erp, client)
    followup.write_back_status()
    assert erp.order_status([erp_id])[0].state is ErpOrderState.DONE
    assert shop.purchase(pid).status == "complete"
    assert not followup.write_back_status().steps  # final: no longer looked at

    _credit_in_erp(wh, erp_id, "Price dispute")
    credit_notes_back(ledger, erp, OrderFollowup(ledger, erp, client), dt.date.today())
    credit_notes_back(ledger, erp, OrderFollowup(ledger, erp, client), dt.date.today())
    refunds = [t for t in client.get_transactions("sparklayer", pid) if t.type == "refund"]
    assert len(refunds) == 1 and refunds[0].platform_id.startswith("erp-credit-")
    purchase = shop.purchase(pid)
    assert not [p for p in purchase.packages if p.type == "return"]  # money only: no goods came back
    assert purchase.status == "complete"


def test_cancelling_an_invoiced_order_goes_through_a_credit_note(shop: Shop, ledger, erp, client, wh):
    buyer = shop.demo("C1006")
    shop.link(ledger, buyer)
    pid = shop.place(buyer, [("SKU-PRTZ-L", 24), ("SKU-CRSP-L", 12)], "invoice", po="PO-CANCEL-INVOICED")
    _sync(ledger, erp, client, [pid])
    erp_id = ledger.get_order_link(pid).erp_order_id
    (invoice_number,) = warehouse.post_invoices(wh, erp_id)  # invoiced, nothing allocated yet

    shop.cancel(pid)
    (result,) = OrderSync(ledger, erp).run(fetch_requested(client, [pid], None)).results
    assert result.outcome.value == "cancelled", result.detail
    (status,) = erp.order_status([erp_id])
    assert status.state is ErpOrderState.CANCELLED
    (note,) = status.credit_notes
    assert note.total == status.total and note.invoice_number == invoice_number
    assert [i.state for i in status.invoices] == ["cancelled"]
    assert not [e for e in ledger.open_exceptions() if e.entity_id == pid]

    OrderFollowup(ledger, erp, client).write_back_status()
    assert shop.purchase(pid).status == "cancelled"
    assert not [t for t in client.get_transactions("sparklayer", pid) if t.type == "refund"]  # nothing was paid
