"""Order sync: SparkLayer purchases become ERP sales orders, exactly once, and stay in step afterwards.

The synchronizer of order-to-cash, plain Python so it can be tested and benchmarked without Dagster. One call handles one batch:

1. **new or held purchases** are translated (``domain.orders.translate_order``) with the account code from
   the ledger's customer link (never guessed), the ERP's items and the ERP's price for that customer;
   problems quarantine the order (ledger link ``quarantined`` + exceptions with owners) and it is retried on
   every later sweep until it goes through by itself;
2. **creation** is exactly once: the ledger link is claimed first, the adapter looks the purchase id up in
   the ERP before creating (and Tryton's unique ``web_id`` refuses a second one), and the link records the
   ERP order only after the ERP confirmed it. A crash between the two, a retried run, two overlapping runs
   or a purchase seen in two ticks therefore finds the existing ERP order instead of making another.
   A card order is only created (committed) here: its invoice is settled with the checkout payment by the
   follow-up (``orders/followup.py``, ``OrderFollowup.record_card_payments``), never in the sync run;
3. **linked purchases** that were cancelled or changed are applied to the ERP order before the point of no
   return; after it the ERP is left alone and operations get an exception (``domain.order_lifecycle``).

One bad order never blocks the others: business problems become exceptions, and only a technical failure
(ERP or SparkLayer unreachable) aborts the batch, which is then safe to retry as a whole.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum

from sparklayer_erp.domain.exception_kinds import Entity, Problem, problem
from sparklayer_erp.domain.models import (
    CreateResult,
    ErpOrderDraft,
    ErpOrderState,
    ErpOrderStatus,
    PaymentMethod,
    Refusal,
    RefusalReason,
)
from sparklayer_erp.domain.order_lifecycle import Action, decide_change, order_lines_hash
from sparklayer_erp.domain.orders import (
    CANCELLED_STATUS,
    ItemInfo,
    OrderIn,
    PricePolicy,
    Translation,
    order_label,
    translate_order,
)
from sparklayer_erp.erp.port import ErpPort
from sparklayer_erp.ledger import AuditOutcome, AuditSystem, Ledger, OrderLink, SyncState
from sparklayer_erp.orders.links import (
    ORDER_KINDS,
    TRANSLATION_KINDS,
    Exceptions,
    LedgerWrites,
    audit,
    credit_problem,
    link_state_for,
    state_fields,
)
from sparklayer_erp.orders.mapper import order_in
from sparklayer_erp.sparklayer.client import SparkLayerClient
from sparklayer_erp.sparklayer.errors import SparkLayerNotFound
from sparklayer_erp.sparklayer.models import Purchase, SyncLogEntry, SyncLogError

log = logging.getLogger(__name__)

SYNC_NAME = "orders"  # ledger sync-status name and SparkLayer sync-log data type
DEFAULT_TAX_PERCENT = Decimal("20")  # ORDER_TAX_RATE_PERCENT's default (demo VAT); the port has no query for it
SWEEP_LOOKBACK = dt.timedelta(hours=24)
_EPOCH = dt.datetime.min.replace(tzinfo=dt.UTC)

def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- settings and results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncSettings:
    policy: PricePolicy = PricePolicy.HOLD_FOR_FINANCE
    tolerance: Decimal = Decimal("0.01")  # per base unit
    tax_rate_percent: Decimal = DEFAULT_TAX_PERCENT
    create_batch: int = 50  # drafts per ``create_orders`` call (Tryton on SQLite fails above ~100 at once)


class Outcome(StrEnum):
    PENDING_APPROVAL = "pending approval"  # an ERP order now exists, waiting for approval
    COMMITTED = "committed"  # an ERP order now exists, committed
    QUARANTINED = "quarantined"  # held with exceptions; retried on every sweep
    CANCELLED = "cancelled"  # cancelled in the ERP (or before it ever reached the ERP)
    AMENDED = "amended"  # the buyer's change was applied to the ERP order
    RAISED = "left to the ERP"  # cancelled/changed too late (or refused): an exception for a person
    UNCHANGED = "unchanged"  # nothing to do


@dataclass(frozen=True)
class OrderResult:
    purchase_id: str
    label: str
    outcome: Outcome
    erp_number: str | None = None
    detail: str = ""
    exception_ids: tuple[int, ...] = ()
    exception_kinds: tuple[str, ...] = ()
    recovered: bool = False  # the ERP order already existed (a crash or an overlapping run made it)


@dataclass
class SyncReport:
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    results: list[OrderResult] = field(default_factory=list)
    skipped: int = 0  # purchases whose current version was already applied
    # stage timings (UTC): erp_create_sent (first create call), erp_confirmed (last create answered),
    # ledger_recorded (ledger writes flushed); absent when the batch created nothing
    timings: dict[str, dt.datetime] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        by = Counter(r.outcome for r in self.results)
        return {
            "created": by[Outcome.PENDING_APPROVAL] + by[Outcome.COMMITTED],
            "pending_approval": by[Outcome.PENDING_APPROVAL],
            "committed": by[Outcome.COMMITTED],
            "quarantined": by[Outcome.QUARANTINED],
            "cancelled": by[Outcome.CANCELLED],
            "amended": by[Outcome.AMENDED],
            "left_to_erp": by[Outcome.RAISED],
            "unchanged": by[Outcome.UNCHANGED] + self.skipped,
            "recovered": sum(r.recovered for r in self.results),
        }


# --- the flow ------------------------------------------------------------------------------------------------


class _Prices:
    """``erp_price`` for translation: the ERP's price per sale unit, asked once per (customer, SKU, qty, unit).

    ``prefetch`` asks the port for a whole batch up front (``customer_prices``; Tryton: one read per price
    list, unit and quantity bracket). An unknown customer, SKU or unit (``LookupError`` / ``None``) is "no
    price": the order is held, never guessed; any other error is technical and propagates.
    """

    def __init__(self, erp: ErpPort) -> None:
        self._erp = erp
        self._cache: dict[tuple[str, str, Decimal, str], Decimal | None] = {}

    def __call__(self, account_code: str, sku: str, quantity: Decimal, unit: str) -> Decimal | None:
        key = (account_code, sku, quantity, unit)
        if key not in self._cache:
            try:
                self._cache[key] = self._erp.customer_price(account_code, sku, quantity, unit)
            except LookupError:
                self._cache[key] = None
        return self._cache[key]

    def prefetch(self, wanted: Iterable[tuple[str, str, Decimal, str]]) -> None:
        missing = [key for key in dict.fromkeys(wanted) if key not in self._cache]
        if not missing:
            return
        self._cache.update(self._erp.customer_prices(missing))


@dataclass
class _Work:
    purchase: Purchase
    order: OrderIn
    link: OrderLink | None
    label: str


class OrderSync:
    """Applies batches of SparkLayer purchases to the ERP. Safe to run twice, concurrently, or after a crash."""

    def __init__(self, ledger: Ledger, erp: ErpPort, settings: SyncSettings | None = None,
                 clock: Callable[[], dt.datetime] = utc_now) -> None:
        """No SparkLayer client: the sync only puts orders in the ERP; a card order's invoice is settled by the
        follow-up (``OrderFollowup.record_card_payments``), so a run ends as soon as the ERP has its orders."""
        self.ledger = ledger
        self.erp = erp
        self.settings = settings or SyncSettings()
        self.clock = clock
        self.exceptions = Exceptions(ledger)
        self._items: dict[str, ItemInfo] = {}
        self._asked_skus: set[str] = set()
        self._prices = _Prices(erp)
        self._accounts: dict[str, str | None] = {}
        self._writes = LedgerWrites(ledger)
        self._timings: dict[str, dt.datetime] = {}  # the current report's ``timings``

    # --- entry point -----------------------------------------------------------------------------------------
    def run(self, purchases: Iterable[Purchase]) -> SyncReport:
        report = SyncReport(started_at=self.clock())
        latest: dict[str, Purchase] = {}
        for p in purchases:
            pid = p.sparklayer_id
            if not pid or p.type != "order":
                continue
            seen = latest.get(pid)
            if seen is None or (p.last_updated_at or _EPOCH) >= (seen.last_updated_at or _EPOCH):
                latest[pid] = p  # a purchase listed twice (overlapping reads): its newest version wins
        links = self.ledger.order_links_for(latest)
        to_translate: list[_Work] = []
        to_check: list[_Work] = []
        for pid, purchase in latest.items():
            order = order_in(purchase)
            work = _Work(purchase, order, links.get(pid), order_label(order))
            if work.link is None or work.link.erp_order_id is None:
                if self._already_closed(work):
                    report.skipped += 1
                else:
                    to_translate.append(work)
            elif self._version_applied(work):
                report.skipped += 1
            else:
                to_check.append(work)
        self._timings = report.timings
        try:
            report.results.extend(self._translate_and_create(to_translate))
            report.results.extend(self._apply_changes(to_check))
        finally:
            self._writes.flush()  # what the ERP already confirmed is recorded even if a later call failed
        if report.timings:
            report.timings["ledger_recorded"] = utc_now()
        report.finished_at = self.clock()
        return report

    @staticmethod
    def _version_applied(work: _Work) -> bool:
        applied, current = work.link.sparklayer_updated_at if work.link else None, work.purchase.last_updated_at
        return applied is not None and current is not None and applied >= current

    def _already_closed(self, work: _Work) -> bool:
        """Cancelled before it ever reached the ERP, and nothing changed since: nothing to retry."""
        link = work.link
        return (link is not None and link.sync_state == SyncState.CANCELLED and self._version_applied(work))

    # --- ERP reference data (once per run) ---------------------------------------------------------------------
    def _item_infos(self, skus: Iterable[str | None]) -> dict[str, ItemInfo]:
        """The ERP's unit facts for these SKUs, each asked once per run (the batch's SKUs, not the catalogue)."""
        missing = sorted({s for s in skus if s} - self._asked_skus)
        if missing:
            self._asked_skus.update(missing)
            self._items.update({i.sku: ItemInfo.from_erp_item(i) for i in self.erp.list_items(missing)})
        return self._items

    def _account_code(self, customer_id: str | None) -> str | None:
        if not customer_id:
            return None
        if customer_id not in self._accounts:
            link = self.ledger.customer_link_by_sparklayer_id(customer_id)
            self._accounts[customer_id] = link.account_code if link else None
        return self._accounts[customer_id]

    def _prefetch_prices(self, batch: Iterable[_Work]) -> None:
        """Ask the ERP for every price the batch's translations will need, in bulk (a miss is asked later)."""
        batch = list(batch)
        items = self._item_infos(line.sku for work in batch for line in work.order.lines)
        wanted = []
        for work in batch:
            account = work.link.account_code if work.link and work.link.erp_order_id else None
            account = account or self._account_code(work.order.customer_sparklayer_id)
            for line in work.order.lines if account else ():
                item = items.get(line.sku)
                if item and isinstance(line.quantity, int) and item.pack_size > 0 and line.quantity > 0 \
                        and line.quantity % item.pack_size == 0:
                    wanted.append((account, line.sku, Decimal(line.quantity // item.pack_size), item.sale_unit))
        self._prices.prefetch(wanted)

    def _translate(self, order: OrderIn, account_code: str | None) -> Translation:
        s = self.settings
        return translate_order(order, account_code=account_code, items=self._item_infos(line.sku for line in order.lines), erp_price=self._prices,
                               policy=s.policy, tolerance=s.tolerance, tax_rate_erp=s.tax_rate_percent)

    # --- new and held orders ---------------------------------------------------------------------------------
    def _translate_and_create(self, batch: Sequence[_Work]) -> list[OrderResult]:
        if not batch:
            return []
        live = self.exceptions.open_for_orders((w.order.purchase_id for w in batch), TRANSLATION_KINDS)
        self._prefetch_prices(batch)
        results: list[OrderResult] = []
        ready: list[tuple[_Work, Translation]] = []
        for work in batch:
            translation = self._translate(work.order, self._account_code(work.order.customer_sparklayer_id))
            pid = work.order.purchase_id
            if translation.skipped:
                self._record_link(work, SyncState.CANCELLED, None)
                self.exceptions.resolve_except(pid, live.get(pid, ()), keep=())
                results.append(OrderResult(pid, work.label, Outcome.CANCELLED,
                                           detail="cancelled in SparkLayer before it reached the ERP"))
            elif translation.draft is None:
                results.append(self._quarantine(work, translation.problems, live.get(pid, ())))
            else:
                ready.append((work, translation))
        size = max(1, self.settings.create_batch)
        for start in range(0, len(ready), size):
            results.extend(self._create(ready[start:start + size], live))
        return results

    def _record_link(self, work: _Work, state: SyncState, account_code: str | None, **fields: object) -> None:
        order, version = work.order, work.purchase.last_updated_at
        if work.link is None:
            self._writes.claim(order.purchase_id, account_code=account_code,
                               payment_method=order.payment_method or "unknown", sparklayer_updated_at=version,
                               total=order.total_gross if isinstance(order.total_gross, Decimal) else None,
                               currency=order.currency or None, sync_state=state, po_number=order.po_number)
        self._writes.update(order.purchase_id, sync_state=state, sparklayer_updated_at=version,
                            po_number=order.po_number,
                            **({"account_code": account_code} if account_code else {}), **fields)

    def _quarantine(self, work: _Work, problems: Sequence[Problem], live: Iterable) -> OrderResult:
        pid = work.order.purchase_id
        self._record_link(work, SyncState.QUARANTINED, None)
        raised = self.exceptions.raise_all(problems)
        self.exceptions.resolve_except(pid, live, keep={p.kind for p in problems})
        return OrderResult(pid, work.label, Outcome.QUARANTINED, detail="; ".join(p.message for p in problems),
                           exception_ids=tuple(i for _, i in raised), exception_kinds=tuple(k for k, _ in raised))

    def _create(self, ready: Sequence[tuple[_Work, Translation]], live: Mapping[str, list]) -> list[OrderResult]:
        # Record the intent first: a link in "claimed" with no ERP order is what the sweep retries.
        for work, translation in ready:
            if work.link is None:
                order = work.order
                self._writes.claim(order.purchase_id, account_code=translation.draft.account_code,  # type: ignore[union-attr]
                                   payment_method=order.payment_method, total=order.total_gross,
                                   currency=order.currency or None, po_number=order.po_number)
        self._writes.flush()
        drafts = [_one_line(t.draft) for _, t in ready]  # type: ignore[arg-type]
        self._timings.setdefault("erp_create_sent", utc_now())
        created = self.erp.create_orders(drafts)
        self._timings["erp_confirmed"] = utc_now()
        # --- from here the ERP holds the orders; the ledger learns it below (a crash here is recovered by
        # --- the next run: create_orders then finds them by purchase id instead of creating them again).
        # A full status read only where it can tell more than the create answered: an order that already existed
        # (it may be shipped by now), or an adapter that did not hand back the ERP's total with the reference.
        ids = [r.order.erp_id for r in created
               if r.order is not None and (r.already_existed or r.order.total is None)]
        statuses = {s.erp_id: s for s in self.erp.order_status(ids)} if ids else {}
        return [self._after_create(work, translation, result, live.get(work.order.purchase_id, ()),
                                   statuses.get(result.order.erp_id) if result.order else None)
                for (work, translation), result in zip(ready, created, strict=True)]

    def _after_create(self, work: _Work, translation: Translation, result: CreateResult,
                      live: Iterable, status: ErpOrderStatus | None) -> OrderResult:
        order, draft = work.order, translation.draft
        assert draft is not None
        pid = order.purchase_id
        outcome = AuditOutcome.OK if result.order is not None else AuditOutcome.REFUSED
        self._writes.audit(AuditSystem.ERP, "create_order", pid, draft, outcome,
              erp_order=result.order.number if result.order else None, already_existed=result.already_existed,
              refusal=result.refusal.message if result.refusal else None)
        if result.order is None:
            refusal = result.refusal or Refusal(RefusalReason.OTHER, "no answer")
            if refusal.reason is RefusalReason.UNKNOWN_CURRENCY:  # finance's decision, not an ERP fault
                p = problem("unknown_currency", Entity.ORDER, pid, order=work.label, currency=draft.currency,
                            reason=refusal.message)
            else:  # an ERP that refuses to enter an order on credit grounds (NetSuite) -> finance's exception
                p = credit_problem(refusal, pid, work.label, draft.account_code)
            return self._quarantine(work, [p], live)

        ref = result.order
        # a fresh order cannot be past the point of no return; one that already existed is read in full
        state = link_state_for(ref.state, status.point_of_no_return if status else False)
        erp_total = status.total if status is not None else ref.total
        self._record_link(work, state, draft.account_code, erp_order_id=ref.erp_id, erp_order_number=ref.number,
                          content_hash=order_lines_hash(order), payment_method=order.payment_method)
        problems: list[Problem] = []
        if result.refusal is not None:  # created, but the ERP would not commit it (its credit check)
            problems.append(credit_problem(result.refusal, pid, work.label, draft.account_code))
        expected = translation.erp_totals.gross if translation.erp_totals else None
        if erp_total is not None and expected is not None and erp_total != expected:
            # The ERP's own arithmetic (rounding, taxes) disagrees with what was agreed at checkout.
            theirs = translation.sparklayer_totals.gross if translation.sparklayer_totals else expected
            problems.append(problem("amount_mismatch", Entity.ORDER, pid, order=work.label, erp_order=ref.number,
                                    currency=draft.currency, erp_total=erp_total, sparklayer_total=theirs,
                                    difference=erp_total - theirs))
        raised = self.exceptions.raise_all(problems)
        self.exceptions.resolve_except(pid, live, keep=())
        notes = list(translation.notes)
        if result.already_existed:
            notes.insert(0, "the ERP order already existed (found by purchase id, not created again)")
        if (translation.record_payment and ref.state is ErpOrderState.COMMITTED and not result.already_existed
                and translation.payment_amount is not None):
            notes.append("the follow-up records the card payment")  # never this run (docs/order-policy.md)
        outcome = Outcome.COMMITTED if ref.state in (ErpOrderState.COMMITTED, ErpOrderState.DONE) else (
            Outcome.CANCELLED if ref.state is ErpOrderState.CANCELLED else Outcome.PENDING_APPROVAL)
        return OrderResult(pid, work.label, outcome, erp_number=ref.number, detail="; ".join(n for n in notes if n),
                           exception_ids=tuple(i for _, i in raised), exception_kinds=tuple(k for k, _ in raised),
                           recovered=result.already_existed)

    # --- orders that already have an ERP order ----------------------------------------------------------------
    def _apply_changes(self, batch: Sequence[_Work]) -> list[OrderResult]:
        if not batch:
            return []
        statuses = {s.erp_id: s for s in self.erp.order_status([w.link.erp_order_id for w in batch if w.link])}
        self._prefetch_prices(w for w in batch if w.link and w.order.status != CANCELLED_STATUS
                              and order_lines_hash(w.order) != w.link.content_hash)
        return [self._apply_change(w, statuses.get(w.link.erp_order_id)) for w in batch if w.link]

    def _apply_change(self, work: _Work, status: ErpOrderStatus | None) -> OrderResult:
        link, order = work.link, work.order
        assert link is not None
        pid, number = order.purchase_id, link.erp_order_number
        if status is None:  # the ERP order is gone (deleted by hand): a person must look
            p = problem("erp_refused", Entity.ORDER, pid, order=work.label,
                        reason=f"ERP order {number} linked to it no longer exists in the ERP")
            raised = self.exceptions.raise_all([p])
            self._writes.update(pid, sparklayer_updated_at=work.purchase.last_updated_at)
            return OrderResult(pid, work.label, Outcome.RAISED, number, p.message,
                               tuple(i for _, i in raised), tuple(k for k, _ in raised))
        action = decide_change(status.state, order.status, order_lines_hash(order), link.content_hash,
                               status.point_of_no_return)
        fields: dict[str, object] = {"sparklayer_updated_at": work.purchase.last_updated_at,
                                     **state_fields(link, link_state_for(status.state, status.point_of_no_return))}
        problems: list[Problem] = []
        outcome, detail = Outcome.UNCHANGED, ""
        if action is Action.CANCEL_IN_ERP:
            result = self.erp.cancel_order(status.erp_id)
            self._writes.audit(AuditSystem.ERP, "cancel_order", pid, {"erp_id": status.erp_id},
                  AuditOutcome.OK if result.ok else AuditOutcome.REFUSED,
                  refusal=result.refusal.message if result.refusal else None)
            if result.ok:
                fields.update(state_fields(link, SyncState.CANCELLED))
                outcome, detail = Outcome.CANCELLED, f"ERP order {number} cancelled"
            else:
                problems.append(self._refused_change(work, status, result.refusal, "cancelled"))
        elif action is Action.AMEND_IN_ERP:
            outcome, detail, extra = self._amend(work, status, problems)
            fields.update(extra)
        elif action.problem_kind:
            problems.append(problem(action.problem_kind, Entity.ORDER, pid, order=work.label, erp_order=number))
        if problems:
            outcome = Outcome.RAISED if outcome is not Outcome.QUARANTINED else outcome
            detail = detail or "; ".join(p.message for p in problems)
        raised = self.exceptions.raise_all(problems)
        self._writes.update(pid, **fields)
        return OrderResult(pid, work.label, outcome, number, detail, tuple(i for _, i in raised),
                           tuple(k for k, _ in raised))

    def _refused_change(self, work: _Work, status: ErpOrderStatus, refusal: Refusal | None, verb: str) -> Problem:
        pid, number = work.order.purchase_id, status.number
        if refusal is not None and refusal.reason is RefusalReason.POINT_OF_NO_RETURN:
            kind = "cancel_after_point_of_no_return" if verb == "cancelled" else "amend_after_point_of_no_return"
            return problem(kind, Entity.ORDER, pid, order=work.label, erp_order=number)
        why = refusal.message if refusal else "no reason given"
        return problem("erp_refused", Entity.ORDER, pid, order=work.label,
                       reason=f"the buyer {verb} the order in SparkLayer, but ERP order {number} could not be "
                              f"{verb} automatically ({why}); change the ERP order by hand or agree with the "
                              f"buyer, then accept this exception")

    def _amend(self, work: _Work, status: ErpOrderStatus, problems: list[Problem]) -> tuple[Outcome, str, dict]:
        link, order = work.link, work.order
        assert link is not None
        translation = self._translate(order, link.account_code)
        if translation.draft is None:  # the change itself cannot go to the ERP: held like a new order would be
            problems.extend(translation.problems)
            return Outcome.QUARANTINED, "the buyer's change is held; the ERP order is unchanged", {}
        lines = translation.draft.lines
        result = self.erp.amend_order(status.erp_id, lines)
        self._writes.audit(AuditSystem.ERP, "amend_order", order.purchase_id,
              {"erp_id": status.erp_id, "lines": lines}, AuditOutcome.OK if result.ok else AuditOutcome.REFUSED,
              refusal=result.refusal.message if result.refusal else None)
        if not result.ok:
            problems.append(self._refused_change(work, status, result.refusal, "changed"))
            return Outcome.RAISED, "", {}
        live = self.exceptions.open_for_orders([order.purchase_id], TRANSLATION_KINDS)
        self.exceptions.resolve_except(order.purchase_id, live.get(order.purchase_id, ()), keep=())
        return Outcome.AMENDED, f"ERP order {status.number} lines replaced ({len(lines)} lines)", {
            "content_hash": order_lines_hash(order), "total": order.total_gross}


def _one_line(draft: ErpOrderDraft) -> ErpOrderDraft:
    """ERP order descriptions are single-line text (Tryton refuses a newline in a Char field)."""
    if "\n" not in draft.description:
        return draft
    return replace(draft, description=" · ".join(p.strip() for p in draft.description.splitlines() if p.strip()))


# --- reading SparkLayer ---------------------------------------------------------------------------------------


def fetch_requested(client: SparkLayerClient, purchase_ids: Sequence[str], updated_from: dt.datetime | None,
                    *, page_size: int = 500, max_pages: int = 10) -> list[Purchase]:
    """The purchases a sensor tick asked for, at their latest version.

    ``last_updated`` only grows, so every requested purchase is in the listing from the batch's earliest
    version: one list call per 500 instead of one GET each. Anything not found that way is read by id.
    """
    wanted = set(purchase_ids)
    found: dict[str, Purchase] = {}
    if updated_from is not None:
        for page_no in range(max_pages):
            page = client.fetch_purchases_page(updated_from, page_size, page_no * page_size)
            found.update({p.sparklayer_id: p for p in page if p.sparklayer_id in wanted})
            if len(page) < page_size or wanted <= set(found):
                break
    for pid in sorted(wanted - set(found)):
        try:
            found[pid] = client.get_purchase("sparklayer", pid)
        except SparkLayerNotFound:
            log.warning("purchase %s was requested but no longer exists in SparkLayer", pid)
    return [found[pid] for pid in purchase_ids if pid in found]


def fetch_sweep(client: SparkLayerClient, ledger: Ledger, now: dt.datetime,
                lookback: dt.timedelta = SWEEP_LOOKBACK) -> list[Purchase]:
    """Everything changed in the look-back window, plus every held or half-done order however old.

    The cursor is never trusted alone: this re-reads the window, so a purchase a tick missed is still
    synced, and retries quarantined orders and claims a crash left behind.
    """
    recent = {p.sparklayer_id: p for p in client.iter_purchases(now - lookback) if p.sparklayer_id}
    retry = [link.purchase_id for link in ledger.order_links([SyncState.QUARANTINED, SyncState.CLAIMED])
             if link.purchase_id not in recent]
    return list(recent.values()) + fetch_requested(client, retry, None)


# --- SparkLayer's sync log -------------------------------------------------------------------------------------


def report_sync_log(client: SparkLayerClient, ledger: Ledger, started: dt.datetime, succeeded: bool,
                    now: dt.datetime | None = None) -> int:
    """Replace SparkLayer's "orders" sync-log with this run and every order exception still open.

    The PUT replaces all earlier errors, so it always carries every open order exception (one entry per
    order), not just this batch's. Returns the number of errors reported.
    """
    by_order: dict[str, list[str]] = {}
    for row in ledger.open_exceptions():
        if row.entity_type == Entity.ORDER and row.kind in ORDER_KINDS:
            by_order.setdefault(row.entity_id, []).append(f"[{row.owner_team}] {row.message}")
    errors = tuple(SyncLogError(external_id=pid, message=" | ".join(messages)[:2000])
                   for pid, messages in list(by_order.items())[:5000])
    entry = SyncLogEntry(started_full_sync=started, last_full_sync=now or utc_now(),
                         last_full_sync_succeeded=succeeded, errors=errors)
    client.put_sync_log(SYNC_NAME, entry)
    audit(ledger, AuditSystem.SPARKLAYER, "put_sync_log", SYNC_NAME, entry.to_api(), AuditOutcome.OK,
          errors=len(errors))
    return len(errors)


def is_card(method: str | None) -> bool:
    return method == PaymentMethod.UPFRONT.value
