"""Shared test set-up: demo credentials in the environment, the real local Tryton, PostgreSQL helpers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import URL

from sparklayer_erp_tests import pg

pytest_plugins = ["sparklayer_erp_tests.conftest_tryton", "sparklayer_erp_tests.netsuite_fixtures"]


@pytest.fixture(autouse=True)
def _demo_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Tests never read a developer's real credentials or data folder."""
    monkeypatch.setenv("SPARKLAYER_CLIENT_SECRET", "demo-secret")
    monkeypatch.setenv("ERP_PASSWORD", "integration-demo-pass")
    monkeypatch.setenv("SPARKLAYER_ERP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SPARKLAYER_ERP_ENV_FILE", "")  # a developer's .env never leaks into a test
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    # One look per order-sensor tick: a tick that finds nothing returns at once (tests of the watch set it lower).
    monkeypatch.setenv("ORDER_POLL_SECONDS", "5")


@pytest.fixture(scope="session")
def pg_server() -> URL:
    """The PostgreSQL server of this session (SPARKLAYER_ERP_TEST_PG_URL, else 127.0.0.1:5432 if it answers,
    else a throw-away cluster started now and removed at session end; its URL is exported for subprocesses)."""
    return pg.require_server()


@pytest.fixture
def pg_url(pg_server: URL) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test, dropped afterwards."""
    with pg.temporary_database("sle_test", pg_server) as url:
        yield url.render_as_string(hide_password=False)


def pytest_sessionfinish(session: pytest.Session) -> None:
    pg.SESSION.stop()  # the throw-away PostgreSQL, if this session started one
