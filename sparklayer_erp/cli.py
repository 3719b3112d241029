"""``sparklayer-erp`` command line: the demo stack, the local services, ledger migrations."""

from __future__ import annotations

import argparse
import datetime
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlparse

from sparklayer_erp import settings


def _port_of(env: str) -> int:
    return urlparse(str(settings.read(env))).port or 80


def _load_dotenv(path: Path) -> None:
    """The Dagster CLI reads .env by itself; our own processes need the same values."""
    if not path.exists():
        return
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            os.environ.setdefault(key.strip(), value.strip())


def cmd_ledger(args: argparse.Namespace) -> int:
    from sparklayer_erp.ledger import store

    url = args.url or settings.ledger_url()
    if args.action == "upgrade":
        store.upgrade(url)
    elif args.action == "downgrade":
        store.downgrade(url, args.revision)
    print(f"ledger at revision {store.current_revision(url)}")
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    from sparklayer_erp.demo.sandbox import server

    argv = ["--port", str(args.port or _port_of("SPARKLAYER_BASE_URL"))]
    if args.db:
        argv += ["--db", args.db]
    return server.main(argv) or 0


def cmd_erp(args: argparse.Namespace) -> int:
    from sparklayer_erp.demo import tryton_local as local

    argv = [args.action] + (["--port", str(args.port or _port_of("ERP_URL"))] if args.action == "serve" else [])
    return local.main(argv) or 0


def dagster_home() -> Path:
    home = Path(os.environ.get("DAGSTER_HOME") or settings.data_dir() / "dagster_home")
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(settings.REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    return home


# Jobs the demo launches once at start so SparkLayer holds the ERP's customers, prices and stock
# before the simulated buyers arrive (afterwards the schedules keep them in step).
DEMO_FIRST_JOBS = ("master_data_full_job",)
DEMO_RECONCILE_AFTER_S = 240


def cmd_demo(args: argparse.Namespace) -> int:
    """Local ERP + sandbox + Dagster (webserver and daemon) on SQLite, stopped together on Ctrl-C."""
    _load_dotenv(settings.REPO_ROOT / ".env")
    logging.basicConfig(level=logging.INFO, format="   %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    from sparklayer_erp.demo import bootstrap as demo_bootstrap
    from sparklayer_erp.demo import tryton_local as local
    from sparklayer_erp.demo.sandbox.server import run_sandbox

    data = settings.data_dir()
    env = dict(os.environ, DAGSTER_HOME=str(dagster_home()))
    ui = f"http://127.0.0.1:{args.port}"
    # Ctrl-C or a plain kill both stop everything (a shell may start us with SIGINT ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    with ExitStack() as stack:
        print("== starting the local ERP (Tryton); the first start builds the demo company (1-2 min)")
        erp = local.start_server(port=_port_of("ERP_URL"))
        stack.callback(erp.stop)
        print(f"   ERP at {erp.url} database {erp.db_name}")
        sandbox = stack.enter_context(run_sandbox(data / "sandbox.sqlite", port=_port_of("SPARKLAYER_BASE_URL")))
        print(f"   SparkLayer sandbox at {sandbox.base_url}")
        print(f"== starting Dagster on {ui} (DAGSTER_HOME={env['DAGSTER_HOME']})")
        proc = subprocess.Popen(
            [sys.executable, "-m", "dagster", "dev", "-w", str(settings.REPO_ROOT / "workspace.yaml"),
             "-h", "127.0.0.1", "-p", str(args.port)],
            cwd=env["DAGSTER_HOME"], env=env, start_new_session=True,
        )
        stack.callback(_stop_process_group, proc)
        try:
            demo_bootstrap.wait_for_location(ui)
            for job in DEMO_FIRST_JOBS:
                run_id = demo_bootstrap.launch_job(ui, job)
                print(f"   launched {job} (run {run_id}); waiting for it so the shop has prices and customers")
                print(f"   {job}: {demo_bootstrap.wait_for_run(ui, run_id)}")
            if args.automation:
                print(f"   started: {', '.join(demo_bootstrap.start_automation(ui)) or 'already running'}")
            if args.simulate:
                from sparklayer_erp.demo.simulator import start_simulator

                stack.callback(start_simulator(sandbox.base_url).stop)
                print("   simulated buyers are placing orders in the sandbox")
                month = datetime.date.today().replace(day=1).isoformat()
                timer = threading.Timer(DEMO_RECONCILE_AFTER_S, _reconcile_month, (ui, month))
                timer.daemon = True
                timer.start()
                stack.callback(timer.cancel)
                print(f"   this month ({month[:7]}) is reconciled in {DEMO_RECONCILE_AFTER_S // 60} minutes")
            print(f"== ready: open {ui}  (Ctrl-C stops everything)")
            return proc.wait()
        except KeyboardInterrupt:
            return 0


def _reconcile_month(ui: str, month: str) -> None:
    """The demo's month-end run for the current month, once simulated orders exist (best effort)."""
    from sparklayer_erp.demo import bootstrap as demo_bootstrap

    try:
        run_id = demo_bootstrap.launch_job(ui, "month_end_job", partition=month)
        logging.getLogger(__name__).info("month-end reconciliation for %s launched: run %s", month[:7], run_id)
    except Exception as exc:  # the demo goes on; the monthly schedule and the UI can still run it
        logging.getLogger(__name__).warning("could not launch the month-end reconciliation: %s", exc)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _stop_process_group(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sparklayer-erp", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="run the whole product locally (ERP, sandbox, Dagster UI on :3000)")
    p.add_argument("--port", type=int, default=3000)
    p.add_argument("--no-simulate", dest="simulate", action="store_false",
                   help="do not place simulated orders in the sandbox")
    p.add_argument("--no-automation", dest="automation", action="store_false",
                   help="leave schedules and sensors off (turn them on in the UI)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("sandbox", help="serve the local SparkLayer sandbox")
    p.add_argument("--port", type=int)
    p.add_argument("--db")
    p.set_defaults(func=cmd_sandbox)

    p = sub.add_parser("erp", help="build or serve the local Tryton ERP with the demo company")
    p.add_argument("action", choices=["build", "serve", "info"])
    p.add_argument("--port", type=int)
    p.set_defaults(func=cmd_erp)

    p = sub.add_parser("ledger", help="ledger migrations")
    p.add_argument("action", choices=["upgrade", "downgrade", "current"])
    p.add_argument("--url", help="database URL (default: LEDGER_DATABASE_URL or SQLite in the data folder)")
    p.add_argument("--revision", default="base")
    p.set_defaults(func=cmd_ledger)

    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except settings.SettingError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
