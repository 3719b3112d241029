"""The NetSuite adapter's finance reads and writes against the emulator: totals as NetSuite rounds them,
credit memos (by goods and by amount, exactly once), shipments with their lines, currency and rate,
customer addresses, and the credit check on a Pending Approval create."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import pytest

from sparklayer_erp.demo import demo_data
from sparklayer_erp.domain.models import (
    CreditNoteRequest,
    ErpOrderDraft,
    ErpOrderLine,
    ErpOrderState,
    PaymentMethod,
    RefusalReason,
)
from sparklayer_erp.domain.order_lifecycle import SHOP_REFUND_PREFIX
from sparklayer_erp.erp.netsuite.adapter import NetSuiteErp
from sparklayer_erp.erp.port import ErpCreditNotes, ErpPort
from sparklayer_erp_tests.erp.netsuite.support import config_from_settings
from sparklayer_erp_tests.netsuite_fixtures import NetSuiteEmulator, netsuite, netsuite_emulator  # noqa: F401

CENT = Decimal("0.01")
CASE = "Case of 12"
NO_LIMIT = next(c.account_code for c in demo_data.CUSTOMERS
                if c.credit_limit is None and not c.on_credit_hold and c.currency == demo_data.CURRENCY)
ON_HOLD = next(c.account_code for c in demo_data.CUSTOMERS if c.on_credit_hold)


@pytest.fixture
def erp(netsuite: NetSuiteEmulator) -> Iterator[NetSuiteErp]:  # noqa: F811
    with NetSuiteErp(config_from_settings(netsuite.settings("oauth2"))) as adapter:
        yield adapter


def _draft(lines: Sequence[ErpOrderLine], account: str = NO_LIMIT, commit: bool = True,
           currency: str = demo_data.CURRENCY, pid: str | None = None) -> ErpOrderDraft:
    return ErpOrderDraft(
        purchase_id=pid or f"F-{uuid.uuid4().hex[:12]}", account_code=account, po_number="PO-FIN",
        payment_method=PaymentMethod.INVOICE if commit else PaymentMethod.ON_ACCOUNT,
        lines=tuple(lines), commit=commit, currency=currency,
    )


def _line(sku: str, quantity: int, unit: str, price: str) -> ErpOrderLine:
    return ErpOrderLine(sku=sku, quantity=Decimal(quantity), unit=unit, unit_price=Decimal(price))


def _gross(net: Decimal) -> Decimal:
    return net + (net * demo_data.VAT_RATE).quantize(CENT, rounding=ROUND_HALF_UP)


def _invoiced_order(netsuite: NetSuiteEmulator, erp: NetSuiteErp,  # noqa: F811
                    lines: Sequence[ErpOrderLine]) -> tuple[int, int]:
    [created] = erp.create_orders([_draft(lines)])
    assert created.order is not None, created.refusal
    netsuite.ship(created.order.erp_id)
    invoice_id = netsuite.invoice(created.order.erp_id)
    return created.order.erp_id, invoice_id


def test_the_adapter_is_also_a_credit_note_port(erp):
    assert isinstance(erp, ErpPort) and isinstance(erp, ErpCreditNotes)


# --- totals --------------------------------------------------------------------------------------------------


def test_untaxed_and_tax_are_netsuites_own_per_line_rounding(netsuite, erp):  # noqa: F811
    lines = [_line("SKU-WATER-S", 5, "Each", "0.445"), _line("SKU-WATER-S", 7, "Each", "0.265"),
             _line("SKU-COLA-L", 1, CASE, "8.655")]
    half_up = sum(((ln.quantity * ln.unit_price).quantize(CENT, rounding=ROUND_HALF_UP) for ln in lines), Decimal(0))
    half_even = sum(((ln.quantity * ln.unit_price).quantize(CENT, rounding=ROUND_HALF_EVEN) for ln in lines),
                    Decimal(0))
    assert half_up != half_even  # the order is one where each line's rounding matters
    [created] = erp.create_orders([_draft(lines, commit=False)])
    [status] = erp.order_status([created.order.erp_id])
    record = netsuite.staff.get("salesOrder", created.order.erp_id)
    assert status.total_untaxed == Decimal(str(record["subtotal"])) == half_up
    assert status.total_tax == Decimal(str(record["taxTotal"]))
    assert status.total == Decimal(str(record["total"])) == status.total_untaxed + status.total_tax


# --- currency and rate ---------------------------------------------------------------------------------------


def test_order_currency_and_the_erps_rate_to_the_company_currency(erp):
    euro = demo_data.EURO_CUSTOMER
    foreign = next(c for c in demo_data.FOREIGN_CURRENCIES if c.code == euro.currency)
    home, away = erp.create_orders([
        _draft([_line("SKU-COLA-L", 1, CASE, "8.64")], commit=False),
        _draft([_line("SKU-COLA-L", 1, CASE, "10.80")], account=euro.account_code, commit=False,
               currency=euro.currency),
    ])
    statuses = {s.erp_id: s for s in erp.order_status([home.order.erp_id, away.order.erp_id])}
    assert statuses[home.order.erp_id].currency == demo_data.CURRENCY
    assert statuses[home.order.erp_id].company_rate == 1
    euro_status = statuses[away.order.erp_id]
    assert euro_status.currency == euro.currency
    assert euro_status.company_rate == (1 / foreign.rate).quantize(Decimal("0.000001"))


# --- shipments -----------------------------------------------------------------------------------------------


def test_each_fulfilment_is_its_own_shipment_with_its_lines(netsuite, erp):  # noqa: F811
    [created] = erp.create_orders([_draft([_line("SKU-COLA-L", 3, CASE, "8.64"),
                                           _line("SKU-WATER-S", 10, "Each", "0.45")])])
    order_id = created.order.erp_id
    netsuite.ship(order_id, tracking=("1ZFIRST",), lines={1: 2})
    [part] = erp.order_status([order_id])
    assert part.point_of_no_return and part.state is ErpOrderState.COMMITTED
    assert [(ln.sku, ln.quantity, ln.unit) for ln in part.shipments[0].lines] == [("SKU-COLA-L", 2, CASE)]
    netsuite.ship(order_id, tracking=("1ZSECOND",))
    [whole] = erp.order_status([order_id])
    assert len(whole.shipments) == 2
    second = next(s for s in whole.shipments if s.tracking_number == "1ZSECOND")
    assert sorted((ln.sku, ln.quantity, ln.unit) for ln in second.lines) == [
        ("SKU-COLA-L", 1, CASE), ("SKU-WATER-S", 10, "Each")]
    assert len({s.shipment_id for s in whole.shipments}) == 2


# --- credit notes --------------------------------------------------------------------------------------------


def test_credit_notes_by_goods_and_by_amount_once_each_and_read_back(netsuite, erp):  # noqa: F811
    order_id, _invoice = _invoiced_order(netsuite, erp, [_line("SKU-COLA-L", 3, CASE, "8.64"),
                                                          _line("SKU-WATER-S", 10, "Each", "0.45")])
    [billed] = erp.order_status([order_id])
    invoice = billed.invoices[0]
    uid = uuid.uuid4().hex[:8]
    goods = CreditNoteRequest(reference=f"{SHOP_REFUND_PREFIX}return:{uid}:RET-1", reason="damaged in transit",
                              lines=(_line("SKU-COLA-L", 1, CASE, "8.64"),), goods_returned=True)
    first = erp.create_credit_note(order_id, goods)
    assert first.ok, first.refusal
    again = erp.create_credit_note(order_id, goods)
    assert again.ok and again.detail["already"] and again.detail["number"] == first.detail["number"]
    money = CreditNoteRequest(reference=f"R-{uid}", reason="price dispute", amount=Decimal("5.00"))
    paid_back = erp.create_credit_note(order_id, money)
    assert paid_back.ok, paid_back.refusal

    [status] = erp.order_status([order_id])
    notes = {n.number: n for n in status.credit_notes}
    assert set(notes) == {first.detail["number"], paid_back.detail["number"]}
    returned = notes[first.detail["number"]]
    assert returned.goods_returned and returned.reason == "damaged in transit"
    assert returned.total == _gross(Decimal("8.64"))
    assert [(ln.sku, ln.quantity, ln.unit) for ln in returned.lines] == [("SKU-COLA-L", 1, CASE)]
    assert returned.reference.startswith(SHOP_REFUND_PREFIX) and returned.invoice_number == invoice.number
    assert returned.state in ("posted", "paid") and returned.credit_date == dt.date.today()
    amount_only = notes[paid_back.detail["number"]]
    assert amount_only.total == Decimal("5.00") and amount_only.lines == ()
    assert not amount_only.goods_returned and amount_only.reference == f"R-{uid}"
    # the memos were applied to the open invoice
    assert status.invoices[0].amount_due == invoice.total - returned.total - amount_only.total
    assert order_id in erp.orders_with_credit_notes_since(dt.date.today())
    assert order_id not in erp.orders_with_credit_notes_since(dt.date.today() + dt.timedelta(days=1))


def test_credit_notes_beyond_the_invoice_or_without_one_are_refused(netsuite, erp):  # noqa: F811
    [pending] = erp.create_orders([_draft([_line("SKU-COLA-L", 1, CASE, "8.64")])])
    early = erp.create_credit_note(pending.order.erp_id, CreditNoteRequest(
        reference=f"E-{uuid.uuid4().hex[:8]}", reason="x", amount=Decimal(1)))
    assert early.refusal.reason is RefusalReason.INVALID_STATE

    order_id, _invoice = _invoiced_order(netsuite, erp, [_line("SKU-COLA-L", 2, CASE, "8.64")])
    [status] = erp.order_status([order_id])
    uid = uuid.uuid4().hex[:8]
    too_many = erp.create_credit_note(order_id, CreditNoteRequest(
        reference=f"G-{uid}", reason="x", lines=(_line("SKU-COLA-L", 3, CASE, "8.64"),)))
    assert too_many.refusal.reason is RefusalReason.OTHER
    not_on_it = erp.create_credit_note(order_id, CreditNoteRequest(
        reference=f"N-{uid}", reason="x", lines=(_line("SKU-WATER-S", 1, "Each", "0.45"),)))
    assert not_on_it.refusal.reason is RefusalReason.OTHER
    assert erp.create_credit_note(order_id, CreditNoteRequest(
        reference=f"A-{uid}", reason="x", amount=status.total - 1)).ok
    over = erp.create_credit_note(order_id, CreditNoteRequest(reference=f"B-{uid}", reason="x", amount=Decimal(2)))
    assert over.refusal.reason is RefusalReason.OTHER  # only 1.00 is left uncredited
    [after] = erp.order_status([order_id])
    assert [n.total for n in after.credit_notes] == [status.total - 1]


def test_a_credit_memo_raised_in_netsuite_reads_back_with_its_number(netsuite, erp):  # noqa: F811
    order_id, invoice_id = _invoiced_order(netsuite, erp, [_line("SKU-COLA-L", 1, CASE, "8.64")])
    memo_id = netsuite.staff.credit_memo(invoice_id)
    [status] = erp.order_status([order_id])
    [note] = status.credit_notes
    assert note.credit_note_id == str(memo_id) and note.reference == note.number
    assert note.total == status.invoices[0].total and not note.goods_returned
    assert [(ln.sku, ln.quantity) for ln in note.lines] == [("SKU-COLA-L", 1)]


# --- customers and credit ------------------------------------------------------------------------------------


def test_customers_carry_their_address_book(erp):
    customers = {c.account_code: c for c in erp.list_customers()}
    for demo in demo_data.CUSTOMERS:
        [address] = customers[demo.account_code].addresses
        assert (address.name, address.city, address.country_code) == (demo.name, demo.city, demo.country_code)


def test_a_pending_approval_order_for_a_held_customer_is_refused_as_a_credit_hold(netsuite, erp):  # noqa: F811
    draft = _draft([_line("SKU-COLA-L", 1, CASE, "8.64")], account=ON_HOLD, commit=False)
    [refused] = erp.create_orders([draft])
    assert refused.order is None and refused.refusal.reason is RefusalReason.CREDIT_HOLD
    assert erp.find_orders([draft.purchase_id]) == {}
    netsuite.set_credit_hold(ON_HOLD, "AUTO")
    try:
        [created] = erp.create_orders([draft])  # the next attempt once credit control released the hold
    finally:
        netsuite.set_credit_hold(ON_HOLD, "ON")
    assert created.refusal is None and created.order.state is ErpOrderState.PENDING_APPROVAL
