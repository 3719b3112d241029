"""Throw-away PostgreSQL databases for tests (the ledger's and Dagster's instance tests share this).

The server is ``SPARKLAYER_ERP_TEST_PG_URL`` (a server/admin URL, any database on it) or
``postgresql+psycopg2://postgres@127.0.0.1:5432/postgres``. Each test database gets a unique name and is
dropped with ``WITH (FORCE)`` so a leaked connection cannot leave it behind.

CI has PostgreSQL, so an unreachable server is a failure unless ``SPARKLAYER_ERP_ALLOW_NO_PG=1``
(then tests skip): see :func:`require_server`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

DEFAULT_SERVER_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
SERVER_URL_ENV = "SPARKLAYER_ERP_TEST_PG_URL"
ALLOW_NO_PG_ENV = "SPARKLAYER_ERP_ALLOW_NO_PG"


class PostgresUnavailable(RuntimeError):
    pass


def server_url() -> URL:
    """The admin URL, with the driver made explicit (SQLAlchemy 2.1 maps bare postgresql:// to psycopg3)."""
    url = make_url(os.environ.get(SERVER_URL_ENV) or DEFAULT_SERVER_URL)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg2")
    return url


def no_pg_allowed() -> bool:
    return os.environ.get(ALLOW_NO_PG_ENV, "").strip().lower() in ("1", "true", "yes")


def _admin_engine(url: URL) -> sa.Engine:
    return sa.create_engine(
        url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool, connect_args={"connect_timeout": 5}
    )


def check_server(url: URL | None = None) -> None:
    """Raise :class:`PostgresUnavailable` (without the password) if the server does not answer."""
    url = url or server_url()
    engine = _admin_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        safe = url.render_as_string(hide_password=True)
        raise PostgresUnavailable(f"PostgreSQL at {safe} is unreachable: {type(exc.orig).__name__}") from None
    finally:
        engine.dispose()


def require_server() -> URL:
    """The server URL if it answers; otherwise fail, or skip when SPARKLAYER_ERP_ALLOW_NO_PG=1."""
    import pytest

    url = server_url()
    try:
        check_server(url)
    except PostgresUnavailable as exc:
        if no_pg_allowed():
            pytest.skip(f"{exc} ({ALLOW_NO_PG_ENV}=1)")
        pytest.fail(f"{exc}; set {SERVER_URL_ENV}, or {ALLOW_NO_PG_ENV}=1 to skip", pytrace=False)
    return url


def create_database(prefix: str = "sle_test", url: URL | None = None) -> URL:
    """Create an empty, uniquely named database; returns its URL (same server and credentials)."""
    url = url or server_url()
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:10]}".lower()
    engine = _admin_engine(url)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        engine.dispose()
    return url.set(database=name)


def drop_database(database_url: URL, url: URL | None = None) -> None:
    """Drop the database ``database_url`` names, disconnecting anyone still in it."""
    url = url or server_url()
    name = database_url.database
    if not name or name == url.database:
        raise ValueError("refusing to drop the admin database")
    engine = _admin_engine(url)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        engine.dispose()


@contextmanager
def temporary_database(prefix: str = "sle_test", url: URL | None = None) -> Iterator[URL]:
    """``with temporary_database() as db_url:`` a fresh database, dropped afterwards."""
    db_url = create_database(prefix, url)
    try:
        yield db_url
    finally:
        drop_database(db_url, url)
