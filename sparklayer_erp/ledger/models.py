"""The ledger's tables as SQLAlchemy 2 typed declarative models.

The schema itself is created by the Alembic migrations in ``migrations/versions`` (frozen snapshots);
these models must describe the same thing, which a test checks on SQLite and PostgreSQL.

Invariants live in the database, not in code, so they hold across processes:

* ``order_links.purchase_id`` is unique: claiming a purchase is an INSERT, and exactly one writer wins.
* ``customer_links``: an ERP account and a SparkLayer customer map one-to-one.
* ``exceptions``: at most one *live* (open or accepted) row per (kind, entity_type, entity_id), by a
  **partial unique index** ``WHERE status IN ('open', 'accepted')``. SQLite (>= 3.8) and PostgreSQL both
  support partial indexes and both accept the same index as an ``ON CONFLICT`` target, so raising an
  exception is one atomic upsert. Chosen over an extra ``open_key`` column because the rule then keys off
  ``status`` itself; there is no second column that code could forget to keep in step.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from sparklayer_erp.ledger.types import JsonDoc, Money, UtcDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

LIVE_EXCEPTION_PREDICATE = "status IN ('open', 'accepted')"

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        dt.datetime: UtcDateTime(),
        Decimal: Money(),
        dict[str, Any]: JsonDoc,
    }


class OrderLinkModel(Base):
    __tablename__ = "order_links"
    __table_args__ = (UniqueConstraint("purchase_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    purchase_id: Mapped[str] = mapped_column(String(64))
    erp_order_id: Mapped[int | None] = mapped_column(BigInteger)
    erp_order_number: Mapped[str | None] = mapped_column(String(64))
    account_code: Mapped[str | None] = mapped_column(String(64))
    payment_method: Mapped[str] = mapped_column(String(32))
    sync_state: Mapped[str] = mapped_column(String(32), index=True)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    last_status_hash: Mapped[str | None] = mapped_column(String(64))
    sparklayer_updated_at: Mapped[dt.datetime | None]
    total: Mapped[Decimal | None]
    currency: Mapped[str | None] = mapped_column(String(3))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    po_number: Mapped[str | None] = mapped_column(String(128), index=True)  # the buyer's, to find the order by


class CustomerLinkModel(Base):
    __tablename__ = "customer_links"
    __table_args__ = (UniqueConstraint("account_code"), UniqueConstraint("sparklayer_customer_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account_code: Mapped[str] = mapped_column(String(64))
    sparklayer_customer_id: Mapped[str | None] = mapped_column(String(64))
    platform_customer_id: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class PushStateModel(Base):
    """Content hash of what was last pushed per (entity kind, key): push only what changed."""

    __tablename__ = "push_state"

    entity_kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    entity_key: Mapped[str] = mapped_column(String(255), primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    pushed_at: Mapped[dt.datetime]


class ExceptionModel(Base):
    __tablename__ = "exceptions"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'resolved', 'accepted')", name="status"),
        CheckConstraint("count >= 1", name="count_positive"),
        CheckConstraint("status <> 'resolved' OR resolved_at IS NOT NULL", name="resolved_has_time"),
        CheckConstraint(
            "status <> 'accepted' OR (accepted_reason IS NOT NULL AND accepted_by IS NOT NULL)",
            name="accepted_has_reason",
        ),
        Index(
            "uq_exceptions_live",
            "kind",
            "entity_type",
            "entity_id",
            unique=True,
            sqlite_where=text(LIVE_EXCEPTION_PREDICATE),
            postgresql_where=text(LIVE_EXCEPTION_PREDICATE),
        ),
        Index("ix_exceptions_status_kind", "status", "kind"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64))
    owner_team: Mapped[str] = mapped_column(String(32))
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any] | None]
    first_seen: Mapped[dt.datetime]
    last_seen: Mapped[dt.datetime]
    count: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    resolved_at: Mapped[dt.datetime | None]
    accepted_reason: Mapped[str | None] = mapped_column(Text)
    accepted_by: Mapped[str | None] = mapped_column(String(255))
    accepted_at: Mapped[dt.datetime | None]
    alerted_at: Mapped[dt.datetime | None]


class AuditLogModel(Base):
    """Every write to another system: what, when, outcome, and a digest of the request (never the body)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        CheckConstraint("system IN ('sparklayer', 'erp')", name="system"),
        CheckConstraint("outcome IN ('ok', 'refused', 'error')", name="outcome"),
        Index("ix_audit_log_key_at", "key", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(index=True)
    system: Mapped[str] = mapped_column(String(16))
    operation: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    request_digest: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[dict[str, Any] | None]


class SyncStatusModel(Base):
    __tablename__ = "sync_status"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_started_at: Mapped[dt.datetime | None]
    last_success_at: Mapped[dt.datetime | None]
    last_failure_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_counts: Mapped[dict[str, Any] | None]


class HandoffModel(Base):
    """One asset's output (per partition; ``""`` when unpartitioned) for the assets and checks that read it in
    later runs, which may run on another machine: a container run launcher gives every run its own disk.

    The newest value replaces the last; rows not rewritten for ``HANDOFF_RETENTION_DAYS`` are deleted.
    """

    __tablename__ = "handoffs"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)  # the asset key, "a/b"
    partition: Mapped[str] = mapped_column(String(255), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(32))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    written_at: Mapped[dt.datetime] = mapped_column(index=True)


class MonthEndPackModel(Base):
    """One version of a month's finance pack (the workbook). Every month-end run adds a version, none is ever
    replaced; ``content`` keeps the workbook itself, so it can be fetched from any machine that reaches the
    ledger (a run's own disk may be gone). A row without ``checksum`` is a version whose writing did not finish."""

    __tablename__ = "month_end_packs"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # "2026-10"
    version: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1, 2, ... per month
    run_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    path: Mapped[str | None] = mapped_column(Text)  # where the run wrote the workbook
    checksum: Mapped[str | None] = mapped_column(String(64))  # SHA-256 of the workbook, hex
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    close_ready: Mapped[bool | None]
    content: Mapped[bytes | None] = mapped_column(LargeBinary)


class MonthCloseModel(Base):
    """The month was marked close-ready on this pack version. The first close stays: a later run writes a new
    version but never moves the close."""

    __tablename__ = "month_closes"
    __table_args__ = (
        ForeignKeyConstraint(["month", "version"], ["month_end_packs.month", "month_end_packs.version"]),
    )

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[str] = mapped_column(String(64))
    closed_at: Mapped[dt.datetime]
