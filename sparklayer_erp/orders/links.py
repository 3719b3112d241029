"""The binder of order-to-cash: ledger order links, their states, the exception lifecycle and audit rows.

A SparkLayer purchase and its ERP order are bound by the ledger's order link (unique on the purchase id).
This module says which ledger state mirrors which ERP state, which exception kinds each step raises and
resolves, and how every write to another system leaves an audit row. ``sync.py`` and ``followup.py`` use it;
nothing here talks to SparkLayer or the ERP.
"""

from __future__ import annotations

from collections.abc import Iterable

from sparklayer_erp.domain.exception_kinds import Entity, Problem, problem
from sparklayer_erp.domain.models import ErpOrderState, ErpOrderStatus, Refusal, RefusalReason
from sparklayer_erp.domain.money import to_plain
from sparklayer_erp.ledger import AuditOutcome, AuditSystem, Ledger, OrderLink, SyncState

# Exceptions the translation step owns: raised while an order has no ERP order, resolved once it has one
# (or once the order translates without them).
TRANSLATION_KINDS = frozenset({
    "missing_customer_link", "unknown_sku", "not_whole_pack", "item_invalid", "price_mismatch",
    "total_mismatch", "invalid_order", "erp_refused", "unknown_currency",
})
CREDIT_KINDS = frozenset({"credit_hold", "over_credit_limit"})
# Raised about a linked order the integration must not (or could not) change; closed when the ERP order
# ends (cancelled or done), or by a person accepting it.
ERP_OWNED_KINDS = frozenset({"cancel_after_point_of_no_return", "amend_after_point_of_no_return", "erp_refused",
                             "amount_mismatch"})
ORDER_KINDS = TRANSLATION_KINDS | CREDIT_KINDS | ERP_OWNED_KINDS

_LINK_STATE = {
    ErpOrderState.PENDING_APPROVAL: SyncState.PENDING_APPROVAL,
    ErpOrderState.DRAFT: SyncState.PENDING_APPROVAL,
    ErpOrderState.COMMITTED: SyncState.COMMITTED,
    ErpOrderState.DONE: SyncState.SETTLED,
    ErpOrderState.CANCELLED: SyncState.CANCELLED,
}


def link_state_for(status: ErpOrderState, point_of_no_return: bool = False) -> SyncState:
    """The ledger state that mirrors an ERP order state (committed + allocated = handed to the ERP)."""
    if status is ErpOrderState.COMMITTED and point_of_no_return:
        return SyncState.HANDED_TO_ERP
    return _LINK_STATE[status]


FINAL_STATES = frozenset({SyncState.SETTLED, SyncState.CANCELLED})


def state_fields(link: OrderLink | None, state: SyncState) -> dict[str, object]:
    """Ledger fields for moving a link to ``state``. Entering a final state clears ``last_status_hash`` so the
    status write-back knows the final status has not been written yet (it stops looking once it has)."""
    fields: dict[str, object] = {"sync_state": state}
    if state in FINAL_STATES and (link is None or link.sync_state not in FINAL_STATES):
        fields["last_status_hash"] = None
    return fields


class Exceptions:
    """Raising and resolving order exceptions in the ledger for one evaluation."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def raise_all(self, problems: Iterable[Problem]) -> list[tuple[str, int]]:
        out = []
        for p in problems:
            row = self.ledger.raise_exception(p.kind, p.owner_team, p.entity_type, p.entity_id, p.message,
                                              p.action, p.detail)
            out.append((p.kind, row.id))
        return out

    def open_for_orders(self, purchase_ids: Iterable[str], kinds: Iterable[str]) -> dict[str, list]:
        """Live exceptions of ``kinds`` about these orders (open or accepted), by purchase id."""
        wanted, kinds = set(purchase_ids), set(kinds)
        found: dict[str, list] = {}
        if not wanted:
            return found
        for row in self.ledger.open_exceptions(include_accepted=True):
            if row.entity_type == Entity.ORDER and row.entity_id in wanted and row.kind in kinds:
                found.setdefault(row.entity_id, []).append(row)
        return found

    def resolve_except(self, purchase_id: str, live: Iterable, keep: Iterable[str]) -> int:
        """Resolve the live exceptions of one order whose kind is not in ``keep`` (the cause is gone)."""
        keep = set(keep)
        resolved = 0
        for row in live:
            if row.kind not in keep and self.ledger.resolve(row.kind, row.entity_type, row.entity_id):
                resolved += 1
        return resolved


def audit(ledger: Ledger, system: AuditSystem, operation: str, key: str, body: object,
          outcome: AuditOutcome, **detail: object) -> None:
    """Every write to another system leaves a row (a digest of the body, never the body)."""
    plain = to_plain(body) if body is not None else None
    ledger.audit(system, operation, key, plain, outcome,  # type: ignore[arg-type]
                 {k: to_plain(v) for k, v in detail.items() if v is not None} or None)


def credit_problem(refusal: Refusal, purchase_id: str, label: str, account_code: str | None,
                   **facts: object) -> Problem:
    """The ERP's refusal to commit an order, as the exception finance owns."""
    if refusal.reason is RefusalReason.CREDIT_HOLD:
        return problem("credit_hold", Entity.ORDER, purchase_id, order=label, account_code=account_code)
    if refusal.reason is RefusalReason.CREDIT_LIMIT:
        return problem("over_credit_limit", Entity.ORDER, purchase_id, order=label, account_code=account_code,
                       **facts)
    return problem("erp_refused", Entity.ORDER, purchase_id, order=label, reason=refusal.message)


def status_label(purchase_id: str, status: ErpOrderStatus | None) -> str:
    """How people recognise an order when only the ERP side is at hand (PO number from the ERP order)."""
    po = status.po_number if status else None
    return f"{purchase_id} (PO {po})" if po else purchase_id


class LedgerWrites:
    """The ledger writes of one batch, sent as one transaction each for claims, link updates and audit rows
    (a backlog is then paced by the ERP, not by the disk's fsync per order)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.claims: dict[str, dict[str, object]] = {}
        self.updates: dict[str, dict[str, object]] = {}
        self.audits: list[tuple] = []

    def claim(self, purchase_id: str, **values: object) -> None:
        self.claims.setdefault(purchase_id, {"purchase_id": purchase_id, **values})

    def update(self, purchase_id: str, **fields: object) -> None:
        self.updates.setdefault(purchase_id, {}).update(fields)

    def audit(self, system: AuditSystem, operation: str, key: str, body: object, outcome: AuditOutcome,
              **detail: object) -> None:
        plain = {k: to_plain(v) for k, v in detail.items() if v is not None}
        self.audits.append((system, operation, key, to_plain(body) if body is not None else None, outcome,
                            plain or None))

    def flush(self) -> None:
        """Claims first (so updates find their rows), then updates, then audit rows."""
        if self.claims:
            self.ledger.claim_orders(list(self.claims.values()))
            self.claims = {}
        if self.updates:
            self.ledger.update_order_links(self.updates)
            self.updates = {}
        if self.audits:
            self.ledger.audit_many(self.audits)
            self.audits = []
