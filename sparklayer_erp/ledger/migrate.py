"""Drive the ledger's Alembic migrations from code (no alembic.ini at the repo root).

The scripts ship inside the package (``migrations/``), so an installed wheel can migrate its own
database. The version table is ``ledger_alembic_version`` rather than Alembic's default so the ledger can
share a PostgreSQL database with Dagster's storage (which has its own ``alembic_version``).

Migrating is safe to start from several processes at once (every Dagster run worker calls
``Ledger.from_url(..., migrate=True)``): the whole upgrade runs in one transaction that first takes the
write lock (SQLite ``BEGIN IMMEDIATE``) or a transaction-level advisory lock (PostgreSQL), so the second
process waits and then finds nothing left to do.

Every run worker opens the ledger, so the common case is made cheap: when the stored revision already is
``HEAD_REVISION`` (one plain ``SELECT``), Alembic is neither imported nor run and no write lock is taken.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError, ProgrammingError

from sparklayer_erp.ledger.engine import make_engine, normalise_url, writer

if TYPE_CHECKING:
    from alembic.config import Config

VERSION_TABLE = "ledger_alembic_version"
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_PG_MIGRATION_LOCK = 0x5350_4C45  # arbitrary constant advisory-lock key ("SPLE")
# The newest script in ``migrations/versions``; a test checks it against Alembic's own head, so a new
# migration cannot be forgotten here.
HEAD_REVISION = "0004"


def alembic_config(url: str | URL | None = None) -> Config:
    from alembic.config import Config  # Alembic loads only when a migration has work to do

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        # configparser interpolation: a literal % (URL-encoded password) must be doubled.
        rendered = normalise_url(url).render_as_string(hide_password=False)
        cfg.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _run(engine: Engine, revision: str, upgrade: bool) -> None:
    from alembic import command

    with writer(engine).begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(select(func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        if upgrade:
            command.upgrade(cfg, revision)
        else:
            command.downgrade(cfg, revision)


def _with_engine(url: str | URL | Engine):
    if isinstance(url, Engine):
        return url, False
    return make_engine(url), True


def upgrade(url: str | URL | Engine, revision: str = "head") -> None:
    """Bring the ledger at ``url`` up to ``revision`` (idempotent)."""
    engine, owned = _with_engine(url)
    try:
        if revision == "head" and _stored_revision(engine) == HEAD_REVISION:
            return
        _run(engine, revision, upgrade=True)
    finally:
        if owned:
            engine.dispose()


def downgrade(url: str | URL | Engine, revision: str = "base") -> None:
    """Take the ledger at ``url`` down to ``revision`` (``"base"`` drops every ledger table)."""
    engine, owned = _with_engine(url)
    try:
        _run(engine, revision, upgrade=False)
    finally:
        if owned:
            engine.dispose()


def _stored_revision(engine: Engine) -> str | None:
    """The revision in the version table, read with plain SQL; None when there is no table (a new ledger)."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    except (OperationalError, ProgrammingError):
        return None
    return rows[0] if len(rows) == 1 else None


def _current(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()


def current_revision(url: str | URL | Engine) -> str | None:
    """The revision the ledger database is at, or None for an empty (unmigrated) database."""
    engine, owned = _with_engine(url)
    try:
        with engine.connect() as conn:
            return _current(conn)
    finally:
        if owned:
            engine.dispose()
