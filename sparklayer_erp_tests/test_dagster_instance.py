"""The Dagster instance as shipped (dagster.yaml) works on SQLite and on PostgreSQL (deploy/…postgres.yaml)."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest
import yaml

from sparklayer_erp.settings import REPO_ROOT
from sparklayer_erp_tests import pg


@dg.asset(tags={"erp/writer": "orders"})
def probe() -> int:
    return 42


def _run_probe(instance: dg.DagsterInstance) -> None:
    result = dg.materialize([probe], instance=instance)
    assert result.success
    assert instance.get_latest_materialization_event(dg.AssetKey("probe")) is not None
    assert instance.get_runs_count() == 1


def test_shipped_instance_config_limits_erp_writers_and_skips_check_retries():
    config = yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())
    limits = config["concurrency"]["runs"]["tag_concurrency_limits"]
    assert {"key": "erp/writer", "limit": 1} in limits
    assert config["run_retries"]["retry_on_asset_or_op_failure"] is False
    pg_config = yaml.safe_load((REPO_ROOT / "deploy" / "dagster.postgres.yaml").read_text())
    assert pg_config["storage"]["postgres"]["postgres_db"]["scheme"] == "postgresql+psycopg2"
    assert pg_config["concurrency"]["runs"]["tag_concurrency_limits"] == limits


def test_sqlite_instance_from_the_shipped_config(tmp_path: Path):
    shutil.copyfile(REPO_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert type(instance.run_storage).__name__ == "SqliteRunStorage"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        _run_probe(instance)


@pytest.mark.postgres
def test_postgres_instance_from_the_shipped_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    server = pg.require_server()
    with pg.temporary_database("sle_dagster", server) as db_url:
        monkeypatch.setenv("DAGSTER_PG_USERNAME", db_url.username or "postgres")
        monkeypatch.setenv("DAGSTER_PG_PASSWORD", db_url.password or "")
        monkeypatch.setenv("DAGSTER_PG_HOST", db_url.host or "127.0.0.1")
        monkeypatch.setenv("DAGSTER_PG_DB", db_url.database)
        monkeypatch.setenv("DAGSTER_PG_PORT", str(db_url.port or 5432))
        shutil.copyfile(REPO_ROOT / "deploy" / "dagster.postgres.yaml", tmp_path / "dagster.yaml")
        with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
            _run_probe(instance)
