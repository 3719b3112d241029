"""What the ERP says back: shipments with tracking, invoices and what is left to pay, card payments recorded
once, and the orders of a period for month-end.

The words for shipment and invoice states are the port's vocabulary, not an ERP's: a shipped shipment is
"done", a cancelled one "cancelled"; an invoice is "draft", "posted" (open), "paid" or "cancelled" (the
status write-back, the drift monitor and month-end read them).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from sparklayer_erp.domain.models import ErpOrderState, PaymentMethod, RefusalReason
from sparklayer_erp_tests.erp.contract.back_office import taxed
from sparklayer_erp_tests.erp.contract.drafts import ACCOUNT, draft, line, untaxed

OPEN_INVOICE_STATES = ("draft", "posted")


@pytest.fixture
def uid() -> str:
    return uuid.uuid4().hex[:10]


def amount_to_pay(status) -> Decimal:
    return sum((i.amount_due for i in status.invoices if i.state in OPEN_INVOICE_STATES), Decimal(0))


def test_shipped_with_tracking_then_invoiced_then_paid_by_bank(erp_port, office, uid):
    result = erp_port.create_orders([draft(office, f"{uid}-life")])[0]
    erp_id = result.order.erp_id
    office.ship(erp_id, tracking=f"TRK-{uid}")
    (status,) = erp_port.order_status([erp_id])
    assert status.state == ErpOrderState.COMMITTED and status.point_of_no_return
    (shipment,) = [s for s in status.shipments if s.state != "cancelled"]
    assert shipment.state == "done" and shipment.tracking_number == f"TRK-{uid}"
    assert shipment.shipped_on is not None and abs((shipment.shipped_on - dt.date.today()).days) <= 1

    numbers = office.invoice(erp_id)
    (status,) = erp_port.order_status([erp_id])
    posted = [i for i in status.invoices if i.state == "posted"]
    assert numbers and [i.number for i in posted] == numbers
    assert sum(i.total for i in posted) == status.total == untaxed(status.lines) + taxed(untaxed(status.lines))
    assert amount_to_pay(status) == status.total
    assert all(i.invoice_date and i.due_date and i.due_date >= i.invoice_date for i in posted)

    office.pay_by_bank(erp_id, reference=f"BACS-{uid}")
    (status,) = erp_port.order_status([erp_id])
    assert status.state == ErpOrderState.DONE
    assert [i.state for i in status.invoices if i.state != "cancelled"] == ["paid"] * len(posted)
    assert amount_to_pay(status) == 0
    assert sum(p.amount for p in status.payments) == status.total
    assert {p.reference for p in status.payments} == {f"BACS-{uid}"}
    assert erp_port.cancel_order(erp_id).refusal.reason == RefusalReason.POINT_OF_NO_RETURN
    assert erp_port.find_orders([f"{uid}-life"])[f"{uid}-life"].state == ErpOrderState.DONE


def test_a_partial_shipment_is_past_the_point_of_no_return_and_not_yet_done(erp_port, office, uid):
    lines = (line(office, "SKU-COLA-L", 1), line(office, "SKU-OJ-S", 3, single=True))
    result = erp_port.create_orders([draft(office, f"{uid}-part", lines=lines)])[0]
    office.ship(result.order.erp_id, tracking=f"TRK-{uid}", partial=True)
    (status,) = erp_port.order_status([result.order.erp_id])
    assert status.state == ErpOrderState.COMMITTED and status.point_of_no_return
    done = [s for s in status.shipments if s.state == "done"]
    assert [s.tracking_number for s in done] == [f"TRK-{uid}"]
    # what left is on a shipment done with its tracking number; the rest is not (NetSuite: no shipment yet)
    assert [(sl.sku, sl.quantity, sl.unit) for s in done for sl in s.lines] == [
        (lines[0].sku, lines[0].quantity, lines[0].unit)]
    open_lines = [(sl.sku, sl.quantity) for s in status.shipments if s.state not in ("done", "cancelled")
                  for sl in s.lines]
    assert open_lines in ([], [(lines[1].sku, lines[1].quantity)])
    assert [(ln.sku, ln.quantity) for ln in status.lines] == [(ln.sku, ln.quantity) for ln in lines]
    assert erp_port.cancel_order(result.order.erp_id).refusal.reason == RefusalReason.POINT_OF_NO_RETURN


def test_a_card_payment_is_recorded_once_and_leaves_nothing_to_pay(erp_port, office, uid):
    result = erp_port.create_orders([draft(office, f"{uid}-card", method=PaymentMethod.UPFRONT)])[0]
    erp_id = result.order.erp_id
    total = erp_port.order_status([erp_id])[0].total
    today = dt.date.today()
    first = erp_port.record_payment(erp_id, total, today, f"CARD-{uid}")
    if not first.ok:  # an ERP that bills on fulfilment has no invoice to settle yet: a business answer
        assert first.refusal.reason == RefusalReason.INVALID_STATE, first.refusal
        assert not erp_port.order_status([erp_id])[0].payments
        office.ship(erp_id, tracking=f"TRK-{uid}")
        office.invoice(erp_id)
        assert erp_port.record_payment(erp_id, total, today, f"CARD-{uid}").ok
    (status,) = erp_port.order_status([erp_id])
    assert [(p.amount, p.reference, p.paid_on) for p in status.payments] == [(total, f"CARD-{uid}", today)]
    assert amount_to_pay(status) == 0
    assert all(i.state in ("paid", "cancelled") for i in status.invoices)

    again = erp_port.record_payment(erp_id, total, today, f"CARD-{uid}")  # a retry after a crash
    assert again.ok
    (status,) = erp_port.order_status([erp_id])
    assert len(status.payments) == 1 and amount_to_pay(status) == 0


def test_list_orders_between_gives_the_periods_orders_with_their_status(erp_port, office, uid):
    pending, committed = erp_port.create_orders([draft(office, f"{uid}-r1", commit=False),
                                                 draft(office, f"{uid}-r2")])
    today = dt.date.today()
    window = (today - dt.timedelta(days=1), today + dt.timedelta(days=2))  # an ERP may date in its own zone
    rows = {s.purchase_id: s for s in erp_port.list_orders_between(*window)}
    assert rows[f"{uid}-r1"].state == ErpOrderState.PENDING_APPROVAL
    assert rows[f"{uid}-r1"].erp_id == pending.order.erp_id
    r2 = rows[f"{uid}-r2"]
    assert (r2.state, r2.erp_id, r2.po_number, r2.account_code) == (
        ErpOrderState.COMMITTED, committed.order.erp_id, f"PO-{uid}-r2", ACCOUNT)
    assert r2.total == r2.total_untaxed + r2.total_tax and r2.total > 0
    assert all(window[0] <= s.order_date < window[1] for s in rows.values() if s.order_date)
    later = erp_port.list_orders_between(today + dt.timedelta(days=2), today + dt.timedelta(days=3))
    assert not {f"{uid}-r1", f"{uid}-r2"} & {s.purchase_id for s in later}
    earlier = erp_port.list_orders_between(today - dt.timedelta(days=3), today - dt.timedelta(days=1))
    assert not {f"{uid}-r1", f"{uid}-r2"} & {s.purchase_id for s in earlier}
