"""Order links keep the buyer's PO number, so a person can find an order by it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("order_links", sa.Column("po_number", sa.String(128), nullable=True))
    op.create_index("ix_order_links_po_number", "order_links", ["po_number"])


def downgrade() -> None:
    op.drop_index("ix_order_links_po_number", table_name="order_links")
    with op.batch_alter_table("order_links") as batch:  # SQLite drops a column by rebuilding the table
        batch.drop_column("po_number")
