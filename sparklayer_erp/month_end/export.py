"""Write a month's reconciliation for finance: one workbook (.xlsx) or a folder of CSV files.

File I/O lives here so that ``domain/`` stays pure. Money is written exactly: as numbers from ``Decimal``
(shown with the currency's decimals and thousands separators) in the workbook, as ``1234.50`` text in CSV.
CSV files are UTF-8 with a byte-order mark so that Excel opens them with the right characters.

Every column of every table is described once, in ``COLUMNS`` (with per-sheet wording in ``SHEET_COLUMNS``):
its header, what it means in finance words and where the figure comes from. The same definitions give the
headers of the data sheets and the CSV files and the "Read me" sheet, so the explanation cannot drift from
the columns; a column without a definition shows as "not described yet" there (and a test fails).

Excel holds at most 1,048,575 data rows per sheet; writing a million rows also takes minutes. The Orders
sheet therefore lists the orders that need attention first and stops at ``max_order_rows`` (the Summary
says so when it did); the CSV always has every order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:  # openpyxl is imported where a workbook is written, not when the code location loads
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from sparklayer_erp.domain.money import UnknownCurrency, currency_exponent, round_money
from sparklayer_erp.domain.reconciliation import RECON_CLASSES, ReconResult, close_ready

EXCEL_MAX_ROWS = 1_048_575
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
README = "Read me"
SUMMARY = "Summary"
DATA_SHEETS = ("Orders", "By customer", "By payment method", "By currency", "Unmatched ERP orders")
SHEETS = (README, SUMMARY, *DATA_SHEETS)
CSV_FILES = ("summary.csv", "by_class.csv", "orders.csv", "by_customer.csv", "by_payment_method.csv",
             "by_currency.csv", "unmatched_erp_orders.csv")
CURRENCY_COLUMNS = ("currency", "order_currency")  # the first one the orders carry is the order's currency
NOT_RECORDED = "not recorded"
UNDESCRIBED = "Not described yet."


@dataclass(frozen=True)
class Column:
    """One column as finance reads it: the header, what it means, where the figure comes from."""

    header: str
    meaning: str
    source: str
    money: str = ""  # "": not money; "row": in the row's currency (the company's on a sheet without one);
    # "company": in the company currency


_ROW, _COMPANY = "row", "company"
_SL = "SparkLayer purchase"
_ERP_ORDER = "ERP sales order(s) carrying this SparkLayer purchase"
_INVOICES = "ERP customer invoices of the order, posted or paid on or before the as-of day"
_TOTALS = "Sum over the orders in the row (the Orders sheet), rounded to the currency's smallest unit"
_COUNTS = "Counted over the orders in the row (the Orders sheet)"

COLUMNS: Mapping[str, Column] = {
    "purchase_id": Column("SparkLayer purchase id", "SparkLayer's own id of the order; quote it to support.", _SL),
    "visible_id": Column("SparkLayer order", "The order number the buyer and the shop see.", _SL),
    "placed_at": Column("Placed (UTC)", "When the buyer placed the order, in UTC; the month is decided in company "
                                        "time.", _SL),
    "customer_sparklayer_id": Column("SparkLayer customer id", "The buying company in SparkLayer.", _SL),
    "account_code": Column("Customer account", "The ERP customer account the SparkLayer customer is linked to "
                                               "(empty: not linked).", "The integration's customer links"),
    "payment_method": Column("Payment method", "How the buyer chose to pay: on account (credit approval), "
                                               "invoice (on terms) or paid upfront by card.", _SL),
    "sl_status": Column("SparkLayer status", "The order's status in SparkLayer (cancelled included).", _SL),
    "erp_number": Column("ERP order", "The ERP sales order number (several when duplicated).", _ERP_ORDER),
    "erp_state": Column("ERP order state", "The ERP order's state: pending approval, committed, done, cancelled.",
                        _ERP_ORDER),
    "erp_account_code": Column("ERP customer account", "The customer account the ERP order is booked to.",
                               _ERP_ORDER),
    "invoice_numbers": Column("Invoices", "The ERP invoices counted for the order.", _INVOICES),
    "sl_total": Column("SparkLayer total", "The order total the buyer agreed to, tax and shipping included.", _SL,
                       money=_ROW),
    "sl_paid": Column("Paid in shop", "What the buyer paid in the shop (card payments).", _SL, money=_ROW),
    "sl_lines_total": Column("SparkLayer lines total", "The order's lines added up (without shipping); empty when "
                                                       "a line lacks a price.", "SparkLayer purchase lines",
                             money=_ROW),
    "sl_billable": Column("SparkLayer billable (0 if cancelled)", "The SparkLayer total, or 0 when the order is "
                                                                  "cancelled in SparkLayer.", _SL, money=_ROW),
    "erp_total": Column("ERP total", "Total of the live (not cancelled) ERP orders, tax included.", _ERP_ORDER,
                        money=_ROW),
    "invoiced": Column("Invoiced", "Total of the counted invoices.", _INVOICES, money=_ROW),
    "erp_paid": Column("Paid in ERP", "Payments recorded against those invoices on or before the as-of day.",
                       "ERP payments", money=_ROW),
    "outstanding": Column("Outstanding", "What is still due on those invoices as of the as-of day.",
                          "ERP invoices and payments", money=_ROW),
    "difference": Column("Difference (SparkLayer - ERP)", "SparkLayer billable minus ERP total; 0 when the "
                                                          "systems agree.", "Worked out here", money=_ROW),
    "due_date": Column("Due date", "The earliest due date of an invoice with something outstanding.", _INVOICES),
    "days_overdue": Column("Days overdue", "Days past that due date on the as-of day (0: not overdue).",
                           "Worked out here"),
    "recon_class": Column("Status", "The reconciliation status (see the statuses on this sheet).",
                          "Worked out here from both systems"),
    "explained": Column("Explained", "yes: a normal state of business; no: it blocks the close until someone "
                                     "acts.", "The status"),
    "owner": Column("Owner", "The team that acts on this status.", "The status"),
    "reason": Column("Why", "One sentence with the figures behind the status.", "Worked out here"),
    "currency": Column("Currency", "The currency the order was placed in (ISO 4217 code); the row's amounts are "
                                   "in it, except those marked 'company currency'.", _SL),
    "order_currency": Column("Currency", "The currency the order was placed in (ISO 4217 code); the row's amounts "
                                         "are in it, except those marked 'company currency'.", _SL),
    "sl_refunded": Column("Refunded in shop", "Refunds recorded in SparkLayer for the order.",
                          "SparkLayer refund transactions", money=_ROW),
    "erp_credited": Column("Credited in ERP", "Credit notes posted in the ERP against the order's invoices.",
                           "ERP credit notes", money=_ROW),
    "shipped_total": Column("Shipped value", "The value of what has shipped so far (tax included).",
                            "ERP shipments of the order", money=_ROW),
    "company_currency_rate": Column("Rate to company currency", "The ERP's exchange rate for the order: "
                                                                "company-currency units per unit of the order's "
                                                                "currency (1 for company-currency orders).",
                                    "ERP currency rates on the order date"),
    "sl_billable_company": Column("SparkLayer billable (company currency)", "SparkLayer billable converted at "
                                                                            "the ERP's rate.", "Worked out here",
                                  money=_COMPANY),
    "erp_total_company": Column("ERP total (company currency)", "ERP total converted at the ERP's rate.",
                                "Worked out here", money=_COMPANY),
    "orders": Column("Orders", "How many orders the row covers.", _COUNTS),
    "unexplained": Column("Unexplained", "How many of them block the close.", _COUNTS),
    "meaning": Column("What it means", "What the status means.", "The status table (this sheet)"),
    "action": Column("What to do", "What the owner team does about it.", "The status table (this sheet)"),
}

_IN_COMPANY = " In the company currency, each order converted at the ERP's rate."
_SUM_COLUMNS = {
    "sl_total": Column("SparkLayer total", "Billable SparkLayer totals added up (cancelled orders count 0)."
                       + _IN_COMPANY, _TOTALS, money=_COMPANY),
    "erp_total": Column("ERP total", "Live ERP order totals added up." + _IN_COMPANY, _TOTALS, money=_COMPANY),
    "difference": Column("Difference", "SparkLayer total minus ERP total." + _IN_COMPANY, _TOTALS, money=_COMPANY),
}
_PER_CURRENCY = {
    "sl_total": Column("SparkLayer total", "Billable SparkLayer totals added up, in the row's currency.", _TOTALS,
                       money=_ROW),
    "erp_total": Column("ERP total", "Live ERP order totals added up, in the row's currency.", _TOTALS, money=_ROW),
    "difference": Column("Difference", "SparkLayer total minus ERP total, in the row's currency.", _TOTALS,
                         money=_ROW),
    "sl_total_company": Column("SparkLayer total (company currency)", "The same SparkLayer total converted to "
                                                                      "the company currency at the ERP's rates.",
                               _TOTALS, money=_COMPANY),
    "erp_total_company": Column("ERP total (company currency)", "The same ERP total converted to the company "
                                                                "currency at the ERP's rates.", _TOTALS,
                                money=_COMPANY),
    "difference_company": Column("Difference (company currency)", "SparkLayer minus ERP in the company "
                                                                  "currency; what is left after rates is an "
                                                                  "exchange difference.", _TOTALS, money=_COMPANY),
    "currency": Column("Currency", "The order currency the row adds up (ISO 4217 code).", _SL),
}
_UNMATCHED = "ERP sales orders dated in the month"
SHEET_COLUMNS: Mapping[str, Mapping[str, Column]] = {
    SUMMARY: {**_SUM_COLUMNS,
              "erp_total": Column("ERP total", "Live ERP order totals added up, ERP orders claiming an unknown "
                                               "SparkLayer order included." + _IN_COMPANY, _TOTALS,
                                  money=_COMPANY)},
    "By customer": {**_SUM_COLUMNS, "account_code": Column(
        "Customer account", "The ERP account of the customer (SparkLayer's link, else what the ERP booked).",
        "The integration's customer links, else the ERP order")},
    "By payment method": _SUM_COLUMNS,
    "By currency": _PER_CURRENCY,
    "Unmatched ERP orders": {
        "erp_id": Column("ERP id", "The ERP's internal id of the order.", _UNMATCHED),
        "number": Column("ERP order", "The ERP sales order number.", _UNMATCHED),
        "purchase_id": Column("SparkLayer purchase id", "The SparkLayer reference the ERP order carries, which "
                                                        "SparkLayer does not know.", _UNMATCHED),
        "account_code": Column("Customer account", "The customer account the ERP order is booked to.", _UNMATCHED),
        "state": Column("ERP order state", "The ERP order's state.", _UNMATCHED),
        "order_date": Column("Order date", "The ERP order's date.", _UNMATCHED),
        "total": Column("ERP total", "The ERP order's total, tax included, in its currency.", _UNMATCHED,
                        money=_ROW),
        "total_company": Column("ERP total (company currency)", "The same total converted at the ERP's rate.",
                                "Worked out here", money=_COMPANY),
        "currency": Column("Currency", "The ERP order's currency (ISO 4217 code).", _UNMATCHED),
    },
}

SHEET_PURPOSE: Mapping[str, str] = {
    README: "This sheet: what every sheet, column and status means.",
    SUMMARY: "The month at a glance: close-ready or not, the totals, the pack version, the totals per status "
             "and a chart of the amounts per status.",
    "Orders": "One row per SparkLayer order placed in the month, those that block the close first.",
    "By customer": "The month's orders added up per customer.",
    "By payment method": "The month's orders added up per payment method.",
    "By currency": "The month's orders added up per order currency, each in its own currency (never mixed).",
    "Unmatched ERP orders": "Live ERP orders of the month that carry a SparkLayer reference SparkLayer does not "
                            "know (each one blocks the close).",
}

_WIDE = {"reason": 70, "meaning": 50, "action": 50, "purchase_id": 24, "customer_sparklayer_id": 24}
_WORDS = {"erp": "ERP", "sparklayer": "SparkLayer"}
PAYMENT_METHOD_LABELS = {"on_account": "On account", "invoice": "Invoice", "platform_upfront": "Paid upfront (card)"}


def definition(sheet: str, column: str) -> Column | None:
    """The definition of ``column`` on ``sheet`` (the sheet's own wording first), None when it has none."""
    return SHEET_COLUMNS.get(sheet, {}).get(column) or COLUMNS.get(column)


def header(sheet: str, column: str) -> str:
    found = definition(sheet, column)
    return found.header if found else column


def class_label(recon_class: str) -> str:
    """``paid_in_shop_unpaid_in_erp`` → ``Paid in shop unpaid in ERP``."""
    words = [_WORDS.get(w, w) for w in str(recon_class).split("_")]
    first = words[0] if words[0] in _WORDS.values() else words[0].capitalize()
    return " ".join([first, *words[1:]])


def _period(result: ReconResult) -> str:
    last = result.month_end - dt.timedelta(days=1)
    return f"{result.month_start:%d %b %Y} to {last:%d %b %Y}"


def summary_rows(result: ReconResult, pack: Sequence[tuple[str, object]] = ()) -> list[tuple[str, object]]:
    """The headline facts, in the order people read them; ``pack``: lines about this version of the pack."""
    ready = close_ready(result)
    t = result.totals
    return [
        ("Period", _period(result)),
        ("As of", result.as_of),
        ("Close-ready", "YES" if ready.ready else "NO"),
        *pack,
        ("Orders placed in SparkLayer", t["orders"]),
        ("Orders that block the close", t["unexplained"]),
        ("ERP orders with an unknown SparkLayer order", t["unknown_erp_orders"]),
        ("SparkLayer total (billable)", t["sl_total"]),
        ("ERP total (live orders, incl. unmatched)", t["erp_total"]),
        ("Difference (SparkLayer - ERP)", t["difference"]),
        ("Amount tolerance per order", result.amount_tolerance),
        ("Blockers", ready.text),
    ]


# --- the tables --------------------------------------------------------------------------------------------


def currency_column(frame: pd.DataFrame) -> str | None:
    """The column holding each row's currency, when the frame has one."""
    return next((c for c in CURRENCY_COLUMNS if c in frame.columns), None)


def _round(amount: Decimal, currency: str) -> Decimal:
    try:
        return round_money(amount, currency)
    except UnknownCurrency:
        return round_money(amount)


def company_currency(result: ReconResult, default: str | None = None) -> str | None:
    """The currency totals across orders are in (the reconciliation says; else ``default``)."""
    return getattr(result, "company_currency", None) or default


def by_currency(result: ReconResult, default_currency: str | None = None) -> pd.DataFrame:
    """Orders, blocking orders and money per order currency, each in that currency and rounded to its smallest
    unit (JPY 1, GBP 0.01, KWD 0.001). The reconciliation's own table when it has one; else added up here from
    the orders (without a currency on them every order is in the company's currency, ``default_currency``)."""
    given = getattr(result, "by_currency", None)
    if isinstance(given, pd.DataFrame) and "currency" in given.columns:
        return given
    orders = result.orders
    column = currency_column(orders)
    fallback = company_currency(result, default_currency) or NOT_RECORDED
    codes = orders[column].fillna(fallback).astype(str) if column else \
        pd.Series(fallback, index=orders.index, dtype=object)
    rows = []
    for code in sorted(set(codes)):
        part = orders[codes.to_numpy() == code]
        sums = {name: _round(sum(part[src], Decimal("0")), code)
                for name, src in (("sl_total", "sl_billable"), ("erp_total", "erp_total"),
                                  ("difference", "difference"))}
        rows.append({"currency": code, "orders": len(part), "unexplained": int((~part["explained"]).sum()),
                     **sums})
    return pd.DataFrame(rows, columns=["currency", "orders", "unexplained", "sl_total", "erp_total", "difference"])


@dataclass(frozen=True)
class Table:
    sheet: str
    frame: pd.DataFrame  # as the domain gives it: codes, not words (``_people_values`` turns them into words)


def _orders_for_people(orders: pd.DataFrame, limit: int | None) -> tuple[pd.DataFrame, bool]:
    """Unexplained first (in class precedence), then the rest; each by placed time, then purchase id."""
    rank = {str(c): i for i, c in enumerate(RECON_CLASSES)}
    keyed = orders.assign(_blocks=~orders["explained"], _rank=orders["recon_class"].map(rank))
    keyed = keyed.sort_values(["_blocks", "_rank", "placed_at", "purchase_id"],
                              ascending=[False, True, True, True], kind="stable")
    out = keyed.drop(columns=["_blocks", "_rank"])
    cap = EXCEL_MAX_ROWS if limit is None else min(limit, EXCEL_MAX_ROWS)
    return out.head(cap), len(out) > cap


def summary_classes(result: ReconResult) -> pd.DataFrame:
    """The per-status totals shown on the Summary sheet: the statuses that have orders this month."""
    return result.by_class[result.by_class["orders"] > 0].reset_index(drop=True)


def tables(result: ReconResult, *, orders: pd.DataFrame | None = None,
           default_currency: str | None = None) -> list[Table]:
    """The tables of the workbook, sheet by sheet (Summary's per-status table first)."""
    return [
        Table(SUMMARY, summary_classes(result)),
        Table("Orders", result.orders if orders is None else orders),
        Table("By customer", result.by_customer),
        Table("By payment method", result.by_payment_method),
        Table("By currency", by_currency(result, default_currency)),
        Table("Unmatched ERP orders", result.erp_orders_claiming_unknown_purchase),
    ]


def missing_definitions(result: ReconResult) -> list[tuple[str, str]]:
    """(sheet, column) of every column the workbook would show without a definition: should be none."""
    return [(t.sheet, c) for t in tables(result) for c in t.frame.columns if definition(t.sheet, c) is None]


def _people_values(frame: pd.DataFrame) -> pd.DataFrame:
    """Words instead of codes; UTC times without a zone (Excel has none); dates as dates."""
    out = frame.copy()
    if "recon_class" in out:
        out["recon_class"] = out["recon_class"].map(class_label)
    if "explained" in out:
        out["explained"] = out["explained"].map({True: "yes", False: "no"})
    if "owner" in out:
        out["owner"] = out["owner"].map(lambda o: str(o).replace("_", " ").capitalize())
    if "payment_method" in out:
        out["payment_method"] = out["payment_method"].map(lambda m: PAYMENT_METHOD_LABELS.get(m, m))
    if "placed_at" in out:
        out["placed_at"] = out["placed_at"].dt.tz_convert("UTC").dt.tz_localize(None)
    if "due_date" in out:
        out["due_date"] = pd.Series([d.date() if not pd.isna(d) else None for d in out["due_date"]],
                                    index=out.index, dtype=object)
    return out


# --- Excel -------------------------------------------------------------------------------------------------


def money_format(currency: object = None) -> str:
    """``#,##0.00`` for pounds and euros, ``#,##0`` for yen, ``#,##0.000`` for dinars (ISO 4217 minor units)."""
    try:
        places = currency_exponent(str(currency)) if currency else 2
    except UnknownCurrency:
        places = 2
    return "#,##0" + ("." + "0" * places if places else "")


def _cell(ws: WriteOnlyWorksheet, value: object, *, money: bool = False, fmt: str = MONEY_FORMAT,
          bold: bool = False, wrap: bool = False) -> object:
    if value is None or (not isinstance(value, (str, Decimal)) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font

    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, Decimal) or money:
        cell.number_format = fmt
    elif isinstance(value, dt.datetime):
        cell.number_format = DATETIME_FORMAT if (value.hour or value.minute) else DATE_FORMAT
    elif isinstance(value, dt.date):
        cell.number_format = DATE_FORMAT
    if bold:
        cell.font = Font(bold=True)
    if wrap:
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    return cell


def _write_table(ws: WriteOnlyWorksheet, sheet: str, frame: pd.DataFrame, company: str | None = None) -> None:
    """Header row from the column definitions, then the rows; each amount shown with its currency's decimals
    (the row's currency, or ``company`` for company-currency figures and sheets without a currency column)."""
    cols = list(frame.columns)
    ws.append([_cell(ws, header(sheet, c), bold=True) for c in cols])
    kind = {c: d.money for c in cols if (d := definition(sheet, c)) is not None and d.money}
    plain = {c for c in cols if c not in kind and frame[c].dtype != object
             and not pd.api.types.is_datetime64_any_dtype(frame[c])}
    ccy = currency_column(frame)
    formats: dict[object, str] = {}

    def fmt(code: object) -> str:
        if code not in formats:
            formats[code] = money_format(code)
        return formats[code]

    for row in zip(*(frame[c].tolist() for c in cols), strict=True):
        values = dict(zip(cols, row, strict=True))
        own = values.get(ccy) if ccy else company
        ws.append([v if c in plain and not pd.isna(v) else
                   _cell(ws, v, money=c in kind, fmt=fmt(company if kind.get(c) == _COMPANY else own))
                   for c, v in values.items()])


def _column_letter(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(i)


def _widths(ws: WriteOnlyWorksheet, sheet: str, columns: Sequence[str]) -> None:
    for i, c in enumerate(columns, start=1):
        ws.column_dimensions[_column_letter(i)].width = max(_WIDE.get(c, 14), min(len(header(sheet, c)) + 2, 40))


def readme_rows(result: ReconResult, *, default_currency: str | None = None) -> list[tuple[str, str, str, str]]:
    """The Read me's column table: (sheet, column header, what it means, where it comes from), generated from
    the columns each sheet actually has."""
    rows = []
    for t in tables(result, default_currency=default_currency):
        for c in t.frame.columns:
            d = definition(t.sheet, c)
            rows.append((t.sheet, d.header if d else c, d.meaning if d else UNDESCRIBED, d.source if d else ""))
    return rows


README_COLUMNS_HEADER = ("Sheet", "Column", "What it means", "Where the figure comes from")
README_STATUS_HEADER = ("Status", "Code", "What it means", "What to do", "Blocks close-ready?", "Who acts")


def _write_readme(ws: WriteOnlyWorksheet, result: ReconResult, pack: Sequence[tuple[str, object]],
                  default_currency: str | None) -> None:
    for letter, width in zip("ABCDEF", (24, 34, 60, 60, 14, 18), strict=True):
        ws.column_dimensions[letter].width = width

    def bold(value: object) -> object:
        return _cell(ws, value, bold=True)

    def text(value: object) -> object:
        return _cell(ws, value, wrap=True)

    ws.append([bold(f"How to read this workbook: SparkLayer and ERP reconciliation, {_period(result)}")])
    company = company_currency(result, default_currency) or "the company's"
    ws.append([_cell(ws, "Every SparkLayer order placed in the month is matched to its ERP order, invoices and "
                         "payments and given a status. Amounts are exact; on the Orders sheet they are in the "
                         "order's currency, totals across orders (Summary, By customer, By payment method) in "
                         f"the company currency ({company}); By currency has both. 'Difference' is always "
                         "SparkLayer minus ERP.")])
    for label, value in pack:
        ws.append([bold(label), _cell(ws, value)])
    ws.append([])
    ws.append([bold("Sheet"), bold("What it shows")])
    for sheet in SHEETS:
        ws.append([_cell(ws, sheet), _cell(ws, SHEET_PURPOSE[sheet])])
    ws.append([])
    ws.append([bold(h) for h in README_COLUMNS_HEADER])
    for row in readme_rows(result, default_currency=default_currency):
        ws.append([text(v) for v in row])
    ws.append([])
    ws.append([bold(h) for h in README_STATUS_HEADER])
    for cls, rule in RECON_CLASSES.items():
        ws.append([_cell(ws, class_label(cls)), _cell(ws, str(cls)), text(rule.meaning), text(rule.action),
                   _cell(ws, "no" if rule.explained else "YES"),
                   _cell(ws, str(rule.owner).replace("_", " ").capitalize())])


def _bar_chart(ws: WriteOnlyWorksheet, header_row: int, rows: int, columns: Sequence[str], month: str) -> object:
    """Amounts per status (SparkLayer and ERP totals side by side), drawn from the Summary's per-status table
    (``header_row`` is its header row, ``rows`` the statuses under it)."""
    from openpyxl.chart import BarChart, Reference

    chart = BarChart()
    chart.type = "bar"  # horizontal: the status names stay readable
    chart.style = 10
    chart.title = f"{month}: amounts per status"
    chart.x_axis.title = "Status"
    chart.y_axis.title = "Amount"
    chart.height, chart.width = max(7.5, 1.2 * rows + 3), 24
    for name in ("sl_total", "erp_total"):
        col = columns.index(name) + 1
        chart.add_data(Reference(ws, min_col=col, min_row=header_row, max_row=header_row + rows),
                       titles_from_data=True)
    label = columns.index("recon_class") + 1
    chart.set_categories(Reference(ws, min_col=label, min_row=header_row + 1, max_row=header_row + rows))
    return chart


def to_excel(result: ReconResult, path: str | Path, *, max_order_rows: int | None = None,
             pack: Sequence[tuple[str, object]] = (), default_currency: str | None = None) -> Path:
    """Write the workbook; returns its path. ``max_order_rows`` caps the Orders sheet (see module doc);
    ``pack`` adds lines about this version of the pack (version, written at, close) to Read me and Summary."""
    path = Path(path)
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    orders, truncated = _orders_for_people(result.orders, max_order_rows)
    all_tables = tables(result, orders=orders, default_currency=default_currency)
    company = company_currency(result, default_currency)

    _write_readme(wb.create_sheet(README), result, pack, default_currency)

    ws = wb.create_sheet(SUMMARY)
    ws.column_dimensions["A"].width = 44
    ws.column_dimensions["B"].width = 24
    ws.append([_cell(ws, f"SparkLayer and ERP reconciliation, {_period(result)}", bold=True)])
    ws.append([])
    row = 2
    for label, value in summary_rows(result, pack):  # amounts in the company currency
        ws.append([_cell(ws, label, bold=True), _cell(ws, value, fmt=money_format(company))])
        row += 1
    if truncated:
        ws.append([_cell(ws, "Note", bold=True),
                   _cell(ws, f"The Orders sheet shows the first {len(orders):,} of {len(result.orders):,} "
                             "orders (those needing attention first); the CSV export has them all.")])
        row += 1
    ws.append([])
    row += 1
    per_status = all_tables[0].frame
    _write_table(ws, SUMMARY, _people_values(per_status), company)
    header_row = row + 1
    if len(per_status):
        chart = _bar_chart(ws, header_row, len(per_status), list(per_status.columns),
                           f"{result.month_start:%B %Y}")
        ws.add_chart(chart, f"A{header_row + len(per_status) + 2}")

    for table in all_tables[1:]:
        sheet = wb.create_sheet(table.sheet)
        frame = _people_values(table.frame)
        _widths(sheet, table.sheet, list(frame.columns))
        sheet.freeze_panes = "A2"
        _write_table(sheet, table.sheet, frame, company)
        if len(frame.columns):
            sheet.auto_filter.ref = f"A1:{_column_letter(len(frame.columns))}{len(frame) + 1}"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


# --- CSV ---------------------------------------------------------------------------------------------------


def _csv(frame: pd.DataFrame, path: Path, sheet: str) -> Path:
    renamed = frame.rename(columns={c: header(sheet, c) for c in frame.columns})
    renamed.to_csv(path, index=False, encoding="utf-8-sig", date_format="%Y-%m-%d %H:%M:%S")
    return path


def to_csv(result: ReconResult, directory: str | Path, *, pack: Sequence[tuple[str, object]] = (),
           default_currency: str | None = None) -> list[Path]:
    """Write one CSV per table (``CSV_FILES``) into ``directory``; returns the paths in that order."""
    out_dir = Path(directory)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = pd.DataFrame(summary_rows(result, pack), columns=["Item", "Value"])
    written: Iterable[Path] = (
        _csv(summary, out_dir / "summary.csv", SUMMARY),
        _csv(_people_values(result.by_class), out_dir / "by_class.csv", SUMMARY),
        _csv(_people_values(result.orders), out_dir / "orders.csv", "Orders"),
        _csv(_people_values(result.by_customer), out_dir / "by_customer.csv", "By customer"),
        _csv(_people_values(result.by_payment_method), out_dir / "by_payment_method.csv", "By payment method"),
        _csv(by_currency(result, default_currency), out_dir / "by_currency.csv", "By currency"),
        _csv(_people_values(result.erp_orders_claiming_unknown_purchase), out_dir / "unmatched_erp_orders.csv",
             "Unmatched ERP orders"),
    )
    return list(written)
