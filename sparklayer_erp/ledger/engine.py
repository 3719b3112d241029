"""Engines for the ledger: URL normalisation and the per-database settings that make it safe to share.

The ledger is written by several Dagster run workers (processes) and by threads inside one process at
the same time, so the engine is configured for that here, once, rather than at each call site:

* SQLite: WAL journal (readers never block the writer), a 30 s busy timeout (a second writer waits
  instead of failing with "database is locked"), and transactions begun by us rather than by the sqlite3
  driver so that write transactions can take the write lock up front with ``BEGIN IMMEDIATE`` (a deferred
  transaction that reads first and writes second fails immediately under WAL when another writer got in
  between; waiting is impossible for it, so we never run one).
* PostgreSQL: always through psycopg2, with ``pool_pre_ping`` so a restarted server costs one retry, not
  a failed run.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import functools
import json
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

DEFAULT_URL = "sqlite:///.data/ledger.sqlite"
SQLITE_BUSY_TIMEOUT_S = 30.0
WRITE_OPTION = "ledger_write"  # execution option: this transaction will write (SQLite: BEGIN IMMEDIATE)


def normalise_url(url: str | URL) -> URL:
    """Parse ``url`` and make the PostgreSQL driver explicit.

    SQLAlchemy 2.1 maps a bare ``postgresql://`` (and Heroku-style ``postgres://``) URL to the psycopg
    (v3) driver, which this project does not install (Dagster's Postgres storage needs psycopg2), so such
    a URL is rewritten to ``postgresql+psycopg2://``. A URL that already names a driver is left alone.
    """
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg2")
    return parsed


def safe_url(url: str | URL) -> str:
    """The URL with any password masked: the only form that may appear in logs or error messages."""
    return normalise_url(url).render_as_string(hide_password=True)


def _json_default(value: Any) -> Any:
    # Details often carry money and dates; keep them exact and readable instead of failing the write.
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


json_dumps = functools.partial(json.dumps, default=_json_default, ensure_ascii=False)


def _is_memory_sqlite(url: URL) -> bool:
    return url.database in (None, "", ":memory:") or "mode=memory" in str(url)


def make_engine(url: str | URL = DEFAULT_URL) -> Engine:
    """Create an engine for the ledger database at ``url`` (see the module docstring for why)."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True, json_serializer=json_dumps)

    kwargs: dict[str, Any] = {}
    if _is_memory_sqlite(parsed):
        # One shared connection, or every checkout would see a different empty database.
        kwargs["poolclass"] = StaticPool
    else:
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        parsed,
        pool_pre_ping=True,
        json_serializer=json_dumps,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
        **kwargs,
    )
    _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see _on_begin)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(WRITE_OPTION):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def writer(engine: Engine) -> Engine:
    """The same engine (same pool) marked so that each transaction takes the write lock when it begins."""
    return engine.execution_options(**{WRITE_OPTION: True})
