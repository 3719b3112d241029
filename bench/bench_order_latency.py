"""Latency from an order placed in the SparkLayer sandbox to its ERP order existing, with the order sensor
running in a real Dagster deployment.

Starts a local Tryton (fresh copy of the demo company) and the sandbox, writes the customer links to a fresh
ledger, then Dagster with ``ORDER_AUTOMATION=on`` (sensor and order schedules running) and the repo's instance
file (tag limits per kind of ERP write, queued runs):

- default: ``dagster dev`` (webserver + daemon + code server in one process tree, SQLite storage, the repo's
  ``dagster.yaml``);
- ``--postgres``: the production shape — the code location as a gRPC server, ``dagster-daemon run`` and
  ``dagster-webserver`` as separate processes, Dagster's storage and the ledger on PostgreSQL
  (``deploy/dagster.postgres.yaml``). The server is ``SPARKLAYER_ERP_TEST_PG_URL``, else 127.0.0.1:5432, else a
  throw-away cluster (as the tests find one). Tryton stays on its SQLite copy: the ERP is the outside system.

It checks through GraphQL that the sensor is on, places ``--orders`` orders one every ``--every`` seconds and
polls the ERP for each purchase id. ``--overlap`` keeps a follow-up run and a master-data run in flight for the
whole burst (each launched again as soon as it ends), to show that a new order never waits for them. Prints
p50/p95/max, the per-stage breakdown (p50/p95) from each order-sync run's ``stage_timings`` metadata with the run
queue split out (Dagster's dequeue event), and how long the batches requested while a follow-up or master-data
run was in flight waited in the queue.

Run workers load the code from compiled bytecode, as in the production image (pip compiles the package when it
installs it); a development shell with ``PYTHONDONTWRITEBYTECODE=1`` would make every run compile the package
again, so the bench gives its Dagster processes a bytecode cache in its temporary folder
(``--no-bytecode-cache`` to measure without).

    .venv/bin/python bench/bench_order_latency.py --orders 100 --overlap
    .venv/bin/python bench/bench_order_latency.py --orders 100 --overlap --postgres
    .venv/bin/python bench/bench_order_latency.py --startup 10     # only the run worker's start-up cost
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from sparklayer_erp.demo import bootstrap, demo_data
from sparklayer_erp.demo.sandbox.server import SandboxHandle, run_sandbox
from sparklayer_erp.demo.tryton_local import start_server
from sparklayer_erp.domain.money import round_unit_price
from sparklayer_erp.erp.tryton.adapter import TrytonErp
from sparklayer_erp.ledger import Ledger
from sparklayer_erp.sparklayer.client import SparkLayerClient

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LOCATION = bootstrap.LOCATION
# GBP trade customers with room on account: the master-data push running beside the burst (--overlap) writes
# the ERP's real credit terms to SparkLayer, and pay on account needs a credit limit there.
CUSTOMERS = [c for c in demo_data.CUSTOMERS if c.credit_limit is not None and c.credit_limit >= 4000
             and not c.on_credit_hold and c.currency == "GBP"]
SKUS = [p for p in demo_data.PRODUCTS if p.pack_size in (6, 12)]
METHODS = ("on_account", "invoice", "platform_upfront")
SYNC_JOB, FOLLOWUP_JOB, MASTERDATA_JOB = "order_sync_job", "order_followup_job", "master_data_full_job"
SENSOR_QUERY = """query { sensorOrError(sensorSelector: {repositoryLocationName: "%s", repositoryName: "__repository__",
  sensorName: "order_sensor"}) { ... on Sensor { id sensorState { status } } } }"""
START_SENSOR = """mutation { startSensor(sensorSelector: {repositoryLocationName: "%s", repositoryName: "__repository__",
  sensorName: "order_sensor"}) { ... on Sensor { sensorState { status } } ... on PythonError { message } } }"""
RUN_STATUS = """query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"""
ENDED = ("SUCCESS", "FAILURE", "CANCELED")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def graphql(url: str, query: str, variables: dict | None = None) -> dict:
    response = httpx.post(f"{url}/graphql", json={"query": query, "variables": variables or {}}, timeout=30)
    response.raise_for_status()
    return response.json()["data"]


def stop_group(process: subprocess.Popen) -> None:
    """Stop a process and everything it started (its own process group, made for it at launch)."""
    for sig, wait in ((signal.SIGINT, 30.0), (signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            process.poll()
            try:
                os.killpg(process.pid, 0)  # anyone left in the group?
            except ProcessLookupError:
                return
            time.sleep(0.2)


@dataclass
class OrderStack:
    """Everything a bench needs once the stack is up: the shop, the ERP, the webserver and the instance."""

    work: Path
    home: Path  # a DAGSTER_HOME whose dagster.yaml reaches the deployment's run storage
    url: str  # the webserver
    mode: str
    sandbox: SandboxHandle
    erp: TrytonErp
    items: dict[str, Any]
    instance_env: dict[str, str] = field(default_factory=dict)
    _prices: dict[tuple, Decimal] = field(default_factory=dict)

    def unit_price(self, account: str, sku: str, units: int) -> Decimal:
        product = self.items[sku]
        key = (account, sku, units)
        if key not in self._prices:
            case = self.erp.customer_price(account, sku, Decimal(units // product.pack_size),
                                           product.sale_unit.name)
            self._prices[key] = round_unit_price(case / product.pack_size)
        return self._prices[key]

    def order_spec(self, n: int) -> tuple[Any, Any, int, dict[str, Decimal]]:
        """The ``n``-th order of a run: customer, SKU, quantity and payment method rotate; ERP prices."""
        c = CUSTOMERS[n % len(CUSTOMERS)]
        product = SKUS[(n * 7) % len(SKUS)]
        units = product.pack_size * (1 + n % 3)
        return c, product, units, {product.sku: self.unit_price(c.account_code, product.sku, units)}

    def place(self, n: int, tag: str, *, in_process: bool = False) -> str:
        """Check out the ``n``-th order (``order_spec``); returns its purchase id. ``in_process`` checks out
        without HTTP (a burst: no time lost between orders)."""
        c, product, units, prices = self.order_spec(n)
        if in_process:
            order = self.sandbox.sandbox.place_order(c.sparklayer_id, [{"sku": product.sku, "quantity": units}],
                                                     METHODS[n % 3], po_number=f"{tag}-{n:05d}",
                                                     unit_price_overrides={k: str(v) for k, v in prices.items()})
        else:
            order = self.sandbox.admin.place_order(c.sparklayer_id, [(product.sku, units)], METHODS[n % 3],
                                                   po_number=f"{tag}-{n:05d}", unit_price_overrides=prices)
        return str(order["purchase_identifiers"]["sparklayer"])

    def launch(self, job: str) -> str:
        return bootstrap.launch_job(self.url, job)

    def run_status(self, run_id: str) -> str | None:
        return (graphql(self.url, RUN_STATUS, {"id": run_id})["runOrError"] or {}).get("status")

    @contextlib.contextmanager
    def instance(self) -> Iterator[Any]:
        import dagster as dg  # the bench process itself needs Dagster only to read the run storage

        saved = {k: os.environ.get(k) for k in self.instance_env}
        os.environ.update(self.instance_env)
        try:
            with dg.DagsterInstance.from_config(str(self.home)) as instance:
                yield instance
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def _prepare_shop(sandbox: SandboxHandle, ledger_url: str) -> None:
    """What the master-data push provides: the customer links, and credit in SparkLayer."""
    client = SparkLayerClient(sandbox.base_url, "demo-site", "demo-client", "demo-secret")
    with Ledger.from_url(ledger_url) as ledger:
        for c in CUSTOMERS:
            ledger.upsert_customer_link(c.account_code, c.sparklayer_id, c.platform_id, c.email)
            raw = dict(client.get_customer("sparklayer", c.sparklayer_id).raw)
            raw["payment_on_account"] = {"credit_limit": 10**9, "balance": 0, "currency_code": "GBP"}
            client.upsert_customer("sparklayer", c.sparklayer_id, raw)


def _wait_for_sensor(url: str, timeout_s: float, alive: list[subprocess.Popen]) -> str | None:
    started, state = time.monotonic(), None
    while time.monotonic() - started < timeout_s:
        dead = [p for p in alive if p.poll() is not None]
        if dead:
            raise RuntimeError(f"a Dagster process exited ({dead[0].args[:3]}) before the sensor was up")
        try:
            data = graphql(url, SENSOR_QUERY % LOCATION)["sensorOrError"]
            state = (data or {}).get("sensorState", {}).get("status")
            if state:
                break
        except (httpx.HTTPError, KeyError, TypeError):
            pass
        time.sleep(1)
    if state != "RUNNING":
        graphql(url, START_SENSOR % LOCATION)
    return state


@contextlib.contextmanager
def order_stack(*, postgres: bool = False, bytecode_cache: bool = True, env: dict[str, str] | None = None,
                prefix: str = "bench-orders-") -> Iterator[OrderStack]:
    """Tryton, the sandbox, the ledger and Dagster (``dagster dev`` on SQLite, or the multi-process PostgreSQL
    shape), up and with the order sensor running; everything stopped and removed on exit."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    with contextlib.ExitStack() as stack:
        server = start_server(db_copy_dir=work)
        stack.callback(server.stop)
        erp = TrytonErp(server.url, server.db_name, server.login, server.password)
        sandbox = stack.enter_context(run_sandbox(work / "shop.sqlite"))
        instance_env: dict[str, str] = {}
        pg_urls: dict[str, Any] = {}
        if postgres:
            sys.path.insert(0, str(REPO))  # the tests package is not installed
            from sparklayer_erp_tests import pg  # finds or starts a server the way the tests do

            admin_url = pg.SESSION.url()
            stack.callback(pg.SESSION.stop)
            for role in ("dagster", "ledger"):
                pg_urls[role] = pg.create_database(f"sle_bench_{role}", admin_url)
                stack.callback(pg.drop_database, pg_urls[role], admin_url)
            db = pg_urls["dagster"]
            instance_env = {"DAGSTER_PG_USERNAME": db.username or "postgres", "DAGSTER_PG_PASSWORD": db.password or "",
                            "DAGSTER_PG_HOST": db.host or "127.0.0.1", "DAGSTER_PG_DB": str(db.database),
                            "DAGSTER_PG_PORT": str(db.port or 5432)}
            ledger_url = pg_urls["ledger"].render_as_string(hide_password=False)
        else:
            ledger_url = f"sqlite:///{work}/ledger.sqlite"
        _prepare_shop(sandbox, ledger_url)

        base = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "PYTEST_"))}
        base.update({"ORDER_AUTOMATION": "on", "MASTERDATA_AUTOMATION": "off", "MONITORING_AUTOMATION": "off",
                     "MONTH_END_AUTOMATION": "off", "SPARKLAYER_ERP_ENV_FILE": "",
                     "SPARKLAYER_BASE_URL": sandbox.base_url, "SPARKLAYER_SITE_ID": "demo-site",
                     "SPARKLAYER_CLIENT_ID": "demo-client", "SPARKLAYER_CLIENT_SECRET": "demo-secret",
                     "ERP_URL": server.url, "ERP_DATABASE": server.db_name, "ERP_LOGIN": server.login,
                     "ERP_PASSWORD": server.password, "LEDGER_DATABASE_URL": ledger_url,
                     "PYTHONPATH": os.pathsep.join([str(work), str(REPO), os.environ.get("PYTHONPATH", "")]),
                     **instance_env, **(env or {})})
        if bytecode_cache:
            base.pop("PYTHONDONTWRITEBYTECODE", None)
            base["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
            subprocess.run([sys.executable, "-W", "ignore", "-c", "import sparklayer_erp.definitions, dagster_webserver"],
                           env=base, check=True, cwd=work)  # compile once, before any process races to
        started = time.monotonic()
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        processes: list[subprocess.Popen] = []

        def spawn(name: str, argv: list[str], cwd: Path, home: Path) -> None:
            log = open(work / f"{name}.log", "wb")  # noqa: SIM115 - closed with the stack
            stack.callback(log.close)
            process = subprocess.Popen(argv, cwd=cwd, env={**base, "DAGSTER_HOME": str(home),
                                                           "SPARKLAYER_ERP_DATA_DIR": str(work / f"data-{name}")},
                                       stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True)
            stack.callback(stop_group, process)
            processes.append(process)

        def dagster_home(name: str, instance_file: Path) -> Path:
            home = work / f"home-{name}"
            home.mkdir()
            shutil.copyfile(instance_file, home / "dagster.yaml")
            return home

        if postgres:
            instance_file = REPO / "deploy" / "dagster.postgres.yaml"
            grpc_port = free_port()
            workspace = (f"load_from:\n  - grpc_server:\n      host: localhost\n      port: {grpc_port}\n"
                         f"      location_name: {LOCATION}\n")
            # Dagster's tables first, once, as a deployment's migrate step does: processes starting together on
            # an empty database race to create them ("type snapshots already exists").
            subprocess.run([str(BIN / "dagster"), "instance", "migrate"], cwd=work, check=True,
                           stdout=subprocess.DEVNULL, env={**base, "DAGSTER_HOME": str(dagster_home("init", instance_file))})
            for name, argv in (
                ("code-server", [str(BIN / "dagster"), "api", "grpc", "--module-name", "sparklayer_erp.definitions",
                                 "--attribute", "defs", "--host", "localhost", "--port", str(grpc_port)]),
                ("daemon", [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"]),
                ("webserver", [str(BIN / "dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1",
                               "-p", str(port)]),
            ):
                cwd = work / name
                cwd.mkdir()
                (cwd / "workspace.yaml").write_text(workspace)
                spawn(name, argv, cwd, dagster_home(name, instance_file))
            home = dagster_home("bench", instance_file)
            mode = "multi-process (code server, daemon, webserver), PostgreSQL storage and ledger"
        else:
            home = dagster_home("dev", REPO / "dagster.yaml")
            workspace_file = work / "workspace.yaml"
            workspace_file.write_text(f"load_from:\n  - python_module:\n      module_name: sparklayer_erp.definitions\n"
                                      f"      attribute: defs\n      location_name: {LOCATION}\n"
                                      f"      working_directory: {work}\n")
            spawn("dagster-dev", [sys.executable, "-m", "dagster", "dev", "-w", str(workspace_file),
                                  "-h", "127.0.0.1", "-p", str(port)], work, home)
            mode = "dagster dev, SQLite storage and ledger"
        state = _wait_for_sensor(url, 180, processes)
        print(f"{mode}: up in {time.monotonic() - started:.1f} s; sensor {state} -> RUNNING (logs in {work})")
        yield OrderStack(work, home, url, mode, sandbox, erp, {i.sku: i for i in erp.list_items()}, instance_env)


class ErpWatcher:
    """Polls the ERP for the purchases not seen yet and notes when each first appears."""

    def __init__(self, erp: TrytonErp, every_s: float = 0.5) -> None:
        self.erp, self.every_s = erp, every_s
        self.placed: dict[str, float] = {}
        self.seen: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> ErpWatcher:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _watch(self) -> None:
        while not self._stop.is_set():
            waiting = [pid for pid in list(self.placed) if pid not in self.seen]
            if waiting:
                found = self.erp.find_orders(waiting)
                now = time.monotonic()
                for pid in found:
                    self.seen.setdefault(pid, now)
            self._stop.wait(self.every_s)

    def wait_all(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while len(self.seen) < len(self.placed) and time.monotonic() < deadline:
            time.sleep(0.5)
        return len(self.seen) == len(self.placed)


class KeepInFlight:
    """Keeps one run of each job queued or running: launched again as soon as the previous one ends."""

    def __init__(self, stack: OrderStack, jobs: tuple[str, ...], every_s: float = 2.0) -> None:
        self.stack, self.jobs, self.every_s = stack, jobs, every_s
        self.launched: dict[str, list[str]] = {job: [] for job in jobs}
        self.errors: list[str] = []
        self.failed: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> KeepInFlight:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def _loop(self) -> None:
        while not self._stop.is_set():
            for job in self.jobs:
                runs = self.launched[job]
                if job in self.failed:
                    continue
                try:
                    status = self.stack.run_status(runs[-1]) if runs else None
                    if status == "FAILURE":
                        self.failed.add(job)  # a failing run would only fail again: stop, and say so
                        self.errors.append(f"{job}: run {runs[-1][:8]} failed; not launched again")
                    elif not runs or status in ENDED:
                        runs.append(self.stack.launch(job))
                except (httpx.HTTPError, RuntimeError) as exc:
                    self.errors.append(f"{job}: {exc}")
            self._stop.wait(self.every_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=50)
    parser.add_argument("--every", type=float, default=2.0, help="seconds between two orders")
    parser.add_argument("--timeout", type=float, default=180.0, help="give up on an order after this long")
    parser.add_argument("--overlap", action="store_true",
                        help=f"keep a {FOLLOWUP_JOB} and a {MASTERDATA_JOB} run in flight during the whole burst")
    parser.add_argument("--postgres", action="store_true", help="the multi-process PostgreSQL deployment")
    parser.add_argument("--no-bytecode-cache", action="store_true",
                        help="let every Dagster process compile the package again (PYTHONDONTWRITEBYTECODE)")
    parser.add_argument("--startup", type=int, metavar="N", default=0,
                        help="only measure what a run worker pays to load the code location (median of N fresh "
                             "interpreters) and exit")
    args = parser.parse_args()
    if args.startup:
        print_startup(args.startup)
        return

    with order_stack(postgres=args.postgres, bytecode_cache=not args.no_bytecode_cache,
                     prefix="bench-latency-") as stack:
        overlap = KeepInFlight(stack, (FOLLOWUP_JOB, MASTERDATA_JOB)) if args.overlap else None
        with ErpWatcher(stack.erp) as watcher:
            with overlap or contextlib.nullcontext():
                for n in range(args.orders):
                    pid = stack.place(n, "LAT")
                    watcher.placed[pid] = time.monotonic()
                    time.sleep(args.every)
            watcher.wait_all(args.timeout)  # the overlap runs are no longer relaunched; the ERP is still watched
        latencies = sorted(watcher.seen[pid] - watcher.placed[pid] for pid in watcher.seen)
        missing = len(watcher.placed) - len(watcher.seen)
        with stack.instance() as instance:
            print(f"\n{stack.mode}\n{len(watcher.placed)} orders placed one every {args.every:g} s at "
                  f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {len(latencies)} reached the ERP, {missing} did not "
                  f"within {args.timeout:g} s")
            print_runs(instance)
            if overlap is not None:
                print(f"overlap: launched {', '.join(f'{len(v)} {k}' for k, v in overlap.launched.items())}"
                      + (f"; launch errors: {overlap.errors[:3]}" if overlap.errors else ""))
            if latencies:
                q = statistics.quantiles(latencies, n=20, method="inclusive") if len(latencies) > 1 else [latencies[0]] * 19
                print(f"latency placed -> ERP order: p50 {statistics.median(latencies):.1f} s, p95 {q[18]:.1f} s, "
                      f"max {latencies[-1]:.1f} s, min {latencies[0]:.1f} s   (goal p95 <= 10 s, bar 15 s)")
            print_breakdown(instance)


STARTUP_PROBES = (
    ("python itself", "pass"),
    ("import dagster", "import dagster"),
    ("import sparklayer_erp.definitions", "import sparklayer_erp.definitions"),
    ("load the code location (+ repository, order_sync_job)",
     "from sparklayer_erp.definitions import defs; defs.get_repository_def().get_job('order_sync_job')"),
)


def print_startup(n: int) -> None:
    """Median wall time of fresh interpreters (as Dagster starts each run) doing each probe, inside the process
    (after the interpreter is up) and for the whole process (exit included)."""
    for label, code in STARTUP_PROBES:
        inner, whole = [], []
        timed = f"import time, warnings; warnings.simplefilter('ignore'); t0 = time.perf_counter(); {code}; " \
                "print(time.perf_counter() - t0)"
        for _ in range(n):
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-c", timed], capture_output=True, text=True, check=True)
            whole.append(time.perf_counter() - started)
            inner.append(float(done.stdout.strip().splitlines()[-1]))
        print(f"{label:<55} in process: median {statistics.median(inner) * 1000:6.0f} ms (min "
              f"{min(inner) * 1000:5.0f});  whole process: median {statistics.median(whole) * 1000:6.0f} ms")


def print_runs(instance: Any, since: float | None = None) -> dict[str, dict[str, int]]:
    """Run counts per job and status (created after ``since``, a POSIX timestamp); returns them."""
    counts: dict[str, dict[str, int]] = {}
    for record in instance.get_run_records():
        if since is not None and record.create_timestamp.timestamp() < since:
            continue
        run = record.dagster_run
        kind = run.job_name + (" (sensor)" if run.tags.get("dagster/sensor_name") else "")
        status = run.status.value
        counts.setdefault(kind, {}).setdefault(status, 0)
        counts[kind][status] += 1
    print("runs: " + "; ".join(f"{job} " + ", ".join(f"{n} {s}" for s, n in sorted(by.items()))
                               for job, by in sorted(counts.items())))
    return counts


# (label, from stage, to stage) over each order-sync run's ``stage_timings`` metadata, plus ``run_dequeued``: when
# the run queue let the run go (its RUN_STARTING event). Requested -> dequeued is waiting for a limit and for the
# dequeue loop; dequeued -> started is the run worker starting and loading the code location.
BREAKDOWN = (
    ("placed -> seen by sensor", "placed_latest", "seen_by_sensor"),
    ("seen -> run requested", "seen_by_sensor", "run_requested"),
    ("requested -> run started (all of the two below)", "run_requested", "run_started"),
    ("  requested -> dequeued (run queue, tag limits)", "run_requested", "run_dequeued"),
    ("  dequeued -> run started (run worker start-up)", "run_dequeued", "run_started"),
    ("run started -> ERP create sent", "run_started", "erp_create_sent"),
    ("ERP create sent -> confirmed", "erp_create_sent", "erp_confirmed"),
    ("ERP confirmed -> ledger recorded", "erp_confirmed", "ledger_recorded"),
    ("ledger recorded -> run ended (sync log, run end)", "ledger_recorded", "run_ended"),
    ("total: earliest placed -> ledger recorded", "placed_earliest", "ledger_recorded"),
)
OTHER_JOBS = (FOLLOWUP_JOB, "master_data_full_job", "master_data_stock_job", "master_data_customers_prices_job")
LONG_QUEUE_WAIT_S = 2.0  # the dequeue loop's 1 s plus its own work: longer means the run waited for a limit


def _quantiles(spans: list[float]) -> str:
    spans = sorted(spans)
    p95 = statistics.quantiles(spans, n=20, method="inclusive")[18] if len(spans) > 1 else spans[0]
    return f"p50 {statistics.median(spans):6.2f} s   p95 {p95:6.2f} s   max {spans[-1]:6.2f} s"


def _at(ts: float | None) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(ts, dt.UTC) if ts else None


def dequeued_at(instance: Any, run_id: str) -> dt.datetime | None:
    """When the run queue let the run go: its RUN_DEQUEUED event, else RUN_STARTING (the queued coordinator
    launches a run as it dequeues it)."""
    import dagster as dg

    for kind in (dg.DagsterEventType.RUN_DEQUEUED, dg.DagsterEventType.RUN_STARTING):
        events = instance.all_logs(run_id, of_type=kind)
        if events:
            return _at(events[0].timestamp)
    return None


def print_breakdown(instance: Any) -> None:
    """Per-stage p50/p95 over the batches the sensor launched (their materialization metadata and the run
    queue's events), then the batches requested while a follow-up or master-data run held its place."""
    import dagster as dg

    at = _at

    events = instance.fetch_materializations(dg.AssetKey("erp_sales_orders"), limit=10_000).records
    batches: list[tuple[dict, str]] = []
    states: list[str] = []
    for record in events:
        mat = record.asset_materialization
        entry = mat.metadata.get("stage_timings") if mat else None
        if entry is None or not entry.value.get("seen_by_sensor") or not entry.value.get("erp_create_sent"):
            continue  # sweeps and batches that created nothing
        timings = {k: dt.datetime.fromisoformat(v) for k, v in entry.value.items()}
        dequeued = dequeued_at(instance, record.run_id)
        if dequeued is not None:
            timings["run_dequeued"] = dequeued
        run = instance.get_run_by_id(record.run_id)
        ended_at = instance.get_run_record_by_id(record.run_id)
        if ended_at is not None and ended_at.end_time:
            timings["run_ended"] = _at(ended_at.end_time)
        batches.append((timings, record.run_id))
        states.append(run.tags.get("erp/order-state", "?") if run else "?")
    if not batches:
        print("breakdown: no sensor-launched batch with stage timings found")
        return
    kinds = sorted(set(states))
    print(f"breakdown over {len(batches)} sensor batches (erp/order-state tags: "
          f"{', '.join(f'{k}={states.count(k)}' for k in kinds)}):")
    for label, start, end in BREAKDOWN:
        spans = [(t[end] - t[start]).total_seconds() for t, _ in batches if start in t and end in t]
        if spans:
            print(f"  {label:<52} {_quantiles(spans)}")

    # What each batch waited for in the queue. A batch of new orders shares a limit only with other order syncs
    # (``erp/orders``): just before it was let go (the dequeue loop's second before), either every order-sync
    # slot was taken (it waited for an order sync), or one was free and something else held it: the instance's
    # run cap, which housekeeping runs count against, or only the dequeue loop itself.
    syncs, others = [], []
    for record in instance.get_run_records():
        run = record.dagster_run
        begun = dequeued_at(instance, run.run_id)
        if begun is None:
            continue
        span = (run.run_id, begun, at(record.end_time) or dt.datetime.now(dt.UTC))
        if run.job_name == SYNC_JOB:
            syncs.append(span)
        elif run.job_name in OTHER_JOBS:
            others.append(span)
    slots = order_sync_slots()
    long_waits = slot_waits = during = not_for_a_slot = 0
    for timings, run_id in batches:
        requested, dequeued = timings.get("run_requested"), timings.get("run_dequeued")
        if requested is None or dequeued is None:
            continue
        waited_long = (dequeued - requested).total_seconds() > LONG_QUEUE_WAIT_S
        probe = dequeued - dt.timedelta(seconds=1.2)
        busy = sum(1 for rid, start, end in syncs if rid != run_id and start <= probe < end)
        long_waits += waited_long
        slot_waits += waited_long and busy >= slots
        if any(start <= requested < end for _, start, end in others):
            during += 1
            not_for_a_slot += waited_long and busy < slots
    print(f"  queue waits over {LONG_QUEUE_WAIT_S:g} s: {long_waits} of {len(batches)} batches, {slot_waits} of them with "
          f"all {slots} order-sync slots (erp/orders) taken")
    print(f"  batches requested while a follow-up or master-data run was under way: {during}; of these waited over "
          f"{LONG_QUEUE_WAIT_S:g} s with an order-sync slot free (i.e. for housekeeping or the run cap): {not_for_a_slot}")


def order_sync_slots() -> int:
    """The ``erp/orders`` limit in the repo's instance file (the same in every deployment file)."""
    import yaml

    config = yaml.safe_load((REPO / "dagster.yaml").read_text())
    limits = config["concurrency"]["runs"]["tag_concurrency_limits"]
    return next(int(lim["limit"]) for lim in limits if lim["key"] == "erp/orders")

if __name__ == "__main__":
    main()
