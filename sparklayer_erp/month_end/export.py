"""Write a month's reconciliation for finance: one spreadsheet (.xlsx) or a folder of CSV files.

File I/O lives here so that ``domain/`` stays pure. Money is written exactly: as numbers from ``Decimal``
(shown with two decimals and thousands separators) in the spreadsheet, as ``1234.50`` text in CSV.
Headers are words, not column names. CSV files are UTF-8 with a byte-order mark so that Excel opens them
with the right characters.

Excel holds at most 1,048,575 data rows per sheet; writing a million rows also takes minutes. The Orders
sheet therefore lists the orders that need attention first and stops at ``max_order_rows`` (the Summary
says so when it did); the CSV always has every order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:  # openpyxl is imported where a workbook is written, not when the code location loads
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from sparklayer_erp.domain.reconciliation import RECON_CLASSES, ReconResult, close_ready

EXCEL_MAX_ROWS = 1_048_575
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
SHEETS = ("Summary", "Orders", "By customer", "By payment method", "Unmatched ERP orders")
CSV_FILES = ("summary.csv", "by_class.csv", "orders.csv", "by_customer.csv", "by_payment_method.csv",
             "unmatched_erp_orders.csv")

HEADERS = {
    "purchase_id": "SparkLayer purchase id", "visible_id": "SparkLayer order", "placed_at": "Placed (UTC)",
    "customer_sparklayer_id": "SparkLayer customer id", "account_code": "Customer account",
    "payment_method": "Payment method", "sl_status": "SparkLayer status", "erp_number": "ERP order",
    "erp_state": "ERP order state", "erp_account_code": "ERP customer account", "invoice_numbers": "Invoices",
    "sl_total": "SparkLayer total", "sl_paid": "Paid in shop", "sl_lines_total": "SparkLayer lines total",
    "sl_billable": "SparkLayer billable (0 if cancelled)", "erp_total": "ERP total", "invoiced": "Invoiced",
    "erp_paid": "Paid in ERP", "outstanding": "Outstanding", "difference": "Difference (SparkLayer - ERP)",
    "due_date": "Due date", "days_overdue": "Days overdue", "recon_class": "Status",
    "explained": "Explained", "owner": "Owner", "reason": "Why",
    "orders": "Orders", "unexplained": "Unexplained", "meaning": "What it means", "action": "What to do",
    "erp_id": "ERP id", "number": "ERP order", "state": "ERP order state", "order_date": "Order date",
    "total": "ERP total",
}
_TOTALS_HEADERS = {"sl_total": "SparkLayer total", "erp_total": "ERP total", "difference": "Difference"}
MONEY_COLUMNS = frozenset({"sl_total", "sl_paid", "sl_lines_total", "sl_billable", "erp_total", "invoiced",
                           "erp_paid", "outstanding", "difference", "total"})
_WIDE = {"reason": 70, "meaning": 50, "action": 50, "purchase_id": 24, "customer_sparklayer_id": 24}
_WORDS = {"erp": "ERP", "sparklayer": "SparkLayer"}
PAYMENT_METHOD_LABELS = {"on_account": "On account", "invoice": "Invoice", "platform_upfront": "Paid upfront (card)"}


def class_label(recon_class: str) -> str:
    """``paid_in_shop_unpaid_in_erp`` → ``Paid in shop unpaid in ERP``."""
    words = [_WORDS.get(w, w) for w in str(recon_class).split("_")]
    first = words[0] if words[0] in _WORDS.values() else words[0].capitalize()
    return " ".join([first, *words[1:]])


def _period(result: ReconResult) -> str:
    last = result.month_end - dt.timedelta(days=1)
    return f"{result.month_start:%d %b %Y} to {last:%d %b %Y}"


def summary_rows(result: ReconResult) -> list[tuple[str, object]]:
    """The headline facts, in the order people read them."""
    ready = close_ready(result)
    t = result.totals
    return [
        ("Period", _period(result)),
        ("As of", result.as_of),
        ("Close-ready", "YES" if ready.ready else "NO"),
        ("Orders placed in SparkLayer", t["orders"]),
        ("Orders that block the close", t["unexplained"]),
        ("ERP orders with an unknown SparkLayer order", t["unknown_erp_orders"]),
        ("SparkLayer total (billable)", t["sl_total"]),
        ("ERP total (live orders, incl. unmatched)", t["erp_total"]),
        ("Difference (SparkLayer - ERP)", t["difference"]),
        ("Amount tolerance per order", result.amount_tolerance),
        ("Blockers", ready.text),
    ]


def _orders_for_people(orders: pd.DataFrame, limit: int | None) -> tuple[pd.DataFrame, bool]:
    """Unexplained first (in class precedence), then the rest; each by placed time, then purchase id."""
    rank = {str(c): i for i, c in enumerate(RECON_CLASSES)}
    keyed = orders.assign(_blocks=~orders["explained"], _rank=orders["recon_class"].map(rank))
    keyed = keyed.sort_values(["_blocks", "_rank", "placed_at", "purchase_id"],
                              ascending=[False, True, True, True], kind="stable")
    out = keyed.drop(columns=["_blocks", "_rank"])
    cap = EXCEL_MAX_ROWS if limit is None else min(limit, EXCEL_MAX_ROWS)
    return out.head(cap), len(out) > cap


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


def _cell(ws: WriteOnlyWorksheet, value: object, column: str | None = None, *, bold: bool = False) -> object:
    if value is None or (not isinstance(value, (str, Decimal)) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, Decimal) or column in MONEY_COLUMNS:
        cell.number_format = MONEY_FORMAT
    elif isinstance(value, dt.datetime):
        cell.number_format = DATETIME_FORMAT if (value.hour or value.minute) else DATE_FORMAT
    elif isinstance(value, dt.date):
        cell.number_format = DATE_FORMAT
    if bold:
        cell.font = Font(bold=True)
    return cell


def _write_table(ws: WriteOnlyWorksheet, frame: pd.DataFrame, headers: dict[str, str]) -> None:
    cols = list(frame.columns)
    ws.append([_cell(ws, headers.get(c, HEADERS.get(c, c)), bold=True) for c in cols])
    plain = {c for c in cols if c not in MONEY_COLUMNS and frame[c].dtype != object
             and not pd.api.types.is_datetime64_any_dtype(frame[c])}
    for row in zip(*(frame[c].tolist() for c in cols), strict=True):
        ws.append([v if c in plain and not pd.isna(v) else _cell(ws, v, c) for c, v in zip(cols, row, strict=True)])


def _column_letter(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(i)


def _widths(ws: WriteOnlyWorksheet, columns: Sequence[str], headers: dict[str, str]) -> None:
    for i, c in enumerate(columns, start=1):
        title = headers.get(c, HEADERS.get(c, c))
        ws.column_dimensions[_column_letter(i)].width = max(_WIDE.get(c, 14), min(len(title) + 2, 40))


def to_excel(result: ReconResult, path: str | Path, *, max_order_rows: int | None = None) -> Path:
    """Write the spreadsheet; returns its path. ``max_order_rows`` caps the Orders sheet (see module doc)."""
    path = Path(path)
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    orders, truncated = _orders_for_people(result.orders, max_order_rows)

    ws = wb.create_sheet("Summary")
    ws.column_dimensions["A"].width = 44
    ws.column_dimensions["B"].width = 24
    ws.append([_cell(ws, f"SparkLayer and ERP reconciliation, {_period(result)}", bold=True)])
    ws.append([])
    for label, value in summary_rows(result):
        ws.append([_cell(ws, label, bold=True), _cell(ws, value)])
    if truncated:
        ws.append([_cell(ws, "Note", bold=True),
                   _cell(ws, f"The Orders sheet shows the first {len(orders):,} of {len(result.orders):,} "
                             "orders (those needing attention first); the CSV export has them all.")])
    ws.append([])
    _write_table(ws, _people_values(result.by_class), _TOTALS_HEADERS)

    for title, frame, headers in (
        ("Orders", _people_values(orders), {}),
        ("By customer", _people_values(result.by_customer), _TOTALS_HEADERS),
        ("By payment method", _people_values(result.by_payment_method), _TOTALS_HEADERS),
        ("Unmatched ERP orders", _people_values(result.erp_orders_claiming_unknown_purchase), {}),
    ):
        sheet = wb.create_sheet(title)
        _widths(sheet, list(frame.columns), headers)
        sheet.freeze_panes = "A2"
        _write_table(sheet, frame, headers)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


# --- CSV ---------------------------------------------------------------------------------------------------


def _csv(frame: pd.DataFrame, path: Path, headers: dict[str, str]) -> Path:
    renamed = frame.rename(columns={c: headers.get(c, HEADERS.get(c, c)) for c in frame.columns})
    renamed.to_csv(path, index=False, encoding="utf-8-sig", date_format="%Y-%m-%d %H:%M:%S")
    return path


def to_csv(result: ReconResult, directory: str | Path) -> list[Path]:
    """Write one CSV per table (``CSV_FILES``) into ``directory``; returns the paths in that order."""
    out_dir = Path(directory)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = pd.DataFrame(summary_rows(result), columns=["Item", "Value"])
    written: Iterable[Path] = (
        _csv(summary, out_dir / "summary.csv", {}),
        _csv(_people_values(result.by_class), out_dir / "by_class.csv", _TOTALS_HEADERS),
        _csv(_people_values(result.orders), out_dir / "orders.csv", {}),
        _csv(_people_values(result.by_customer), out_dir / "by_customer.csv", _TOTALS_HEADERS),
        _csv(_people_values(result.by_payment_method), out_dir / "by_payment_method.csv", _TOTALS_HEADERS),
        _csv(_people_values(result.erp_orders_claiming_unknown_purchase), out_dir / "unmatched_erp_orders.csv",
             {}),
    )
    return list(written)


