"""The production shape, run for real: Dagster, the ledger and the ERP on PostgreSQL as separate processes,
nothing on a shared disk, and a crash of the code server and the daemon in the middle of an order sync.

Processes, each with its own working directory, ``DAGSTER_HOME`` (a copy of ``deploy/dagster.postgres.yaml``)
and data folder; they share only PostgreSQL and the network:

- the code location as a gRPC server (``dagster api grpc -m sparklayer_erp.definitions -a defs``); the runs it
  launches are its child processes,
- ``dagster-daemon run`` and ``dagster-webserver``, both reading a ``workspace.yaml`` that names the gRPC server,
- Tryton on PostgreSQL (``sparklayer-erp erp serve --postgres``'s code path, built in the background while
  Dagster starts),
- the SparkLayer sandbox (in this process, as the outside system).

The orders of every payment method are placed in the sandbox; the order sensor (``ORDER_AUTOMATION=on``) picks
them up. As soon as the run storage shows an order sync run STARTED, the code server and the daemon get SIGKILL;
more orders arrive while they are down; both are started again. Then: every order exists exactly once in the
ERP, the follow-up writes each ERP order number back to SparkLayer, and a month-end run, launched through the
webserver's GraphQL, completes. The wall time and the kill timeline are printed.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from sqlalchemy.engine import URL

from sparklayer_erp.demo import bootstrap
from sparklayer_erp.demo import tryton_local as local
from sparklayer_erp.demo.sandbox.server import run_sandbox
from sparklayer_erp.erp.tryton import conventions as conv
from sparklayer_erp.erp.tryton.adapter import TrytonErp
from sparklayer_erp.ledger import Ledger
from sparklayer_erp.month_end.partitions import COMPANY_TIMEZONE
from sparklayer_erp.settings import REPO_ROOT
from sparklayer_erp_tests import pg
from sparklayer_erp_tests.erp import warehouse
from sparklayer_erp_tests.fixtures_erp import shop_client
from sparklayer_erp_tests.orders.shop import SITE, Shop

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.tryton]

BIN = Path(sys.executable).parent
LOCATION = "sparklayer_erp"
SYNC_JOB = "order_sync_job"
METHODS = ("on_account", "invoice", "platform_upfront")
LINES = [("SKU-COLA-L", 24)]  # two cases of 12; the ERP and the shop round it alike
BUYER = "C1006"  # no credit limit in the ERP: every order commits
IN_FLIGHT = (dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
             dg.DagsterRunStatus.STARTED)


@dataclass
class Timeline:
    started: float = field(default_factory=time.monotonic)
    events: list[tuple[float, str]] = field(default_factory=list)

    def note(self, what: str) -> None:
        self.events.append((time.monotonic() - self.started, what))

    def render(self) -> str:
        return "\n".join(f"  {at:6.1f}s  {what}" for at, what in self.events)


@dataclass
class Service:
    """One process of the deployment, in its own working directory, with its log beside it."""

    name: str
    argv: list[str]
    cwd: Path
    env: dict[str, str]
    popen: subprocess.Popen | None = None
    groups: list[int] = field(default_factory=list)  # every process group it ever led (runs are children)

    @property
    def log(self) -> Path:
        return self.cwd / f"{self.name}.log"

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.popen = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env, stdout=out,
                                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                          start_new_session=True)
        self.groups.append(self.popen.pid)

    def kill(self) -> int:
        """SIGKILL this process only (its runs keep going, as when a container dies); returns its pid."""
        assert self.popen is not None and self.popen.poll() is None, f"{self.name} is not running"
        pid = self.popen.pid
        os.kill(pid, signal.SIGKILL)
        self.popen.wait(timeout=10)
        self.popen = None  # down until start(); clean-up still reaches its process group
        return pid

    def stop(self) -> None:
        """Clean-up: SIGTERM, then SIGKILL, every process group this service led (orphaned run workers too)."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for group in self.groups:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(group, sig)
            if sig == signal.SIGTERM and self.popen is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.popen.wait(timeout=10)
        if self.popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=10)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else "(no log)"


def _wait(what: str, ready: Callable[[], bool], timeout_s: float, services: list[Service], every_s: float = 0.5):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if ready():
            return
        for service in services:
            if service.popen is not None and service.popen.poll() is not None:
                pytest.fail(f"{service.name} exited ({service.popen.returncode}) while waiting for {what}:\n"
                            f"{service.tail()}")
        time.sleep(every_s)
    logs = "\n".join(f"--- {s.name}\n{s.tail()}" for s in services)
    pytest.fail(f"timed out after {timeout_s:.0f}s waiting for {what}\n{logs}")


def _serving(port: int) -> bool:
    """The code server answers gRPC (it loads the definitions before it serves)."""
    from dagster._grpc.client import DagsterGrpcClient

    with socket.socket() as sock:
        sock.settimeout(0.5)
        if sock.connect_ex(("127.0.0.1", port)) != 0:
            return False
    try:
        DagsterGrpcClient(port=port, host="localhost").ping("ready")
    except Exception:  # not serving yet
        return False
    return True


def _dagster_home(path: Path, db: URL) -> tuple[Path, dict[str, str]]:
    path.mkdir(parents=True)
    shutil.copyfile(REPO_ROOT / "deploy" / "dagster.postgres.yaml", path / "dagster.yaml")
    return path, {"DAGSTER_HOME": str(path), "DAGSTER_PG_USERNAME": db.username or "postgres",
                  "DAGSTER_PG_PASSWORD": db.password or "", "DAGSTER_PG_HOST": db.host or "127.0.0.1",
                  "DAGSTER_PG_DB": str(db.database), "DAGSTER_PG_PORT": str(db.port or 5432)}


def _stop_erp(builds: list[concurrent.futures.Future]) -> None:
    for build in builds:
        if build.done() and build.exception() is None:
            build.result().stop()


def _runs(instance: dg.DagsterInstance, job: str, statuses=None) -> list[dg.DagsterRun]:
    return list(instance.get_runs(filters=dg.RunsFilter(job_name=job, statuses=list(statuses or []))))


def test_production_shape_survives_a_crash_mid_sync(pg_server: URL, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture) -> None:
    timeline = Timeline()
    try:
        _run_production_shape(pg_server, tmp_path, timeline)
    finally:
        with capsys.disabled():
            print(f"\nproduction shape: wall {time.monotonic() - timeline.started:.1f}s\n{timeline.render()}")


def _run_production_shape(pg_server: URL, tmp_path: Path, timeline: Timeline) -> None:
    with ExitStack() as stack:
        # --- three fresh databases: Dagster's run storage, the ledger, Tryton ---------------------------------
        dbs = {}
        for role in ("dagster", "ledger", "tryton"):
            dbs[role] = pg.create_database(f"sle_prod_{role}", pg_server)
            stack.callback(pg.drop_database, dbs[role], pg_server)
        secret = lambda url: url.render_as_string(hide_password=False)  # noqa: E731

        # --- Tryton on PostgreSQL, built in the background while everything else starts ------------------------
        builds: list[concurrent.futures.Future] = []
        stack.callback(_stop_erp, builds)  # after the pool below has waited for a build still under way
        pool = stack.enter_context(concurrent.futures.ThreadPoolExecutor(1))
        (tmp_path / "erp").mkdir()
        erp_port = local.free_port()
        erp_future = pool.submit(local.start_server, port=erp_port, db_copy_dir=tmp_path / "erp",
                                 postgres=secret(dbs["tryton"].set(drivername="postgresql")))
        builds.append(erp_future)
        timeline.note("Tryton build on PostgreSQL started (background)")

        sandbox = stack.enter_context(run_sandbox(tmp_path / "sandbox.sqlite"))
        ledger = Ledger.from_url(secret(dbs["ledger"]))  # migrates the empty ledger database
        stack.callback(ledger.close)

        # --- the Dagster processes ---------------------------------------------------------------------------
        grpc_port, ui_port = local.free_port(), local.free_port()
        ui = f"http://127.0.0.1:{ui_port}"
        common = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "PYTEST_", "TRYTON"))}
        common.update({
            "LEDGER_DATABASE_URL": secret(dbs["ledger"]), "SPARKLAYER_BASE_URL": sandbox.base_url,
            "SPARKLAYER_SITE_ID": SITE["site_id"], "SPARKLAYER_CLIENT_ID": SITE["client_id"],
            "SPARKLAYER_CLIENT_SECRET": SITE["client_secret"], "SPARKLAYER_REQUESTS_PER_SECOND": "100",
            "ERP_URL": f"http://127.0.0.1:{erp_port}", "ERP_DATABASE": dbs["tryton"].database, "ERP_LOGIN": conv.INTEGRATION_LOGIN,
            "ERP_PASSWORD": local.integration_password(), "ORDER_AUTOMATION": "on", "MASTERDATA_AUTOMATION": "off",
            "MONITORING_AUTOMATION": "off", "MONTH_END_AUTOMATION": "off", "ORDER_POLL_SECONDS": "2",
            "DAGSTER_UI_URL": ui, "SPARKLAYER_ERP_ENV_FILE": "",
        })
        workspace = (f"load_from:\n  - grpc_server:\n      host: localhost\n      port: {grpc_port}\n"
                     f"      location_name: {LOCATION}\n")
        services: dict[str, Service] = {}
        for name, argv in {
            "code-server": [str(BIN / "dagster"), "api", "grpc", "--module-name", "sparklayer_erp.definitions",
                            "--attribute", "defs", "--host", "localhost", "--port", str(grpc_port)],
            "daemon": [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"],
            "webserver": [str(BIN / "dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1",
                          "-p", str(ui_port)],
        }.items():
            cwd = tmp_path / name
            cwd.mkdir()
            (cwd / "workspace.yaml").write_text(workspace)
            _, home_env = _dagster_home(tmp_path / f"home-{name}", dbs["dagster"])
            env = {**common, **home_env, "SPARKLAYER_ERP_DATA_DIR": str(tmp_path / f"data-{name}")}
            services[name] = Service(name, argv, cwd, env)
            stack.callback(services[name].stop)
        everyone = list(services.values())
        services["code-server"].start()
        _wait("the code server", lambda: _serving(grpc_port), 120, everyone)
        services["daemon"].start()
        services["webserver"].start()
        timeline.note("code server up; daemon and webserver started")
        server: local.TrytonServer = erp_future.result(timeout=240)
        timeline.note(f"Tryton on PostgreSQL ready at {server.url}")

        # this test's own view of the instance (run storage on PostgreSQL), as a person's shell would have
        home, home_env = _dagster_home(tmp_path / "home-test", dbs["dagster"])
        patch = stack.enter_context(pytest.MonkeyPatch.context())
        for key, value in home_env.items():
            patch.setenv(key, value)
        instance = stack.enter_context(dg.DagsterInstance.from_config(str(home)))

        # --- the shop: a buyer linked as the master-data push would, orders of every payment method ------------
        erp = stack.enter_context(closing(TrytonErp(server.url, server.db_name, server.login, server.password)))
        admin = stack.enter_context(closing(warehouse.admin(server)))
        client = stack.enter_context(shop_client(sandbox, timeout=10.0))
        shop = Shop(sandbox, client, erp, admin)
        buyer = shop.demo(BUYER)
        shop.link(ledger, buyer)
        bootstrap.wait_for_location(ui, timeout_s=120)
        first = [shop.place(buyer, LINES, method) for method in METHODS for _ in range(2)]
        timeline.note(f"{len(first)} orders placed (2 per payment method)")

        # --- crash: SIGKILL the code server and the daemon while a sync run is STARTED -------------------------
        _wait("an order sync run in STARTED", lambda: bool(_runs(instance, SYNC_JOB, [dg.DagsterRunStatus.STARTED])),
              120, everyone, every_s=0.1)
        (in_flight,) = _runs(instance, SYNC_JOB, [dg.DagsterRunStatus.STARTED])
        code_pid = services["code-server"].kill()
        timeline.note(f"SIGKILL code server (pid {code_pid}): sync run {in_flight.run_id[:8]} STARTED")
        daemon_pid = services["daemon"].kill()
        timeline.note(f"SIGKILL daemon (pid {daemon_pid})")
        second = [shop.place(buyer, LINES, method) for method in METHODS]
        timeline.note(f"{len(second)} more orders placed while both are down")
        services["code-server"].start()
        _wait("the restarted code server", lambda: _serving(grpc_port), 120, everyone)
        services["daemon"].start()
        timeline.note("code server and daemon restarted")

        # --- every order exactly once in the ERP ---------------------------------------------------------------
        pids = first + second
        _wait("every order in the ERP", lambda: set(shop.erp_order_count(pids)) == set(pids), 150, everyone)
        timeline.note(f"all {len(pids)} orders are in the ERP")
        _wait("the order sync runs to finish", lambda: not _runs(instance, SYNC_JOB, IN_FLIGHT), 120, everyone)
        assert shop.erp_order_count(pids) == {pid: 1 for pid in pids}
        crashed = instance.get_run_by_id(in_flight.run_id)
        timeline.note(f"the run in flight at the kill ended {crashed.status.value}; "
                      f"{len(_runs(instance, SYNC_JOB))} sync runs in all")

        # --- the follow-up writes the ERP's numbers back to SparkLayer -----------------------------------------
        run_id = bootstrap.launch_job(ui, "order_followup_job")
        assert bootstrap.wait_for_run(ui, run_id, timeout_s=120) == "SUCCESS", services["code-server"].tail()
        timeline.note("order follow-up run SUCCESS")
        rows = erp.rpc.search_read("sale.sale", [(conv.PURCHASE_ID_FIELD, "in", pids)],
                                   [conv.PURCHASE_ID_FIELD, "number"])
        numbers = {row[conv.PURCHASE_ID_FIELD]: row["number"] for row in rows}
        assert all(numbers.values())
        assert {pid: shop.purchase(pid).internal_id for pid in pids} == numbers

        # --- month end, launched through the webserver's GraphQL -----------------------------------------------
        month = dt.datetime.now(ZoneInfo(COMPANY_TIMEZONE)).date().replace(day=1).isoformat()
        run_id = bootstrap.launch_job(ui, "month_end_job", partition=month)
        status = bootstrap.wait_for_run(ui, run_id, timeout_s=120)
        materialized = instance.get_latest_materialization_event(dg.AssetKey("month_end_reconciliation"))
        assert materialized is not None and materialized.run_id == run_id, status
        checks = [e for e in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)]
        assert checks, "the close-ready check did not run"
        passed = checks[-1].get_dagster_event().event_specific_data.passed
        # a month that is not close-ready fails its blocking check (and the run): that is the check working
        assert status == "SUCCESS" if passed else status == "FAILURE"
        timeline.note(f"month-end run for {month[:7]} {status} (close-ready check passed: {passed})")
    timeline.note("all processes stopped, databases dropped")
