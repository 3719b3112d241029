"""Hand-offs between runs live in the ledger database: a push or a check runs alone, in another run (or on
another machine's Dagster instance), from what an earlier run stored; nothing is pickled on the local disk;
old rows go. On SQLite and PostgreSQL ledgers, against the real local Tryton and the SparkLayer sandbox."""

from __future__ import annotations

import datetime as dt
import json
import zlib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from sparklayer_erp.demo.sandbox.app import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_SITE_ID
from sparklayer_erp.demo.sandbox.server import SandboxHandle, run_sandbox
from sparklayer_erp.domain.models import OwnerTeam
from sparklayer_erp.domain.reconciliation import reconcile_month
from sparklayer_erp.ledger import Ledger
from sparklayer_erp.masterdata.assets import (
    MASTERDATA_ASSETS,
    MASTERDATA_CHECKS,
    customers_have_account_codes,
)
from sparklayer_erp.masterdata.definitions import master_data_stock_job
from sparklayer_erp.masterdata.extract import Extract
from sparklayer_erp.masterdata.sync import PricesOutcome
from sparklayer_erp.plumbing.handoff import FORMAT, LedgerHandoffIOManager
from sparklayer_erp.plumbing.handoff_codec import HandoffError, decode, encode
from sparklayer_erp.resources import ErpResource, LedgerResource, PolicyResource, SparkLayerResource
from sparklayer_erp.sparklayer.models import SyncLogError
from sparklayer_erp_tests.domain.recon_builders import AS_OF, MONTH_END, MONTH_START, Frames
from sparklayer_erp_tests.pg import require_server, temporary_database

PICKLE_MAGIC = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty ledger database of each kind (the ledger tests' ``empty_url`` pattern)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.sqlite'}"
        return
    with temporary_database("sle_handoff", require_server()) as url:
        yield url.render_as_string(hide_password=False)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxHandle]:
    with run_sandbox(tmp_path / "sandbox.sqlite") as handle:
        yield handle


def _home(tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / name
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def _resources(tryton: Any, sandbox: SandboxHandle, ledger_url: str) -> dict[str, Any]:
    """The project's resources against the real Tryton and sandbox, with the ledger hand-off I/O manager."""
    return {
        "erp": ErpResource(url=tryton.url, database=tryton.db_name, login=tryton.login, password=tryton.password),
        "ledger": LedgerResource(database_url=ledger_url),
        "sparklayer": SparkLayerResource(
            base_url=sandbox.base_url, site_id=DEFAULT_SITE_ID, client_id=DEFAULT_CLIENT_ID,
            client_secret=DEFAULT_CLIENT_SECRET, requests_per_second="1000"),
        "policy": PolicyResource(stock_safety_buffer="0"),
        "io_manager": LedgerHandoffIOManager(database_url=ledger_url),
    }


def _pickles_under(folder: Path) -> list[str]:
    found = []
    for path in folder.rglob("*") if folder.exists() else ():
        if path.is_file():
            with path.open("rb") as fh:
                if fh.read(2) in PICKLE_MAGIC:
                    found.append(str(path.relative_to(folder)))
    return found


def _materialization(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, Any]:
    events = [e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == asset]
    assert len(events) == 1
    return {k: v.value for k, v in events[0].materialization.metadata.items()}


@pytest.mark.tryton
@pytest.mark.slow
def test_a_push_runs_alone_from_the_stored_extract_and_nothing_is_pickled_on_disk(
        tryton_server, sandbox, ledger_url, tmp_path, monkeypatch):
    home = _home(tmp_path, "dagster_home", monkeypatch)
    resources = _resources(tryton_server, sandbox, ledger_url)
    defs = dg.Definitions(assets=MASTERDATA_ASSETS, asset_checks=MASTERDATA_CHECKS, jobs=[master_data_stock_job],
                          resources=resources)
    with dg.DagsterInstance.get() as instance:
        first = defs.resolve_job_def("master_data_stock_job").execute_in_process(instance=instance)
        assert first.success
        extracted = _materialization(first, "erp_stock")
        assert extracted["valid"] > 0 and _materialization(first, "sparklayer_stock")["pushed"] > 0

        # The push alone, in a run of its own: its input is the extract the first run stored in the ledger.
        alone = dg.materialize([*MASTERDATA_ASSETS, *MASTERDATA_CHECKS], selection=["sparklayer_stock"],
                               instance=instance, resources=resources)
        assert alone.success
        assert {e.step_key for e in alone.all_events if e.is_step_start} == {"sparklayer_stock"}
        pushed_again = _materialization(alone, "sparklayer_stock")
        # every row came back, exactly: the same content hashes, so nothing is sent twice
        assert pushed_again["considered"] == extracted["valid"]
        assert pushed_again["changed"] == 0 and pushed_again["write_requests"] == 0

    with Ledger(ledger_url) as ledger:
        stored = {(h["key"], h["partition"]): h for h in ledger.handoffs()}
    assert set(stored) == {("erp_stock", "")}  # the push hands nothing on (MaterializeResult)
    assert stored[("erp_stock", "")]["run_id"] == first.run_id
    assert _pickles_under(home / "storage") == []
    assert not any(p.name == "erp_stock" for p in home.rglob("*"))

    # Another machine: a Dagster instance on its own, empty disk runs the push from the ledger alone.
    other_home = _home(tmp_path, "other_dagster_home", monkeypatch)
    with dg.DagsterInstance.get() as other:
        elsewhere = dg.materialize([*MASTERDATA_ASSETS, *MASTERDATA_CHECKS], selection=["sparklayer_stock"],
                                   instance=other, resources=resources)
    assert elsewhere.success and _materialization(elsewhere, "sparklayer_stock")["changed"] == 0
    assert _pickles_under(other_home / "storage") == []


@pytest.mark.tryton
@pytest.mark.slow
def test_a_check_runs_alone_from_the_stored_extract(tryton_server, sandbox, ledger_url, tmp_path, monkeypatch):
    _home(tmp_path, "dagster_home", monkeypatch)
    resources = _resources(tryton_server, sandbox, ledger_url)
    assets = [*MASTERDATA_ASSETS, *MASTERDATA_CHECKS]
    check_job = dg.define_asset_job("account_codes_check", selection=dg.AssetSelection.checks(
        customers_have_account_codes))
    defs = dg.Definitions(assets=MASTERDATA_ASSETS, asset_checks=MASTERDATA_CHECKS, jobs=[check_job],
                          resources=resources)
    with dg.DagsterInstance.get() as instance:
        assert dg.materialize(assets, selection=["erp_customers"], instance=instance, resources=resources).success
        alone = defs.resolve_job_def("account_codes_check").execute_in_process(instance=instance)
    assert alone.success
    assert {e.step_key for e in alone.all_events if e.is_step_start} == {
        "erp_customers_customers_have_account_codes"}
    evaluations = {e.check_name: e for e in alone.get_asset_check_evaluations()}
    assert set(evaluations) == {"customers_have_account_codes"}
    assert evaluations["customers_have_account_codes"].metadata["customers_checked"].value > 0


def test_a_push_with_nothing_stored_fails_saying_what_to_materialise(ledger_url, tmp_path, monkeypatch):
    _home(tmp_path, "dagster_home", monkeypatch)
    resources = {  # the run stops at loading its input: the ERP and SparkLayer are never called
        "erp": ErpResource(url="http://127.0.0.1:9", database="x", login="x", password="x"),
        "ledger": LedgerResource(database_url=ledger_url),
        "sparklayer": SparkLayerResource(base_url="http://127.0.0.1:9", site_id="s", client_id="c",
                                         client_secret="x"),
        "policy": PolicyResource(),
        "io_manager": LedgerHandoffIOManager(database_url=ledger_url),
    }
    with dg.DagsterInstance.get() as instance:
        result = dg.materialize([*MASTERDATA_ASSETS, *MASTERDATA_CHECKS], selection=["sparklayer_stock"],
                                instance=instance, resources=resources, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "nothing stored for erp_stock: materialise it first" in str(failure.event_specific_data.error)


def test_retention_deletes_old_rows_when_new_ones_are_written(ledger_url):
    now = dt.datetime(2026, 12, 11, 12, 0, tzinfo=dt.UTC)
    with Ledger.from_url(ledger_url) as ledger:
        ledger.save_handoff("erp_prices", "", run_id="r1", format=FORMAT, payload=b"old", keep_days=7,
                            now=now - dt.timedelta(days=9))
        ledger.save_handoff("month_end_reconciliation", "2026-10-01", run_id="r2", format=FORMAT,
                            payload=b"recent", keep_days=7, now=now - dt.timedelta(days=6))
        ledger.save_handoff("erp_stock", "", run_id="r3", format=FORMAT, payload=b"v1", keep_days=7,
                            now=now - dt.timedelta(days=8))
        # a new write: the stock row is replaced (not aged out), the untouched prices row goes
        deleted = ledger.save_handoff("erp_stock", "", run_id="r4", format=FORMAT, payload=b"v2", keep_days=7,
                                      now=now)
        assert deleted == 1
        assert [(h["key"], h["partition"], h["run_id"]) for h in ledger.handoffs()] == [
            ("erp_stock", "", "r4"), ("month_end_reconciliation", "2026-10-01", "r2")]
        assert ledger.load_handoff("erp_stock", "")["payload"] == b"v2"
        assert ledger.load_handoff("erp_prices", "") is None
        with pytest.raises(ValueError, match="at least one day"):
            ledger.save_handoff("erp_stock", "", run_id="r5", format=FORMAT, payload=b"v3", keep_days=0)


def test_the_io_manager_applies_the_retention_setting_and_keys_by_partition(ledger_url):
    with Ledger.from_url(ledger_url) as ledger:
        ledger.save_handoff("erp_items", "", run_id="r0", format=FORMAT, payload=encode(1), keep_days=30,
                            now=dt.datetime.now(dt.UTC) - dt.timedelta(days=3))
    manager = LedgerHandoffIOManager(database_url=ledger_url, retention_days="2")
    key = dg.AssetKey("month_end_reconciliation")
    months = dg.MonthlyPartitionsDefinition(start_date="2026-01-01")
    for month, value in (("2026-10-01", {"m": 10}), ("2026-11-01", {"m": 11})):
        manager.handle_output(dg.build_output_context(asset_key=key, partition_key=month, run_id="run-x",
                                                      asset_partitions_def=months), value)
    with Ledger(ledger_url) as ledger:
        assert {(h["key"], h["partition"]) for h in ledger.handoffs()} == {
            ("month_end_reconciliation", "2026-10-01"), ("month_end_reconciliation", "2026-11-01")}
    loaded = manager.load_input(dg.build_input_context(asset_key=key, partition_key="2026-11-01",
                                                       asset_partitions_def=months))
    assert loaded == {"m": 11}
    with pytest.raises(dg.Failure, match="HANDOFF_RETENTION_DAYS"):
        manager.load_input(dg.build_input_context(asset_key=dg.AssetKey("erp_items")))
    with pytest.raises(Exception, match="HANDOFF_RETENTION_DAYS must be at least 1"):
        LedgerHandoffIOManager(database_url=ledger_url, retention_days="0").keep_days()


# --- the format: exact, and never more than our own types ----------------------------------------------------


def _frames_equal(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    for column in a.columns:  # cell types too (Decimal stays Decimal, list stays list, ...)
        assert [type(v) for v in a[column].tolist()] == [type(v) for v in b[column].tolist()], column


def test_an_extract_comes_back_exactly():
    valid = pd.DataFrame({
        "sku": pd.Series(["A-1", "B-2", None], dtype="str"),
        "on_hand": [Decimal("12.500"), Decimal("-0"), None],
        "pack_size": [12, 1, 6],
        "active": [True, False, True],
        "share": [0.1, float("nan"), 1e-300],
        "addresses": [[{"city": "Leeds", "lines": ("1 High St",)}], [], None],
        "seen": pd.to_datetime(["2026-10-01T09:00:00Z", None, "2026-12-31T23:59:59.123456Z"], format="ISO8601"),
        "day": [dt.date(2026, 10, 1), None, dt.date(2026, 2, 28)],
        "kind": pd.Categorical(["x", "y", "x"], categories=["y", "x"], ordered=True),
        "count64": np.array([1, 2, 3], dtype=np.int32),
    }, index=pd.Index([3, 7, 11]))
    quarantined = valid.iloc[:0].assign(reasons=pd.Series([], dtype=object))
    extract = Extract("stock", valid, quarantined)
    back = decode(encode(extract))
    assert isinstance(back, Extract) and back.dataset == "stock"
    _frames_equal(back.valid, extract.valid)
    _frames_equal(back.quarantined, extract.quarantined)


def test_push_outcomes_and_a_months_reconciliation_come_back_exactly():
    outcome = PricesOutcome("prices", "prices", considered=3, created=["trade"],
                            errors=[SyncLogError("SKU-1", "refused", visible_id="SKU 1")],
                            price_list_slugs=frozenset({"trade", "wholesale"}))
    assert decode(encode(outcome)) == outcome

    frames = Frames().sl("P1").erp(1, "P1").invoice(1, "INV1").sl("P2", total="50.00").frames()
    recon = reconcile_month(frames["sl_orders"], frames["erp_orders"], frames["erp_invoices"],
                            frames["erp_payments"], as_of=AS_OF, month_start=MONTH_START, month_end=MONTH_END)
    back = decode(encode(recon))
    assert (back.month_start, back.as_of, back.amount_tolerance) == (recon.month_start, recon.as_of,
                                                                     recon.amount_tolerance)
    for name in ("orders", "by_customer", "by_payment_method", "by_class", "erp_orders_claiming_unknown_purchase"):
        _frames_equal(getattr(back, name), getattr(recon, name))
    assert back.totals == recon.totals
    assert decode(encode({OwnerTeam.FINANCE: (1, None)})) == {OwnerTeam.FINANCE: (1, None)}


def test_only_our_own_types_are_written_or_read_back():
    with pytest.raises(HandoffError, match="cannot be handed off"):
        encode(object())
    smuggled = zlib.compress(json.dumps({"$": "dataclass", "cls": "subprocess:Popen", "v": {"args": "id"}}).encode())
    with pytest.raises(HandoffError, match="not one of the project's types"):
        decode(smuggled)
