"""Refunds and returns recorded in SparkLayer become ERP credit notes, exactly once.

What counts as one refund event, and the rule that keeps it to one credit note:

- a purchase **transaction of type refund** (applied to the balance, not written by the integration) → one
  credit note for its amount, tax included, at the invoice's rate (money: finance). When the purchase also
  has returned goods, the note says goods came back.
- a **return package** (not written by the integration) on a purchase with no refund transaction → one
  credit note for the returned units at the invoiced prices (goods credited on account: operations).
  When the purchase has refund transactions, the refunds are the money of the return: the package is
  recorded as covered by them and gets no note of its own.
- a refund transaction arriving *after* returned goods on the same order were already credited by a note
  of their own is not credited again automatically (it may be the same money): ``refund_needs_review``
  for finance.

Exactly once, three ways: the ERP port is idempotent by the note's reference
(``sparklayer-refund:<purchase>:<transaction>`` / ``sparklayer-return:<purchase>:<package>``, which also tells
the status write-back never to echo the note back as a refund), the ledger records every event it handled
(push state ``sparklayer_refund``: event → note number, ``covered`` or ``review``) so a re-run skips it,
and one ``create_credit_note`` audit row is written per note. An ERP refusal (no posted invoice yet, more
than the invoice holds, goods not on the invoice) is an exception for finance (money) or operations
(goods) and is retried every run until it goes through; the exception then closes by itself.

The other direction — a credit note raised in the ERP shown in SparkLayer as a refund transaction and, when
goods came back, a ``return`` package — is part of the status write-back (``OrderFollowup``);
``credit_notes_back`` re-opens orders whose status was final when a note came later.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sparklayer_erp.domain.exception_kinds import Entity, Problem, problem
from sparklayer_erp.domain.models import CreditNoteRequest, ErpOrderLine, ErpOrderStatus
from sparklayer_erp.domain.order_lifecycle import SHOP_REFUND_PREFIX, unit_factors
from sparklayer_erp.erp.port import ErpCreditNotes, ErpPort
from sparklayer_erp.ledger import AuditOutcome, AuditSystem, Ledger, OrderLink
from sparklayer_erp.orders.followup import (
    Isolated,
    OrderFollowup,
    Step,
    StepReport,
)
from sparklayer_erp.orders.links import Exceptions, audit, status_label
from sparklayer_erp.orders.packages import ours
from sparklayer_erp.orders.sync import utc_now
from sparklayer_erp.sparklayer.client import SparkLayerClient
from sparklayer_erp.sparklayer.errors import SparkLayerNotFound
from sparklayer_erp.sparklayer.models import Purchase, Transaction

log = logging.getLogger(__name__)

REFUND_KIND = "sparklayer_refund"  # ledger push state: "<purchase id>|<event key>" → note number/covered/review
SYNC_NAME = "refunds"
FIRST_LOOKBACK = dt.timedelta(days=7)  # how far back the very first run looks for purchases with refunds
OVERLAP = dt.timedelta(minutes=30)  # re-read this much before the last successful run (a cursor is never trusted)
COVERED, REVIEW = "covered", "review"
_NOT_CREDITED = ("refund_not_credited", "return_not_credited")


@dataclass(frozen=True)
class ShopRefund:
    """One refund event recorded in SparkLayer."""

    key: str  # "refund:<platform_id>" or "return:<package id>"
    label: str  # for people: "refund R-1", "return package RET-1"
    amount: Decimal | None = None  # gross, positive (refund transactions)
    units: tuple[tuple[str, int], ...] = ()  # (SKU, shop units) that came back (return packages)
    goods_returned: bool = False

    @property
    def is_return(self) -> bool:
        return self.key.startswith("return:")

    def reference(self, purchase_id: str) -> str:
        kind, _, ident = self.key.partition(":")
        return f"{SHOP_REFUND_PREFIX}{kind}:{purchase_id}:{ident}"


def shop_refunds(purchase: Purchase, transactions: Iterable[Transaction]) -> list[ShopRefund]:
    """The refund events of a purchase (pure), in the order the rule above handles them: returns first."""
    returns = [p for p in purchase.packages if p.type == "return" and p.lines
               and not ours({"identifiers": {"sparklayer_package_id": p.package_id or ""}})]
    refunds = [t for t in transactions if t.type == "refund" and t.apply_to_balance and t.total < 0
               and not t.platform_id.startswith("erp-")]
    out = []
    for index, package in enumerate(returns):
        units: dict[str, int] = {}
        for line in package.lines:
            if line.sku and line.quantity > 0:
                units[line.sku] = units.get(line.sku, 0) + line.quantity
        ident = package.package_id or f"#{index + 1}"
        out.append(ShopRefund(f"return:{ident}", f"return package {ident}", units=tuple(sorted(units.items())),
                              goods_returned=True))
    out.extend(ShopRefund(f"refund:{t.platform_id}", f"refund {t.platform_id}", amount=-t.total,
                          goods_returned=bool(returns)) for t in refunds)
    return out


def erp_lines(units: Sequence[tuple[str, int]], status: ErpOrderStatus,
              factors: Mapping[tuple[str, str], int]) -> tuple[tuple[ErpOrderLine, ...], str | None]:
    """Returned shop units → ERP lines in the order line's unit (pure); or why they cannot be."""
    lines = []
    for sku, quantity in units:
        ordered = next((ln for ln in status.lines if ln.sku == sku), None)
        if ordered is None:
            return (), f"{sku} is not on the ERP order"
        factor = factors.get((sku, ordered.unit))
        if not factor or quantity % factor:
            return (), f"{quantity} units of {sku} is not a whole number of {ordered.unit!r}"
        lines.append(ErpOrderLine(sku, Decimal(quantity // factor), ordered.unit, ordered.unit_price))
    return tuple(lines), None


class RefundSync:
    """SparkLayer refunds → ERP credit notes. Plain Python; a run is safe to repeat at any point."""

    def __init__(self, ledger: Ledger, erp: ErpPort, client: SparkLayerClient,
                 clock: Callable[[], dt.datetime] = utc_now) -> None:
        self.ledger = ledger
        self.erp = erp
        self.client = client
        self.clock = clock
        self.exceptions = Exceptions(ledger)
        self._factors: dict[tuple[str, str], int] | None = None

    def run(self, purchase_ids: Sequence[str] | None = None) -> StepReport:
        """Credit every new refund event on the purchases changed since the last run (or on ``purchase_ids``)."""
        now = self.clock()
        self.ledger.record_sync_start(SYNC_NAME)
        try:
            report = self._run(purchase_ids, now)
        except Exception as exc:
            self.ledger.record_sync_failure(SYNC_NAME, f"{type(exc).__name__}: {exc}")
            raise
        self.ledger.record_sync_success(SYNC_NAME, report.counts)
        return report

    def _purchases(self, purchase_ids: Sequence[str] | None, now: dt.datetime) -> list[Purchase]:
        if purchase_ids is not None:
            out = []
            for pid in purchase_ids:
                try:
                    out.append(self.client.get_purchase("sparklayer", pid))
                except SparkLayerNotFound:
                    continue
            return out
        status = self.ledger.sync_status(SYNC_NAME)
        last = status.last_success_at if status else None
        since = last - OVERLAP if last is not None else now - FIRST_LOOKBACK
        return list(self.client.iter_purchases(since))

    def _run(self, purchase_ids: Sequence[str] | None, now: dt.datetime) -> StepReport:
        report = StepReport()
        purchases = self._purchases(purchase_ids, now)
        links = self.ledger.order_links_for(p.sparklayer_id for p in purchases if p.sparklayer_id)
        candidates = [(p, links[p.sparklayer_id]) for p in purchases
                      if p.sparklayer_id in links and links[p.sparklayer_id].erp_order_id]
        if not candidates:
            return report
        handled = self.ledger.load_push_hashes(REFUND_KIND)
        alone = Isolated(self.ledger, "refunds", erp_errors=True)
        work: list[tuple[Purchase, OrderLink, list[ShopRefund]]] = []
        for purchase, link in candidates:
            pid = link.purchase_id
            read = alone.run(pid, pid, link.erp_order_number,
                             lambda pid=pid: self.client.get_transactions("sparklayer", pid),
                             operation="get_transactions", system=AuditSystem.SPARKLAYER)
            if isinstance(read, Step):
                report.steps.append(read)
                continue
            events = shop_refunds(purchase, read)
            if any(f"{pid}|{e.key}" not in handled for e in events):
                work.append((purchase, link, events))
        if not work:
            return report
        statuses = {s.erp_id: s for s in self.erp.order_status([link.erp_order_id for _, link, _ in work
                                                                 if link.erp_order_id])}
        for purchase, link, events in work:
            status = statuses.get(link.erp_order_id)  # type: ignore[arg-type]
            if status is None:
                continue
            done = alone.run(link.purchase_id, status_label(link.purchase_id, status), status.number,
                             lambda p=purchase, ln=link, st=status, ev=events: self._order(p, ln, st, ev, handled),
                             operation="create_credit_note", system=AuditSystem.ERP)
            report.steps.extend([done] if isinstance(done, Step) else done)
        return report

    def _order(self, purchase: Purchase, link: OrderLink, status: ErpOrderStatus, events: list[ShopRefund],
               handled: dict[str, str]) -> list[Step]:
        pid, label = link.purchase_id, status_label(link.purchase_id, status)
        steps: list[Step] = []
        problems: list[Problem] = []
        has_refunds = any(not e.is_return for e in events)
        currency = (purchase.currency or link.currency or "").upper()
        for event in events:
            key = f"{pid}|{event.key}"
            if key in handled:
                continue
            if event.is_return and has_refunds:
                self._record(key, COVERED, handled)
                steps.append(Step(pid, label, "covered by refund", status.number,
                                  f"{event.label}: the refund transactions on the order are its money"))
                continue
            credited_goods = [v for k, v in handled.items() if k.startswith(f"{pid}|return:")
                              and v not in (COVERED, REVIEW)]
            if not event.is_return and credited_goods:
                problems.append(problem("refund_needs_review", Entity.ORDER, pid, order=label, currency=currency,
                                        amount=event.amount, refund=event.label,
                                        credit_notes=", ".join(credited_goods), reference=event.reference(pid)))
                self._record(key, REVIEW, handled)
                steps.append(Step(pid, label, "refund to review", status.number, problems[-1].message))
                continue
            step, refused = self._credit(pid, label, status, event, currency, key, handled)
            steps.append(step)
            if refused is not None:
                problems.append(refused)
        live = self.exceptions.open_for_orders([pid], _NOT_CREDITED).get(pid, ())
        raised = self.exceptions.raise_all(problems)
        self.exceptions.resolve_except(pid, live, keep={p.kind for p in problems})
        ids = tuple(i for _, i in raised)
        return [Step(s.purchase_id, s.label, s.outcome, s.erp_number, s.detail, ids)
                if ids and s.outcome in ("not credited", "refund to review") else s for s in steps]

    def _credit(self, pid: str, label: str, status: ErpOrderStatus, event: ShopRefund, currency: str, key: str,
                handled: dict[str, str]) -> tuple[Step, Problem | None]:
        kind = "return_not_credited" if event.is_return else "refund_not_credited"
        goods = ", ".join(f"{q} × {sku}" for sku, q in event.units)

        def refused(reason: str) -> tuple[Step, Problem]:
            p = problem(kind, Entity.ORDER, pid, order=label, currency=currency, amount=event.amount,
                        refund=event.label, goods=goods or "—", erp_order=status.number or f"#{status.erp_id}",
                        reason=reason)
            return Step(pid, label, "not credited", status.number, p.message), p

        if not isinstance(self.erp, ErpCreditNotes):
            return refused("this ERP connection cannot raise credit notes")
        lines: tuple[ErpOrderLine, ...] = ()
        if event.is_return:
            lines, why = erp_lines(event.units, status, self._unit_factors())
            if why is not None:
                return refused(why)
        request = CreditNoteRequest(
            reference=event.reference(pid),
            reason=f"SparkLayer {event.label}" + (" (goods returned)" if event.goods_returned else ""),
            amount=None if event.is_return else event.amount, lines=lines, goods_returned=event.goods_returned)
        result = self.erp.create_credit_note(status.erp_id, request)
        audit(self.ledger, AuditSystem.ERP, "create_credit_note", pid,
              {"erp_id": status.erp_id, "reference": request.reference, "amount": request.amount,
               "lines": request.lines}, AuditOutcome.OK if result.ok else AuditOutcome.REFUSED,
              refusal=result.refusal.message if result.refusal else None, number=result.detail.get("number"),
              already=result.detail.get("already"))
        if not result.ok:
            return refused(result.refusal.message if result.refusal else "refused")
        number = str(result.detail.get("number") or "?")
        self._record(key, number, handled)
        what = f"{currency} {event.amount}" if event.amount is not None else goods
        return Step(pid, label, "credit note raised", status.number, f"{event.label} → credit note {number} ({what})"), None

    def _record(self, key: str, value: str, handled: dict[str, str]) -> None:
        self.ledger.save_push_hashes(REFUND_KIND, {key: value})
        handled[key] = value

    def _unit_factors(self) -> dict[tuple[str, str], int]:
        if self._factors is None:
            self._factors = unit_factors(self.erp.list_items())
        return self._factors


CREDIT_NOTES_BACK_DAYS = 7  # credit notes dated this many days back are checked against SparkLayer each run


def late_credit_note_orders(ledger: Ledger, erp: ErpPort, today: dt.date,
                            days: int = CREDIT_NOTES_BACK_DAYS) -> list[str]:
    """Purchase ids whose ERP order got a credit note dated in the last ``days`` (none when the ERP connection
    has no credit notes): the status write-back looks at them even when their final status was written."""
    if not isinstance(erp, ErpCreditNotes):
        return []
    ids = set(erp.orders_with_credit_notes_since(today - dt.timedelta(days=days)))
    if not ids:
        return []
    return [link.purchase_id for link in ledger.order_links() if link.erp_order_id in ids]


def credit_notes_back(ledger: Ledger, erp: ErpPort, followup: OrderFollowup, today: dt.date,
                      days: int = CREDIT_NOTES_BACK_DAYS) -> StepReport:
    """The status write-back, with the orders whose final status was already written (settled or cancelled
    orders are otherwise no longer looked at) reopened when the ERP credited them lately: the write-back
    adds the refund transactions (and return packages) — once, as the fingerprint then matches again."""
    return followup.write_back_status(reopen=late_credit_note_orders(ledger, erp, today, days))
