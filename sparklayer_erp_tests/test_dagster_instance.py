"""The Dagster instance as shipped (dagster.yaml) works on SQLite and on PostgreSQL (deploy/…postgres.yaml)."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest
import yaml

from sparklayer_erp.settings import REPO_ROOT
from sparklayer_erp_tests import pg


@dg.asset(tags={"erp/orders": "sync"})
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
    assert {"key": "erp/orders", "limit": 2} in limits
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


def _limits_hit(tags: dict[str, str], limits: list[dict]) -> set[tuple[str, str | None]]:
    """The (key, value) limits a run with these tags counts against, as the queued coordinator applies them."""
    return {(lim["key"], lim.get("value")) for lim in limits
            if lim["key"] in tags and lim.get("value") in (None, tags[lim["key"]])}


def test_order_sync_never_shares_a_limit_with_follow_up_or_master_data_when_it_only_creates():
    from sparklayer_erp.definitions import defs
    from sparklayer_erp.orders.assets import NEW_ONLY, ORDER_STATE_KEY

    limits = yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())["concurrency"]["runs"]["tag_concurrency_limits"]
    # two order syncs may overlap (the next starts up while the last creates and records); everything else: one
    assert all(lim["limit"] == (2 if lim["key"] == "erp/orders" else 1) for lim in limits)
    job_tags = {name: dict(defs.resolve_job_def(name).tags) for name in (
        "order_sync_job", "order_followup_job", "master_data_stock_job", "master_data_customers_prices_job",
        "master_data_full_job", "master_data_resend_job")}
    sync, followup = _limits_hit(job_tags["order_sync_job"], limits), _limits_hit(job_tags["order_followup_job"], limits)
    masterdata = [_limits_hit(tags, limits) for name, tags in job_tags.items() if name.startswith("master_data")]
    assert ("erp/orders", None) in sync and ("erp/followup", None) in followup
    assert all(md == {("erp/masterdata", None)} for md in masterdata)
    assert not any(sync & md or followup & md for md in masterdata)
    # a sweep or a batch with changes is serialised with the follow-up (amend vs approval), ...
    assert sync & followup == {(ORDER_STATE_KEY, "writes")}
    # ... a sensor batch of brand-new orders is not
    new_only = _limits_hit({**job_tags["order_sync_job"], ORDER_STATE_KEY: NEW_ONLY}, limits)
    assert new_only == {("erp/orders", None)} and not new_only & followup


def test_housekeeping_runs_yield_the_processor_and_order_syncs_do_not():
    from sparklayer_erp.definitions import defs
    from sparklayer_erp.plumbing.cpu_priority import CPU_TAG_KEY

    background = {"order_followup_job", "master_data_stock_job", "master_data_customers_prices_job",
                  "master_data_full_job", "master_data_resend_job", "drift_monitor_job", "exceptions_job",
                  "month_end_job"}
    tagged = {job.name for job in defs.get_repository_def().get_all_jobs() if job.tags.get(CPU_TAG_KEY) == "background"}
    assert tagged == background  # the order sync (sensor batches and the sweep) keeps normal priority
