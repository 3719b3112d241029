"""The finance outputs: an .xlsx that opens on its Read me sheet, with exact money, readable headers, filters,
frozen headers, a native chart and totals per customer, payment method and currency; CSVs."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
from decimal import Decimal

import openpyxl
import pandas as pd
from openpyxl.chart import BarChart

from sparklayer_erp.domain.reconciliation import RECON_CLASSES, reconcile_month
from sparklayer_erp.month_end.export import (
    CSV_FILES,
    DATA_SHEETS,
    README,
    README_COLUMNS_HEADER,
    README_STATUS_HEADER,
    SHEETS,
    UNDESCRIBED,
    class_label,
    missing_definitions,
    to_csv,
    to_excel,
)
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
    assert wb.sheetnames == list(SHEETS) and wb.sheetnames[0] == "Read me"

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


def _section(rows: list[tuple], head: tuple[str, ...]) -> list[tuple]:
    """The rows under the header row ``head`` of the Read me sheet, up to the next empty row."""
    start = next(i for i, r in enumerate(rows) if tuple(r[:len(head)]) == head) + 1
    out = []
    for r in rows[start:]:
        if not any(r):
            break
        out.append(r)
    return out


def test_the_read_me_explains_every_column_of_every_data_sheet(tmp_path):
    wb = openpyxl.load_workbook(to_excel(month(), tmp_path / "recon.xlsx"))
    rows = list(wb[README].iter_rows(values_only=True))
    described = {(r[0], r[1]): (r[2], r[3]) for r in _section(rows, README_COLUMNS_HEADER)}
    for sheet in DATA_SHEETS:
        headers = [c.value for c in wb[sheet][1]]
        assert headers, sheet
        for title in headers:  # each column a data sheet shows, read back from the file
            meaning, source = described[(sheet, title)]
            assert meaning and meaning != UNDESCRIBED and source, (sheet, title)
    summary_headers = next(r for r in wb["Summary"].iter_rows(values_only=True) if r and r[0] == "Status")
    assert all(("Summary", t) in described for t in summary_headers if t)


def test_a_column_without_a_definition_is_caught():
    result = month()
    assert missing_definitions(result) == []
    wider = dataclasses.replace(result, orders=result.orders.assign(new_figure=1))
    assert missing_definitions(wider) == [("Orders", "new_figure")]


def test_the_read_me_lists_every_status_with_owner_and_whether_it_blocks(tmp_path):
    wb = openpyxl.load_workbook(to_excel(month(), tmp_path / "recon.xlsx"))
    statuses = {r[1]: r for r in _section(list(wb[README].iter_rows(values_only=True)), README_STATUS_HEADER)}
    assert set(statuses) == {str(c) for c in RECON_CLASSES}
    for cls, rule in RECON_CLASSES.items():
        label, _code, meaning, action, blocks, owner = statuses[str(cls)]
        assert (label, meaning, action) == (class_label(cls), rule.meaning, rule.action)
        assert blocks == ("no" if rule.explained else "YES")
        assert owner == str(rule.owner).replace("_", " ").capitalize()


def test_data_sheets_have_filters_and_frozen_headers_and_the_summary_a_bar_chart(tmp_path):
    result = month()
    wb = openpyxl.load_workbook(to_excel(result, tmp_path / "recon.xlsx"))
    for sheet in DATA_SHEETS:
        ws = wb[sheet]
        assert ws.freeze_panes == "A2", sheet
        assert ws.auto_filter.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}{ws.max_row}", sheet
    (chart,) = wb["Summary"]._charts
    assert isinstance(chart, BarChart)
    series = [s.tx.strRef.f for s in chart.series]
    assert len(series) == 2  # SparkLayer total and ERP total, per status
    summary = list(wb["Summary"].iter_rows())
    header = next(i for i, r in enumerate(summary, 1) if r[0].value == "Status")
    titles = [c.value for c in summary[header - 1]]
    assert [wb["Summary"][ref.split("!")[1].replace("$", "")].value for ref in series] == [
        titles[titles.index("SparkLayer total")], titles[titles.index("ERP total")]]
    cat = chart.series[0].cat
    categories = (cat.strRef or cat.numRef).f.split("!")[1].replace("$", "")
    shown = [c.value for row in wb["Summary"][categories] for c in row]
    assert shown == [class_label(c) for c, n in zip(result.by_class["recon_class"], result.by_class["orders"],
                                                     strict=True) if n]


def test_totals_per_currency_are_each_in_their_currencys_minor_unit(tmp_path):
    f = Frames()
    orders = (("GB1", "10.005", "GBP", "1"), ("GB2", "0.10", "GBP", "1"), ("JP1", "1500", "JPY", "0.005"),
              ("JP2", "1250", "JPY", "0.005"), ("KW1", "3.1234", "KWD", "2.6"))
    for i, (pid, total, code, rate) in enumerate(orders, 1):
        f.sl(pid, total=total, currency=code, rate=rate).erp(i, pid, total=total, currency=code, rate=rate)
    result = reconcile_month(**f.frames(), as_of=AS_OF, month_start=MONTH_START, month_end=MONTH_END,
                             company_currency="GBP")
    wb = openpyxl.load_workbook(to_excel(result, tmp_path / "recon.xlsx"))
    rows = list(wb["By currency"].iter_rows())
    header = [c.value for c in rows[0]]
    by = {r[0].value: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert set(by) == {"GBP", "JPY", "KWD"}
    assert by["JPY"]["Orders"].value == 2
    assert Decimal(str(by["JPY"]["SparkLayer total"].value)) == Decimal(2750)
    assert Decimal(str(by["KWD"]["SparkLayer total"].value)) == Decimal("3.123")  # the fils, rounded once
    assert Decimal(str(by["GBP"]["SparkLayer total"].value)) == Decimal("10.11")  # 10.01 + 0.10
    assert by["JPY"]["SparkLayer total"].number_format == "#,##0"
    assert by["GBP"]["SparkLayer total"].number_format == "#,##0.00"
    assert by["KWD"]["SparkLayer total"].number_format == "#,##0.000"
    company = next(h for h in header if h and "company currency" in h)
    assert by["JPY"][company].number_format == "#,##0.00"  # converted figures: in the company's pence
    orders_sheet = list(wb["Orders"].iter_rows())
    head = [c.value for c in orders_sheet[0]]
    jp1 = next(r for r in orders_sheet[1:] if r[0].value == "JP1")
    assert jp1[head.index("SparkLayer total")].number_format == "#,##0"  # each row in its own currency
    assert jp1[head.index("SparkLayer billable (company currency)")].number_format == "#,##0.00"
    by_currency_csv = to_csv(result, tmp_path / "csv")[CSV_FILES.index("by_currency.csv")]
    with by_currency_csv.open(encoding="utf-8-sig", newline="") as fh:
        in_csv = {r["Currency"]: r for r in csv.DictReader(fh)}
    assert in_csv["JPY"]["SparkLayer total"] == "2750" and in_csv["KWD"]["SparkLayer total"] == "3.123"


def test_totals_per_currency_without_the_domains_table_are_added_up_from_the_orders(tmp_path):
    result = month()
    bare = dataclasses.replace(result, by_currency=pd.DataFrame(), orders=result.orders.drop(columns=["currency"]))
    wb = openpyxl.load_workbook(to_excel(bare, tmp_path / "recon.xlsx"))
    rows = list(wb["By currency"].iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == [result.company_currency] and rows[1][1] == len(result.orders)
    assert Decimal(str(rows[1][3])) == sum(result.orders["sl_billable"], Decimal(0))
