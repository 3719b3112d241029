"""Drift monitoring: pure rules that compare what SparkLayer and the ERP say right now.

The monitor asset loads a ``DriftSnapshot`` (plain records, defined here) every few minutes and calls
``evaluate_drift``; every rule returns catalogue problems (``exception_kinds.problem``), so each finding has
an owner team, a plain message and what to do. The ledger opens/updates/resolves exceptions by key: a rule
that stops firing resolves its exception, so rules must be deterministic and must not fire on a healthy
system — each test checks both.

One finding, one problem: when two rules would describe the same cause, the more specific wins —
an ERP order still live for a cancelled SparkLayer order is ``erp_order_orphaned`` (not also a status
mismatch), and a pay-later order whose ERP order was cancelled is ``draft_order_stock_not_held``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from sparklayer_erp.domain.exception_kinds import Entity, Problem, problem
from sparklayer_erp.domain.models import ErpItem, ErpOrderState, PaymentMethod, PriceEntry
from sparklayer_erp.domain.money import round_money

PAY_LATER = frozenset({PaymentMethod.ON_ACCOUNT.value, PaymentMethod.INVOICE.value})
CARD = PaymentMethod.UPFRONT.value
SL_CANCELLED = "cancelled"
SL_SHOWS_SHIPPED = frozenset({"shipped", "part_shipped", "complete", "returned"})
SL_OPEN = frozenset({"incoming", "processing", "on_hold"})  # placed, not shipped, not cancelled
_LIVE_ERP_STATES = frozenset({ErpOrderState.PENDING_APPROVAL.value, ErpOrderState.COMMITTED.value,
                              ErpOrderState.DONE.value, ErpOrderState.DRAFT.value})


# --- the snapshot ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlOrderSnap:
    """A SparkLayer purchase of type ``order`` as the monitor sees it."""

    purchase_id: str
    visible_id: str | None
    customer_sparklayer_id: str
    payment_method: str  # PaymentMethod value
    status: str  # SparkLayer display status
    placed_at: dt.datetime  # timezone-aware
    total_gross: Decimal
    total_paid: Decimal = Decimal("0")
    skus: tuple[str, ...] = ()
    # Gross value of the units SparkLayer shows in cancellation packages of an order still going: what the
    # ERP cancelled after the point of no return. SparkLayer's total leaves them out; the ERP order keeps
    # the lines (nothing is un-ordered there), so the amount rule adds them back before comparing.
    cancelled_gross: Decimal = Decimal("0")


@dataclass(frozen=True)
class OpenInvoice:
    number: str
    amount_due: Decimal
    posted_at: dt.datetime  # when the ERP posted it (timezone-aware)


@dataclass(frozen=True)
class PendingQuantity:
    """What a pending-approval ERP order needs held, in base units (the unit stock is pushed in)."""

    sku: str
    warehouse: str
    quantity: int


@dataclass(frozen=True)
class ErpOrderSnap:
    erp_id: int
    number: str | None
    purchase_id: str | None  # None: keyed in the ERP by hand, not ours to monitor
    state: str  # ErpOrderState value
    total: Decimal  # gross
    stock_held: bool | None = None  # committed orders: the ERP holds (allocates/reserves) its stock
    shipped_at: dt.datetime | None = None  # first shipment done
    pending: tuple[PendingQuantity, ...] = ()  # pending-approval orders: quantities to keep off sale
    open_invoices: tuple[OpenInvoice, ...] = ()  # posted invoices with something still due


@dataclass(frozen=True)
class SlCustomerSnap:
    sparklayer_id: str
    name: str
    account_code: str | None  # SparkLayer's link to the ERP account (accounting id)


@dataclass(frozen=True)
class DriftSnapshot:
    """Everything the rules look at; build it from the clients in the monitor asset."""

    sl_orders: tuple[SlOrderSnap, ...] = ()
    erp_orders: tuple[ErpOrderSnap, ...] = ()
    # Purchase ids of ERP orders that were looked up in SparkLayer and are not there (404): positive
    # knowledge, because "not in this page of orders" does not mean gone.
    sl_missing_purchase_ids: frozenset[str] = frozenset()
    sl_customers: tuple[SlCustomerSnap, ...] = ()
    sl_skus: frozenset[str] = frozenset()  # SKUs on sale in SparkLayer (catalogue and recent order lines)
    erp_items: tuple[ErpItem, ...] = ()
    erp_prices: tuple[PriceEntry, ...] = ()
    # What the last stock push subtracted for pending-approval orders, per (sku, warehouse), base units.
    pushed_pending_stock: Mapping[tuple[str, str], int] = field(default_factory=dict)
    sync_last_success: Mapping[str, dt.datetime | None] = field(default_factory=dict)


_MIN = dt.timedelta(minutes=1)
DEFAULT_STALE_AFTER: Mapping[str, dt.timedelta] = MappingProxyType({
    "orders": 15 * _MIN, "stock": 60 * _MIN, "prices": 26 * 60 * _MIN, "customers": 26 * 60 * _MIN,
    "products": 26 * 60 * _MIN,
})


class PriceRule(StrEnum):
    ANY_LIST = "any_list"  # an item needs a price in at least one list
    EVERY_LIST = "every_list"  # ... in every price list that has any price (strict: level lists)


@dataclass(frozen=True)
class DriftConfig:
    stuck_after: dt.timedelta = 15 * _MIN  # a live order this old with no ERP order is stuck
    status_grace: dt.timedelta = 30 * _MIN  # time the status write-back gets before a mismatch counts
    payment_grace: dt.timedelta = 60 * _MIN  # time to record a card payment on a fresh invoice
    amount_tolerance: Decimal = Decimal("0.00")
    stale_after: Mapping[str, dt.timedelta] = field(default_factory=lambda: DEFAULT_STALE_AFTER)  # per sync
    price_rule: PriceRule = PriceRule.ANY_LIST
    currency: str = "GBP"
    timezone: dt.tzinfo = dt.UTC  # company time: the clock times people read in a finding


# --- helpers ---------------------------------------------------------------------------------------------


def _label(o: SlOrderSnap) -> str:
    return f"{o.visible_id} ({o.purchase_id})" if o.visible_id else o.purchase_id


def _erp_label(e: ErpOrderSnap) -> str:
    return e.number or f"#{e.erp_id}"


def _age(delta: dt.timedelta) -> str:
    """``2 d 3 h 5 min``: how long, for people."""
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return "less than a minute"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (mins, "min")]
    return " ".join(f"{value} {unit}" for value, unit in parts if value)


def _aware(moment: dt.datetime, what: str) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError(f"{what} must be timezone-aware")
    return moment


class _Index:
    """The snapshot joined once: SparkLayer orders by id, ERP orders by the purchase id they carry."""

    def __init__(self, snap: DriftSnapshot) -> None:
        self.sl = {o.purchase_id: o for o in snap.sl_orders}
        by_pid: dict[str, list[ErpOrderSnap]] = defaultdict(list)
        for e in sorted(snap.erp_orders, key=lambda e: e.erp_id):
            if e.purchase_id:
                by_pid[e.purchase_id].append(e)
        self.erp = dict(by_pid)

    def live_erp(self, pid: str) -> ErpOrderSnap | None:
        return next((e for e in self.erp.get(pid, ()) if e.state in _LIVE_ERP_STATES), None)

    def all_cancelled(self, pid: str) -> ErpOrderSnap | None:
        """The latest ERP order when every ERP order for ``pid`` is cancelled, else None."""
        orders = self.erp.get(pid, [])
        if orders and all(e.state == ErpOrderState.CANCELLED.value for e in orders):
            return orders[-1]
        return None


# --- the rules -------------------------------------------------------------------------------------------


def stuck_orders(snap: DriftSnapshot, config: DriftConfig, now: dt.datetime, ix: _Index) -> list[Problem]:
    """Live SparkLayer orders older than ``stuck_after`` that no ERP order carries."""
    out = []
    for o in snap.sl_orders:
        age = now - _aware(o.placed_at, "placed_at")
        if o.status != SL_CANCELLED and o.purchase_id not in ix.erp and age >= config.stuck_after:
            out.append(problem("order_stuck", Entity.ORDER, o.purchase_id, order=_label(o), age=_age(age),
                               placed_at=o.placed_at, payment_method=o.payment_method))
    return out


def orphaned_erp_orders(snap: DriftSnapshot, config: DriftConfig, now: dt.datetime, ix: _Index) -> list[Problem]:
    """Live ERP orders whose SparkLayer order is cancelled, or gone (looked up: not found)."""
    out = []
    for e in snap.erp_orders:
        if not e.purchase_id or e.state not in _LIVE_ERP_STATES:
            continue
        sl = ix.sl.get(e.purchase_id)
        if e.purchase_id in snap.sl_missing_purchase_ids:
            reason = "no longer in SparkLayer"
        elif sl is not None and sl.status == SL_CANCELLED:
            reason = "cancelled in SparkLayer"
        else:
            continue
        out.append(problem("erp_order_orphaned", Entity.ERP_ORDER, _erp_label(e), erp_order=_erp_label(e),
                           order=_label(sl) if sl else e.purchase_id, reason=reason, erp_state=e.state))
    return out


def status_mismatches(snap: DriftSnapshot, config: DriftConfig, now: dt.datetime, ix: _Index) -> list[Problem]:
    """Cancelled in the ERP only (card orders; pay-later ones are a stock problem), or shipped in the ERP
    longer than ``status_grace`` ago while SparkLayer does not show it shipped."""
    out = []
    for o in snap.sl_orders:
        if o.status == SL_CANCELLED:
            continue  # cancelled in SparkLayer only: see orphaned_erp_orders
        cancelled = ix.all_cancelled(o.purchase_id)
        if cancelled is not None and not (o.payment_method in PAY_LATER and o.status in SL_OPEN):
            out.append(problem("status_mismatch", Entity.ORDER, o.purchase_id, order=_label(o),
                               sparklayer_status=o.status, erp_order=_erp_label(cancelled),
                               erp_status="cancelled"))
            continue
        live = ix.live_erp(o.purchase_id)
        if (live is not None and live.shipped_at is not None and o.status not in SL_SHOWS_SHIPPED
                and now - _aware(live.shipped_at, "shipped_at") >= config.status_grace):
            out.append(problem("status_mismatch", Entity.ORDER, o.purchase_id, order=_label(o),
                               sparklayer_status=o.status, erp_order=_erp_label(live), erp_status="shipped",
                               shipped_at=live.shipped_at))
    return out


def amount_mismatches(snap: DriftSnapshot, config: DriftConfig, now: dt.datetime, ix: _Index) -> list[Problem]:
    """Live orders whose SparkLayer and ERP gross totals (each rounded to the cent) differ beyond tolerance.

    An order shipped in parts with lines the ERP cancelled is compared as ordered: SparkLayer's total plus
    what it shows as cancelled (``cancelled_gross``) against the ERP order's total."""
    out = []
    for o in snap.sl_orders:
        live = ix.live_erp(o.purchase_id)
        if o.status == SL_CANCELLED or live is None:
            continue
        sl_total, erp_total = round_money(o.total_gross + o.cancelled_gross), round_money(live.total)
        diff = sl_total - erp_total
        if abs(diff) > config.amount_tolerance:
            out.append(problem("amount_mismatch", Entity.ORDER, o.purchase_id, order=_label(o),
                               erp_order=_erp_label(live), currency=config.currency, erp_total=erp_total,
                               sparklayer_total=sl_total, difference=diff))
    return out


def draft_orders_stock_not_held(snap: DriftSnapshot, config: DriftConfig, now: dt.datetime,
                                ix: _Index) -> list[Problem]:
    """Open pay-later orders (platform drafts, which hold no stock) whose stock the ERP does not hold.

    Held means: the ERP order is committed with its stock held, or pending approval with its quantities
    subtracted from the availability we pushed. Fires when the ERP order was cancelled, when a committed
    order's stock was released, and when the pending orders of an (sku, warehouse) need more than the last
    push subtracted (every pending order on that shortfall is named: we cannot tell which one was missed).
    """
    out: list[Problem] = []
    open_pay_later = [o for o in snap.sl_orders if o.payment_method in PAY_LATER and o.status in SL_OPEN]
    pending: list[tuple[SlOrderSnap, ErpOrderSnap]] = []
    for o in open_pay_later:
        cancelled = ix.all_cancelled(o.purchase_id)
        live = ix.live_erp(o.purchase_id)
        if cancelled is not None:
            out.append(problem("draft_order_stock_not_held", Entity.ORDER, o.purchase_id, order=_label(o),
                               erp_order=_erp_label(cancelled), skus=list(o.skus) or "all lines",
                               reason="ERP order cancelled while the SparkLayer order is open"))
        elif live is not None and live.state == ErpOrderState.COMMITTED.value and live.stock_held is False:
            out.append(problem("draft_order_stock_not_held", Entity.ORDER, o.purchase_id, order=_label(o),
                               erp_order=_erp_label(live), skus=list(o.skus) or "all lines",
                               reason="committed ERP order with its stock released"))
        elif live is not None and live.state == ErpOrderState.PENDING_APPROVAL.value:
            pending.append((o, live))
    need: dict[tuple[str, str], int] = defaultdict(int)
    for _, e in pending:
        for q in e.pending:
            need[(q.sku, q.warehouse)] += q.quantity
    short = {k: (n, snap.pushed_pending_stock.get(k, 0)) for k, n in need.items()
             if n > snap.pushed_pending_stock.get(k, 0)}
    for o, e in pending:
        keys = sorted({(q.sku, q.warehouse) for q in e.pending} & short.keys())
        if keys:
            out.append(problem(
                "draft_order_stock_not_held", Entity.ORDER, o.purchase_id, order=_label(o),
                erp_order=_erp_label(e),
                skus=[f"{s} at {w}: pending orders need {short[(s, w)][0]}, last stock push held back "
                      f"{short[(s, w)][1]}" for s, w in keys],
                reason="pending-approval quantities not subtracted in the last stock push"))
    return out


def customers_without_account_code(snap: DriftSnapshot, config: DriftConfig, now: dt.datetime,
                                   ix: _Index) -> list[Problem]:
    return [problem("customer_without_account_code", Entity.CUSTOMER, c.sparklayer_id,
                    customer=f"{c.name} ({c.sparklayer_id})")
            for c in snap.sl_customers if not (c.account_code or "").strip()]


def skus_unknown_to_erp(snap: DriftSnapshot, config: DriftConfig, now: dt.datetime, ix: _Index) -> list[Problem]:
    known = {i.sku for i in snap.erp_items if i.active}
    return [problem("sku_unknown_to_erp", Entity.SKU, sku, sku=sku) for sku in sorted(snap.sl_skus - known)]


def items_without_price(snap: DriftSnapshot, config: DriftConfig, now: dt.datetime, ix: _Index) -> list[Problem]:
    """Active ERP items with no price in any list (or, with ``PriceRule.EVERY_LIST``, missing from a list)."""
    priced: dict[str, set[str]] = defaultdict(set)
    for p in snap.erp_prices:
        priced[p.sku].add(p.price_list_code)
    lists = sorted({p.price_list_code for p in snap.erp_prices})
    out = []
    for item in snap.erp_items:
        if not item.active:
            continue
        missing = [code for code in lists if code not in priced.get(item.sku, set())]
        if not priced.get(item.sku):
            out.append(problem("item_without_price", Entity.SKU, item.sku, sku=item.sku,
                               price_list="any price list", missing_lists=lists))
        elif config.price_rule is PriceRule.EVERY_LIST and missing:
            out.append(problem("item_without_price", Entity.SKU, item.sku, sku=item.sku,
                               price_list=", ".join(missing), missing_lists=missing))
    return out


def stale_syncs(snap: DriftSnapshot, config: DriftConfig, now: dt.datetime, ix: _Index) -> list[Problem]:
    """Each sync named in ``config.stale_after`` whose last success is older than its threshold (or never)."""
    out = []
    for name, threshold in sorted(config.stale_after.items()):
        last = snap.sync_last_success.get(name)
        if last is None or now - _aware(last, "sync_last_success") > threshold:
            shown = ("it was set up" if last is None
                     else f"{last.astimezone(config.timezone):%Y-%m-%d %H:%M %Z} ({_age(now - last)} ago)")
            out.append(problem("stale_sync", Entity.DATASET, name, dataset=name, last_success=shown,
                               threshold=_age(threshold)))
    return out


def card_payments_not_recorded(snap: DriftSnapshot, config: DriftConfig, now: dt.datetime,
                               ix: _Index) -> list[Problem]:
    """Orders paid in the shop whose ERP invoice still has money due ``payment_grace`` after posting."""
    out = []
    for o in snap.sl_orders:
        live = ix.live_erp(o.purchase_id)
        if o.status == SL_CANCELLED or live is None or not o.total_paid > 0:
            continue
        for inv in sorted(live.open_invoices, key=lambda i: i.number):
            if inv.amount_due > 0 and now - _aware(inv.posted_at, "posted_at") >= config.payment_grace:
                out.append(problem("paid_in_shop_unpaid_in_erp", Entity.ORDER, o.purchase_id, order=_label(o),
                                   invoice=inv.number, erp_order=_erp_label(live), currency=config.currency,
                                   amount=round_money(inv.amount_due), paid_in_shop=round_money(o.total_paid)))
                break  # one exception per order; the detail names the first open invoice
    return out


Rule = Callable[[DriftSnapshot, DriftConfig, dt.datetime, _Index], list[Problem]]

RULES: tuple[Rule, ...] = (
    stuck_orders, orphaned_erp_orders, status_mismatches, amount_mismatches, draft_orders_stock_not_held,
    customers_without_account_code, skus_unknown_to_erp, items_without_price, stale_syncs,
    card_payments_not_recorded,
)


def evaluate_drift(snapshot: DriftSnapshot, config: DriftConfig, now: dt.datetime,
                   rules: Iterable[Rule] = RULES) -> list[Problem]:
    """Run every rule; problems sorted by (kind, entity type, entity id), one per key."""
    now = _aware(now, "now")
    ix = _Index(snapshot)
    found: dict[tuple[str, str, str], Problem] = {}
    for rule in rules:
        for p in rule(snapshot, config, now, ix):
            found.setdefault(p.key, p)
    return [found[k] for k in sorted(found)]
