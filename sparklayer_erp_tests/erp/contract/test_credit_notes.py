"""Credit notes against an order's invoice (``ErpCreditNotes``): what the refund flow relies on, whatever the ERP.

A shop refund becomes one credit note, however often it is asked for; goods credited by line at the invoiced
price; money only for an amount; never more than the invoice still holds; the note read back with the order.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from sparklayer_erp.domain.models import CreditNoteRequest, RefusalReason
from sparklayer_erp.erp.port import ErpCreditNotes
from sparklayer_erp_tests.erp.contract.drafts import draft, line


@pytest.fixture
def uid() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
def invoiced(erp_port, office, uid):
    """A committed order of two cases, shipped and invoiced: what a refund is credited against."""
    order = draft(office, f"{uid}-cn", lines=(line(office, "SKU-COLA-L", 2),))
    erp_id = erp_port.create_orders([order])[0].order.erp_id
    office.ship(erp_id, tracking=f"TRK-{uid}")
    assert office.invoice(erp_id)
    return erp_id, order


def test_every_adapter_supports_credit_notes(erp_port):
    assert isinstance(erp_port, ErpCreditNotes)


def test_a_money_credit_is_raised_once_per_reference_and_read_back_with_the_order(erp_port, invoiced, uid):
    erp_id, _ = invoiced
    request = CreditNoteRequest(reference=f"REF-{uid}", reason="price dispute", amount=Decimal("5.00"))
    first = erp_port.create_credit_note(erp_id, request)
    again = erp_port.create_credit_note(erp_id, request)
    assert first.ok and again.ok, (first.refusal, again.refusal)
    assert again.detail.get("already") and again.detail.get("number") == first.detail.get("number")
    (status,) = erp_port.order_status([erp_id])
    (note,) = status.credit_notes
    assert note.total == Decimal("5.00") and not note.goods_returned
    assert note.state in ("posted", "paid") and note.number == first.detail.get("number")
    assert erp_id in erp_port.orders_with_credit_notes_since(dt.date.today() - dt.timedelta(days=1))


def test_returned_goods_are_credited_by_line_at_the_invoiced_price(erp_port, office, invoiced, uid):
    erp_id, order = invoiced
    returned = (line(office, "SKU-COLA-L", 1),)
    result = erp_port.create_credit_note(erp_id, CreditNoteRequest(
        reference=f"RET-{uid}", reason="damaged in transit", lines=returned, goods_returned=True))
    assert result.ok, result.refusal
    (status,) = erp_port.order_status([erp_id])
    (note,) = status.credit_notes
    assert note.goods_returned
    invoiced_total = sum((i.total for i in status.invoices if i.state != "cancelled"), Decimal(0))
    assert note.total == invoiced_total / 2  # one of the two cases, tax included, at the invoiced price


def test_more_than_the_invoice_holds_is_refused_and_nothing_is_credited(erp_port, invoiced, uid):
    erp_id, _ = invoiced
    (status,) = erp_port.order_status([erp_id])
    result = erp_port.create_credit_note(erp_id, CreditNoteRequest(
        reference=f"BIG-{uid}", reason="too much", amount=status.total + Decimal("100")))
    assert not result.ok and result.refusal is not None
    (status,) = erp_port.order_status([erp_id])
    assert status.credit_notes == ()


def test_an_order_without_a_posted_invoice_cannot_be_credited(erp_port, office, uid):
    erp_id = erp_port.create_orders([draft(office, f"{uid}-noinv")])[0].order.erp_id
    result = erp_port.create_credit_note(erp_id, CreditNoteRequest(
        reference=f"EARLY-{uid}", reason="refund", amount=Decimal("1.00")))
    assert not result.ok and result.refusal.reason in (RefusalReason.INVALID_STATE, RefusalReason.OTHER)
