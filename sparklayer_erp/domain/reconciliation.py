"""Month-end reconciliation: every SparkLayer order of the month against the ERP's order, invoices, payments.

Pure: frames in, frames out; no I/O (the spreadsheet/CSV writers live in
``sparklayer_erp.month_end.export``; the pandera gates for these frames in
``sparklayer_erp.month_end.gates``).

Inputs (column → meaning; money columns hold ``Decimal``):

``sl_orders``   purchase_id, visible_id, account_code (ERP code the customer maps to, nullable),
                customer_sparklayer_id, payment_method, placed_at (tz-aware), status (SparkLayer display
                status, ``cancelled`` included), total_gross, total_paid; optional shipping_gross (needed only
                when ``sl_lines`` is given). May hold orders of other months: only the month's are classified,
                all ids count as "known" for the unknown-purchase check.
``sl_lines``    optional: purchase_id, sku, quantity (base units), line_total_gross.
``erp_orders``  erp_id (unique), number, purchase_id (nullable: orders keyed in the ERP by hand), account_code,
                state (pending_approval / committed / done / cancelled / draft), total (gross), order_date.
``erp_invoices`` erp_id (the *sales order's* id), number, state (draft / validated / posted / paid /
                cancelled), total, amount_due (what the ERP says is still due today), invoice_date, due_date.
``erp_payments`` invoice_number, amount, paid_on.

Money: converted once, at the edge, from ``Decimal`` to integer pence (``int64``), rounding each amount to the
cent with ROUND_HALF_UP (halves away from zero: 0.005 → 0.01, -0.005 → -0.01). Everything after is exact
integer arithmetic, vectorised (a million orders in seconds; Python ``Decimal`` per row in the joins would not
be). Totals are sums of per-document rounded amounts, as the ledger sums documents. Every money column in the
output frames is ``Decimal`` with two places again.

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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from enum import StrEnum
from types import MappingProxyType
from typing import NamedTuple

import numpy as np
import pandas as pd

from sparklayer_erp.domain.models import OwnerTeam, PaymentMethod

# ------------------------------------------------------------------------------------------------------------
# Money at the edges
# ------------------------------------------------------------------------------------------------------------

_CTX = Context(prec=34, rounding=ROUND_HALF_UP, traps=[InvalidOperation])


def to_pence(values: pd.Series | Iterable, *, column: str = "amount") -> np.ndarray:
    """``Decimal`` amounts → ``int64`` pence, each rounded to the cent ROUND_HALF_UP. Refuses floats/None.

    (``scaleb(2)`` then ``to_integral_value`` is ``quantize(0.01)`` scaled, and about three times faster
    per value than keyword-argument ``quantize``; this loop is the cost of a million-order month.)
    """
    arr = values.to_numpy(dtype=object) if isinstance(values, pd.Series) else np.asarray(values, dtype=object)
    ctx, half_up = _CTX, ROUND_HALF_UP
    try:
        return np.fromiter((int(v.scaleb(2, ctx).to_integral_value(half_up, ctx)) for v in arr),
                           dtype=np.int64, count=len(arr))
    except (AttributeError, TypeError, InvalidOperation, ValueError, OverflowError) as exc:
        bad = next((v for v in arr if not (isinstance(v, Decimal) and v.is_finite())), None)
        raise TypeError(f"{column}: money must be finite Decimal values, found {bad!r}") from exc


def pence_to_decimal(pence: int) -> Decimal:
    return Decimal(int(pence)).scaleb(-2, _CTX)


def _decimal_columns(*columns: np.ndarray) -> list[np.ndarray]:
    """int64 pence columns → object arrays of ``Decimal`` (2 dp). Each distinct amount becomes one shared
    ``Decimal`` across all the columns: a million orders repeat amounts a lot, so this saves time and memory."""
    sizes = [len(c) for c in columns]
    uniq, inverse = np.unique(np.concatenate(columns) if columns else np.empty(0, np.int64), return_inverse=True)
    decs = np.empty(len(uniq), dtype=object)
    decs[:] = [pence_to_decimal(p) for p in uniq.tolist()]
    return np.split(decs[inverse.ravel()], np.cumsum(sizes)[:-1])


def _decimal_column(pence: np.ndarray) -> np.ndarray:
    return _decimal_columns(pence)[0]


def format_money(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    whole, cents = divmod(abs(int(pence)), 100)
    return f"{sign}{whole:,}.{cents:02d}"


# ------------------------------------------------------------------------------------------------------------
# The one table: class → explained?, owner, meaning, what to do
# ------------------------------------------------------------------------------------------------------------


class ReconClass(StrEnum):
    CANCELLED_IN_BOTH = "cancelled_in_both"
    CANCELLED_BEFORE_ERP = "cancelled_before_erp"
    CANCELLED_IN_SPARKLAYER_ONLY = "cancelled_in_sparklayer_only"
    MISSING_IN_ERP = "missing_in_erp"
    CANCELLED_IN_ERP_ONLY = "cancelled_in_erp_only"
    DUPLICATE_IN_ERP = "duplicate_in_erp"
    SPARKLAYER_LINES_DISAGREE = "sparklayer_lines_disagree"
    CUSTOMER_MISMATCH = "customer_mismatch"
    AMOUNT_MISMATCH = "amount_mismatch"
    PENDING_APPROVAL = "pending_approval"
    PAID_IN_SHOP_UNPAID_IN_ERP = "paid_in_shop_unpaid_in_erp"
    COMMITTED_NOT_INVOICED = "committed_not_invoiced"
    SETTLED = "settled"
    OVERDUE = "overdue"
    INVOICED_OPEN_WITHIN_TERMS = "invoiced_open_within_terms"
    # Not a SparkLayer order: an ERP order of the month carrying a purchase id SparkLayer does not know.
    ERP_ORDER_CLAIMING_UNKNOWN_PURCHASE = "erp_order_claiming_unknown_purchase"


@dataclass(frozen=True)
class ClassRule:
    explained: bool  # True: normal state of business, does not block the close
    owner: OwnerTeam
    meaning: str
    action: str


_F, _SO, _OP, _EC = OwnerTeam.FINANCE, OwnerTeam.SALES_OPERATIONS, OwnerTeam.OPERATIONS, OwnerTeam.ECOMMERCE

# Order = precedence: an order gets the first class whose condition holds (see ``_classify``).
# "Explained" means both systems agree and the state is a normal one; overdue debt is explained on purpose:
# the books agree, chasing it is credit control's job, not a reason to hold the close.
RECON_CLASSES: Mapping[ReconClass, ClassRule] = MappingProxyType({
    ReconClass.CANCELLED_IN_BOTH: ClassRule(
        True, _F, "Cancelled in SparkLayer and in the ERP.", "Nothing."),
    ReconClass.CANCELLED_BEFORE_ERP: ClassRule(
        True, _F, "Cancelled in SparkLayer before it reached the ERP.", "Nothing."),
    ReconClass.CANCELLED_IN_SPARKLAYER_ONLY: ClassRule(
        False, _OP, "Cancelled in SparkLayer but still live in the ERP (usually past the point of no return).",
        "Cancel or return it in the ERP, or tell the customer it was shipped and reopen it in SparkLayer."),
    ReconClass.MISSING_IN_ERP: ClassRule(
        False, _OP, "A live SparkLayer order with no ERP order.",
        "Open the order's exception (missing customer code, unknown SKU, ...), fix the cause; the sync then "
        "creates the ERP order."),
    ReconClass.CANCELLED_IN_ERP_ONLY: ClassRule(
        False, _OP, "Cancelled in the ERP but still open in SparkLayer.",
        "Confirm the cancellation with the customer; the status sync then shows it cancelled in SparkLayer."),
    ReconClass.DUPLICATE_IN_ERP: ClassRule(
        False, _F, "More than one live ERP order carries this SparkLayer order.",
        "Cancel the duplicate ERP order (and credit its invoice if one was raised)."),
    ReconClass.SPARKLAYER_LINES_DISAGREE: ClassRule(
        False, _EC, "SparkLayer's lines plus shipping do not add up to its own order total.",
        "Check the order in SparkLayer / the store; the ERP was given the lines."),
    ReconClass.CUSTOMER_MISMATCH: ClassRule(
        False, _SO, "The ERP order is booked to a different customer account than SparkLayer's mapping.",
        "Move the ERP order to the right account and correct the customer mapping."),
    ReconClass.AMOUNT_MISMATCH: ClassRule(
        False, _F, "SparkLayer and ERP totals differ by more than the tolerance (or the ERP invoiced more "
        "than its order).", "Compare lines and prices; correct the ERP order or raise a credit note."),
    ReconClass.PENDING_APPROVAL: ClassRule(
        True, _F, "Waiting for credit approval in the ERP; no ledger impact yet.",
        "Approve or refuse it in the ERP (credit control)."),
    ReconClass.PAID_IN_SHOP_UNPAID_IN_ERP: ClassRule(
        False, _F, "The customer paid in the shop but the ERP invoice is still open.",
        "Record the shop payment against the invoice in the ERP."),
    ReconClass.COMMITTED_NOT_INVOICED: ClassRule(
        True, _OP, "Confirmed in the ERP, not (fully) invoiced yet: normal while it ships.",
        "Nothing; it is invoiced when it ships."),
    ReconClass.SETTLED: ClassRule(
        True, _F, "Invoiced in full and paid.", "Nothing."),
    ReconClass.OVERDUE: ClassRule(
        True, _F, "Invoiced, past its due date and not fully paid (both systems agree).",
        "Chase the customer (credit control)."),
    ReconClass.INVOICED_OPEN_WITHIN_TERMS: ClassRule(
        True, _F, "Invoiced, not yet due.", "Nothing until the due date."),
    ReconClass.ERP_ORDER_CLAIMING_UNKNOWN_PURCHASE: ClassRule(
        False, _OP, "A live ERP order of the month carries a SparkLayer purchase id SparkLayer does not know.",
        "Find where it came from (keyed by hand? copied?); correct the reference or cancel it."),
})

BLOCKING_CLASSES = frozenset(c for c, r in RECON_CLASSES.items() if not r.explained)
CLASS_ORDER: tuple[ReconClass, ...] = tuple(c for c in RECON_CLASSES
                                            if c is not ReconClass.ERP_ORDER_CLAIMING_UNKNOWN_PURCHASE)
_CLASS_NAMES = np.array([str(c) for c in CLASS_ORDER], dtype=object)
_EXPLAINED_BY_CODE = np.array([RECON_CLASSES[c].explained for c in CLASS_ORDER], dtype=bool)
_OWNER_BY_CODE = np.array([str(RECON_CLASSES[c].owner) for c in CLASS_ORDER], dtype=object)

COUNTED_INVOICE_STATES = frozenset({"posted", "paid"})  # draft/validated have no ledger impact yet
_LIVE_ERP_EXCLUDED = "cancelled"
_NO_LEDGER_STATES = ("pending_approval", "draft")
_SL_CANCELLED = "cancelled"

SL_ORDER_COLUMNS = ("purchase_id", "visible_id", "account_code", "customer_sparklayer_id", "payment_method",
                    "placed_at", "status", "total_gross", "total_paid")
SL_LINE_COLUMNS = ("purchase_id", "sku", "quantity", "line_total_gross")
ERP_ORDER_COLUMNS = ("erp_id", "number", "purchase_id", "account_code", "state", "total", "order_date")
ERP_INVOICE_COLUMNS = ("erp_id", "number", "state", "total", "amount_due", "invoice_date", "due_date")
ERP_PAYMENT_COLUMNS = ("invoice_number", "amount", "paid_on")

# Output column order of ``ReconResult.orders`` (money columns are Decimal).
ORDER_COLUMNS = (
    "purchase_id", "visible_id", "placed_at", "customer_sparklayer_id", "account_code", "payment_method",
    "sl_status", "erp_number", "erp_state", "erp_account_code", "invoice_numbers",
    "sl_total", "sl_paid", "sl_lines_total", "sl_billable", "erp_total", "invoiced", "erp_paid", "outstanding",
    "difference", "due_date", "days_overdue", "recon_class", "explained", "owner", "reason",
)
# Text columns are pandas' ``str`` dtype (missing = NaN), whatever the row count (an empty frame too).
ORDER_TEXT_COLUMNS = ("purchase_id", "visible_id", "customer_sparklayer_id", "account_code", "payment_method",
                      "sl_status", "erp_number", "erp_state", "erp_account_code", "invoice_numbers",
                      "recon_class", "owner", "reason")
ORDER_MONEY_COLUMNS = ("sl_total", "sl_paid", "sl_billable", "erp_total", "invoiced", "erp_paid",
                       "outstanding", "difference")


# ------------------------------------------------------------------------------------------------------------
# Result
# ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReconResult:
    """Everything the month's reconciliation found. Frames are sorted deterministically, index 0..n-1.

    ``orders``: one row per SparkLayer order placed in the month (columns ``ORDER_COLUMNS``).
    ``by_customer`` / ``by_payment_method`` / ``by_class``: orders, unexplained, sl_total (billable),
    erp_total (live ERP orders), difference — Decimal to the cent.
    ``erp_orders_claiming_unknown_purchase``: live ERP orders of the month whose purchase id is unknown.
    """

    month_start: dt.date
    month_end: dt.date  # exclusive
    as_of: dt.date
    amount_tolerance: Decimal
    orders: pd.DataFrame
    by_customer: pd.DataFrame
    by_payment_method: pd.DataFrame
    by_class: pd.DataFrame
    erp_orders_claiming_unknown_purchase: pd.DataFrame

    @property
    def totals(self) -> dict[str, Decimal | int]:
        """Headline numbers: the sums of ``by_class``, so ERP orders claiming an unknown purchase count in
        the ERP total (they are ERP sales attributed to SparkLayer); ``orders`` counts SparkLayer orders."""
        bc = self.by_class
        sl = sum(bc["sl_total"], Decimal("0.00"))
        erp = sum(bc["erp_total"], Decimal("0.00"))
        return {"orders": len(self.orders), "unexplained": int((~self.orders["explained"]).sum()),
                "unknown_erp_orders": len(self.erp_orders_claiming_unknown_purchase),
                "sl_total": sl, "erp_total": erp, "difference": sl - erp}


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
# reconcile_month
# ------------------------------------------------------------------------------------------------------------


def _require(df: pd.DataFrame, columns: Iterable[str], name: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{name} lacks column(s) {missing}")


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


def _str_or_none(values: np.ndarray) -> np.ndarray:
    out = values.astype(object)
    out[pd.isna(out)] = None
    return out


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
) -> ReconResult:
    """Classify every SparkLayer order placed in ``[month_start, month_end)`` and total the month.

    ``timezone``: the company's zone; the month's days begin and end at midnight there.

    ``amount_tolerance_pence``: an absolute difference up to this many pence is not a mismatch.
    ``sl_lines``: when given (with ``sl_orders.shipping_gross``), each order's lines + shipping must add up
    to its total. ``known_purchase_ids``: SparkLayer ids beyond ``sl_orders`` that are not "unknown".
    Re-running on the same inputs gives identical frames.
    """
    if month_end <= month_start:
        raise ValueError("month_end is exclusive and must be after month_start")
    if amount_tolerance_pence < 0:
        raise ValueError("amount_tolerance_pence must be >= 0")
    _require(sl_orders, SL_ORDER_COLUMNS, "sl_orders")
    _require(erp_orders, ERP_ORDER_COLUMNS, "erp_orders")
    _require(erp_invoices, ERP_INVOICE_COLUMNS, "erp_invoices")
    _require(erp_payments, ERP_PAYMENT_COLUMNS, "erp_payments")
    if sl_lines is not None:
        _require(sl_orders, ["shipping_gross"], "sl_orders (with sl_lines)")
        _require(sl_lines, SL_LINE_COLUMNS, "sl_lines")
    tol = int(amount_tolerance_pence)
    as_of_day = _day_number(as_of)

    sl = _month_orders(sl_orders, month_start, month_end, timezone, with_shipping=sl_lines is not None)
    erp = _match_erp_orders(sl, erp_orders)
    inv = _invoice_facts(sl.n, erp, erp_invoices, erp_payments, as_of_day)
    lines_total, lines_disagree = (None, np.zeros(sl.n, dtype=bool)) if sl_lines is None else \
        _lines_facts(sl, sl_lines, tol)
    facts = _RowFacts.build(sl, erp, inv, lines_total, as_of_day)
    code = _classify(facts, sl_cancelled=sl.cancelled, lines_disagree=lines_disagree, tol=tol,
                     as_of_day=as_of_day)
    orders = _orders_frame(facts, code, sl, lines_total)

    unknown = _unknown_purchase_orders(erp_orders, erp.live, erp.total, sl_orders, known_purchase_ids,
                                       month_start, month_end)
    totals_in = _TotalsInput(code=code, classes=CLASS_ORDER, sl_billable=facts.sl_billable,
                             erp_total=facts.erp_total, explained=_EXPLAINED_BY_CODE[code])
    return ReconResult(
        month_start=month_start, month_end=month_end, as_of=as_of,
        amount_tolerance=pence_to_decimal(tol),
        orders=orders,
        by_customer=_by_customer(sl.frame, facts.erp_account, totals_in),
        by_payment_method=_by_payment_method(sl.frame, totals_in),
        by_class=_by_class(totals_in, unknown),
        erp_orders_claiming_unknown_purchase=unknown,
    )


@dataclass(frozen=True)
class _SlSide:
    """The month's SparkLayer orders in output order (placed, then purchase id), and their money."""

    frame: pd.DataFrame
    index: pd.Index  # purchase id → position
    total: np.ndarray
    paid: np.ndarray
    cancelled: np.ndarray

    @property
    def n(self) -> int:
        return len(self.frame)


def _month_orders(sl_orders: pd.DataFrame, month_start: dt.date, month_end: dt.date,
                  timezone: str | dt.tzinfo, *, with_shipping: bool) -> _SlSide:
    placed = sl_orders["placed_at"]
    if not isinstance(placed.dtype, pd.DatetimeTZDtype):
        raise ValueError("sl_orders.placed_at must be timezone-aware")
    in_month = (placed >= _midnight(month_start, timezone)) & (placed < _midnight(month_end, timezone))
    sl = sl_orders.loc[in_month, list(SL_ORDER_COLUMNS) + (["shipping_gross"] if with_shipping else [])]
    sl = sl.assign(placed_at=sl["placed_at"].dt.tz_convert("UTC"))
    sl = sl.sort_values(["placed_at", "purchase_id"], kind="stable").reset_index(drop=True)
    index = pd.Index(sl["purchase_id"])
    if not index.is_unique:
        raise ValueError("sl_orders.purchase_id must be unique")
    return _SlSide(sl, index, to_pence(sl["total_gross"], column="sl_orders.total_gross"),
                   to_pence(sl["total_paid"], column="sl_orders.total_paid"),
                   sl["status"].eq(_SL_CANCELLED).to_numpy())


@dataclass(frozen=True)
class _ErpMatch:
    """ERP orders against the month's SparkLayer orders (``pos``: the SparkLayer position, -1 none)."""

    ids: np.ndarray
    pos: np.ndarray  # per ERP order
    live: np.ndarray  # per ERP order
    total: np.ndarray  # per ERP order, pence
    any_count: np.ndarray  # per SparkLayer order: ERP orders carrying it
    live_count: np.ndarray  # ... of which not cancelled
    live_total: np.ndarray  # ... their total
    number: np.ndarray  # per SparkLayer order: the ERP order shown (all live ones when duplicated)
    state: np.ndarray
    account: np.ndarray


def _match_erp_orders(sl: _SlSide, erp_orders: pd.DataFrame) -> _ErpMatch:
    n = sl.n
    ids = erp_orders["erp_id"].to_numpy()
    if not pd.Index(ids).is_unique:
        raise ValueError("erp_orders.erp_id must be unique")
    pos = sl.index.get_indexer(erp_orders["purchase_id"]) if n else np.full(len(erp_orders), -1)
    live = erp_orders["state"].to_numpy(dtype=object) != _LIVE_ERP_EXCLUDED
    total = to_pence(erp_orders["total"], column="erp_orders.total")
    matched = pos >= 0
    live_total = np.zeros(n, dtype=np.int64)
    np.add.at(live_total, pos[matched & live], total[matched & live])
    # shown per SparkLayer order: the first live ERP order by erp_id, else the latest cancelled one
    m_idx = np.flatnonzero(matched)
    m_sorted = m_idx[np.lexsort((np.where(live[m_idx], ids[m_idx], -ids[m_idx]), ~live[m_idx], pos[m_idx]))]
    first = np.ones(len(m_sorted), dtype=bool)
    first[1:] = pos[m_sorted][1:] != pos[m_sorted][:-1]
    chosen = np.full(n, -1, dtype=np.int64)
    chosen[pos[m_sorted[first]]] = m_sorted[first]
    has = chosen >= 0

    def pick(col: str) -> np.ndarray:
        out = np.full(n, None, dtype=object)
        out[has] = erp_orders[col].to_numpy(dtype=object)[chosen[has]]
        return _str_or_none(out)

    live_count = np.bincount(pos[matched & live], minlength=n)
    number = pick("number")
    dup_rows = m_sorted[live[m_sorted] & (live_count[pos[m_sorted]] > 1)]
    if len(dup_rows):  # rare: show every live number of a duplicated order
        numbers = erp_orders["number"].to_numpy(dtype=object)
        joined: dict[int, list[str]] = {}
        for i in dup_rows.tolist():
            joined.setdefault(int(pos[i]), []).append(str(numbers[i]))
        for p, nums in joined.items():
            number[p] = ", ".join(nums)
    return _ErpMatch(ids=ids, pos=pos, live=live, total=total, any_count=np.bincount(pos[matched], minlength=n),
                     live_count=live_count, live_total=live_total, number=number, state=pick("state"),
                     account=pick("account_code"))


@dataclass(frozen=True)
class _InvoiceFacts:
    """Per SparkLayer order, from the posted/paid invoices of its live ERP orders, as of the close."""

    count: np.ndarray
    invoiced: np.ndarray
    paid: np.ndarray
    outstanding: np.ndarray
    earliest_due: np.ndarray  # of invoices with something outstanding; _NO_DAY when unknown
    has_open_due: np.ndarray
    numbers: np.ndarray


def _invoice_facts(n: int, erp: _ErpMatch, invoices: pd.DataFrame, payments: pd.DataFrame,
                   as_of_day: int) -> _InvoiceFacts:
    row = pd.Index(erp.ids).get_indexer(invoices["erp_id"]) if len(erp.ids) else np.full(len(invoices), -1)
    counted = (row >= 0) & np.isin(invoices["state"].to_numpy(dtype=object), list(COUNTED_INVOICE_STATES))
    counted[counted] = erp.live[row[counted]] & (erp.pos[row[counted]] >= 0)
    inv_day = _days(invoices["invoice_date"])
    counted &= inv_day <= as_of_day  # raised after the close: not invoiced as of it (undated: counted)
    ci = np.flatnonzero(counted)
    ci_pos = erp.pos[row[ci]]
    ci_total = to_pence(invoices["total"].iloc[ci], column="erp_invoices.total")
    ci_due_now = to_pence(invoices["amount_due"].iloc[ci], column="erp_invoices.amount_due")
    ci_numbers = invoices["number"].to_numpy(dtype=object)[ci]
    num_index = pd.Index(ci_numbers)
    if not num_index.is_unique:
        raise ValueError("erp_invoices.number must be unique among posted/paid invoices")

    pay_inv = num_index.get_indexer(payments["invoice_number"]) if len(ci) else np.full(len(payments), -1)
    ok = np.flatnonzero((pay_inv >= 0) & payments["invoice_number"].notna().to_numpy())
    amount = to_pence(payments["amount"].iloc[ok], column="erp_payments.amount")
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
                         numbers=_join_per_position(n, ci_pos, ci_numbers))


def _lines_facts(sl: _SlSide, lines: pd.DataFrame, tol: int) -> tuple[np.ndarray, np.ndarray]:
    """Each order's lines total, and whether lines + shipping disagree with the order total."""
    pos = sl.index.get_indexer(lines["purchase_id"])
    ok = np.flatnonzero(pos >= 0)
    total = np.zeros(sl.n, dtype=np.int64)
    np.add.at(total, pos[ok], to_pence(lines["line_total_gross"].iloc[ok], column="sl_lines.line_total_gross"))
    has_lines = np.bincount(pos[ok], minlength=sl.n) > 0
    shipping = to_pence(sl.frame["shipping_gross"], column="sl_orders.shipping_gross")
    return total, has_lines & (np.abs(total + shipping - sl.total) > tol)


def _classify(f: _RowFacts, *, sl_cancelled: np.ndarray, lines_disagree: np.ndarray, tol: int,
              as_of_day: int) -> np.ndarray:
    """Index into ``CLASS_ORDER`` per order: the first class whose condition holds (the table's order)."""
    no_erp = f.any_count == 0
    live = f.live_count > 0
    all_cancelled = ~no_erp & ~live
    conditions = {
        ReconClass.CANCELLED_IN_BOTH: sl_cancelled & all_cancelled,
        ReconClass.CANCELLED_BEFORE_ERP: sl_cancelled & no_erp,
        ReconClass.CANCELLED_IN_SPARKLAYER_ONLY: sl_cancelled & live,
        ReconClass.MISSING_IN_ERP: no_erp,
        ReconClass.CANCELLED_IN_ERP_ONLY: all_cancelled,
        ReconClass.DUPLICATE_IN_ERP: f.live_count > 1,
        ReconClass.SPARKLAYER_LINES_DISAGREE: lines_disagree,
        ReconClass.CUSTOMER_MISMATCH: ~pd.isna(f.sl_account) & (f.erp_account != f.sl_account),
        ReconClass.AMOUNT_MISMATCH: (np.abs(f.sl_total - f.erp_total) > tol) | (f.invoiced > f.erp_total + tol),
        ReconClass.PENDING_APPROVAL: np.isin(f.erp_state, list(_NO_LEDGER_STATES)),
        ReconClass.PAID_IN_SHOP_UNPAID_IN_ERP: (f.inv_count > 0) & (f.outstanding > 0)
        & (f.sl_paid > f.erp_paid + tol),
        ReconClass.COMMITTED_NOT_INVOICED: (f.inv_count == 0)
        | ((f.outstanding <= 0) & (f.invoiced < f.erp_total - tol)),
        ReconClass.SETTLED: f.outstanding <= 0,
        ReconClass.OVERDUE: f.has_open_due & (f.earliest_due < as_of_day),
    }
    assert list(conditions) + [ReconClass.INVOICED_OPEN_WITHIN_TERMS] == list(CLASS_ORDER)
    return np.select(list(conditions.values()), np.arange(len(conditions)), default=len(conditions))


def _orders_frame(f: _RowFacts, code: np.ndarray, sl: _SlSide, lines_total: np.ndarray | None) -> pd.DataFrame:
    n = sl.n
    money = _decimal_columns(*(getattr(f, name) for name in ORDER_MONEY_COLUMNS))
    due = np.where(f.has_open_due, f.earliest_due, 0).astype("datetime64[D]").astype("datetime64[s]")
    due[~f.has_open_due] = np.datetime64("NaT")
    return pd.DataFrame({
        "purchase_id": f.purchase_id, "visible_id": _str_or_none(f.visible_id), "placed_at": sl.frame["placed_at"],
        "customer_sparklayer_id": sl.frame["customer_sparklayer_id"].to_numpy(dtype=object),
        "account_code": _str_or_none(f.sl_account), "payment_method": f.payment_method, "sl_status": f.sl_status,
        "erp_number": f.erp_number, "erp_state": f.erp_state, "erp_account_code": f.erp_account,
        "invoice_numbers": f.invoice_numbers,
        **dict(zip(ORDER_MONEY_COLUMNS, money, strict=True)),
        "sl_lines_total": _decimal_column(lines_total) if lines_total is not None else np.full(n, None, object),
        "due_date": due, "days_overdue": f.days_overdue,
        "recon_class": _CLASS_NAMES[code], "explained": _EXPLAINED_BY_CODE[code], "owner": _OWNER_BY_CODE[code],
        "reason": _reasons(code, f),
    }, columns=list(ORDER_COLUMNS)).astype(dict.fromkeys(ORDER_TEXT_COLUMNS, "str"))


def _join_per_position(n: int, pos: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``", "``-joined labels per position (sorted), None where there are none. Vectorised for the usual 1."""
    out = np.full(n, None, dtype=object)
    if not len(pos):
        return out
    labels = labels.astype(object)
    order = np.lexsort((labels.astype(str), pos))
    p, lab = pos[order], labels[order]
    counts = np.bincount(p, minlength=n)
    single = counts[p] == 1
    out[p[single]] = lab[single]
    multi = ~single
    if multi.any():
        grouped: dict[int, list[str]] = {}
        for q, label in zip(p[multi].tolist(), lab[multi].tolist(), strict=True):
            grouped.setdefault(q, []).append(str(label))
        for q, items in grouped.items():
            out[q] = ", ".join(items)
    return out


@dataclass(frozen=True)
class _RowFacts:
    """Everything known per SparkLayer order of the month, as aligned arrays (money in pence)."""

    purchase_id: np.ndarray
    visible_id: np.ndarray
    payment_method: np.ndarray
    sl_status: np.ndarray
    sl_account: np.ndarray
    erp_number: np.ndarray
    erp_state: np.ndarray
    erp_account: np.ndarray
    invoice_numbers: np.ndarray
    any_count: np.ndarray
    live_count: np.ndarray
    inv_count: np.ndarray
    sl_total: np.ndarray
    sl_paid: np.ndarray
    sl_billable: np.ndarray  # 0 when cancelled in SparkLayer
    erp_total: np.ndarray  # live ERP orders
    invoiced: np.ndarray
    erp_paid: np.ndarray
    outstanding: np.ndarray
    difference: np.ndarray  # sl_billable - erp_total
    lines_total: np.ndarray
    earliest_due: np.ndarray
    has_open_due: np.ndarray
    days_overdue: np.ndarray

    @classmethod
    def build(cls, sl: _SlSide, erp: _ErpMatch, inv: _InvoiceFacts, lines_total: np.ndarray | None,
              as_of_day: int) -> _RowFacts:
        col = sl.frame
        billable = np.where(sl.cancelled, 0, sl.total)
        dated = inv.has_open_due & (inv.earliest_due != _NO_DAY) & (inv.earliest_due < as_of_day)
        return cls(
            purchase_id=col["purchase_id"].to_numpy(dtype=object), visible_id=col["visible_id"].to_numpy(dtype=object),
            payment_method=col["payment_method"].to_numpy(dtype=object), sl_status=col["status"].to_numpy(dtype=object),
            sl_account=col["account_code"].to_numpy(dtype=object), erp_number=erp.number, erp_state=erp.state,
            erp_account=erp.account, invoice_numbers=inv.numbers, any_count=erp.any_count,
            live_count=erp.live_count, inv_count=inv.count, sl_total=sl.total, sl_paid=sl.paid,
            sl_billable=billable, erp_total=erp.live_total, invoiced=inv.invoiced, erp_paid=inv.paid,
            outstanding=inv.outstanding, difference=billable - erp.live_total,
            lines_total=lines_total if lines_total is not None else np.zeros(sl.n, dtype=np.int64),
            earliest_due=inv.earliest_due, has_open_due=inv.has_open_due,
            days_overdue=np.where(dated, as_of_day - np.where(dated, inv.earliest_due, 0), 0).astype(np.int64),
        )


_m = format_money


def _due(day: int) -> str:
    return str(np.datetime64(int(day), "D")) if day != _NO_DAY else "an unknown due date"


# One sentence per class, for people: (the _RowFacts fields it needs, a function of them; money in pence).
_REASON: dict[ReconClass, tuple[tuple[str, ...], Callable[..., str]]] = {
    ReconClass.CANCELLED_IN_BOTH: (
        ("erp_number",), lambda num: f"Cancelled in SparkLayer and ERP order {num} cancelled."),
    ReconClass.CANCELLED_BEFORE_ERP: (
        (), lambda: "Cancelled in SparkLayer before any ERP order was created."),
    ReconClass.CANCELLED_IN_SPARKLAYER_ONLY: (
        ("erp_number", "erp_state", "erp_total"),
        lambda num, state, erp: f"Cancelled in SparkLayer, but ERP order {num} is {state} ({_m(erp)})."),
    ReconClass.MISSING_IN_ERP: (
        ("purchase_id", "visible_id", "sl_total", "sl_status"),
        lambda pid, vis, sl, st: f"No ERP order carries SparkLayer purchase {pid} (order {vis}, {_m(sl)}, "
                                 f"status {st})."),
    ReconClass.CANCELLED_IN_ERP_ONLY: (
        ("erp_number", "sl_status", "sl_total"),
        lambda num, st, sl: f"ERP order {num} is cancelled but SparkLayer shows {st} ({_m(sl)})."),
    ReconClass.DUPLICATE_IN_ERP: (
        ("live_count", "erp_number", "erp_total", "sl_total"),
        lambda cnt, nums, erp, sl: f"{cnt} live ERP orders ({nums}) total {_m(erp)} for one SparkLayer order "
                                   f"of {_m(sl)}."),
    ReconClass.SPARKLAYER_LINES_DISAGREE: (
        ("lines_total", "sl_total"),
        lambda lines, sl: f"SparkLayer lines add up to {_m(lines)} (+ shipping) but its order total is "
                          f"{_m(sl)}."),
    ReconClass.CUSTOMER_MISMATCH: (
        ("erp_number", "erp_account", "sl_account"),
        lambda num, erp_acc, sl_acc: f"ERP order {num} is booked to {erp_acc}, SparkLayer maps the customer "
                                     f"to {sl_acc}."),
    ReconClass.AMOUNT_MISMATCH: (
        ("sl_total", "erp_number", "erp_total", "invoiced"),
        lambda sl, num, erp, inv: f"SparkLayer {_m(sl)}, ERP order {num} {_m(erp)}, invoiced {_m(inv)}: "
                                  f"difference {_m(sl - erp)}."),
    ReconClass.PENDING_APPROVAL: (
        ("erp_number", "erp_total"),
        lambda num, erp: f"ERP order {num} ({_m(erp)}) is waiting for credit approval."),
    ReconClass.PAID_IN_SHOP_UNPAID_IN_ERP: (
        ("sl_paid", "payment_method", "erp_paid", "outstanding", "invoice_numbers"),
        lambda paid, pm, erp_paid, due, nums: f"Paid {_m(paid)} in the shop ({pm}); the ERP shows "
                                              f"{_m(erp_paid)} paid and {_m(due)} still due on {nums}."),
    ReconClass.COMMITTED_NOT_INVOICED: (
        ("erp_number", "erp_state", "invoiced", "erp_total"),
        lambda num, state, inv, erp: f"ERP order {num} is {state}; {_m(inv)} of {_m(erp)} invoiced so far."),
    ReconClass.SETTLED: (
        ("invoiced", "invoice_numbers"), lambda inv, nums: f"Invoiced {_m(inv)} on {nums} and paid in full."),
    ReconClass.OVERDUE: (
        ("outstanding", "invoice_numbers", "days_overdue", "earliest_due"),
        lambda due, nums, days, day: f"{_m(due)} still due on {nums}, {days} day(s) past {_due(day)}."),
    ReconClass.INVOICED_OPEN_WITHIN_TERMS: (
        ("outstanding", "earliest_due", "invoice_numbers"),
        lambda due, day, nums: f"{_m(due)} due on {_due(day)} on {nums}."),
}


def _reasons(code: np.ndarray, f: _RowFacts) -> np.ndarray:
    out = np.empty(len(code), dtype=object)
    for c_idx, cls in enumerate(CLASS_ORDER):
        rows = np.flatnonzero(code == c_idx)
        if not len(rows):
            continue
        fields, make = _REASON[cls]
        if not fields:
            out[rows] = make()
            continue
        columns = [getattr(f, name)[rows].tolist() for name in fields]
        out[rows] = [make(*values) for values in zip(*columns, strict=True)]
    return out


# ------------------------------------------------------------------------------------------------------------
# Totals
# ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _TotalsInput:
    code: np.ndarray
    classes: tuple[ReconClass, ...]
    sl_billable: np.ndarray
    erp_total: np.ndarray
    explained: np.ndarray


def _money_totals(keys: np.ndarray, n_keys: int, t: _TotalsInput) -> dict[str, np.ndarray]:
    sl = np.zeros(n_keys, dtype=np.int64)
    erp = np.zeros(n_keys, dtype=np.int64)
    np.add.at(sl, keys, t.sl_billable)
    np.add.at(erp, keys, t.erp_total)
    return {
        "orders": np.bincount(keys, minlength=n_keys).astype(np.int64),
        "unexplained": np.bincount(keys, weights=~t.explained, minlength=n_keys).astype(np.int64),
        "sl_total": _decimal_column(sl), "erp_total": _decimal_column(erp), "difference": _decimal_column(sl - erp),
    }


def _by_customer(sl: pd.DataFrame, erp_account: np.ndarray, t: _TotalsInput) -> pd.DataFrame:
    keys, uniques = pd.factorize(sl["customer_sparklayer_id"], sort=True)
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
    seen = sorted(set(sl["payment_method"].unique()) - set(known))
    methods = known + seen
    keys = pd.Index(methods).get_indexer(sl["payment_method"])
    return pd.DataFrame({"payment_method": np.array(methods, dtype=object),
                         **_money_totals(keys, len(methods), t)}).astype({"payment_method": "str"})


def _by_class(t: _TotalsInput, unknown: pd.DataFrame) -> pd.DataFrame:
    frame = pd.DataFrame({"recon_class": np.array([str(c) for c in t.classes], dtype=object),
                          **_money_totals(t.code, len(t.classes), t)})
    extra = ReconClass.ERP_ORDER_CLAIMING_UNKNOWN_PURCHASE
    unknown_total = sum(unknown["total"], Decimal("0.00"))
    frame = pd.concat([frame, pd.DataFrame({
        "recon_class": [str(extra)], "orders": [len(unknown)], "unexplained": [len(unknown)],
        "sl_total": [Decimal("0.00")], "erp_total": [unknown_total], "difference": [-unknown_total]})],
        ignore_index=True)
    rules = [RECON_CLASSES[ReconClass(c)] for c in frame["recon_class"]]
    frame.insert(1, "explained", [r.explained for r in rules])
    frame.insert(2, "owner", [str(r.owner) for r in rules])
    frame["meaning"] = [r.meaning for r in rules]
    frame["action"] = [r.action for r in rules]
    frame["unexplained"] = np.where(frame["explained"], 0, frame["orders"]).astype(np.int64)
    return frame.astype(dict.fromkeys(["recon_class", "owner", "meaning", "action"], "str"))


def _unknown_purchase_orders(erp_orders: pd.DataFrame, eo_live: np.ndarray, eo_total: np.ndarray,
                             sl_orders: pd.DataFrame, known_purchase_ids: Iterable[str],
                             month_start: dt.date, month_end: dt.date) -> pd.DataFrame:
    """Live ERP orders dated in the month (or undated) whose purchase id matches no known SparkLayer order."""
    known = pd.Index(sl_orders["purchase_id"]).append(pd.Index(list(known_purchase_ids), dtype=object))
    pid = erp_orders["purchase_id"]
    day = _days(erp_orders["order_date"])
    in_month = (day == _NO_DAY) | ((day >= _day_number(month_start)) & (day < _day_number(month_end)))
    mask = pid.notna().to_numpy() & ~pid.isin(known).to_numpy() & eo_live & in_month
    rows = erp_orders.loc[mask, ["erp_id", "number", "purchase_id", "account_code", "state", "order_date"]]
    rows = rows.assign(total_pence=eo_total[mask]).sort_values(["erp_id"], kind="stable").reset_index(drop=True)
    rule = RECON_CLASSES[ReconClass.ERP_ORDER_CLAIMING_UNKNOWN_PURCHASE]
    rows["total"] = _decimal_column(rows["total_pence"].to_numpy())
    rows["recon_class"] = str(ReconClass.ERP_ORDER_CLAIMING_UNKNOWN_PURCHASE)
    rows["owner"] = str(rule.owner)
    rows["reason"] = [f"ERP order {num} ({format_money(p)}) carries SparkLayer purchase {pid_}, which "
                      "SparkLayer does not know."
                      for num, p, pid_ in zip(rows["number"].tolist(), rows["total_pence"].tolist(),
                                              rows["purchase_id"].tolist(), strict=True)]
    text = ["number", "purchase_id", "account_code", "state", "recon_class", "owner", "reason"]
    return rows.drop(columns=["total_pence"]).astype(dict.fromkeys(text, "str"))
