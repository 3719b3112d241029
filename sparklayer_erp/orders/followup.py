"""After an ERP order exists: approve pay-on-account orders, settle card orders, and write the ERP's status
back to SparkLayer.

Three steps, each safe to repeat:

- ``approve``: a pending-approval order is committed when the customer is not on hold and balance + order
  fits the credit limit (``domain.order_lifecycle.approval_decision``); the ERP's own credit check on
  confirm is the final word. Otherwise the order stays pending with an exception for finance. An order a
  person already approved in the ERP is recognised and carried on.
- ``record_card_payments``: a card order's invoice is settled with the checkout payment (the adapter posts
  the draft invoice and pays it in one go, so the ERP never shows it unpaid). This is the only place card
  payments are recorded: the order sync just creates the committed ERP order, and this step (every 2 minutes)
  settles it (docs/order-policy.md).
- ``write_back_status``: the ERP's status, shipments (with tracking), invoices and payments are written to
  the SparkLayer purchase with a full-replace PUT that starts from the purchase as SparkLayer holds it — but
  only when the fingerprint of what would be written changed, and never over a buyer's change the order
  sync has not processed yet. An order shipped in parts gets one SparkLayer package per ERP shipment, with
  the units it carried (ERP units turned back into the shop's with the items' pack sizes) and its tracking;
  units the ERP cancelled after the point of no return go to a cancellation package. Each shipment's package
  is keyed by the shipment (``erp-shipment-<number>``), so a re-run replaces it instead of adding one, and
  its first write is recorded once in the ledger (push state ``sparklayer_package`` + a ``put_package``
  audit row).

Each order's SparkLayer calls stand alone: when one still fails transiently after the client's own retries
(429, 5xx, no answer), that order is reported as ``write failed`` (a log warning, an ``error`` audit row, the
run's ``failed_writes`` count) and left for the next run — its status hash is not saved, so the next run
writes it again — while the other orders go on and the run succeeds. Only when ``MAX_CONSECUTIVE_FAILURES``
orders in a row fail is SparkLayer taken to be down: the last error is raised and the run fails (and is
retried by Dagster) rather than waiting out every order's retries. No exception row is raised for a failed
write: the next run retries it, and an exception a person must close would outlive a transient cause.
ERP technical failures are not caught here (the ERP side keeps its all-or-nothing rule).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeVar

from sparklayer_erp.domain.exception_kinds import Entity, problem
from sparklayer_erp.domain.models import ErpCustomer, ErpOrderState, ErpOrderStatus, PaymentMethod
from sparklayer_erp.domain.order_lifecycle import (
    StatusUpdate,
    approval_decision,
    credit_excess,
    status_for_sparklayer,
    unit_factors,
)
from sparklayer_erp.domain.record_hash import content_hash
from sparklayer_erp.erp.port import ErpPort, ErpTechnicalError
from sparklayer_erp.ledger import AuditOutcome, AuditSystem, Ledger, OrderLink, SyncState
from sparklayer_erp.orders.links import (
    CREDIT_KINDS,
    ERP_OWNED_KINDS,
    FINAL_STATES,
    Exceptions,
    audit,
    credit_problem,
    link_state_for,
    state_fields,
    status_label,
)
from sparklayer_erp.orders.mapper import InvoiceUrl, card_payment, new_transactions, status_put_body
from sparklayer_erp.orders.packages import package_id
from sparklayer_erp.orders.sync import utc_now
from sparklayer_erp.sparklayer.client import SparkLayerClient
from sparklayer_erp.sparklayer.errors import (
    SparkLayerConflict,
    SparkLayerError,
    SparkLayerNotFound,
    SparkLayerRateLimited,
    SparkLayerServerError,
    SparkLayerUnavailable,
)

log = logging.getLogger(__name__)

WRITE_FAILED = "write failed"  # the outcome of an order whose SparkLayer call failed after all its retries
PACKAGE_KIND = "sparklayer_package"  # ledger push state: "<purchase id>:<package id>" of every package written
MAX_CONSECUTIVE_FAILURES = 3  # this many orders in a row failing means SparkLayer is down: fail the run


@dataclass(frozen=True)
class Step:
    """One order in a follow-up step: what happened, in words a finance/operations person understands."""

    purchase_id: str
    label: str
    outcome: str
    erp_number: str | None = None
    detail: str = ""
    exception_ids: tuple[int, ...] = ()


@dataclass
class StepReport:
    steps: list[Step] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return dict(Counter(s.outcome for s in self.steps))

    @property
    def failed(self) -> list[Step]:
        """Orders whose SparkLayer call still failed after the client's retries (retried next run)."""
        return [s for s in self.steps if s.outcome == WRITE_FAILED]


def is_transient(exc: SparkLayerError) -> bool:
    """A SparkLayer error worth trying again later (throttled, server-side, unreachable, a retryable conflict)."""
    if isinstance(exc, SparkLayerConflict):
        return exc.retryable
    return isinstance(exc, SparkLayerRateLimited | SparkLayerServerError | SparkLayerUnavailable)


_T = TypeVar("_T")


class Isolated:
    """Runs one order's work so that a failure costs that order only.

    A SparkLayer call still failing transiently after the client's retries — and, with ``erp_errors``, the ERP
    failing technically on that order — is logged, audited (``error``) and reported as a ``write failed`` step;
    the next run retries it. ``MAX_CONSECUTIVE_FAILURES`` orders in a row failing means a system is down: the
    error is raised, the run fails and the run's retry policy takes over."""

    def __init__(self, ledger: Ledger, operation: str, *, system: AuditSystem = AuditSystem.SPARKLAYER,
                 erp_errors: bool = False) -> None:
        self.ledger = ledger
        self.operation = operation
        self.system = system
        self.tolerated: tuple[type[Exception], ...] = (
            (SparkLayerError, ErpTechnicalError) if erp_errors else (SparkLayerError,))
        self.in_a_row = 0

    def run(self, pid: str, label: str, erp_number: str | None, work: Callable[[], _T], *,
            operation: str | None = None, system: AuditSystem | None = None) -> _T | Step:
        operation = operation or self.operation
        try:
            out = work()
        except self.tolerated as exc:
            if isinstance(exc, SparkLayerError) and not is_transient(exc):
                raise
            where = "SparkLayer" if isinstance(exc, SparkLayerError) else "the ERP"
            self.in_a_row += 1
            if self.in_a_row >= MAX_CONSECUTIVE_FAILURES:
                log.error("%s: %d orders in a row failed; %s looks down, stopping the run",
                          operation, self.in_a_row, where)
                raise
            log.warning("%s for %s failed after its retries (%s); it is retried next run", operation, label, exc)
            audit(self.ledger, system or self.system, operation, pid, None, AuditOutcome.ERROR,
                  error=f"{type(exc).__name__}: {exc}"[:500])
            return Step(pid, label, WRITE_FAILED, erp_number,
                        f"{where.removeprefix('the ')} {type(exc).__name__} after retries; retried next run")
        self.in_a_row = 0
        return out


def default_invoice_url(number: str) -> str:
    """Where SparkLayer links an invoice (deployment-specific; set ``OrderFollowup(invoice_url=...)``)."""
    return f"https://erp.invalid/invoices/{number}"


class OrderFollowup:
    def __init__(self, ledger: Ledger, erp: ErpPort, client: SparkLayerClient | None,
                 invoice_url: InvoiceUrl = default_invoice_url,
                 clock: Callable[[], dt.datetime] = utc_now) -> None:
        self.ledger = ledger
        self.erp = erp
        self.client = client
        self.invoice_url = invoice_url
        self.clock = clock
        self.exceptions = Exceptions(ledger)
        self._unit_factors: dict[tuple[str, str], int] | None = None
        self._packages_written: dict[str, str] | None = None

    def _factors_for(self, status: ErpOrderStatus) -> dict[tuple[str, str], int] | None:
        """Pack sizes (read once per follow-up) when the order has something to place in packages."""
        needed = any(sh.lines for sh in status.shipments if sh.state == "done") or any(
            ln.cancelled_quantity > 0 for ln in status.lines)
        if not needed:
            return None
        if self._unit_factors is None:
            self._unit_factors = unit_factors(self.erp.list_items())
        return self._unit_factors

    def _statuses(self, links: Sequence[OrderLink]) -> dict[int, ErpOrderStatus]:
        ids = [link.erp_order_id for link in links if link.erp_order_id is not None]
        return {s.erp_id: s for s in self.erp.order_status(ids)} if ids else {}

    # --- approvals -------------------------------------------------------------------------------------------
    def approve(self) -> StepReport:
        """Commit every pending-approval order the credit check allows, oldest first."""
        report = StepReport()
        links = [link for link in self.ledger.order_links([SyncState.PENDING_APPROVAL]) if link.erp_order_id]
        if not links:
            return report
        statuses = self._statuses(links)
        live = self.exceptions.open_for_orders((link.purchase_id for link in links), CREDIT_KINDS)
        customers: dict[str, ErpCustomer] | None = None
        approved_extra: dict[str, Decimal] = defaultdict(Decimal)  # approved in this run, not yet in balances
        for link in links:
            status = statuses.get(link.erp_order_id)  # type: ignore[arg-type]
            pid, label = link.purchase_id, status_label(link.purchase_id, status)
            if status is None:
                report.steps.append(Step(pid, label, "missing in ERP", link.erp_order_number,
                                         "the ERP order no longer exists; the order sync raises it"))
                continue
            if status.state is not ErpOrderState.PENDING_APPROVAL and status.state is not ErpOrderState.DRAFT:
                # approved (or cancelled) by a person in the ERP: carry on from there
                self.ledger.update_order_link(
                    pid, **state_fields(link, link_state_for(status.state, status.point_of_no_return)))
                self.exceptions.resolve_except(pid, live.get(pid, ()), keep=())
                outcome = "approved in ERP" if status.state is not ErpOrderState.CANCELLED else "cancelled in ERP"
                report.steps.append(Step(pid, label, outcome, status.number, "a person acted in the ERP"))
                continue
            if customers is None:
                customers = {c.account_code: c for c in self.erp.list_customers()}
            report.steps.append(self._approve_one(link, status, label, customers, approved_extra, live.get(pid, ())))
        return report

    def _approve_one(self, link: OrderLink, status: ErpOrderStatus, label: str, customers: dict[str, ErpCustomer],
                     approved_extra: dict[str, Decimal], live: Sequence) -> Step:
        pid, account = link.purchase_id, status.account_code or link.account_code or ""
        customer = customers.get(account)
        if customer is None:
            p = problem("erp_refused", Entity.ORDER, pid, order=label,
                        reason=f"customer account {account or '(none)'} is not in the ERP, so it cannot be approved")
            ids = [i for _, i in self.exceptions.raise_all([p])]
            return Step(pid, label, "held", status.number, p.message, tuple(ids))
        balance = customer.open_balance + approved_extra[account]
        decision = approval_decision(customer.on_credit_hold, customer.credit_limit, balance, status.total)
        facts = {"open_balance": balance, "order_total": status.total, "credit_limit": customer.credit_limit,
                 "excess": credit_excess(customer.credit_limit, balance, status.total)
                 if customer.credit_limit is not None else None}
        if not decision.approve:
            p = problem(decision.problem_kind or "over_credit_limit", Entity.ORDER, pid, order=label,
                        account_code=account, **facts)
            ids = [i for _, i in self.exceptions.raise_all([p])]
            self.exceptions.resolve_except(pid, live, keep={p.kind})
            return Step(pid, label, "held for finance", status.number, p.message, tuple(ids))
        result = self.erp.approve_order(status.erp_id)
        audit(self.ledger, AuditSystem.ERP, "approve_order", pid, {"erp_id": status.erp_id},
              AuditOutcome.OK if result.ok else AuditOutcome.REFUSED,
              refusal=result.refusal.message if result.refusal else None)
        if not result.ok:  # the ERP's own credit check is the final word
            p = credit_problem(result.refusal, pid, label, account, **facts)  # type: ignore[arg-type]
            ids = [i for _, i in self.exceptions.raise_all([p])]
            self.exceptions.resolve_except(pid, live, keep={p.kind})
            return Step(pid, label, "refused by ERP", status.number, p.message, tuple(ids))
        approved_extra[account] += status.total
        self.ledger.update_order_link(pid, sync_state=SyncState.COMMITTED)
        self.exceptions.resolve_except(pid, live, keep=())
        return Step(pid, label, "approved", status.number,
                    f"credit check passed: balance {balance} + order {status.total} within limit "
                    f"{customer.credit_limit if customer.credit_limit is not None else '(none)'}")

    # --- card payments -----------------------------------------------------------------------------------------
    def record_card_payments(self) -> StepReport:
        """Settle the invoices of card orders whose payment the ERP does not show yet.

        A settled order whose final status was already written back is finished (the status write-back stops
        looking at it too), so this step reads the ERP for the open card orders only, not for every card order
        ever taken."""
        report = StepReport()
        links = [link for link in self.ledger.order_links([SyncState.COMMITTED, SyncState.HANDED_TO_ERP,
                                                           SyncState.SETTLED])
                 if link.erp_order_id and link.payment_method == PaymentMethod.UPFRONT.value
                 and not (link.sync_state in FINAL_STATES and link.last_status_hash)]
        if not links:
            return report
        statuses = self._statuses(links)
        isolated = Isolated(self.ledger, "record_payment")
        for link in links:
            status = statuses.get(link.erp_order_id)  # type: ignore[arg-type]
            if status is None or not _awaits_payment(status):
                continue
            report.steps.append(isolated.run(link.purchase_id, status_label(link.purchase_id, status),
                                             status.number, lambda link=link, status=status: self._pay(link, status)))
        return report

    def _pay(self, link: OrderLink, status: ErpOrderStatus) -> Step:
        pid, label = link.purchase_id, status_label(link.purchase_id, status)
        if self.client is None:
            return Step(pid, label, "waiting", status.number, "SparkLayer is not configured")
        try:
            payment = card_payment(self.client.get_transactions("sparklayer", pid), None)
        except SparkLayerNotFound:
            payment = None
        if payment is None:
            return Step(pid, label, "waiting", status.number, "no card payment in SparkLayer for this order")
        reference, paid_on = payment
        due = sum((i.amount_due for i in status.invoices if i.state in ("draft", "posted")), Decimal(0))
        amount = min(link.total if link.total is not None else due, due)
        result = self.erp.record_payment(status.erp_id, amount, paid_on, reference)
        audit(self.ledger, AuditSystem.ERP, "record_payment", pid,
              {"erp_id": status.erp_id, "amount": amount, "paid_on": paid_on, "reference": reference},
              AuditOutcome.OK if result.ok else AuditOutcome.REFUSED,
              refusal=result.refusal.message if result.refusal else None)
        if result.ok:
            return Step(pid, label, "card payment recorded", status.number, f"{reference}: {amount}")
        return Step(pid, label, "card payment refused", status.number,
                    result.refusal.message if result.refusal else "refused")

    # --- status back to SparkLayer -------------------------------------------------------------------------------
    def write_back_status(self, reopen: Iterable[str] = ()) -> StepReport:
        """``reopen``: purchase ids to look at even though their final status was written (an ERP credit note
        raised after the order ended: ``refunds.credit_notes_back``)."""
        report = StepReport()
        again = set(reopen)
        # every linked order, except those whose final status (settled/cancelled) was already written
        links = [link for link in self.ledger.order_links()
                 if link.erp_order_id and (link.purchase_id in again
                                           or not (link.sync_state in FINAL_STATES and link.last_status_hash))]
        if not links:
            return report
        statuses = self._statuses(links)
        ids = [link.purchase_id for link in links]
        held = set(self.exceptions.open_for_orders(ids, CREDIT_KINDS))
        erp_owned = self.exceptions.open_for_orders(ids, ERP_OWNED_KINDS)
        isolated = Isolated(self.ledger, "put_purchase")
        for link in links:
            status = statuses.get(link.erp_order_id)  # type: ignore[arg-type]
            if status is None:
                continue
            pid = link.purchase_id
            if status.state in (ErpOrderState.CANCELLED, ErpOrderState.DONE):
                # the ERP order has ended: what operations were asked to watch is over
                self.exceptions.resolve_except(pid, erp_owned.get(pid, ()), keep=())
            method = _method(link.payment_method)
            update = status_for_sparklayer(status, None, payment_method=method, held=pid in held,
                                           unit_factors=self._factors_for(status))
            state = link_state_for(status.state, status.point_of_no_return)
            if update.fingerprint == link.last_status_hash:
                if state != link.sync_state:  # already shown in SparkLayer: only the ledger catches up
                    self.ledger.update_order_link(pid, sync_state=state)
                continue
            report.steps.append(isolated.run(
                pid, status_label(pid, status), status.number,
                lambda link=link, status=status, update=update, state=state: self._write(link, status, update, state)))
        return report

    def _write(self, link: OrderLink, status: ErpOrderStatus, update, state: SyncState) -> Step:
        pid, label = link.purchase_id, status_label(link.purchase_id, status)
        if self.client is None:
            return Step(pid, label, "waiting", status.number, "SparkLayer is not configured")
        try:
            purchase = self.client.get_purchase("sparklayer", pid)
        except SparkLayerNotFound:
            return Step(pid, label, "purchase gone", status.number, "the purchase no longer exists in SparkLayer")
        seen = purchase.last_updated_at
        if link.sparklayer_updated_at is not None and seen is not None and seen > link.sparklayer_updated_at:
            # The buyer changed the order since the sync last looked: never overwrite an unprocessed change.
            return Step(pid, label, "deferred", status.number, "a newer change in SparkLayer is synced first")
        for transaction in new_transactions(purchase, update):
            self.client.put_transaction("sparklayer", pid, transaction)
            audit(self.ledger, AuditSystem.SPARKLAYER, "put_transaction", pid, transaction.to_api(),
                  AuditOutcome.OK, platform_id=transaction.platform_id)
        body = status_put_body(purchase, update, self.invoice_url)
        saved = self.client.put_purchase("sparklayer", pid, body)
        audit(self.ledger, AuditSystem.SPARKLAYER, "put_purchase", pid, body, AuditOutcome.OK,
              status=update.status, erp_order=update.internal_id)
        version = saved.last_updated_at if saved is not None else None
        if version is None:
            version = self.client.get_purchase("sparklayer", pid).last_updated_at
        self.ledger.update_order_link(pid, last_status_hash=update.fingerprint, sparklayer_updated_at=version,
                                      sync_state=state)
        self._record_packages(pid, update)
        tracking = ", ".join(s.tracking_number for p in update.packages for s in p.shipments if s.tracking_number)
        detail = f"status {update.status}" + (f", tracking {tracking}" if tracking else "")
        if update.accounting_files:
            detail += ", invoice " + ", ".join(f.invoice_number for f in update.accounting_files)
        return Step(pid, label, "status written", status.number, detail)

    def _record_packages(self, pid: str, update: StatusUpdate) -> None:
        """The first write of each shipment / cancellation / return package: one ledger row and one audit row, ever
        (later writes replace the same package in SparkLayer and are not recorded again)."""
        if self._packages_written is None:
            self._packages_written = self.ledger.load_push_hashes(PACKAGE_KIND)
        new: dict[str, str] = {}
        for out in update.packages:
            if out.type == "cancellation" and not out.lines:
                continue
            key = f"{pid}:{package_id(out)}"
            if key in self._packages_written:
                continue
            new[key] = content_hash({"type": out.type, "reference": out.reference, "lines": out.lines})
            audit(self.ledger, AuditSystem.SPARKLAYER, "put_package", pid,
                  {"package": package_id(out), "lines": out.lines}, AuditOutcome.OK, package=package_id(out),
                  tracking=", ".join(s.tracking_number for s in out.shipments if s.tracking_number) or None,
                  units=sum(line.quantity for line in out.lines))
        if new:
            self.ledger.save_push_hashes(PACKAGE_KIND, new)
            self._packages_written.update(new)


def _awaits_payment(status: ErpOrderStatus) -> bool:
    """An invoice exists (draft or posted) with something still due."""
    return any(i.state in ("draft", "posted") and i.amount_due > 0 for i in status.invoices)


def _method(value: str | None) -> PaymentMethod | None:
    try:
        return PaymentMethod(value) if value else None
    except ValueError:
        return None
