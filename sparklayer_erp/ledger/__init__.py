"""The integration's own state: order and customer links, push hashes, exceptions, audit, sync status."""

from sparklayer_erp.ledger.engine import DEFAULT_URL, make_engine, normalise_url
from sparklayer_erp.ledger.migrate import current_revision, downgrade, head_revision, upgrade
from sparklayer_erp.ledger.records import (
    AuditEntry,
    AuditOutcome,
    AuditSystem,
    CustomerLink,
    ExceptionRow,
    ExceptionStatus,
    OrderLink,
    SyncState,
    SyncStatus,
)
from sparklayer_erp.ledger.store import Ledger, LedgerConflict, LedgerError, NotFound

__all__ = [
    "DEFAULT_URL",
    "AuditEntry",
    "AuditOutcome",
    "AuditSystem",
    "CustomerLink",
    "ExceptionRow",
    "ExceptionStatus",
    "Ledger",
    "LedgerConflict",
    "LedgerError",
    "NotFound",
    "OrderLink",
    "SyncState",
    "SyncStatus",
    "current_revision",
    "downgrade",
    "head_revision",
    "make_engine",
    "normalise_url",
    "upgrade",
]
