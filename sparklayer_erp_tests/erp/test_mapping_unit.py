"""The adapter's pure row -> domain mappings (no server): state table, point of no return, money, units."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from sparklayer_erp.domain.models import ErpOrderState
from sparklayer_erp.erp.port import ErpTechnicalError
from sparklayer_erp.erp.tryton.errors import port_method
from sparklayer_erp.erp.tryton.mapping import (
    DESCRIPTION_MAX,
    invoice_from_row,
    order_description,
    order_state,
    payment_term_days,
    plan_confirm,
    point_of_no_return,
    quantity_is_whole,
    status_from_row,
    to_decimal,
)
from sparklayer_erp.erp.tryton.rpc import TrytonUserError


def sale(state: str, actual=(0.0,), invoices=(), shipments=(), moves=()) -> dict:
    return {
        "id": 9, "state": state,
        "lines.": [{"type": "line", "actual_quantity": q, "moves.": [{"state": m} for m in moves]}
                   for q in actual] + [{"type": "comment", "actual_quantity": None}],
        "invoices.": [{"state": s} for s in invoices],
        "shipments.": [{"state": s} for s in shipments],
    }


@pytest.mark.parametrize("state, expected", [
    ("draft", ErpOrderState.DRAFT),
    ("quotation", ErpOrderState.PENDING_APPROVAL),
    ("confirmed", ErpOrderState.COMMITTED),
    ("processing", ErpOrderState.COMMITTED),
    ("cancelled", ErpOrderState.CANCELLED),
])
def test_state_table(state, expected):
    assert order_state(sale(state)) == expected


def test_done_with_nothing_delivered_and_invoices_cancelled_is_a_cancellation():
    assert order_state(sale("done", actual=(0.0, None), invoices=("cancelled",))) == ErpOrderState.CANCELLED
    assert order_state(sale("done", actual=(0.0,), invoices=("paid",))) == ErpOrderState.DONE
    assert order_state(sale("done", actual=(12.0,), invoices=("cancelled",))) == ErpOrderState.DONE


def test_an_unknown_state_is_a_technical_error_not_a_guess():
    with pytest.raises(ErpTechnicalError):
        order_state(sale("archived"))


@pytest.mark.parametrize("shipments, moves, expected", [
    ((), (), False),
    (("waiting",), ("draft",), False),
    (("cancelled",), ("cancelled",), False),
    (("assigned",), (), True),
    (("picked",), (), True),
    (("done",), (), True),
    (("waiting",), ("assigned", "draft"), True),  # assign_try allocated part of a waiting shipment
])
def test_point_of_no_return(shipments, moves, expected):
    assert point_of_no_return(sale("processing", shipments=shipments, moves=moves)) is expected


def test_amount_due_depends_on_the_invoice_state():
    def inv(state, total="12.00", to_pay="0"):
        return invoice_from_row({"state": state, "total_amount": Decimal(total), "amount_to_pay": Decimal(to_pay),
                                 "lines_to_pay.": [{"maturity_date": dt.date(2026, 12, 31)},
                                                   {"maturity_date": dt.date(2026, 12, 1)}]})
    assert inv("draft").amount_due == Decimal("12.00")  # Tryton says 0 until posted
    assert inv("posted", to_pay="4.50").amount_due == Decimal("4.50")
    assert inv("paid").amount_due == 0
    assert inv("cancelled", to_pay="12.00").amount_due == 0
    assert inv("posted").due_date == dt.date(2026, 12, 1)


def test_status_lines_skip_product_less_lines_and_payments_use_credit_minus_debit():
    row = {
        "id": 3, "state": "processing", "number": "S3", "web_id": "p-1", "reference": "PO-1",
        "party.": {"code": "C1001"}, "warehouse.": {"code": "WH2"},
        "untaxed_amount": Decimal("14.12"), "tax_amount": Decimal("2.82"),
        "total_amount": Decimal("16.94"), "sale_date": dt.date(2026, 11, 26),
        "lines.": [
            {"type": "line", "product.": {"code": "SKU-A"}, "quantity": 2.0, "unit.": {"name": "Case of 12"},
             "unit_price": Decimal("9.12"), "description": "A", "actual_quantity": 0.0, "moves.": []},
            {"type": "line", "product.": None, "quantity": 1.0, "unit.": None, "unit_price": Decimal("5"),
             "description": "Shipping", "actual_quantity": None, "moves.": []},
        ],
        "shipments.": [{"number": "1", "state": "done", "reference": "TRK9", "effective_date": dt.date(2026, 11, 27)}],
        "invoices.": [{"number": "INV1", "state": "posted", "total_amount": Decimal("16.94"),
                       "amount_to_pay": Decimal("6.94"), "lines_to_pay.": [],
                       "payment_lines.": [{"credit": Decimal("10.00"), "debit": Decimal("0"),
                                           "date": dt.date(2026, 11, 28), "move_description_used": "CARD-1"}]}],
    }
    status = status_from_row(row)
    assert [(ln.sku, ln.quantity, ln.unit) for ln in status.lines] == [("SKU-A", Decimal(2), "Case of 12")]
    assert status.shipments[0].tracking_number == "TRK9" and status.point_of_no_return
    assert status.payments[0].amount == Decimal("10.00") and status.payments[0].reference == "CARD-1"
    assert (status.account_code, status.po_number, status.purchase_id) == ("C1001", "PO-1", "p-1")
    assert status.warehouse_code == "WH2"
    assert status_from_row({**row, "warehouse.": None}).warehouse_code is None  # the ERP did not say


def test_float_quantities_become_exact_decimals():
    assert to_decimal(12.0) == Decimal(12) and str(to_decimal(12.0)) == "12"
    assert to_decimal(0.1) == Decimal("0.1")
    assert to_decimal(None) == 0
    assert quantity_is_whole(Decimal(3), Decimal(1))
    assert not quantity_is_whole(Decimal("1.5"), Decimal(1))
    assert quantity_is_whole(Decimal("0.25"), Decimal("0.01"))


def test_payment_term_days():
    def term(*deltas):
        return {"name": "t", "lines.": [{"relativedeltas.": list(deltas)}]}
    assert payment_term_days(term({"days": 30})) == 30
    assert payment_term_days({"name": "Immediate", "lines.": [{"relativedeltas.": []}]}) == 0
    assert payment_term_days(term({"days": 0, "months": 1}, {"days": 10})) == 30
    assert payment_term_days({}) is None


def test_an_unexpected_tryton_user_error_reaches_the_port_as_technical():
    @port_method
    def read_something() -> None:
        raise TrytonUserError("model.party.party.read", 'You are not allowed to access "Party".')

    with pytest.raises(ErpTechnicalError, match="not allowed"):
        read_something()


def test_plan_confirm_batches_only_what_cannot_breach_a_limit_together():
    def row(party, untaxed, limit, used="0"):
        return {"party": party, "untaxed_amount": Decimal(untaxed),
                "party.": {"credit_limit_amount": None if limit is None else Decimal(limit),
                           "credit_amount": Decimal(used)}}
    rows = {
        1: row(10, "60", "100"), 2: row(10, "60", "100"),  # each fits, together they do not
        3: row(20, "60", None), 4: row(20, "900", None),  # no limit
        5: row(30, "40", "100", used="50"), 6: row(30, "10", "100", used="50"),  # 50 + 50 fits exactly
        7: row(40, "9.12", "0"),  # on hold (limit 0)
    }
    assert plan_confirm([1, 2, 3, 4, 5, 6, 7], rows) == ([3, 4, 5, 6], [1, 2, 7])


@pytest.mark.parametrize("text, expected", [
    ("SparkLayer order #1001", "SparkLayer order #1001"),
    ("SparkLayer order #1001\nPrice: SKU-A at 9.12", "SparkLayer order #1001 / Price: SKU-A at 9.12"),
    ("  a\r\n\r\n\tb  c \rd\x0be\x0cf\n", "a / b c / d / e / f"),  # every break Tryton refuses
    ("SparkLayer order #1 · Price: x", "SparkLayer order #1 · Price: x"),  # the order flow's own joining
    ("", None), (None, None), (" \n\t\n ", None),
])
def test_order_description_is_one_trimmed_line(text, expected):
    assert order_description(text) == expected


def test_order_description_is_cut_to_a_sane_length():
    long = "SparkLayer order #1\n" + "\n".join(f"Price: SKU-{i} kept at the ERP price" for i in range(40))
    cut = order_description(long)
    assert len(cut) == DESCRIPTION_MAX and cut.endswith("…") and cut.startswith("SparkLayer order #1 / Price")
    assert not any(ch in cut for ch in "\t\n\r\x0b\x0c")
    assert order_description("x" * DESCRIPTION_MAX) == "x" * DESCRIPTION_MAX  # exactly the limit: kept whole
