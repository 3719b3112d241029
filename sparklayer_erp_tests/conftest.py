"""Shared test set-up: demo credentials in the environment, the real local Tryton, PostgreSQL helpers."""

from __future__ import annotations

import pytest

pytest_plugins = ["sparklayer_erp_tests.conftest_tryton"]


@pytest.fixture(autouse=True)
def _demo_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Tests never read a developer's real credentials or data folder."""
    monkeypatch.setenv("SPARKLAYER_CLIENT_SECRET", "demo-secret")
    monkeypatch.setenv("ERP_PASSWORD", "integration-demo-pass")
    monkeypatch.setenv("SPARKLAYER_ERP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SPARKLAYER_ERP_ENV_FILE", "")  # a developer's .env never leaks into a test
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
