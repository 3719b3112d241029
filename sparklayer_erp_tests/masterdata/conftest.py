"""A world for the master-data flow: the real Tryton demo company, a real sandbox over loopback HTTP, a
ledger on SQLite and one ephemeral Dagster instance whose IO manager keeps asset values between runs.

``world`` is module-scoped: the sync tests are a story (first sync, nothing changed, ERP changes, ...),
each test counting the writes the sandbox logged since it started.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from sparklayer_erp.demo.sandbox.app import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_SITE_ID
from sparklayer_erp.demo.sandbox.server import SandboxHandle, run_sandbox
from sparklayer_erp.erp.tryton.adapter import TrytonErp
from sparklayer_erp.ledger import Ledger
from sparklayer_erp.masterdata.assets import MASTERDATA_ASSETS, MASTERDATA_CHECKS
from sparklayer_erp.resources import ErpResource, LedgerResource, PolicyResource, SparkLayerResource
from sparklayer_erp.sparklayer.client import SparkLayerClient
from sparklayer_erp_tests.masterdata.junk import JunkErpResource


@dataclass
class World:
    tryton: Any
    sandbox: SandboxHandle
    instance: dg.DagsterInstance
    root: Path
    share_limit: str = "0.2"
    created_parties: list[int] = field(default_factory=list)

    @property
    def ledger_url(self) -> str:
        return f"sqlite:///{self.root / 'ledger.sqlite'}"

    @property
    def ledger(self) -> Ledger:
        return LedgerResource(database_url=self.ledger_url).ledger()

    def erp_resource(self, scenario: str | None = None) -> ErpResource:
        t = self.tryton
        if scenario:
            return JunkErpResource(url=t.url, database=t.db_name, login=t.login, password=t.password,
                                   scenario=scenario)
        return ErpResource(url=t.url, database=t.db_name, login=t.login, password=t.password)

    def port(self) -> TrytonErp:
        t = self.tryton
        return TrytonErp(t.url, t.db_name, t.login, t.password)

    def client(self) -> SparkLayerClient:
        return SparkLayerClient(self.sandbox.base_url, DEFAULT_SITE_ID, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET,
                                requests_per_second=None)

    def resources(self, scenario: str | None = None, pack_size_mode: str = "variants") -> dict[str, Any]:
        return {
            "erp": self.erp_resource(scenario),
            "ledger": LedgerResource(database_url=self.ledger_url),
            "sparklayer": SparkLayerResource(
                base_url=self.sandbox.base_url, site_id=DEFAULT_SITE_ID, client_id=DEFAULT_CLIENT_ID,
                client_secret=DEFAULT_CLIENT_SECRET, requests_per_second="1000", pack_size_mode=pack_size_mode),
            "policy": PolicyResource(stock_safety_buffer="0", mass_quarantine_share=self.share_limit),
            "io_manager": dg.FilesystemIOManager(base_dir=str(self.root / "io")),
        }

    def materialize(self, selection: list[str] | None = None, *, scenario: str | None = None,
                    run_config: Mapping[str, Any] | None = None, **resource_options: Any) -> dg.ExecuteInProcessResult:
        return dg.materialize(
            [*MASTERDATA_ASSETS, *MASTERDATA_CHECKS], selection=selection, instance=self.instance,
            resources=self.resources(scenario, **resource_options), run_config=dict(run_config or {}),
            raise_on_error=False,
        )

    def last_seq(self) -> int:
        writes = self.sandbox.admin.writes()
        return writes[-1]["seq"] if writes else 0

    def writes_since(self, seq: int) -> list[dict[str, Any]]:
        """The writes SparkLayer received after ``seq``, less those refused 401. The process shares access
        tokens per base URL, and a sandbox of an earlier test module may have had this port: the client then
        renews its token and sends the write again, which is one write, not two."""
        return [w for w in self.sandbox.admin.writes(since=seq) if w.get("status") != 401]


def make_world(tryton: Any, root: Path) -> Iterator[World]:
    with run_sandbox(root / "sandbox.sqlite") as sandbox, dg.DagsterInstance.ephemeral() as instance:
        world = World(tryton=tryton, sandbox=sandbox, instance=instance, root=root)
        yield world


@pytest.fixture(scope="module")
def world(tryton_server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from make_world(tryton_server, tmp_path_factory.mktemp("masterdata"))


def materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def check_results(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    return {f"{e.asset_key.to_user_string()}:{e.check_name}": e for e in result.get_asset_check_evaluations()}


def executed_steps(result: dg.ExecuteInProcessResult) -> set[str]:
    return {e.step_key for e in result.all_events if e.step_key and e.is_step_start}
