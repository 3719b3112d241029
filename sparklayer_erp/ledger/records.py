"""What the ledger hands out: plain frozen dataclasses, never ORM objects (no session, no lazy loads)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any


class SyncState(StrEnum):
    """Where one SparkLayer purchase is in its life in the ERP (``order_links.sync_state``).

    The column is a plain string so a new state needs no migration; these are the ones the flows use.
    """

    CLAIMED = "claimed"  # we own creating it; no ERP order yet (or not yet recorded)
    CREATED = "created"
    PENDING_APPROVAL = "pending_approval"  # pay on account: no ledger impact until approved
    COMMITTED = "committed"
    CANCELLED = "cancelled"
    QUARANTINED = "quarantined"  # kept out of the ERP until a person fixes the cause
    HANDED_TO_ERP = "handed_to_erp"  # past the point of no return: the ERP owns it
    SETTLED = "settled"


class ExceptionStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    ACCEPTED = "accepted"  # a person looked and decided it is fine; re-raising keeps it accepted


class AuditSystem(StrEnum):
    SPARKLAYER = "sparklayer"
    ERP = "erp"


class AuditOutcome(StrEnum):
    OK = "ok"
    REFUSED = "refused"  # the other system said no, in business terms
    ERROR = "error"  # technical failure


@dataclass(frozen=True)
class OrderLink:
    """One SparkLayer purchase and the ERP order made from it (the binder of the order flow)."""

    purchase_id: str
    erp_order_id: int | None
    erp_order_number: str | None
    account_code: str | None
    payment_method: str
    sync_state: str
    content_hash: str | None  # of the purchase content last applied to the ERP
    last_status_hash: str | None  # of the status last written back to SparkLayer
    sparklayer_updated_at: dt.datetime | None
    total: Decimal | None
    currency: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    po_number: str | None = None  # the buyer's PO number, as placed in SparkLayer


@dataclass(frozen=True)
class CustomerLink:
    account_code: str
    sparklayer_customer_id: str | None
    platform_customer_id: str | None
    email: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class ExceptionRow:
    id: int
    kind: str
    owner_team: str
    entity_type: str
    entity_id: str
    message: str
    action: str
    detail: dict[str, Any] | None
    first_seen: dt.datetime
    last_seen: dt.datetime
    count: int
    status: str
    resolved_at: dt.datetime | None
    accepted_reason: str | None
    accepted_by: str | None
    accepted_at: dt.datetime | None
    alerted_at: dt.datetime | None
    is_new: bool = False  # set by raise_exception: this call opened a new row


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: dt.datetime
    system: str
    operation: str
    key: str
    request_digest: str | None
    outcome: str
    detail: dict[str, Any] | None


@dataclass(frozen=True)
class SyncStatus:
    name: str
    last_started_at: dt.datetime | None
    last_success_at: dt.datetime | None
    last_failure_at: dt.datetime | None
    last_error: str | None
    last_counts: dict[str, Any] | None

    def is_stale(self, max_age: dt.timedelta, now: dt.datetime) -> bool:
        """True when the last success is older than ``max_age`` (or there never was one)."""
        return self.last_success_at is None or now - self.last_success_at > max_age

    @property
    def failing(self) -> bool:
        """The latest finished attempt failed."""
        if self.last_failure_at is None:
            return False
        return self.last_success_at is None or self.last_failure_at > self.last_success_at


@dataclass(frozen=True)
class PackVersion:
    """One written version of a month's finance pack (without the workbook's bytes)."""

    month: str  # "2026-10"
    version: int
    run_id: str
    created_at: dt.datetime
    path: str | None
    checksum: str | None  # SHA-256 of the workbook, hex
    size_bytes: int | None
    close_ready: bool | None


@dataclass(frozen=True)
class MonthClose:
    """The month was marked close-ready on pack ``version``."""

    month: str
    version: int
    run_id: str
    closed_at: dt.datetime
