"""The shipped migrations build the schema from empty, are reversible, and match the models."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from sparklayer_erp.ledger import Ledger, current_revision, downgrade, head_revision, make_engine, upgrade
from sparklayer_erp.ledger.migrate import VERSION_TABLE
from sparklayer_erp.ledger.models import Base

LEDGER_TABLES = {"order_links", "customer_links", "push_state", "exceptions", "audit_log", "sync_status"}


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(empty_url: str) -> None:
    assert current_revision(empty_url) is None
    assert not LEDGER_TABLES & _tables(empty_url)

    upgrade(empty_url)
    assert current_revision(empty_url) == head_revision() == "0001"
    assert LEDGER_TABLES | {VERSION_TABLE} <= _tables(empty_url)

    upgrade(empty_url)  # idempotent
    assert current_revision(empty_url) == "0001"

    downgrade(empty_url, "base")
    assert current_revision(empty_url) is None
    assert not LEDGER_TABLES & _tables(empty_url)

    upgrade(empty_url)
    assert current_revision(empty_url) == "0001"
    with Ledger(empty_url) as ledger:  # and the re-created schema is usable
        assert ledger.claim_order("P-1", "ACC-1", "invoice", "h") is True


def test_models_match_migrated_schema(empty_url: str) -> None:
    upgrade(empty_url)
    engine = make_engine(empty_url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(
                conn, opts={"version_table": VERSION_TABLE, "compare_type": True}
            )
            diffs = compare_metadata(ctx, Base.metadata)
    finally:
        engine.dispose()
    assert diffs == []

