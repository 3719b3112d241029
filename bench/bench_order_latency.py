"""Latency from an order placed in the SparkLayer sandbox to its ERP order existing, with the order sensor
running in a real ``dagster dev`` (webserver + daemon + code server, SQLite storage).

Starts a local Tryton (fresh copy of the demo company) and the sandbox, writes the customer links to a fresh
ledger, starts ``dagster dev`` in a temporary DAGSTER_HOME with the repo's ``dagster.yaml`` (tag limits per
kind of ERP write, queued runs) and ``ORDER_AUTOMATION=on`` so the sensor and the order schedules start
running, checks through GraphQL that the sensor is on (``startSensor`` if not), then places ``--orders``
orders one every ``--every`` seconds and polls the ERP for each purchase id. Prints p50/p95/max, then the
per-stage breakdown (p50/p95) from each order-sync run's ``stage_timings`` metadata.

    .venv/bin/python bench/bench_order_latency.py --orders 50
"""

from __future__ import annotations

import argparse
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
from decimal import Decimal
from pathlib import Path

import httpx

from sparklayer_erp.demo import demo_data
from sparklayer_erp.demo.sandbox.server import run_sandbox
from sparklayer_erp.demo.tryton_local import start_server
from sparklayer_erp.domain.money import round_unit_price
from sparklayer_erp.erp.tryton.adapter import TrytonErp
from sparklayer_erp.ledger import Ledger
from sparklayer_erp.sparklayer.client import SparkLayerClient

REPO = Path(__file__).resolve().parent.parent
CUSTOMERS = [c for c in demo_data.CUSTOMERS if c.credit_limit is None and not c.on_credit_hold]
SKUS = [p for p in demo_data.PRODUCTS if p.pack_size in (6, 12)]
METHODS = ("on_account", "invoice", "platform_upfront")
SENSOR_QUERY = """query { sensorOrError(sensorSelector: {repositoryLocationName: "%s", repositoryName: "__repository__",
  sensorName: "order_sensor"}) { ... on Sensor { id sensorState { status } } } }"""
START_SENSOR = """mutation { startSensor(sensorSelector: {repositoryLocationName: "%s", repositoryName: "__repository__",
  sensorName: "order_sensor"}) { ... on Sensor { sensorState { status } } ... on PythonError { message } } }"""
RUNS_QUERY = """query { runsOrError { ... on Runs { results { status tags { key value } } } } }"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def code_location(work: Path) -> tuple[Path, str]:
    """A workspace file pointing at the project's one ``Definitions``."""
    target, name = "sparklayer_erp.definitions", "sparklayer_erp"
    workspace = work / "workspace.yaml"
    workspace.write_text(f"load_from:\n  - python_module:\n      module_name: {target}\n      attribute: defs\n"
                         f"      location_name: {name}\n      working_directory: {work}\n")
    return workspace, name


def stop_group(dev: subprocess.Popen) -> None:
    """Stop ``dagster dev`` and everything it started (its own process group, made for it at launch)."""
    for sig, wait in ((signal.SIGINT, 30.0), (signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(dev.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            dev.poll()
            try:
                os.killpg(dev.pid, 0)  # anyone left in the group?
            except ProcessLookupError:
                return
            time.sleep(0.2)


def graphql(url: str, query: str) -> dict:
    response = httpx.post(f"{url}/graphql", json={"query": query}, timeout=30)
    response.raise_for_status()
    return response.json()["data"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=50)
    parser.add_argument("--every", type=float, default=2.0, help="seconds between two orders")
    parser.add_argument("--timeout", type=float, default=180.0, help="give up on an order after this long")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    home = work / "dagster_home"
    home.mkdir()
    shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
    server = start_server(db_copy_dir=work)
    erp = TrytonErp(server.url, server.db_name, server.login, server.password)
    items = {i.sku: i for i in erp.list_items()}
    dev: subprocess.Popen | None = None
    try:
        with run_sandbox(work / "shop.sqlite") as sandbox:
            client = SparkLayerClient(sandbox.base_url, "demo-site", "demo-client", "demo-secret")
            ledger_url = f"sqlite:///{work}/ledger.sqlite"
            with Ledger.from_url(ledger_url) as ledger:
                for c in CUSTOMERS:  # what the master-data push provides: the link, and credit in SparkLayer
                    ledger.upsert_customer_link(c.account_code, c.sparklayer_id, c.platform_id, c.email)
                    raw = dict(client.get_customer("sparklayer", c.sparklayer_id).raw)
                    raw["payment_on_account"] = {"credit_limit": 10**9, "balance": 0, "currency_code": "GBP"}
                    client.upsert_customer("sparklayer", c.sparklayer_id, raw)
            workspace, location = code_location(work)
            port = free_port()
            env = {**os.environ, "DAGSTER_HOME": str(home), "ORDER_AUTOMATION": "on",
                   "SPARKLAYER_BASE_URL": sandbox.base_url, "SPARKLAYER_SITE_ID": "demo-site",
                   "SPARKLAYER_CLIENT_ID": "demo-client", "SPARKLAYER_CLIENT_SECRET": "demo-secret",
                   "ERP_URL": server.url, "ERP_DATABASE": server.db_name, "ERP_LOGIN": server.login,
                   "ERP_PASSWORD": server.password, "LEDGER_DATABASE_URL": ledger_url,
                   "SPARKLAYER_ERP_DATA_DIR": str(work / "data"),
                   "PYTHONPATH": os.pathsep.join([str(work), str(REPO), os.environ.get("PYTHONPATH", "")])}
            log = open(work / "dagster-dev.log", "wb")  # noqa: SIM115 - closed with the process below
            started = time.monotonic()
            dev = subprocess.Popen([sys.executable, "-m", "dagster", "dev", "-w", str(workspace), "-h", "127.0.0.1",
                                    "-p", str(port)], cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
            url = f"http://127.0.0.1:{port}"
            state = None
            while time.monotonic() - started < 120:
                try:
                    data = graphql(url, SENSOR_QUERY % location)["sensorOrError"]
                    state = (data or {}).get("sensorState", {}).get("status")
                    if state:
                        break
                except (httpx.HTTPError, KeyError, TypeError):
                    pass
                time.sleep(1)
            if state != "RUNNING":
                graphql(url, START_SENSOR % location)
            print(f"dagster dev up in {time.monotonic() - started:.1f} s; sensor {state} -> RUNNING "
                  f"(logs: {work / 'dagster-dev.log'})")

            placed: dict[str, float] = {}
            seen: dict[str, float] = {}
            stop = threading.Event()

            def watch() -> None:
                while not stop.is_set():
                    waiting = [pid for pid in list(placed) if pid not in seen]
                    if waiting:
                        found = erp.find_orders(waiting)
                        now = time.monotonic()
                        for pid in found:
                            seen.setdefault(pid, now)
                    stop.wait(0.5)

            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
            for n in range(args.orders):
                c = CUSTOMERS[n % len(CUSTOMERS)]
                product = SKUS[(n * 7) % len(SKUS)]
                units = product.pack_size * (1 + n % 3)
                case = erp.customer_price(c.account_code, product.sku, Decimal(units // product.pack_size),
                                          items[product.sku].sale_unit.name)
                order = sandbox.admin.place_order(
                    c.sparklayer_id, [(product.sku, units)], METHODS[n % 3], po_number=f"LAT-{n:03d}",
                    unit_price_overrides={product.sku: round_unit_price(case / product.pack_size)})
                placed[order["purchase_identifiers"]["sparklayer"]] = time.monotonic()
                time.sleep(args.every)
            deadline = time.monotonic() + args.timeout
            while len(seen) < len(placed) and time.monotonic() < deadline:
                time.sleep(1)
            stop.set()
            runs = graphql(url, RUNS_QUERY)["runsOrError"]["results"]
    finally:
        if dev is not None:
            stop_group(dev)
        server.stop()

    latencies = sorted(seen[pid] - placed[pid] for pid in seen)
    missing = len(placed) - len(seen)
    sync_runs = [r for r in runs if any(t["key"] == "dagster/sensor_name" for t in r["tags"])]
    print(f"\n{len(placed)} orders placed one every {args.every:g} s at {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; "
          f"{len(latencies)} reached the ERP, {missing} did not within {args.timeout:g} s")
    print(f"runs: {len(sync_runs)} sensor-launched, {len(runs) - len(sync_runs)} others (schedules); statuses "
          f"{sorted({r['status'] for r in runs})}")
    if latencies:
        q = statistics.quantiles(latencies, n=20, method="inclusive")
        print(f"latency placed -> ERP order: p50 {statistics.median(latencies):.1f} s, p95 {q[18]:.1f} s, "
              f"max {latencies[-1]:.1f} s, min {latencies[0]:.1f} s   (goal p95 <= 10 s)")
    print_breakdown(home)


# (label, from stage, to stage) over each order-sync run's ``stage_timings`` metadata
BREAKDOWN = (
    ("placed -> seen by sensor", "placed_latest", "seen_by_sensor"),
    ("seen -> run requested", "seen_by_sensor", "run_requested"),
    ("requested -> run started (queue + run worker start)", "run_requested", "run_started"),
    ("run started -> ERP create sent", "run_started", "erp_create_sent"),
    ("ERP create sent -> confirmed", "erp_create_sent", "erp_confirmed"),
    ("ERP confirmed -> ledger recorded", "erp_confirmed", "ledger_recorded"),
    ("total: earliest placed -> ledger recorded", "placed_earliest", "ledger_recorded"),
)


def print_breakdown(home: Path) -> None:
    """Per-stage p50/p95 over the batches the sensor launched, read from the runs' materialization metadata."""
    import dagster as dg  # the bench process itself never needs Dagster until here

    with dg.DagsterInstance.from_config(str(home)) as instance:
        events = instance.fetch_materializations(dg.AssetKey("erp_sales_orders"), limit=10_000).records
        batches = []
        for record in events:
            mat = record.asset_materialization
            entry = mat.metadata.get("stage_timings") if mat else None
            if entry is None or not entry.value.get("seen_by_sensor") or not entry.value.get("erp_create_sent"):
                continue  # sweeps and batches that created nothing
            run = instance.get_run_by_id(record.run_id)
            state = run.tags.get("erp/order-state", "?") if run else "?"
            batches.append(({k: dt.datetime.fromisoformat(v) for k, v in entry.value.items()}, state))
    if not batches:
        print("breakdown: no sensor-launched batch with stage timings found")
        return
    states = sorted({s for _, s in batches})
    print(f"breakdown over {len(batches)} sensor batches (erp/order-state tags: "
          f"{', '.join(f'{s}={sum(1 for _, x in batches if x == s)}' for s in states)}):")
    for label, start, end in BREAKDOWN:
        spans = sorted((t[end] - t[start]).total_seconds() for t, _ in batches if start in t and end in t)
        if not spans:
            continue
        p95 = statistics.quantiles(spans, n=20, method="inclusive")[18] if len(spans) > 1 else spans[0]
        print(f"  {label:<52} p50 {statistics.median(spans):6.2f} s   p95 {p95:6.2f} s   max {spans[-1]:6.2f} s")


if __name__ == "__main__":
    main()
