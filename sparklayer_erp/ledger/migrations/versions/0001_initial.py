"""The ledger's initial schema.

Written out by hand (not generated at run time from the models) so that it stays a frozen snapshot;
a test checks that the models and this schema agree.

Revision ID: 0001
Revises:
Create Date: 2026-05-09
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = "status IN ('open', 'accepted')"


def _id() -> sa.Column:
    return sa.Column(
        "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    )


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _json(name: str) -> sa.Column:
    return sa.Column(
        name,
        sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql"),
        nullable=True,
    )


def upgrade() -> None:
    op.create_table(
        "order_links",
        _id(),
        sa.Column("purchase_id", sa.String(64), nullable=False),
        sa.Column("erp_order_id", sa.BigInteger(), nullable=True),
        sa.Column("erp_order_number", sa.String(64), nullable=True),
        sa.Column("account_code", sa.String(64), nullable=True),
        sa.Column("payment_method", sa.String(32), nullable=False),
        sa.Column("sync_state", sa.String(32), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=True),
        sa.Column("last_status_hash", sa.String(64), nullable=True),
        _when("sparklayer_updated_at", nullable=True),
        sa.Column("total", sa.Numeric(18, 2), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        _when("created_at"),
        _when("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_order_links"),
        sa.UniqueConstraint("purchase_id", name="uq_order_links_purchase_id"),
    )
    op.create_index("ix_order_links_sync_state", "order_links", ["sync_state"])

    op.create_table(
        "customer_links",
        _id(),
        sa.Column("account_code", sa.String(64), nullable=False),
        sa.Column("sparklayer_customer_id", sa.String(64), nullable=True),
        sa.Column("platform_customer_id", sa.String(64), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        _when("created_at"),
        _when("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_customer_links"),
        sa.UniqueConstraint("account_code", name="uq_customer_links_account_code"),
        sa.UniqueConstraint("sparklayer_customer_id", name="uq_customer_links_sparklayer_customer_id"),
    )

    op.create_table(
        "push_state",
        sa.Column("entity_kind", sa.String(64), nullable=False),
        sa.Column("entity_key", sa.String(255), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        _when("pushed_at"),
        sa.PrimaryKeyConstraint("entity_kind", "entity_key", name="pk_push_state"),
    )

    op.create_table(
        "exceptions",
        _id(),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("owner_team", sa.String(32), nullable=False),
        sa.Column("entity_type", sa.String(32), nullable=False),
        sa.Column("entity_id", sa.String(255), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        _json("detail"),
        _when("first_seen"),
        _when("last_seen"),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _when("resolved_at", nullable=True),
        sa.Column("accepted_reason", sa.Text(), nullable=True),
        sa.Column("accepted_by", sa.String(255), nullable=True),
        _when("accepted_at", nullable=True),
        _when("alerted_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_exceptions"),
        sa.CheckConstraint("status IN ('open', 'resolved', 'accepted')", name="ck_exceptions_status"),
        sa.CheckConstraint("count >= 1", name="ck_exceptions_count_positive"),
        sa.CheckConstraint(
            "status <> 'resolved' OR resolved_at IS NOT NULL", name="ck_exceptions_resolved_has_time"
        ),
        sa.CheckConstraint(
            "status <> 'accepted' OR (accepted_reason IS NOT NULL AND accepted_by IS NOT NULL)",
            name="ck_exceptions_accepted_has_reason",
        ),
    )
    # At most one live (open or accepted) row per entity and kind; resolved rows are history.
    op.create_index(
        "uq_exceptions_live",
        "exceptions",
        ["kind", "entity_type", "entity_id"],
        unique=True,
        sqlite_where=sa.text(LIVE),
        postgresql_where=sa.text(LIVE),
    )
    op.create_index("ix_exceptions_status_kind", "exceptions", ["status", "kind"])

    op.create_table(
        "audit_log",
        _id(),
        _when("at"),
        sa.Column("system", sa.String(16), nullable=False),
        sa.Column("operation", sa.String(64), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_digest", sa.String(64), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        _json("detail"),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
        sa.CheckConstraint("system IN ('sparklayer', 'erp')", name="ck_audit_log_system"),
        sa.CheckConstraint("outcome IN ('ok', 'refused', 'error')", name="ck_audit_log_outcome"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_key_at", "audit_log", ["key", "at"])

    op.create_table(
        "sync_status",
        sa.Column("name", sa.String(64), nullable=False),
        _when("last_started_at", nullable=True),
        _when("last_success_at", nullable=True),
        _when("last_failure_at", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        _json("last_counts"),
        sa.PrimaryKeyConstraint("name", name="pk_sync_status"),
    )


def downgrade() -> None:
    op.drop_table("sync_status")
    op.drop_index("ix_audit_log_key_at", table_name="audit_log")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_exceptions_status_kind", table_name="exceptions")
    op.drop_index("uq_exceptions_live", table_name="exceptions")
    op.drop_table("exceptions")
    op.drop_table("push_state")
    op.drop_table("customer_links")
    op.drop_index("ix_order_links_sync_state", table_name="order_links")
    op.drop_table("order_links")
