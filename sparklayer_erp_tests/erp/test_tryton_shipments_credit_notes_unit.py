"""The Tryton adapter's pure mappings for part shipments and credit notes (no server)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sparklayer_erp.domain.models import ErpOrderLine, ShipmentLine
from sparklayer_erp.erp.tryton.credit_notes import _net_for_gross, credit_note_from_row
from sparklayer_erp.erp.tryton.mapping import cancelled_quantity, shipment_lines

D = Decimal


def _move(code: str, qty: float, state: str = "done", unit: str = "Case of 12", move_id: int = 1) -> dict:
    return {"id": move_id, "product.": {"code": code}, "quantity": qty, "unit.": {"name": unit}, "state": state}


def test_a_shipment_carries_its_outgoing_moves_summed_per_sku_and_unit():
    shipment = {"outgoing_moves.": [_move("A", 2.0), _move("A", 1.0), _move("B", 12.0, unit="Unit"),
                                     _move("C", 3.0, state="cancelled"), _move("D", 0.0)]}
    assert shipment_lines(shipment) == (ShipmentLine("A", D(3), "Case of 12"), ShipmentLine("B", D(12), "Unit"))
    assert shipment_lines({}) == ()


def test_cancelled_quantity_counts_cancelled_moves_not_recreated():
    line = {"moves.": [_move("A", 2.0, move_id=1), _move("A", 1.0, "cancelled", move_id=2),
                       _move("A", 4.0, "cancelled", move_id=3)], "moves_recreated": [3]}
    assert cancelled_quantity(line) == D(1)
    assert cancelled_quantity({"moves.": [_move("A", 2.0)]}) == 0


def test_a_credit_note_row_reads_positive_with_its_invoice_reason_and_goods_flag():
    row = {"id": 40, "number": "CN-7", "state": "posted", "total_amount": -57.6, "invoice_date": dt.date(2026, 3, 9),
           "reference": None, "description": "Damaged", "comment": "GOODS RETURNED: pallet dropped",
           "lines.": [{"origin": "account.invoice.line,11", "product.": {"code": "A"}, "quantity": -3.0,
                       "unit.": {"name": "Case of 12"}, "unit_price": 9.6},
                      {"origin": "account.invoice.line,12", "product.": {}, "quantity": -1.0, "unit.": {},
                       "unit_price": 0}]}
    note = credit_note_from_row(row, {11: "INV-1"})
    assert (note.number, note.total, note.state, note.invoice_number, note.reason) == (
        "CN-7", D("57.6"), "posted", "INV-1", "Damaged")
    assert note.goods_returned and note.credit_note_id == "40"
    assert note.lines == (ErpOrderLine("A", D(3), "Case of 12", D("9.6")),)
    money_only = credit_note_from_row({**row, "comment": "price dispute", "lines.": row["lines."][1:]}, {12: "INV-2"})
    assert not money_only.goods_returned and money_only.lines == () and money_only.invoice_number == "INV-2"


def test_an_amount_credit_is_split_so_net_plus_tax_is_the_amount_to_the_cent():
    for gross in ("10.00", "0.01", "12.34", "99.99", "1000.00", "0.07"):
        net = _net_for_gross(D(gross), D("0.20"))
        tax = (net * D("0.20")).quantize(D("0.01"))
        assert abs(net + tax - D(gross)) <= D("0.01")
    assert _net_for_gross(D("12.00"), D("0.20")) == D("10.00")
    assert _net_for_gross(D("5"), D("0")) == D("5.00")
