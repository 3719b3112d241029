"""The shipped migrations build the schema from empty, are reversible, and match the models."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from sparklayer_erp.ledger import Ledger, current_revision, downgrade, head_revision, make_engine, upgrade
from sparklayer_erp.ledger.migrate import HEAD_REVISION, VERSION_TABLE
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
    assert current_revision(empty_url) == head_revision() == "0004"
    assert LEDGER_TABLES | {VERSION_TABLE} <= _tables(empty_url)

    upgrade(empty_url)  # idempotent
    assert current_revision(empty_url) == "0004"

    downgrade(empty_url, "base")
    assert current_revision(empty_url) is None
    assert not LEDGER_TABLES & _tables(empty_url)

    upgrade(empty_url)
    assert current_revision(empty_url) == "0004"
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


def test_the_po_number_migration_goes_back_and_forth_keeping_the_links(empty_url: str) -> None:
    upgrade(empty_url)
    with Ledger(empty_url) as ledger:
        ledger.claim_order("P-1", "ACC-1", "invoice", "h", po_number="PO-1")
    downgrade(empty_url, "0001")
    assert current_revision(empty_url) == "0001"
    engine = make_engine(empty_url)
    try:
        columns = {c["name"] for c in sa.inspect(engine).get_columns("order_links")}
        with engine.connect() as conn:
            kept = conn.execute(sa.text("SELECT purchase_id FROM order_links")).scalars().all()
    finally:
        engine.dispose()
    assert "po_number" not in columns and kept == ["P-1"]  # the column is gone, the link stays
    upgrade(empty_url)
    with Ledger(empty_url) as ledger:
        assert ledger.get_order_link("P-1").account_code == "ACC-1"
        assert ledger.find_order_links("P-1")[0].po_number is None


def test_head_constant_is_alembics_head() -> None:
    assert head_revision() == HEAD_REVISION


def test_a_ledger_at_head_is_opened_without_running_alembic(empty_url: str, monkeypatch) -> None:
    """Every run worker opens the ledger: at head it must not take the migration lock or run Alembic."""
    from sparklayer_erp.ledger import migrate

    upgrade(empty_url)
    ran: list[str] = []
    monkeypatch.setattr(migrate, "_run", lambda engine, revision, upgrade: ran.append(revision))
    Ledger.from_url(empty_url).close()
    assert ran == []

    downgrade(empty_url, "0003")  # one step behind: the next opening migrates, as before
    monkeypatch.undo()
    Ledger.from_url(empty_url).close()
    assert current_revision(empty_url) == HEAD_REVISION
