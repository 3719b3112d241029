"""The finance outputs: an .xlsx that opens with the five sheets, exact money, readable headers; CSVs."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal

import openpyxl

from sparklayer_erp.domain.reconciliation import reconcile_month
from sparklayer_erp.month_end.export import CSV_FILES, SHEETS, class_label, to_csv, to_excel
from sparklayer_erp_tests.domain.recon_builders import AS_OF, MONTH_END, MONTH_START, Frames


def month():
    f = Frames().sl("OK", total="1234.50").erp(1, "OK", total="1234.50").invoice(1, "INV1", total="1234.50",
                                                                                 due="0").pay("INV1", "1234.50")
    f.sl("CARD", method="platform_upfront", paid="60.05", total="60.05").erp(2, "CARD", total="60.05")
    f.invoice(2, "INV2", total="60.05")
    f.erp(3, "GHOST", total="9.99")
    return reconcile_month(**f.frames(), as_of=AS_OF, month_start=MONTH_START, month_end=MONTH_END)


def test_xlsx_opens_with_every_sheet_and_exact_money(tmp_path):
    path = to_excel(month(), tmp_path / "recon.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == list(SHEETS)

    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(values_only=True) if r and r[0]}
    assert summary["Close-ready"] == "NO"
    assert summary["Period"] == "01 Oct 2026 to 31 Oct 2026"
    assert "paid_in_shop_unpaid_in_erp" in summary["Blockers"]

    orders = wb["Orders"]
    header = [c.value for c in orders[1]]
    assert header[:3] == ["SparkLayer purchase id", "SparkLayer order", "Placed (UTC)"]
    assert "Why" in header and "Owner" in header
    rows = [dict(zip(header, (c for c in r), strict=True)) for r in orders.iter_rows(min_row=2)]
    assert [r["SparkLayer purchase id"].value for r in rows] == ["CARD", "OK"]  # blockers first
    card = rows[0]
    assert card["Status"].value == "Paid in shop unpaid in ERP"
    assert card["Owner"].value == "Finance"
    assert card["Payment method"].value == "Paid upfront (card)"
    assert Decimal(str(card["Outstanding"].value)) == Decimal("60.05")
    assert card["Outstanding"].number_format == "#,##0.00"
    assert card["Due date"].value == dt.datetime(2026, 11, 30)
    assert Decimal(str(rows[1]["SparkLayer total"].value)) == Decimal("1234.50")

    unmatched = list(wb["Unmatched ERP orders"].iter_rows(values_only=True))
    assert unmatched[0][:3] == ("ERP id", "ERP order", "SparkLayer purchase id")
    assert unmatched[1][:3] == (3, "SO3", "GHOST")
    by_pm = {r[0]: r for r in wb["By payment method"].iter_rows(values_only=True)}
    assert by_pm["Paid upfront (card)"][1] == 1
    assert wb["By customer"]["A1"].value == "SparkLayer customer id"


def test_orders_sheet_cap_is_noted_in_the_summary(tmp_path):
    path = to_excel(month(), tmp_path / "capped.xlsx", max_order_rows=1)
    wb = openpyxl.load_workbook(path)
    assert wb["Orders"].max_row == 2
    notes = [r[1] for r in wb["Summary"].iter_rows(values_only=True) if r and r[0] == "Note"]
    assert notes and "first 1 of 2" in notes[0]


def test_csv_files_have_readable_headers_and_exact_amounts(tmp_path):
    paths = to_csv(month(), tmp_path / "out")
    assert [p.name for p in paths] == list(CSV_FILES)
    with (tmp_path / "out" / "orders.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    by_id = {r["SparkLayer purchase id"]: r for r in rows}
    assert by_id["OK"]["SparkLayer total"] == "1234.50"
    assert by_id["CARD"]["Outstanding"] == "60.05"
    assert by_id["CARD"]["Due date"] == "2026-11-30"
    with (tmp_path / "out" / "summary.csv").open(encoding="utf-8-sig", newline="") as fh:
        summary = {r["Item"]: r["Value"] for r in csv.DictReader(fh)}
    assert summary["Difference (SparkLayer - ERP)"] == "-9.99"


def test_class_labels_read_as_words():
    assert class_label("erp_order_claiming_unknown_purchase") == "ERP order claiming unknown purchase"
    assert class_label("cancelled_in_sparklayer_only") == "Cancelled in SparkLayer only"
