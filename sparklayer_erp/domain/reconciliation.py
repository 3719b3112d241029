"""Month-end reconciliation: every SparkLayer order of the month against the ERP's order, invoices, payments.

Pure: frames in, frames out; no I/O (the spreadsheet/CSV writers live in ``sparklayer_erp.month_end.export``;
the pandera gates for these frames in ``sparklayer_erp.month_end.gates``). The classes, their owners and
whether they block the close are one table in ``recon_classes``.

Inputs: ``INPUT_COLUMNS`` names every column of every frame, required or optional, and what it means. An
optional column that is absent means "nothing of that kind" (no refunds, no credit notes, no partial
shipments, everything in the company's currency at rate 1).

Money: every money column holds ``int64`` **minor units of the row's currency** (pence for GBP, yen for JPY,
fils for KWD). Each SparkLayer order reconciles in its own currency; an ERP order's invoices, payments and
credit notes are in the ERP order's currency. ``minor_unit_frames`` is the edge that turns frames built from
records (``Decimal`` amounts) into these, rounding each amount half-up once to its currency's minor unit;
after it everything is exact integer arithmetic, vectorised (a million orders in seconds), and ``Decimal``
comes back only in the output frames (figures for people). Totals across orders (``by_customer``,
``by_payment_method``, ``by_class``, ``totals``) are in the **company currency**, converted per order with the
ERP's rate for the order (``company_currency_rate``: company-currency units per one unit of the order's
currency); ``by_currency`` has the totals per order currency as well.

Dates: the month is ``[month_start, month_end)`` in the company's time zone (``timezone``, an IANA name or a
``tzinfo``; UTC when not given) — ``month_end`` is the first day of the next month, like a Dagster monthly
partition's time window and ``ErpPort.list_orders_between``. An order belongs to the month of its
``placed_at`` in that zone: 2026-06-30 23:30 UTC is 1 July 00:30 in Europe/London, a July order there.
ERP dates (order, invoice, due, payment) are the ERP's calendar days, already company days. Payments dated
after ``as_of`` are rewound (added back to what is due) and invoices dated after it do not count, so
re-running an old month gives the picture as of its close.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import NamedTuple

import numpy as np
import pandas as pd
from numpy.dtypes import StringDType

from sparklayer_erp.domain.models import OwnerTeam, PaymentMethod
from sparklayer_erp.domain.money import CURRENCY_EXPONENTS, currency_exponent
from sparklayer_erp.domain.recon_classes import (
    BLOCKING_CLASSES,
    CLASS_ORDER,
    RECON_CLASSES,
    ClassRule,
    ReconClass,
)
from sparklayer_erp.domain.recon_money import (
    ShownMoney,
    decimal_array,
    exponent_or_fallback,
    format_array,
    format_minor,
    format_money,
    minor_to_decimal,
    pence_to_decimal,
    rate_of,
    to_company_currency,
    to_minor_array,
    to_pence,
)

__all__ = [
    "BLOCKING_CLASSES", "CLASS_ORDER", "ERP_INVOICE_COLUMNS", "ERP_ORDER_COLUMNS", "ERP_ORDER_OPTIONAL_COLUMNS",
    "ERP_PAYMENT_COLUMNS", "INPUT_COLUMNS", "MONEY_INPUT_COLUMNS", "ORDER_COLUMNS", "ORDER_COLUMN_MEANINGS",
    "ORDER_MONEY_COLUMNS", "ORDER_TEXT_COLUMNS", "RECON_CLASSES", "SL_LINE_COLUMNS", "SL_ORDER_COLUMNS",
    "SL_ORDER_OPTIONAL_COLUMNS", "Blocker", "ClassRule", "CloseReadiness", "ReconClass", "ReconResult",
    "close_ready", "format_minor", "format_money", "minor_unit_frames", "pence_to_decimal", "reconcile_month",
    "to_pence",
]

# ------------------------------------------------------------------------------------------------------------
# The input frames, in one place
# ------------------------------------------------------------------------------------------------------------


class Col(NamedTuple):
    required: bool
    meaning: str
    money: bool = False  # int64 minor units of the row's currency


INPUT_COLUMNS: Mapping[str, Mapping[str, Col]] = MappingProxyType({
    "sl_orders": MappingProxyType({
        "purchase_id": Col(True, "SparkLayer purchase id (unique)"),
        "visible_id": Col(True, "the order number people see (nullable)"),
        "account_code": Col(True, "ERP account code the customer maps to (nullable)"),
        "customer_sparklayer_id": Col(True, "SparkLayer customer id"),
        "payment_method": Col(True, "SparkLayer payment method"),
        "placed_at": Col(True, "when the order was placed (tz-aware)"),
        "status": Col(True, "SparkLayer display status, cancelled included"),
        "total_gross": Col(True, "order total incl. tax and shipping", money=True),
        "total_paid": Col(True, "paid in the shop", money=True),
        "shipping_gross": Col(False, "shipping incl. tax; required when sl_lines is given", money=True),
        "currency": Col(False, "ISO 4217 code of the order; absent or empty = the company's currency"),
        "refunded": Col(False, "refunds recorded in SparkLayer for the purchase (refund transactions)",
                        money=True),
        "company_currency_rate": Col(False, "Decimal: the rate the order was priced at in SparkLayer (company-"
                                            "currency units per unit of the order currency); empty = unknown"),
    }),
    "sl_lines": MappingProxyType({
        "purchase_id": Col(True, "SparkLayer purchase id"),
        "sku": Col(True, "product code"),
        "quantity": Col(True, "base units"),
        "line_total_gross": Col(True, "line total incl. tax", money=True),
    }),
    "erp_orders": MappingProxyType({
        "erp_id": Col(True, "ERP sales order id (unique)"),
        "number": Col(True, "ERP order number"),
        "purchase_id": Col(True, "SparkLayer purchase id it carries (nullable: keyed in the ERP by hand)"),
        "account_code": Col(True, "ERP customer account"),
        "state": Col(True, "pending_approval / committed / done / cancelled / draft"),
        "total": Col(True, "order total incl. tax", money=True),
        "order_date": Col(True, "ERP order date"),
        "currency": Col(False, "ISO 4217 code of the ERP order; absent or empty = the company's currency"),
        "company_currency_rate": Col(False, "Decimal: the ERP's rate for the order (company-currency units per "
                                            "unit of the order currency); empty = none"),
        "credited": Col(False, "posted credit notes against the order's invoices (a positive amount)", money=True),
        "quantity_ordered": Col(False, "base units ordered on the order's live lines"),
        "quantity_shipped": Col(False, "base units shipped so far"),
        "shipped_total": Col(False, "gross value of what has shipped; required with the quantities", money=True),
    }),
    "erp_invoices": MappingProxyType({
        "erp_id": Col(True, "the sales order's ERP id"),
        "number": Col(True, "invoice number"),
        "state": Col(True, "draft / validated / posted / paid / cancelled"),
        "total": Col(True, "invoice total", money=True),
        "amount_due": Col(True, "what the ERP says is still due today", money=True),
        "invoice_date": Col(True, "invoice date"),
        "due_date": Col(True, "due date"),
    }),
    "erp_payments": MappingProxyType({
        "invoice_number": Col(True, "the invoice paid"),
        "amount": Col(True, "amount paid", money=True),
        "paid_on": Col(True, "payment date"),
    }),
})


def _names(frame: str, *, required: bool) -> tuple[str, ...]:
    return tuple(c for c, spec in INPUT_COLUMNS[frame].items() if spec.required is required)


SL_ORDER_COLUMNS = _names("sl_orders", required=True)
SL_ORDER_OPTIONAL_COLUMNS = _names("sl_orders", required=False)
SL_LINE_COLUMNS = _names("sl_lines", required=True)
ERP_ORDER_COLUMNS = _names("erp_orders", required=True)
ERP_ORDER_OPTIONAL_COLUMNS = _names("erp_orders", required=False)
ERP_INVOICE_COLUMNS = _names("erp_invoices", required=True)
ERP_PAYMENT_COLUMNS = _names("erp_payments", required=True)
MONEY_INPUT_COLUMNS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {frame: tuple(c for c, spec in cols.items() if spec.money) for frame, cols in INPUT_COLUMNS.items()})

COUNTED_INVOICE_STATES = frozenset({"posted", "paid"})  # draft/validated have no ledger impact yet
_LIVE_ERP_EXCLUDED = "cancelled"
_NO_LEDGER_STATES = ("pending_approval", "draft")
_SL_CANCELLED = "cancelled"

# ------------------------------------------------------------------------------------------------------------
# The output frame of orders
# ------------------------------------------------------------------------------------------------------------

ORDER_COLUMN_MEANINGS: Mapping[str, str] = MappingProxyType({
    "purchase_id": "SparkLayer purchase id",
    "visible_id": "SparkLayer order number",
    "placed_at": "When the order was placed (UTC)",
    "customer_sparklayer_id": "SparkLayer customer id",
    "account_code": "ERP customer account SparkLayer's customer maps to",
    "payment_method": "How the customer pays",
    "currency": "The order's currency; every amount on the row before the company-currency ones is in it",
    "sl_status": "Status in SparkLayer",
    "erp_number": "ERP order number (all live ones when duplicated)",
    "erp_state": "ERP order state",
    "erp_account_code": "ERP customer account the ERP order is booked to",
    "invoice_numbers": "Posted or paid ERP invoices of the order, as of the close",
    "sl_total": "SparkLayer order total",
    "sl_paid": "Paid in the shop",
    "sl_refunded": "Refunded in the shop",
    "sl_lines_total": "SparkLayer lines added up (empty when lines were not checked)",
    "sl_billable": "SparkLayer total that should be billed (0 when cancelled in SparkLayer)",
    "erp_total": "Total of the live ERP order(s)",
    "invoiced": "Invoiced in the ERP (posted and paid invoices dated up to the close)",
    "erp_paid": "Paid in the ERP up to the close",
    "erp_credited": "Credited in the ERP (credit notes)",
    "shipped_total": "Value of what has shipped (ERP)",
    "outstanding": "Still due on the invoices at the close",
    "difference": "SparkLayer billable minus ERP total",
    "company_currency_rate": "The ERP's exchange rate to the company currency (1 for company-currency orders)",
    "sl_billable_company": "SparkLayer billable in the company currency",
    "erp_total_company": "ERP total in the company currency",
    "due_date": "Earliest due date of an invoice with something outstanding",
    "days_overdue": "Days past that due date at the close",
    "recon_class": "Reconciliation status",
    "explained": "True when the status is normal business and does not block the close",
    "owner": "Team that acts on the status",
    "reason": "Why, in one sentence with the figures",
})
ORDER_COLUMNS: tuple[str, ...] = tuple(ORDER_COLUMN_MEANINGS)
# Text columns are pandas' ``str`` dtype (missing = NaN), whatever the row count (an empty frame too).
ORDER_TEXT_COLUMNS = ("purchase_id", "visible_id", "customer_sparklayer_id", "account_code", "payment_method",
                      "currency", "sl_status", "erp_number", "erp_state", "erp_account_code", "invoice_numbers",
                      "recon_class", "owner", "reason")
# Decimal in the order's currency (exactly its ISO 4217 decimals)
ORDER_MONEY_COLUMNS = ("sl_total", "sl_paid", "sl_refunded", "sl_billable", "erp_total", "invoiced", "erp_paid",
                       "erp_credited", "shipped_total", "outstanding", "difference")
ORDER_COMPANY_MONEY_COLUMNS = ("sl_billable_company", "erp_total_company")  # Decimal in the company currency


# ------------------------------------------------------------------------------------------------------------
# Result
# ------------------------------------------------------------------------------------------------------------


_EMPTY = pd.DataFrame


_EMPTY = pd.DataFrame


@dataclass(frozen=True)
class ReconResult:
    """Everything the month's reconciliation found. Frames are sorted deterministically, index 0..n-1.

    ``orders``: one row per SparkLayer order placed in the month (columns ``ORDER_COLUMNS``: ``Decimal`` money,
    a sentence per order). ``reconcile_month`` computes in integer minor units and builds this frame for
    people the first time it is read: showing figures is the edge where ``Decimal`` belongs, and a run that
    only needs the totals or the close-ready answer never pays for it.
    ``by_customer`` / ``by_payment_method`` / ``by_class``: orders, unexplained, sl_total (billable),
    erp_total (live ERP orders), difference — ``Decimal`` in the company currency.
    ``by_currency``: the same per order currency, in it and in the company currency.
    ``erp_orders_claiming_unknown_purchase``: live ERP orders of the month whose purchase id is unknown.
    """

    month_start: dt.date
    month_end: dt.date  # exclusive
    as_of: dt.date
    amount_tolerance: Decimal
    orders: pd.DataFrame = None  # type: ignore[assignment]  # None: built from the facts when first read
    by_customer: pd.DataFrame = field(default_factory=_EMPTY)
    by_payment_method: pd.DataFrame = field(default_factory=_EMPTY)
    by_class: pd.DataFrame = field(default_factory=_EMPTY)
    erp_orders_claiming_unknown_purchase: pd.DataFrame = field(default_factory=_EMPTY)
    company_currency: str = "GBP"
    by_currency: pd.DataFrame = field(default_factory=_EMPTY)

    def __post_init__(self) -> None:
        if self.orders is None:
            if "_facts" not in self.__dict__:
                raise ValueError("a ReconResult needs its orders")
            object.__delattr__(self, "orders")  # read through __getattr__, once

    def __getattr__(self, name: str) -> object:
        if name != "orders" or "_facts" not in self.__dict__:
            raise AttributeError(name)
        frame = _orders_frame(self.__dict__["_facts"], self.company_currency)
        object.__setattr__(self, "orders", frame)
        return frame

    @classmethod
    def _computed(cls, facts: _OrderFacts, **fields: object) -> ReconResult:
        """A result whose ``orders`` frame is built from ``facts`` when first read."""
        obj = cls.__new__(cls)
        object.__setattr__(obj, "_facts", facts)
        obj.__init__(**fields)  # type: ignore[misc]
        return obj

    @property
    def totals(self) -> dict[str, Decimal | int]:
        """Headline numbers in the company currency: the sums of ``by_class``, so ERP orders claiming an
        unknown purchase count in the ERP total (they are ERP sales attributed to SparkLayer); ``orders``
        counts SparkLayer orders."""
        bc = self.by_class
        zero = minor_to_decimal(0, exponent_or_fallback(self.company_currency))
        sl = sum(bc["sl_total"], zero)
        erp = sum(bc["erp_total"], zero)
        facts = self.__dict__.get("_facts")
        explained = facts.explained if facts is not None and "orders" not in self.__dict__ else \
            self.orders["explained"].to_numpy(dtype=bool)
        return {"orders": len(explained), "unexplained": int((~explained).sum()),
                "unknown_erp_orders": len(self.erp_orders_claiming_unknown_purchase),
                "sl_total": sl, "erp_total": erp, "difference": sl - erp}


# The dataclass leaves the default (None) as a class attribute, which would hide a lazily built ``orders``
# from ``__getattr__``; ``__init__`` keeps its own copy of the default.
del ReconResult.orders


class Blocker(NamedTuple):
    recon_class: ReconClass
    count: int
    owner: OwnerTeam
    difference: Decimal
    meaning: str
    action: str

    def __str__(self) -> str:
        return (f"{self.count} × {self.recon_class} (owner {self.owner}, difference {self.difference}): "
                f"{self.meaning} What to do: {self.action}")


class CloseReadiness(NamedTuple):
    """``ready, blockers = close_ready(result)``; ``text`` is the plain summary for people."""

    ready: bool
    blockers: tuple[Blocker, ...]

    @property
    def text(self) -> str:
        if self.ready:
            return "Close-ready: every order is matched or explained."
        return "Not close-ready:\n" + "\n".join(f"- {b}" for b in self.blockers)


def close_ready(result: ReconResult) -> CloseReadiness:
    """The month may close only when no order (and no unknown ERP order) is in an unexplained class."""
    bc = result.by_class
    rows = bc[(~bc["explained"]) & (bc["orders"] > 0)]
    blockers = tuple(
        Blocker(ReconClass(r.recon_class), int(r.orders), OwnerTeam(r.owner), r.difference,
                RECON_CLASSES[ReconClass(r.recon_class)].meaning, RECON_CLASSES[ReconClass(r.recon_class)].action)
        for r in rows.itertuples(index=False)
    )
    return CloseReadiness(not blockers, blockers)


# ------------------------------------------------------------------------------------------------------------
# The edge: frames built from records (Decimal) → minor units
# ------------------------------------------------------------------------------------------------------------


def _currency_codes(frame: pd.DataFrame, company_currency: str, rows: np.ndarray | None = None) -> np.ndarray:
    """Per row (of ``rows``): its ISO code, upper case; the company's where absent or empty. Computed once
    per distinct value."""
    n = len(frame) if rows is None else len(rows)
    if "currency" not in frame.columns:
        return np.full(n, company_currency, dtype=object)
    values = frame["currency"].to_numpy(dtype=object)
    if rows is not None:
        values = values[rows]
    out = np.full(n, company_currency, dtype=object)
    other = np.flatnonzero(values != company_currency)  # the usual case is cheap: one comparison per row
    keys, uniques = pd.factorize(values[other], use_na_sentinel=True)
    codes = np.array([str(u).upper() if str(u) else company_currency for u in uniques] + [company_currency],
                     dtype=object)
    out[other] = codes[keys]
    return out


def _exponents(codes: np.ndarray) -> np.ndarray:
    keys, uniques = pd.factorize(codes)
    per = np.array([exponent_or_fallback(u) for u in uniques] or [2], dtype=np.int64)
    return per[keys] if len(keys) else np.empty(0, dtype=np.int64)


def minor_unit_frames(sl_orders: pd.DataFrame, erp_orders: pd.DataFrame, erp_invoices: pd.DataFrame,
                      erp_payments: pd.DataFrame, sl_lines: pd.DataFrame | None = None, *,
                      company_currency: str = "GBP") -> dict[str, pd.DataFrame]:
    """Frames built from records, with ``Decimal`` money (``None`` in an optional money column = 0), → the
    frames ``reconcile_month`` takes: money as ``int64`` minor units of each row's currency, each amount
    rounded half-up once. Lines take their order's currency, invoices their ERP order's, payments their
    invoice's. Columns already holding integers are kept as they are. Returns the frames by name
    (``sl_lines`` only when given)."""
    company = company_currency.upper()
    currency_exponent(company)  # the company's currency must be a known one

    def convert(frame: pd.DataFrame, name: str, exps: np.ndarray) -> pd.DataFrame:
        out = frame.copy()
        for col in MONEY_INPUT_COLUMNS[name]:
            if col not in out.columns or pd.api.types.is_integer_dtype(out[col].dtype):
                continue
            values = out[col].to_numpy(dtype=object).copy()
            if not INPUT_COLUMNS[name][col].required:
                values[pd.isna(values)] = Decimal(0)
            out[col] = to_minor_array(values, exps, column=f"{name}.{col}")
        return out

    sl_codes = _currency_codes(sl_orders, company)
    erp_codes = _currency_codes(erp_orders, company)
    frames = {
        "sl_orders": convert(sl_orders, "sl_orders", _exponents(sl_codes)).assign(currency=sl_codes),
        "erp_orders": convert(erp_orders, "erp_orders", _exponents(erp_codes)).assign(currency=erp_codes),
    }
    company_exp = currency_exponent(company)

    def inherited(keys: pd.Series, parent_keys: pd.Series, parent_exps: np.ndarray) -> np.ndarray:
        pos = pd.Index(parent_keys.to_numpy(dtype=object)).get_indexer(keys.to_numpy(dtype=object)) \
            if len(parent_keys) else np.full(len(keys), -1)
        return np.where(pos >= 0, parent_exps[np.maximum(pos, 0)] if len(parent_exps) else company_exp,
                        company_exp)

    erp_exps = _exponents(erp_codes)
    inv_exps = inherited(erp_invoices["erp_id"], erp_orders["erp_id"].drop_duplicates(keep="first"),
                         erp_exps[~erp_orders["erp_id"].duplicated(keep="first").to_numpy()])
    frames["erp_invoices"] = convert(erp_invoices, "erp_invoices", inv_exps)
    first_inv = ~erp_invoices["number"].duplicated(keep="first").to_numpy()
    frames["erp_payments"] = convert(erp_payments, "erp_payments",
                                     inherited(erp_payments["invoice_number"], erp_invoices["number"][first_inv],
                                               inv_exps[first_inv]))
    if sl_lines is not None:
        first_sl = ~sl_orders["purchase_id"].duplicated(keep="first").to_numpy()
        frames["sl_lines"] = convert(sl_lines, "sl_lines",
                                     inherited(sl_lines["purchase_id"], sl_orders["purchase_id"][first_sl],
                                               _exponents(sl_codes)[first_sl]))
    return frames


# ------------------------------------------------------------------------------------------------------------
# reconcile_month
# ------------------------------------------------------------------------------------------------------------


def _require(df: pd.DataFrame, columns: Iterable[str], name: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{name} lacks column(s) {missing}")


def _units(df: pd.DataFrame, column: str, name: str, rows: np.ndarray | None = None) -> np.ndarray:
    """A money (or quantity) column as int64; absent optional column → zeros. Anything but integers is
    refused: a ``Decimal`` column has not been through ``minor_unit_frames``, a float lost its cents."""
    if column not in df.columns:
        return np.zeros(len(df) if rows is None else len(rows), dtype=np.int64)
    col = df[column]
    if not pd.api.types.is_integer_dtype(col.dtype) or getattr(col, "hasnans", False):
        raise TypeError(f"{name}.{column}: money must be integer minor units (int64, no gaps), found "
                        f"{col.dtype}; convert Decimal amounts at the edge with minor_unit_frames")
    values = col.to_numpy(dtype=np.int64)
    return values if rows is None else values[rows]


def _midnight(day: dt.date, timezone: str | dt.tzinfo) -> pd.Timestamp:
    """The instant ``day`` begins in ``timezone`` (a wall-clock midnight, whatever the offset that day)."""
    return pd.Timestamp(day.year, day.month, day.day).tz_localize(timezone, nonexistent="shift_forward")


def _days(col: pd.Series) -> np.ndarray:
    """Dates (python dates / datetime64, nullable) → int64 day numbers; NaT → ``_NO_DAY``."""
    if len(col) == 0:
        return np.empty(0, dtype=np.int64)
    as_dt = col if pd.api.types.is_datetime64_any_dtype(col) else pd.to_datetime(col)
    if isinstance(as_dt.dtype, pd.DatetimeTZDtype):
        as_dt = as_dt.dt.tz_convert("UTC").dt.tz_localize(None)
    days = as_dt.to_numpy(dtype="datetime64[D]")
    out = days.astype(np.int64)
    out[np.isnat(days)] = _NO_DAY
    return out


_NO_DAY = np.iinfo(np.int64).min  # "no date"; sorts first, i.e. treated as long past
_NEVER = np.iinfo(np.int64).max  # "no open invoice" for the earliest-due minimum


def _day_number(day: dt.date) -> int:
    return int(np.datetime64(day, "D").astype(np.int64))


def reconcile_month(
    sl_orders: pd.DataFrame,
    erp_orders: pd.DataFrame,
    erp_invoices: pd.DataFrame,
    erp_payments: pd.DataFrame,
    *,
    as_of: dt.date,
    month_start: dt.date,
    month_end: dt.date,
    amount_tolerance_pence: int = 0,
    sl_lines: pd.DataFrame | None = None,
    known_purchase_ids: Iterable[str] = (),
    timezone: str | dt.tzinfo = "UTC",
    company_currency: str = "GBP",
    erp_currencies: Collection[str] | None = None,
    rate_tolerance: Decimal = Decimal("0.01"),
) -> ReconResult:
    """Classify every SparkLayer order placed in ``[month_start, month_end)`` and total the month.

    ``timezone``: the company's zone; the month's days begin and end at midnight there.
    ``amount_tolerance_pence``: an absolute difference up to this many minor units of the order's currency is
    not a mismatch (pence for GBP). ``sl_lines``: when given (with ``sl_orders.shipping_gross``), each order's
    lines + shipping must add up to its total. ``known_purchase_ids``: SparkLayer ids beyond ``sl_orders``
    that are not "unknown". ``company_currency``: what totals are in. ``erp_currencies``: the currencies the
    ERP knows (None: every ISO 4217 currency with a known minor unit). ``rate_tolerance``: the largest relative
    difference (0.01 = 1 %) between the ERP's rate and the rate the order was priced at that is an ordinary
    exchange difference. Re-running on the same inputs gives identical frames.
    """
    if month_end <= month_start:
        raise ValueError("month_end is exclusive and must be after month_start")
    if amount_tolerance_pence < 0:
        raise ValueError("amount_tolerance_pence must be >= 0")
    if not isinstance(rate_tolerance, Decimal) or not rate_tolerance.is_finite() or rate_tolerance < 0:
        raise ValueError("rate_tolerance must be a non-negative Decimal")
    company = company_currency.upper()
    company_exp = currency_exponent(company)
    _require(sl_orders, SL_ORDER_COLUMNS, "sl_orders")
    _require(erp_orders, ERP_ORDER_COLUMNS, "erp_orders")
    _require(erp_invoices, ERP_INVOICE_COLUMNS, "erp_invoices")
    _require(erp_payments, ERP_PAYMENT_COLUMNS, "erp_payments")
    if sl_lines is not None:
        _require(sl_orders, ["shipping_gross"], "sl_orders (with sl_lines)")
        _require(sl_lines, SL_LINE_COLUMNS, "sl_lines")
    shipped_cols = {"quantity_ordered", "quantity_shipped", "shipped_total"} & set(erp_orders.columns)
    if shipped_cols and len(shipped_cols) < 3:
        raise ValueError("erp_orders: quantity_ordered, quantity_shipped and shipped_total go together")
    tol = int(amount_tolerance_pence)
    as_of_day = _day_number(as_of)
    known_currencies = frozenset(CURRENCY_EXPONENTS) if erp_currencies is None else \
        frozenset(c.upper() for c in erp_currencies) & frozenset(CURRENCY_EXPONENTS)

    sl = _month_orders(sl_orders, month_start, month_end, timezone, company, with_shipping=sl_lines is not None)
    erp = _match_erp_orders(sl, erp_orders, company)
    inv = _invoice_facts(sl.n, erp, erp_invoices, erp_payments, as_of_day)
    lines_total, lines_disagree = (None, np.zeros(sl.n, dtype=bool)) if sl_lines is None else \
        _lines_facts(sl, sl_lines, tol)
    rates = _rate_facts(sl, erp, company, company_exp, rate_tolerance)
    facts = _RowFacts.build(sl, erp, inv, rates, lines_total, as_of_day, company, company_exp)
    code = _classify(facts, sl_cancelled=sl.cancelled, lines_disagree=lines_disagree, tol=tol,
                     as_of_day=as_of_day, known_currencies=known_currencies)

    unknown, unknown_company = _unknown_purchase_orders(erp_orders, erp, sl, sl_orders, known_purchase_ids,
                                                        month_start, month_end, company, company_exp)
    totals_in = _TotalsInput(code=code, classes=CLASS_ORDER, sl_billable=facts.sl_billable_company,
                             erp_total=facts.erp_total_company, explained=_EXPLAINED_BY_CODE[code],
                             exponent=company_exp)
    facts_out = _OrderFacts(facts, code, _EXPLAINED_BY_CODE[code], sl.frame["placed_at"],
                            lines_checked=lines_total is not None)
    return ReconResult._computed(
        facts_out,
        month_start=month_start, month_end=month_end, as_of=as_of,
        amount_tolerance=pence_to_decimal(tol),
        by_customer=_by_customer(sl.frame, facts.erp_account, totals_in),
        by_payment_method=_by_payment_method(sl.frame, totals_in),
        by_class=_by_class(totals_in, len(unknown), unknown_company),
        erp_orders_claiming_unknown_purchase=unknown,
        company_currency=company,
        by_currency=_by_currency(facts, code, company_exp),
    )


_CLASS_NAMES = np.array([str(c) for c in CLASS_ORDER], dtype=object)
_EXPLAINED_BY_CODE = np.array([RECON_CLASSES[c].explained for c in CLASS_ORDER], dtype=bool)
_OWNER_BY_CODE = np.array([str(RECON_CLASSES[c].owner) for c in CLASS_ORDER], dtype=object)


@dataclass(frozen=True)
class _SlSide:
    """The month's SparkLayer orders in output order (placed, then purchase id), and their money."""

    frame: pd.DataFrame
    pid: np.ndarray  # object
    index: pd.Index  # purchase id → position
    total: np.ndarray
    paid: np.ndarray
    refunded: np.ndarray
    cancelled: np.ndarray
    currency: np.ndarray  # object, upper-case codes
    currency_keys: np.ndarray  # index into currency_uniques
    currency_uniques: np.ndarray
    exponent: np.ndarray
    rate: np.ndarray  # object: Decimal or None (the rate the order was priced at)
    other_ids: np.ndarray  # purchase ids of the orders read that are not the month's (known, not reconciled)

    @property
    def n(self) -> int:
        return len(self.frame)


def _sort_order(placed: np.ndarray, pid: np.ndarray) -> np.ndarray:
    """Positions ordered by placed time, then purchase id; only ties on the time compare ids (cheap)."""
    order = np.argsort(placed, kind="stable")
    p = placed[order]
    tied = np.zeros(len(p), dtype=bool)
    if len(p) > 1:
        same = p[1:] == p[:-1]
        tied[1:] |= same
        tied[:-1] |= same
    t = np.flatnonzero(tied)
    if len(t):
        sub = order[t]  # ids compared as native strings (StringDType): several times faster than objects
        by_pid = sub[np.argsort(pid[sub].astype(StringDType()), kind="stable")]
        order[t] = by_pid[np.argsort(placed[by_pid], kind="stable")]
    return order


def _month_orders(sl_orders: pd.DataFrame, month_start: dt.date, month_end: dt.date,
                  timezone: str | dt.tzinfo, company: str, *, with_shipping: bool) -> _SlSide:
    placed = sl_orders["placed_at"]
    if not isinstance(placed.dtype, pd.DatetimeTZDtype):
        raise ValueError("sl_orders.placed_at must be timezone-aware")
    in_month = ((placed >= _midnight(month_start, timezone)) & (placed < _midnight(month_end, timezone))).to_numpy()
    rows = np.flatnonzero(in_month)
    pid_all = sl_orders["purchase_id"].to_numpy(dtype=object)
    utc = placed.dt.tz_convert("UTC")
    placed_ns = utc.to_numpy(dtype="datetime64[ns]").astype(np.int64)[rows]
    rows = rows[_sort_order(placed_ns, pid_all[rows])]
    wanted = list(SL_ORDER_COLUMNS) + (["shipping_gross"] if with_shipping else [])
    sl = sl_orders[wanted].take(rows).reset_index(drop=True)
    sl["placed_at"] = utc.take(rows).reset_index(drop=True)
    pid = pid_all[rows]
    index = pd.Index(pid)
    if not index.is_unique:
        raise ValueError("sl_orders.purchase_id must be unique")
    currency = _currency_codes(sl_orders, company, rows)
    cur_keys, cur_uniques = pd.factorize(currency)
    cur_uniques = np.asarray(cur_uniques, dtype=object)
    exponent = np.array([exponent_or_fallback(c) for c in cur_uniques] or [2], dtype=np.int64)[cur_keys]
    rate = (sl_orders["company_currency_rate"].to_numpy(dtype=object)[rows] if "company_currency_rate" in
            sl_orders.columns else np.full(len(rows), None, dtype=object))
    return _SlSide(sl, pid, index, _units(sl_orders, "total_gross", "sl_orders", rows),
                   _units(sl_orders, "total_paid", "sl_orders", rows),
                   _units(sl_orders, "refunded", "sl_orders", rows),
                   sl["status"].eq(_SL_CANCELLED).to_numpy(), currency, cur_keys, cur_uniques, exponent, rate,
                   pid_all[~in_month])


@dataclass(frozen=True)
class _ErpMatch:
    """ERP orders against the month's SparkLayer orders (``pos``: the SparkLayer position, -1 none)."""

    ids: np.ndarray
    pos: np.ndarray  # per ERP order
    live: np.ndarray  # per ERP order
    total: np.ndarray  # per ERP order, minor units
    currency: np.ndarray  # per ERP order
    any_count: np.ndarray  # per SparkLayer order: ERP orders carrying it
    live_count: np.ndarray  # ... of which not cancelled
    live_total: np.ndarray  # ... their total
    credited: np.ndarray  # ... their credit notes
    qty_ordered: np.ndarray
    qty_shipped: np.ndarray
    shipped_total: np.ndarray
    chosen: np.ndarray  # per SparkLayer order: the ERP order row shown, -1 none
    numbers: pd.Series  # per ERP order (turned into the shown numbers only for people: ``_erp_numbers``)
    dup_rows: np.ndarray  # live ERP orders of duplicated SparkLayer orders, by order then erp_id
    state: np.ndarray
    account: np.ndarray
    order_currency: np.ndarray  # per SparkLayer order: the shown ERP order's currency (None: none)
    rate: np.ndarray  # per SparkLayer order: the shown ERP order's rate (object Decimal / None)


def _one_of(values: np.ndarray, choices: Iterable[str]) -> np.ndarray:
    """``values`` (object) equal to one of a few ``choices``: plain comparisons, cheaper than ``np.isin``."""
    out = np.zeros(len(values), dtype=bool)
    for choice in choices:
        out |= values == choice
    return out


def _factorize_present(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize`` of an object column that is mostly empty: only the present values are hashed."""
    codes = np.full(len(values), -1, dtype=np.int64)
    present = np.flatnonzero(values != None)  # noqa: E711  (elementwise, on purpose)
    sub_codes, uniques = pd.factorize(values[present], use_na_sentinel=True)
    codes[present] = sub_codes
    return codes, uniques


def _int_positions(ids: np.ndarray, lookups: np.ndarray, name: str) -> np.ndarray:
    """Position of each of ``lookups`` in ``ids`` (unique integers), -1 where absent. A direct table when the
    ids are dense (ERP ids usually are): no hashing."""
    ids = np.asarray(ids)
    lookups = np.asarray(lookups)
    if len(ids) and ids.dtype.kind in "iu" and lookups.dtype.kind in "iu" and ids.min() >= 0 and \
            ids.max() < 4 * len(ids) + 1024:
        table = np.full(int(ids.max()) + 1, -1, dtype=np.int64)
        table[ids] = np.arange(len(ids))
        if (table >= 0).sum() != len(ids):
            raise ValueError(f"{name} must be unique")
        inside = (lookups >= 0) & (lookups < len(table))
        return np.where(inside, table[np.where(inside, lookups, 0)], -1)
    index = pd.Index(ids)
    if not index.is_unique:
        raise ValueError(f"{name} must be unique")
    return index.get_indexer(lookups) if len(ids) else np.full(len(lookups), -1)


def _match_erp_orders(sl: _SlSide, erp_orders: pd.DataFrame, company: str) -> _ErpMatch:
    n = sl.n
    ids = erp_orders["erp_id"].to_numpy()
    _int_positions(ids, ids[:0], "erp_orders.erp_id")  # uniqueness
    pos = sl.index.get_indexer(erp_orders["purchase_id"].to_numpy(dtype=object)) if n else \
        np.full(len(erp_orders), -1)
    live = erp_orders["state"].to_numpy(dtype=object) != _LIVE_ERP_EXCLUDED
    total = _units(erp_orders, "total", "erp_orders")
    matched = pos >= 0
    ml = matched & live

    def per_order(values: np.ndarray) -> np.ndarray:
        out = np.zeros(n, dtype=np.int64)
        np.add.at(out, pos[ml], values[ml])
        return out

    # shown per SparkLayer order: the first live ERP order by erp_id, else the latest cancelled one
    m_idx = np.flatnonzero(matched)
    lo, hi = (int(ids.min()), int(ids.max())) if len(ids) else (0, 0)
    # live first, lowest id; else the highest id (ids are unique integers)
    score = np.where(live, ids - lo, (hi - lo + 1) + (hi - ids)).astype(np.int64)[m_idx]
    best = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(best, pos[m_idx], score)
    winners = m_idx[score == best[pos[m_idx]]]
    chosen = np.full(n, -1, dtype=np.int64)
    chosen[pos[winners]] = winners
    has = chosen >= 0

    def pick(values: np.ndarray) -> np.ndarray:  # missing stays missing (None or NaN)
        out = np.empty(n, dtype=object)  # None everywhere
        out[has] = values[chosen[has]]
        return out

    live_count = np.bincount(pos[ml], minlength=n)
    dup = np.flatnonzero(ml & (live_count[np.maximum(pos, 0)] > 1))
    dup = dup[np.lexsort((ids[dup], pos[dup]))]  # rare: every live number of a duplicated order is shown
    currency = _currency_codes(erp_orders, company)
    rate_col = erp_orders["company_currency_rate"].to_numpy(dtype=object) if "company_currency_rate" in \
        erp_orders.columns else np.full(len(erp_orders), None, dtype=object)
    return _ErpMatch(ids=ids, pos=pos, live=live, total=total, currency=currency,
                     any_count=np.bincount(pos[matched], minlength=n), live_count=live_count,
                     live_total=per_order(total), credited=per_order(_units(erp_orders, "credited", "erp_orders")),
                     qty_ordered=per_order(_units(erp_orders, "quantity_ordered", "erp_orders")),
                     qty_shipped=per_order(_units(erp_orders, "quantity_shipped", "erp_orders")),
                     shipped_total=per_order(_units(erp_orders, "shipped_total", "erp_orders")),
                     chosen=chosen, numbers=erp_orders["number"], dup_rows=dup,
                     state=pick(erp_orders["state"].to_numpy(dtype=object)),
                     account=pick(erp_orders["account_code"].to_numpy(dtype=object)),
                     order_currency=pick(currency), rate=pick(rate_col))


def _erp_numbers(erp: _ErpMatch) -> np.ndarray:
    """Per SparkLayer order: the shown ERP order's number; every live one, joined, when duplicated."""
    has = erp.chosen >= 0
    numbers = erp.numbers.to_numpy(dtype=object)
    out = np.full(len(erp.chosen), None, dtype=object)
    out[has] = numbers[erp.chosen[has]]
    joined: dict[int, list[str]] = {}
    for i in erp.dup_rows.tolist():
        joined.setdefault(int(erp.pos[i]), []).append(str(numbers[i]))
    for p, nums in joined.items():
        out[p] = ", ".join(nums)
    return out


@dataclass(frozen=True)
class _InvoiceFacts:
    """Per SparkLayer order, from the posted/paid invoices of its live ERP orders, as of the close."""

    count: np.ndarray
    invoiced: np.ndarray
    paid: np.ndarray
    outstanding: np.ndarray
    earliest_due: np.ndarray  # of invoices with something outstanding; _NO_DAY when unknown
    has_open_due: np.ndarray
    positions: np.ndarray  # per counted invoice: its SparkLayer order
    labels: np.ndarray  # per counted invoice: its number


def _invoice_facts(n: int, erp: _ErpMatch, invoices: pd.DataFrame, payments: pd.DataFrame,
                   as_of_day: int) -> _InvoiceFacts:
    row = _int_positions(erp.ids, invoices["erp_id"].to_numpy(), "erp_orders.erp_id")
    counted = (row >= 0) & _one_of(invoices["state"].to_numpy(dtype=object), COUNTED_INVOICE_STATES)
    counted[counted] = erp.live[row[counted]] & (erp.pos[row[counted]] >= 0)
    inv_day = _days(invoices["invoice_date"])
    counted &= inv_day <= as_of_day  # raised after the close: not invoiced as of it (undated: counted)
    ci = np.flatnonzero(counted)
    ci_pos = erp.pos[row[ci]]
    ci_total = _units(invoices, "total", "erp_invoices", ci)
    ci_due_now = _units(invoices, "amount_due", "erp_invoices", ci)
    ci_numbers = invoices["number"].to_numpy(dtype=object)[ci]
    num_index = pd.Index(ci_numbers)
    if not num_index.is_unique:
        raise ValueError("erp_invoices.number must be unique among posted/paid invoices")

    pay_numbers = payments["invoice_number"].to_numpy(dtype=object)
    pay_inv = num_index.get_indexer(pay_numbers) if len(ci) else np.full(len(payments), -1)
    ok = np.flatnonzero((pay_inv >= 0) & ~pd.isna(pay_numbers))
    amount = _units(payments, "amount", "erp_payments", ok)
    later = _days(payments["paid_on"].iloc[ok]) > as_of_day  # paid after the close: rewound
    ci_paid = np.zeros(len(ci), dtype=np.int64)
    ci_paid_later = np.zeros(len(ci), dtype=np.int64)
    np.add.at(ci_paid, pay_inv[ok][~later], amount[~later])
    np.add.at(ci_paid_later, pay_inv[ok][later], amount[later])
    ci_outstanding = ci_due_now + ci_paid_later

    def per_order(values: np.ndarray) -> np.ndarray:
        out = np.zeros(n, dtype=np.int64)
        np.add.at(out, ci_pos, values)
        return out

    # no due date → due on the invoice date; neither → long past (conservative: shows as overdue)
    due = _days(invoices["due_date"].iloc[ci])
    due = np.where(due == _NO_DAY, inv_day[ci], due)
    open_inv = ci_outstanding > 0
    earliest_due = np.full(n, _NEVER, dtype=np.int64)
    np.minimum.at(earliest_due, ci_pos[open_inv], due[open_inv])
    return _InvoiceFacts(count=np.bincount(ci_pos, minlength=n), invoiced=per_order(ci_total),
                         paid=per_order(ci_paid), outstanding=per_order(ci_outstanding),
                         earliest_due=earliest_due, has_open_due=earliest_due != _NEVER,
                         positions=ci_pos, labels=ci_numbers)


def _lines_facts(sl: _SlSide, lines: pd.DataFrame, tol: int) -> tuple[np.ndarray, np.ndarray]:
    """Each order's lines total, and whether lines + shipping disagree with the order total.

    Lines come grouped by order (an extract writes an order's lines together), so the ids are looked up once
    per run of equal ids, not once per line; ungrouped lines are still right, only slower."""
    pid = lines["purchase_id"].to_numpy(dtype=object)
    amounts = _units(lines, "line_total_gross", "sl_lines")
    total = np.zeros(sl.n, dtype=np.int64)
    if len(pid) == 0 or sl.n == 0:
        return total, np.zeros(sl.n, dtype=bool)
    starts = np.flatnonzero(np.concatenate(([True], pid[1:] != pid[:-1])))
    run_sums = np.add.reduceat(amounts, starts)
    run_pos = sl.index.get_indexer(pid[starts])
    ok = run_pos >= 0
    np.add.at(total, run_pos[ok], run_sums[ok])
    has_lines = np.bincount(run_pos[ok], minlength=sl.n) > 0
    shipping = _units(sl.frame, "shipping_gross", "sl_orders")
    return total, has_lines & (np.abs(total + shipping - sl.total) > tol)


@dataclass(frozen=True)
class _RateFacts:
    """Per SparkLayer order: the rate to the company currency and how it compares with the priced rate."""

    rate: np.ndarray  # object: Decimal, None when missing
    missing: np.ndarray  # a foreign-currency order with no rate at all
    differs: np.ndarray  # the ERP's rate and the priced rate both known and different
    outside: np.ndarray  # ... by more than the tolerance
    codes: np.ndarray  # per order, index into ``uniques`` (-1: no rate)
    uniques: list[Decimal]


def _rate_facts(sl: _SlSide, erp: _ErpMatch, company: str, company_exp: int, tol: Decimal) -> _RateFacts:
    """The ERP's rate for the order; 1 for a company-currency order without one; the priced rate for an order
    the ERP does not have. Decimal work happens once per distinct rate, never per row."""
    n = sl.n
    erp_codes, erp_uniques = _factorize_present(erp.rate)
    sl_codes, sl_uniques = _factorize_present(sl.rate)
    erp_rates = [rate_of(v) for v in erp_uniques]
    sl_rates = [rate_of(v) for v in sl_uniques]
    uniques: list[Decimal] = [Decimal(1), *erp_rates, *sl_rates]
    codes = np.full(n, -1, dtype=np.int64)
    is_company = sl.currency == company
    codes[is_company] = 0
    codes = np.where(erp_codes >= 0, erp_codes + 1, codes)
    codes = np.where((codes < 0) & (sl_codes >= 0) & (erp.chosen < 0), sl_codes + 1 + len(erp_rates), codes)
    rate = np.empty(n, dtype=object)
    has = codes >= 0
    rate[has] = np.array(uniques, dtype=object)[codes[has]]
    both = (erp_codes >= 0) & (sl_codes >= 0)
    differs = np.zeros(n, dtype=bool)
    outside = np.zeros(n, dtype=bool)
    if both.any():
        pair = erp_codes[both] * (len(sl_rates) + 1) + sl_codes[both]
        pcodes, puniques = pd.factorize(pair)
        d, o = [], []
        for p in puniques.tolist():
            e, s = erp_rates[p // (len(sl_rates) + 1)], sl_rates[p % (len(sl_rates) + 1)]
            d.append(e != s)
            o.append(abs(e - s) > tol * s)
        differs[both] = np.array(d, dtype=bool)[pcodes]
        outside[both] = np.array(o, dtype=bool)[pcodes]
    return _RateFacts(rate=rate, missing=~has, differs=differs, outside=outside, codes=codes, uniques=uniques)


def _company_amounts(values: np.ndarray, exps: np.ndarray, codes: np.ndarray, uniques: list[Decimal],
                     company_exp: int) -> np.ndarray:
    """Per-order minor units → company minor units with each order's rate (0 where there is none)."""
    out = np.zeros(len(values), dtype=np.int64)
    if not len(values):
        return out
    key = codes * 16 + exps  # exponents are 0..3
    groups, first = np.unique(key[codes >= 0], return_index=True)
    for k in groups.tolist():
        rows = np.flatnonzero(key == k)
        c, e = divmod(k, 16)
        out[rows] = to_company_currency(values[rows], e, uniques[c], company_exp)
    return out


def _classify(f: _RowFacts, *, sl_cancelled: np.ndarray, lines_disagree: np.ndarray, tol: int,
              as_of_day: int, known_currencies: frozenset[str]) -> np.ndarray:
    """Index into ``CLASS_ORDER`` per order: the first class whose condition holds (the table's order)."""
    no_erp = f.any_count == 0
    live = f.live_count > 0
    all_cancelled = ~no_erp & ~live
    unknown_currency = ~np.array([c in known_currencies for c in f.currency_uniques] or [True],
                                 dtype=bool)[f.currency_keys]
    part_shipped = (f.qty_shipped > 0) & (f.qty_shipped < f.qty_ordered)
    shipped_invoiced = np.abs(f.invoiced - f.shipped_total) <= tol
    C = ReconClass  # noqa: N806
    conditions = {
        C.CANCELLED_IN_BOTH: sl_cancelled & all_cancelled,
        C.CANCELLED_BEFORE_ERP: sl_cancelled & no_erp,
        C.CANCELLED_BY_CREDIT_NOTE: sl_cancelled & live & (f.invoiced > 0) & (f.erp_credited >= f.invoiced - tol)
        & (np.abs(f.sl_refunded - f.erp_credited) <= tol),
        C.REFUNDED_IN_SHOP_NO_CREDIT_NOTE: live & (f.sl_refunded > f.erp_credited + tol),
        C.CREDIT_NOTE_NOT_IN_SHOP: live & (f.erp_credited > f.sl_refunded + tol),
        C.CANCELLED_IN_SPARKLAYER_ONLY: sl_cancelled & live,
        C.CURRENCY_UNKNOWN_TO_ERP: unknown_currency,
        C.MISSING_IN_ERP: no_erp,
        C.CANCELLED_IN_ERP_ONLY: all_cancelled,
        C.DUPLICATE_IN_ERP: f.live_count > 1,
        C.CURRENCY_MISMATCH: f.erp_currency != f.currency,
        C.SPARKLAYER_LINES_DISAGREE: lines_disagree,
        C.CUSTOMER_MISMATCH: ~pd.isna(f.sl_account) & (f.erp_account != f.sl_account),
        C.AMOUNT_MISMATCH: (np.abs(f.sl_total - f.erp_total) > tol) | (f.invoiced > f.erp_total + tol),
        C.MISSING_CURRENCY_RATE: f.rate_missing,
        C.RATE_DIFFERENCE_OUTSIDE_TOLERANCE: f.rate_outside,
        C.PENDING_APPROVAL: _one_of(f.erp_state, _NO_LEDGER_STATES),
        C.PART_SHIPPED_INVOICE_DIFFERS: part_shipped & (f.inv_count > 0) & ~shipped_invoiced,
        C.PAID_IN_SHOP_UNPAID_IN_ERP: (f.inv_count > 0) & (f.outstanding > 0)
        & (f.sl_paid - f.sl_refunded > f.erp_paid + tol),
        C.RATE_DIFFERENCE_WITHIN_TOLERANCE: f.rate_differs,
        C.PART_SHIPPED_INVOICED_SHIPPED_PART: part_shipped & (f.inv_count > 0) & shipped_invoiced,
        C.COMMITTED_NOT_INVOICED: (f.inv_count == 0) | ((f.outstanding <= 0) & (f.invoiced < f.erp_total - tol)),
        C.SETTLED: f.outstanding <= 0,
        C.OVERDUE: f.has_open_due & (f.earliest_due < as_of_day),
    }
    assert list(conditions) + [C.INVOICED_OPEN_WITHIN_TERMS] == list(CLASS_ORDER)
    return np.select(list(conditions.values()), np.arange(len(conditions)), default=len(conditions))


@dataclass(frozen=True)
class _RowFacts:
    """Everything known per SparkLayer order of the month, as aligned arrays (money in minor units)."""

    purchase_id: np.ndarray
    visible_id: np.ndarray
    customer_sparklayer_id: np.ndarray
    payment_method: np.ndarray
    sl_status: np.ndarray
    sl_account: np.ndarray
    currency: np.ndarray
    currency_keys: np.ndarray
    currency_uniques: np.ndarray
    exponent: np.ndarray
    foreign: np.ndarray  # not the company currency
    erp_currency: np.ndarray  # the shown ERP order's (the order's own where there is none)
    erp: _ErpMatch  # for the numbers shown (built only for people)
    inv: _InvoiceFacts
    erp_state: np.ndarray
    erp_account: np.ndarray
    any_count: np.ndarray
    live_count: np.ndarray
    inv_count: np.ndarray
    sl_total: np.ndarray
    sl_paid: np.ndarray
    sl_refunded: np.ndarray
    sl_billable: np.ndarray  # 0 when cancelled in SparkLayer
    erp_total: np.ndarray  # live ERP orders
    invoiced: np.ndarray
    erp_paid: np.ndarray
    erp_credited: np.ndarray
    qty_ordered: np.ndarray
    qty_shipped: np.ndarray
    shipped_total: np.ndarray
    outstanding: np.ndarray
    difference: np.ndarray  # sl_billable - erp_total
    lines_total: np.ndarray
    earliest_due: np.ndarray
    has_open_due: np.ndarray
    days_overdue: np.ndarray
    rate: np.ndarray  # object Decimal / None
    rate_missing: np.ndarray
    rate_differs: np.ndarray
    rate_outside: np.ndarray
    sl_rate: np.ndarray
    sl_billable_company: np.ndarray
    erp_total_company: np.ndarray

    @classmethod
    def build(cls, sl: _SlSide, erp: _ErpMatch, inv: _InvoiceFacts, rates: _RateFacts,
              lines_total: np.ndarray | None, as_of_day: int, company: str, company_exp: int) -> _RowFacts:
        col = sl.frame
        billable = np.where(sl.cancelled, 0, sl.total)
        dated = inv.has_open_due & (inv.earliest_due != _NO_DAY) & (inv.earliest_due < as_of_day)
        foreign = (sl.currency_uniques != company)[sl.currency_keys] if sl.n else np.zeros(0, dtype=bool)
        live = erp.live_count > 0
        erp_currency = np.where(erp.chosen < 0, sl.currency, erp.order_currency)
        if foreign.any():
            sl_company = _company_amounts(billable, sl.exponent, rates.codes, rates.uniques, company_exp)
            erp_company = _company_amounts(erp.live_total, _exponents(erp_currency), rates.codes, rates.uniques,
                                           company_exp)
        else:  # every order in the company currency: the same amounts
            sl_company, erp_company = billable, erp.live_total
        return cls(
            purchase_id=sl.pid, visible_id=col["visible_id"].to_numpy(dtype=object),
            customer_sparklayer_id=col["customer_sparklayer_id"].to_numpy(dtype=object),
            payment_method=col["payment_method"].to_numpy(dtype=object),
            sl_status=col["status"].to_numpy(dtype=object), sl_account=col["account_code"].to_numpy(dtype=object),
            currency=sl.currency, currency_keys=sl.currency_keys, currency_uniques=sl.currency_uniques,
            exponent=sl.exponent, foreign=foreign, erp_currency=erp_currency,
            erp=erp, inv=inv, erp_state=erp.state, erp_account=erp.account,
            any_count=erp.any_count, live_count=erp.live_count, inv_count=inv.count, sl_total=sl.total,
            sl_paid=sl.paid, sl_refunded=sl.refunded, sl_billable=billable, erp_total=erp.live_total,
            invoiced=inv.invoiced, erp_paid=inv.paid, erp_credited=erp.credited, qty_ordered=erp.qty_ordered,
            qty_shipped=erp.qty_shipped, shipped_total=erp.shipped_total, outstanding=inv.outstanding,
            difference=billable - erp.live_total,
            lines_total=lines_total if lines_total is not None else np.zeros(sl.n, dtype=np.int64),
            earliest_due=inv.earliest_due, has_open_due=inv.has_open_due,
            days_overdue=np.where(dated, as_of_day - np.where(dated, inv.earliest_due, 0), 0).astype(np.int64),
            rate=rates.rate, rate_missing=rates.missing & live, rate_differs=rates.differs & live,
            rate_outside=rates.outside & live, sl_rate=sl.rate,
            sl_billable_company=sl_company, erp_total_company=erp_company,
        )

    @property
    def erp_number(self) -> np.ndarray:
        return _row_numbers(self)[0]

    @property
    def invoice_numbers(self) -> np.ndarray:
        return _row_numbers(self)[1]


def _row_numbers(f: _RowFacts) -> tuple[np.ndarray, np.ndarray]:
    """(ERP order numbers, invoice numbers) per order, for people; computed once per result."""
    cached = f.__dict__.get("_numbers")
    if cached is None:
        cached = (_erp_numbers(f.erp), _join_per_position(len(f.purchase_id), f.inv.positions, f.inv.labels))
        object.__setattr__(f, "_numbers", cached)
    return cached


# --- reasons: one sentence per class, built column-wise (no per-row Python) ------------------------------------


class _M(NamedTuple):  # a money field, shown in the order's currency
    name: str


class _T(NamedTuple):  # a text field (None shown as "(none)")
    name: str


class _D(NamedTuple):  # a day number field
    name: str


_Piece = str | _M | _T | _D

_REASON: dict[ReconClass, tuple[_Piece, ...]] = {
    ReconClass.CANCELLED_IN_BOTH: ("Cancelled in SparkLayer and ERP order ", _T("erp_number"), " cancelled."),
    ReconClass.CANCELLED_BEFORE_ERP: ("Cancelled in SparkLayer before any ERP order was created.",),
    ReconClass.CANCELLED_BY_CREDIT_NOTE: (
        "Cancelled in SparkLayer; ERP order ", _T("erp_number"), " invoiced ", _M("invoiced"), " and credited ",
        _M("erp_credited"), "; refunded ", _M("sl_refunded"), " in the shop."),
    ReconClass.REFUNDED_IN_SHOP_NO_CREDIT_NOTE: (
        "Refunded ", _M("sl_refunded"), " in SparkLayer, but the ERP credited ", _M("erp_credited"), " on order ",
        _T("erp_number"), "."),
    ReconClass.CREDIT_NOTE_NOT_IN_SHOP: (
        "The ERP credited ", _M("erp_credited"), " on order ", _T("erp_number"), ", but SparkLayer shows ",
        _M("sl_refunded"), " refunded."),
    ReconClass.CANCELLED_IN_SPARKLAYER_ONLY: (
        "Cancelled in SparkLayer, but ERP order ", _T("erp_number"), " is ", _T("erp_state"), " (",
        _M("erp_total"), ")."),
    ReconClass.CURRENCY_UNKNOWN_TO_ERP: (
        "SparkLayer order ", _T("visible_id"), " (", _M("sl_total"), ") is in ", _T("currency"),
        ", a currency the ERP does not know."),
    ReconClass.MISSING_IN_ERP: (
        "No ERP order carries SparkLayer purchase ", _T("purchase_id"), " (order ", _T("visible_id"), ", ",
        _M("sl_total"), ", status ", _T("sl_status"), ")."),
    ReconClass.CANCELLED_IN_ERP_ONLY: (
        "ERP order ", _T("erp_number"), " is cancelled but SparkLayer shows ", _T("sl_status"), " (",
        _M("sl_total"), ")."),
    ReconClass.DUPLICATE_IN_ERP: (
        _T("live_count"), " live ERP orders (", _T("erp_number"), ") total ", _M("erp_total"),
        " for one SparkLayer order of ", _M("sl_total"), "."),
    ReconClass.CURRENCY_MISMATCH: (
        "SparkLayer order in ", _T("currency"), ", ERP order ", _T("erp_number"), " in ", _T("erp_currency"), "."),
    ReconClass.SPARKLAYER_LINES_DISAGREE: (
        "SparkLayer lines add up to ", _M("lines_total"), " (+ shipping) but its order total is ", _M("sl_total"),
        "."),
    ReconClass.CUSTOMER_MISMATCH: (
        "ERP order ", _T("erp_number"), " is booked to ", _T("erp_account"), ", SparkLayer maps the customer to ",
        _T("sl_account"), "."),
    ReconClass.AMOUNT_MISMATCH: (
        "SparkLayer ", _M("sl_total"), ", ERP order ", _T("erp_number"), " ", _M("erp_total"), ", invoiced ",
        _M("invoiced"), ": difference ", _M("total_difference"), "."),
    ReconClass.MISSING_CURRENCY_RATE: (
        "ERP order ", _T("erp_number"), " (", _M("erp_total"), ") is in ", _T("currency"),
        " and the ERP gives no rate to the company currency."),
    ReconClass.RATE_DIFFERENCE_OUTSIDE_TOLERANCE: (
        "ERP order ", _T("erp_number"), " uses rate ", _T("rate"), "; the order was priced at ", _T("sl_rate"), "."),
    ReconClass.PENDING_APPROVAL: ("ERP order ", _T("erp_number"), " (", _M("erp_total"),
                                  ") is waiting for credit approval."),
    ReconClass.PART_SHIPPED_INVOICE_DIFFERS: (
        "ERP order ", _T("erp_number"), " shipped ", _T("qty_shipped"), " of ", _T("qty_ordered"), " units worth ",
        _M("shipped_total"), ", but ", _M("invoiced"), " is invoiced on ", _T("invoice_numbers"), "."),
    ReconClass.PAID_IN_SHOP_UNPAID_IN_ERP: (
        "Paid ", _M("sl_paid"), " in the shop (", _T("payment_method"), "); the ERP shows ", _M("erp_paid"),
        " paid and ", _M("outstanding"), " still due on ", _T("invoice_numbers"), "."),
    ReconClass.RATE_DIFFERENCE_WITHIN_TOLERANCE: (
        "ERP order ", _T("erp_number"), " uses rate ", _T("rate"), "; the order was priced at ", _T("sl_rate"),
        " (within the tolerance)."),
    ReconClass.PART_SHIPPED_INVOICED_SHIPPED_PART: (
        "ERP order ", _T("erp_number"), " shipped ", _T("qty_shipped"), " of ", _T("qty_ordered"),
        " units; the shipped part, ", _M("shipped_total"), ", is invoiced on ", _T("invoice_numbers"), "."),
    ReconClass.COMMITTED_NOT_INVOICED: (
        "ERP order ", _T("erp_number"), " is ", _T("erp_state"), "; ", _M("invoiced"), " of ", _M("erp_total"),
        " invoiced so far."),
    ReconClass.SETTLED: ("Invoiced ", _M("invoiced"), " on ", _T("invoice_numbers"), " and paid in full."),
    ReconClass.OVERDUE: (
        _M("outstanding"), " still due on ", _T("invoice_numbers"), ", ", _T("days_overdue"), " day(s) past ",
        _D("earliest_due"), "."),
    ReconClass.INVOICED_OPEN_WITHIN_TERMS: (
        _M("outstanding"), " due on ", _D("earliest_due"), " on ", _T("invoice_numbers"), "."),
}


def _texts(values: np.ndarray) -> list[object]:
    """Values for ``%s``: missing ones shown as "(none)"."""
    if values.dtype == object:
        missing = pd.isna(values)
        if missing.any():
            values = values.copy()
            values[missing] = "(none)"
    return values.tolist()


def _day_text(days: np.ndarray) -> list[str]:
    codes, uniques = pd.factorize(days)
    text = np.array([str(np.datetime64(int(d), "D")) if d != _NO_DAY else "an unknown due date"
                     for d in uniques.tolist()] or [""], dtype=object)
    return text[codes].tolist()


_TEMPLATES = {cls: ("".join(p.replace("%", "%%") if isinstance(p, str) else "%s" for p in pieces),
                    tuple(p for p in pieces if not isinstance(p, str)))
              for cls, pieces in _REASON.items()}


def _reasons(code: np.ndarray, f: _RowFacts, shown: ShownMoney) -> np.ndarray:
    """One sentence per order: a %-template per class over whole columns (each amount formatted once)."""
    out = np.empty(len(code), dtype=object)
    for c_idx, cls in enumerate(CLASS_ORDER):
        rows = np.flatnonzero(code == c_idx)
        if not len(rows):
            continue
        template, fields = _TEMPLATES[cls]
        if not fields:
            out[rows] = template
            continue
        columns: list[list[object]] = []
        for piece in fields:
            if isinstance(piece, _M) and piece.name in shown.names:
                columns.append(shown.texts(piece.name, rows).tolist())
            elif isinstance(piece, _M):  # a figure only one class shows
                values = (f.sl_total - f.erp_total)[rows] if piece.name == "total_difference" else \
                    getattr(f, piece.name)[rows]
                columns.append(format_array(values, f.exponent[rows]).tolist())
            elif isinstance(piece, _D):
                columns.append(_day_text(getattr(f, piece.name)[rows]))
            else:
                columns.append(_texts(getattr(f, piece.name)[rows]))
        text = np.empty(len(rows), dtype=object)
        text[:] = [template % values for values in zip(*columns, strict=True)]
        foreign = f.foreign[rows]
        if foreign.any():
            text[foreign] = text[foreign] + " Amounts in " + f.currency[rows][foreign] + "."
        out[rows] = text
    return out


# --- the orders frame ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _OrderFacts:
    """What ``ReconResult.orders`` is built from: the per-order facts (minor units) and classes."""

    row: _RowFacts
    code: np.ndarray
    explained: np.ndarray
    placed_at: pd.Series
    lines_checked: bool


def _single(exponents: np.ndarray) -> np.ndarray | int:
    """One exponent when every row has the same (the usual case: cheaper to show), else the per-row array."""
    return int(exponents[0]) if len(exponents) and (exponents == exponents[0]).all() else \
        (exponents if len(exponents) else 2)


def _orders_frame(facts: _OrderFacts, company_currency: str) -> pd.DataFrame:
    """``ReconResult.orders``: Decimal money and a sentence per order, for people."""
    f = facts.row
    n = len(facts.code)
    code = facts.code
    exps = _single(f.exponent)
    shown = ShownMoney({**{name: getattr(f, name) for name in ORDER_MONEY_COLUMNS}, "lines_total": f.lines_total},
                       exps)
    money = {name: shown.decimals(name) for name in ORDER_MONEY_COLUMNS}
    company_exp = exponent_or_fallback(company_currency)
    if f.foreign.any():
        in_company = ShownMoney({"sl_billable_company": f.sl_billable_company,
                                 "erp_total_company": f.erp_total_company}, company_exp)
        company = {name: in_company.decimals(name) for name in ORDER_COMPANY_MONEY_COLUMNS}
    else:
        company = {"sl_billable_company": money["sl_billable"], "erp_total_company": money["erp_total"]}
    has_due = f.has_open_due
    due = np.where(has_due, f.earliest_due, 0).astype("datetime64[D]").astype("datetime64[s]")
    due[~has_due] = np.datetime64("NaT")
    return pd.DataFrame({
        "purchase_id": f.purchase_id, "visible_id": f.visible_id, "placed_at": facts.placed_at,
        "customer_sparklayer_id": f.customer_sparklayer_id, "account_code": f.sl_account,
        "payment_method": f.payment_method, "currency": f.currency, "sl_status": f.sl_status,
        "erp_number": f.erp_number, "erp_state": f.erp_state, "erp_account_code": f.erp_account,
        "invoice_numbers": f.invoice_numbers, **money,
        "sl_lines_total": shown.decimals("lines_total") if facts.lines_checked else np.full(n, None, object),
        "company_currency_rate": f.rate, **company,
        "due_date": due, "days_overdue": f.days_overdue,
        "recon_class": _CLASS_NAMES[code], "explained": _EXPLAINED_BY_CODE[code], "owner": _OWNER_BY_CODE[code],
        "reason": _reasons(code, f, shown),  # type: ignore[arg-type]
    }, columns=list(ORDER_COLUMNS)).astype(dict.fromkeys(ORDER_TEXT_COLUMNS, "str"))


def _join_per_position(n: int, pos: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``", "``-joined labels per position (sorted), None where there are none. Vectorised for the usual 1."""
    out = np.empty(n, dtype=object)
    if not len(pos):
        return out
    labels = labels.astype(object)
    counts = np.bincount(pos, minlength=n)
    single = counts[pos] == 1
    out[pos[single]] = labels[single]
    multi = np.flatnonzero(~single)
    if len(multi):
        grouped: dict[int, list[str]] = {}
        for q, label in zip(pos[multi].tolist(), labels[multi].tolist(), strict=True):
            grouped.setdefault(q, []).append(str(label))
        for q, items in grouped.items():
            out[q] = ", ".join(sorted(items))
    return out


# ------------------------------------------------------------------------------------------------------------
# Totals (company currency)
# ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _TotalsInput:
    code: np.ndarray
    classes: tuple[ReconClass, ...]
    sl_billable: np.ndarray
    erp_total: np.ndarray
    explained: np.ndarray
    exponent: int


def _sums(keys: np.ndarray, n_keys: int, values: np.ndarray) -> np.ndarray:
    out = np.zeros(n_keys, dtype=np.int64)
    np.add.at(out, keys, values)
    return out


def _money_totals(keys: np.ndarray, n_keys: int, t: _TotalsInput) -> dict[str, np.ndarray]:
    sl, erp = _sums(keys, n_keys, t.sl_billable), _sums(keys, n_keys, t.erp_total)
    return {
        "orders": np.bincount(keys, minlength=n_keys).astype(np.int64),
        "unexplained": np.bincount(keys, weights=~t.explained, minlength=n_keys).astype(np.int64),
        "sl_total": decimal_array(sl, t.exponent), "erp_total": decimal_array(erp, t.exponent),
        "difference": decimal_array(sl - erp, t.exponent),
    }


def _by_customer(sl: pd.DataFrame, erp_account: np.ndarray, t: _TotalsInput) -> pd.DataFrame:
    keys, uniques = pd.factorize(sl["customer_sparklayer_id"].to_numpy(dtype=object), sort=True)
    n_keys = len(uniques)
    # account code: SparkLayer's mapping, else what the ERP booked the order to (first by order of the month)
    code = sl["account_code"].to_numpy(dtype=object)
    code = np.where(pd.isna(code), erp_account, code)
    acct = np.full(n_keys, None, dtype=object)
    has = np.flatnonzero(~pd.isna(code))
    first_keys, first_at = np.unique(keys[has], return_index=True)  # earliest order of the month wins
    acct[first_keys] = code[has[first_at]]
    frame = pd.DataFrame({"customer_sparklayer_id": np.asarray(uniques, dtype=object), "account_code": acct,
                          **_money_totals(keys, n_keys, t)}).astype({"customer_sparklayer_id": "str",
                                                                     "account_code": "str"})
    return frame.sort_values(["account_code", "customer_sparklayer_id"], na_position="last",
                             kind="stable").reset_index(drop=True)


def _by_payment_method(sl: pd.DataFrame, t: _TotalsInput) -> pd.DataFrame:
    known = [str(m) for m in PaymentMethod]
    keys0, seen_values = pd.factorize(sl["payment_method"].to_numpy(dtype=object))
    seen = sorted(set(seen_values.tolist()) - set(known))
    methods = known + seen
    keys = pd.Index(methods).get_indexer(seen_values)[keys0] if len(keys0) else np.empty(0, dtype=np.int64)
    return pd.DataFrame({"payment_method": np.array(methods, dtype=object),
                         **_money_totals(keys, len(methods), t)}).astype({"payment_method": "str"})


def _by_class(t: _TotalsInput, unknown_count: int, unknown_company_total: int) -> pd.DataFrame:
    extra = ReconClass.ERP_ORDER_CLAIMING_UNKNOWN_PURCHASE
    classes = [*t.classes, extra]
    totals = _money_totals(t.code, len(classes), t)
    totals["orders"][-1] = unknown_count
    erp = _sums(t.code, len(classes), t.erp_total)
    sl = _sums(t.code, len(classes), t.sl_billable)
    erp[-1] = unknown_company_total
    totals["erp_total"] = decimal_array(erp, t.exponent)
    totals["difference"] = decimal_array(sl - erp, t.exponent)
    rules = [RECON_CLASSES[c] for c in classes]
    frame = pd.DataFrame({"recon_class": np.array([str(c) for c in classes], dtype=object),
                          "explained": np.array([r.explained for r in rules], dtype=bool),
                          "owner": np.array([str(r.owner) for r in rules], dtype=object), **totals,
                          "meaning": [r.meaning for r in rules], "action": [r.action for r in rules]})
    frame = frame[["recon_class", "explained", "owner", "orders", "unexplained", "sl_total", "erp_total",
                   "difference", "meaning", "action"]]
    frame["unexplained"] = np.where(frame["explained"], 0, frame["orders"]).astype(np.int64)
    return frame.astype(dict.fromkeys(["recon_class", "owner", "meaning", "action"], "str"))


def _by_currency(f: _RowFacts, code: np.ndarray, company_exp: int) -> pd.DataFrame:
    """Totals per order currency: in that currency and in the company currency."""
    by_name = np.argsort(f.currency_uniques.astype(str)) if len(f.currency_uniques) else np.empty(0, np.int64)
    rank = np.empty(len(by_name), dtype=np.int64)
    rank[by_name] = np.arange(len(by_name))
    keys, uniques = rank[f.currency_keys], f.currency_uniques[by_name]
    n_keys = len(uniques)
    exps = np.array([exponent_or_fallback(c) for c in uniques], dtype=np.int64)
    sl, erp = _sums(keys, n_keys, f.sl_billable), _sums(keys, n_keys, f.erp_total)
    sl_c, erp_c = _sums(keys, n_keys, f.sl_billable_company), _sums(keys, n_keys, f.erp_total_company)
    return pd.DataFrame({
        "currency": np.asarray(uniques, dtype=object),
        "orders": np.bincount(keys, minlength=n_keys).astype(np.int64),
        "unexplained": np.bincount(keys, weights=~_EXPLAINED_BY_CODE[code], minlength=n_keys).astype(np.int64),
        "sl_total": decimal_array(sl, exps), "erp_total": decimal_array(erp, exps),
        "difference": decimal_array(sl - erp, exps),
        "sl_total_company": decimal_array(sl_c, company_exp), "erp_total_company": decimal_array(erp_c, company_exp),
        "difference_company": decimal_array(sl_c - erp_c, company_exp),
    }).astype({"currency": "str"})


def _unknown_purchase_orders(erp_orders: pd.DataFrame, erp: _ErpMatch, sl: _SlSide, sl_orders: pd.DataFrame,
                             known_purchase_ids: Iterable[str], month_start: dt.date, month_end: dt.date,
                             company: str, company_exp: int) -> tuple[pd.DataFrame, int]:
    """Live ERP orders dated in the month (or undated) whose purchase id matches no known SparkLayer order;
    and their total in the company currency."""
    pid = erp_orders["purchase_id"].to_numpy(dtype=object)
    candidates = np.flatnonzero((erp.pos < 0) & erp.live & ~pd.isna(pid))  # the month's matches are known
    if len(candidates):  # known beyond the month: the other orders read, and those the caller names
        known = pd.Index(sl.other_ids).append(pd.Index(list(known_purchase_ids), dtype=object))
        candidates = candidates[~pd.Index(pid[candidates]).isin(known)]
    day = _days(erp_orders["order_date"].iloc[candidates])
    in_month = (day == _NO_DAY) | ((day >= _day_number(month_start)) & (day < _day_number(month_end)))
    rows_at = candidates[in_month]
    rows = erp_orders.iloc[rows_at][["erp_id", "number", "purchase_id", "account_code", "state", "order_date"]]
    currency = erp.currency[rows_at]
    exps = _exponents(currency)
    total = erp.total[rows_at]
    rate_col = erp_orders["company_currency_rate"].to_numpy(dtype=object)[rows_at] \
        if "company_currency_rate" in erp_orders.columns else np.full(len(rows_at), None, dtype=object)
    company_total = np.zeros(len(rows_at), dtype=np.int64)
    for i in range(len(rows_at)):  # few rows: unknown ERP orders are exceptions
        rate = Decimal(1) if currency[i] == company and rate_of(rate_col[i]) is None else rate_of(rate_col[i])
        if rate is not None:
            company_total[i] = to_company_currency(total[i:i + 1], int(exps[i]), rate, company_exp)[0]
    rows = rows.assign(currency=currency, _total=total, _exp=exps, _company=company_total)
    rows = rows.sort_values(["erp_id"], kind="stable").reset_index(drop=True)
    rule = RECON_CLASSES[ReconClass.ERP_ORDER_CLAIMING_UNKNOWN_PURCHASE]
    rows["total"] = decimal_array(rows["_total"].to_numpy(), rows["_exp"].to_numpy())
    rows["total_company"] = decimal_array(rows["_company"].to_numpy(), company_exp)
    rows["recon_class"] = str(ReconClass.ERP_ORDER_CLAIMING_UNKNOWN_PURCHASE)
    rows["owner"] = str(rule.owner)
    rows["reason"] = [f"ERP order {num} ({format_minor(p, e)}{'' if c == company else ' ' + c}) carries "
                      f"SparkLayer purchase {pid_}, which SparkLayer does not know."
                      for num, p, e, c, pid_ in zip(rows["number"].tolist(), rows["_total"].tolist(),
                                                    rows["_exp"].tolist(), rows["currency"].tolist(),
                                                    rows["purchase_id"].tolist(), strict=True)]
    text = ["number", "purchase_id", "account_code", "state", "currency", "recon_class", "owner", "reason"]
    out = rows[["erp_id", "number", "purchase_id", "account_code", "state", "order_date", "currency", "total",
                "total_company", "recon_class", "owner", "reason"]].astype(dict.fromkeys(text, "str"))
    return out, int(company_total.sum())
