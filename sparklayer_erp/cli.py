"""``sparklayer-erp``: the command line for the person on call, the demo stack, the local services, ledger
migrations.

Every command and option has help (``sparklayer-erp --help``, ``sparklayer-erp COMMAND --help``). The on-call
answers come from :mod:`sparklayer_erp.oncall` (plain functions); this module only prints them. Only the
``demo``, ``sandbox``, ``erp`` and ``netsuite-emulator`` commands import :mod:`sparklayer_erp.demo`, inside the command, so
``check`` and the other on-call commands never load the demo stack.
"""

from __future__ import annotations

import datetime
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import click

from sparklayer_erp import settings

TEAMS = ("finance", "sales_operations", "operations", "ecommerce")
RESEND_TYPES = ("customers", "prices", "stock", "pack_sizes")


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


def dagster_home() -> Path:
    home = Path(os.environ.get("DAGSTER_HOME") or settings.data_dir() / "dagster_home")
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(settings.REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    return home


# Jobs the demo launches once at start so SparkLayer holds the ERP's customers, prices and stock
# before the simulated buyers arrive (afterwards the schedules keep them in step).
DEMO_FIRST_JOBS = ("master_data_full_job",)
DEMO_RECONCILE_AFTER_S = 240


def run_demo(port: int, simulate: bool, automation: bool) -> int:
    """Local ERP (Tryton, or the NetSuite emulator with ``ERP_KIND=netsuite``) + sandbox + Dagster (webserver
    and daemon) on SQLite, stopped together on Ctrl-C."""
    _load_dotenv(settings.REPO_ROOT / ".env")
    logging.basicConfig(level=logging.INFO, format="   %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    from sparklayer_erp.demo import bootstrap as demo_bootstrap
    from sparklayer_erp.demo import tryton_local as local
    from sparklayer_erp.demo.sandbox.server import run_sandbox

    data = settings.data_dir()
    env = demo_bootstrap.dagster_environment(dict(os.environ, DAGSTER_HOME=str(dagster_home())), automation)
    ui = f"http://127.0.0.1:{port}"
    # Ctrl-C or a plain kill both stop everything (a shell may start us with SIGINT ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    with ExitStack() as stack:
        erp: local.TrytonServer | None = None  # None with the NetSuite emulator
        if settings.read("ERP_KIND") == "netsuite":
            env.update(_start_netsuite_emulator(stack, data))
        else:
            print("== starting the local ERP (Tryton); the first start builds the demo company (1-2 min)")
            erp = local.start_server(port=_port_of("ERP_URL"))
            stack.callback(erp.stop)
            print(f"   ERP at {erp.url} database {erp.db_name}")
        sandbox = stack.enter_context(run_sandbox(data / "sandbox.sqlite", port=_port_of("SPARKLAYER_BASE_URL")))
        print(f"   SparkLayer sandbox at {sandbox.base_url}")
        print(f"== starting Dagster on {ui} (DAGSTER_HOME={env['DAGSTER_HOME']})")
        proc = subprocess.Popen(
            [sys.executable, "-m", "dagster", "dev", "-w", str(settings.REPO_ROOT / "workspace.yaml"),
             "-h", "127.0.0.1", "-p", str(port)],
            cwd=env["DAGSTER_HOME"], env=env, start_new_session=True,
        )
        stack.callback(_stop_process_group, proc)
        try:
            demo_bootstrap.wait_for_location(ui)
            for job in DEMO_FIRST_JOBS:
                run_id = demo_bootstrap.launch_job(ui, job)
                print(f"   launched {job} (run {run_id}); waiting for it so the shop has prices and customers")
                print(f"   {job}: {demo_bootstrap.wait_for_run(ui, run_id)}")
            if automation:
                print(f"   started: {', '.join(demo_bootstrap.start_automation(ui)) or 'already running'}")
            if simulate:
                from sparklayer_erp.demo.back_office import start_back_office
                from sparklayer_erp.demo.simulator import start_simulator

                stack.callback(start_simulator(sandbox.base_url).stop)
                print("   simulated buyers are placing orders in the sandbox")
                office = start_back_office(sandbox.sandbox, tryton=erp,
                                           netsuite_url=None if erp else env.get("NETSUITE_BASE_URL"))
                if office is not None:
                    stack.callback(office.stop)
                    print("   the ERP's staff ship orders (some in two parts), invoice them and credit returned goods;"
                          " the shop refunds a paid order now and then")
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


def _start_netsuite_emulator(stack: ExitStack, data: Path) -> dict[str, str]:
    """``ERP_KIND=netsuite``: the local NetSuite emulator (seeded with the demo company) in place of Tryton,
    on the port of a local NETSUITE_BASE_URL or its default; returns the environment that points Dagster at
    it with the emulator's demo credentials."""
    from sparklayer_erp.demo import bootstrap as demo_bootstrap
    from sparklayer_erp.demo.netsuite.server import DEFAULT_PORT, run_emulator

    configured = urlparse(os.environ.get("NETSUITE_BASE_URL") or "")
    port = configured.port if configured.hostname in ("127.0.0.1", "localhost") and configured.port else DEFAULT_PORT
    print("== starting the NetSuite emulator (built from NetSuite's documentation) with the demo company")
    handle = stack.enter_context(run_emulator(data / "netsuite.sqlite", port=port))
    print(f"   NetSuite emulator at {handle.base_url} (account {handle.account_id})")
    return demo_bootstrap.netsuite_environment(handle.adapter_settings("oauth2"))


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




# ============================================================================ the command line


class _Cli(click.Group):
    """A configuration error stops any command with exit code 2 and a message naming the variable."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except settings.SettingError as exc:
            click.echo(f"configuration error: {exc}", err=True)
            ctx.exit(2)


CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 110}


@click.group(cls=_Cli, context_settings=CONTEXT)
def cli() -> None:
    """sparklayer-erp: the SparkLayer <-> ERP integration from the command line.

    \b
    On call:   check, order, exceptions, accept, resend
    Finance:   pack (the month-end workbook, any version)
    Ledger:    ledger upgrade | downgrade | current
    Local:     demo, erp, sandbox
    """


def _fail(ctx: click.Context, message: str, code: int = 1) -> None:
    click.echo(message, err=True)
    ctx.exit(code)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def _ledger(url: str | None = None):
    """The ledger the integration uses (migrated to head, as the Dagster runs do on first use)."""
    from sparklayer_erp.ledger import Ledger

    return Ledger.from_url(url or settings.ledger_url(), migrate=True)


# ---------------------------------------------------------------------------- check


@cli.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Is everything up? One line per item, OK or what is wrong (never a secret).

    \b
    Looks at: every setting (environment variables, see the README),
              the ERP login (one read), the SparkLayer token,
              the ledger (reachable, at the newest migration),
              the Dagster daemon of $DAGSTER_HOME (a heartbeat in the last 2 minutes).
    Exit code 1 when anything is wrong.
    """
    from sparklayer_erp import oncall

    results = oncall.run_checks()
    for r in results:
        click.echo(f"{'OK' if r.ok else 'FAIL':<5} {r.item}: {r.note if r.ok else r.problem}")
    if not all(r.ok for r in results):
        ctx.exit(1)


# ---------------------------------------------------------------------------- order


@cli.command()
@click.argument("ref")
@click.pass_context
def order(ctx: click.Context, ref: str) -> None:
    """Everything about one order: REF is a SparkLayer order (purchase) id, a PO number or an ERP order number.

    Prints the ledger link (state, ERP order, when first and last synced), the ERP's state now, the order's
    exceptions (open, accepted, resolved) and every write made for it, oldest first. Exit code 1 when no
    order matches.
    """
    from sparklayer_erp import oncall

    with _ledger() as ledger:
        lookup = oncall.look_up_order(ledger, ref)
    for note in lookup.notes:
        click.echo(f"note: {note}", err=True)
    if not lookup.found:
        _fail(ctx, f"no order found for {ref!r}: it is not a SparkLayer order id, an ERP order number or a PO "
                   "number the integration knows (the integration may not have seen the order yet)")
    for i, report in enumerate(lookup.orders):
        if i:
            click.echo("")
        click.echo("\n".join(order_lines(report)))


def order_lines(report) -> list[str]:
    from sparklayer_erp.oncall import when

    link, erp = report.link, report.erp
    out = [f"order {report.purchase_id}  (found by {report.found_by})", "", "ledger link:"]
    if link is None:
        out.append("  none: the integration never linked this order")
    else:
        total = f"{link.total} {link.currency or ''}".strip() if link.total is not None else "-"
        out += [f"  state:         {link.sync_state}",
                f"  ERP order:     {link.erp_order_number or '-'} (id {link.erp_order_id or '-'})",
                f"  account:       {link.account_code or '-'}   payment: {link.payment_method}   total: {total}",
                f"  first synced:  {when(link.created_at)} UTC",
                f"  last synced:   {when(link.updated_at)} UTC"
                + (f"   (SparkLayer version of {when(link.sparklayer_updated_at)} UTC)"
                   if link.sparklayer_updated_at else "")]
    out.append("ERP now:")
    if erp is None:
        out.append(f"  {report.erp_problem}")
    else:
        out += [f"  order {erp.number} (id {erp.erp_id}): {erp.state.value}"
                + ("   past the point of no return (stock allocated)" if erp.point_of_no_return else ""),
                f"  PO number: {erp.po_number or '-'}   account: {erp.account_code}   total: {erp.total}"]
        out += [f"  shipment {s.number or '-'}: {s.state}" + (f", tracking {s.tracking_number}" if s.tracking_number
                                                               else "") for s in erp.shipments]
        out += [f"  invoice {i.number or '-'}: {i.state}, total {i.total}, due {i.amount_due}" for i in erp.invoices]
        out += [f"  payment {p.reference or '-'}: {p.amount} on {p.paid_on or '-'}" for p in erp.payments]
    out.append(f"exceptions ({len(report.exceptions)}):")
    for r in report.exceptions:
        status = r.status + (f" by {r.accepted_by}: {r.accepted_reason}" if r.status == "accepted" else "") + (
            f" {when(r.resolved_at)} UTC" if r.status == "resolved" and r.resolved_at else "")
        out.append(f"  #{r.id} {r.kind} [{r.owner_team}] {status}; seen {r.count}x, "
                   f"{when(r.first_seen)} .. {when(r.last_seen)}")
        out.append(f"      {r.message}")
    if not report.exceptions:
        out.append("  none")
    out.append(f"writes to other systems ({len(report.audit)}):")
    for a in report.audit:
        detail = ", ".join(f"{k}={v}" for k, v in (a.detail or {}).items())
        out.append(f"  {when(a.at)}  {a.system:<10} {a.operation:<16} {a.outcome}" + (f"  {detail}" if detail else ""))
    if not report.audit:
        out.append("  none")
    return out


# ---------------------------------------------------------------------------- exceptions


@cli.command()
@click.option("--team", type=click.Choice(TEAMS, case_sensitive=False),
              help="only this owner team's exceptions")
@click.option("--open", "which", flag_value="open", default=True,
              help="only open exceptions (the default)")
@click.option("--all", "which", flag_value="all", help="every exception: open, accepted and resolved")
def exceptions(team: str | None, which: str) -> None:
    """The exceptions as a table: id, kind, owner, entity, first/last seen (UTC), count, status.

    The id is what `accept` takes (the #42 in the Dagster UI's open_exceptions).
    """
    from sparklayer_erp import oncall

    with _ledger() as ledger:
        rows = oncall.exception_rows(ledger, team=team.lower() if team else None, include_closed=which == "all")
    if not rows:
        click.echo(f"no {'' if which == 'all' else 'open '}exceptions" + (f" for {team.lower()}" if team else ""))
        return
    click.echo("\n".join(_table(oncall.EXCEPTION_COLUMNS, oncall.exception_table(rows))))


# ---------------------------------------------------------------------------- accept


@cli.command()
@click.argument("exception_id", metavar="ID", type=click.IntRange(min=1))
@click.option("--reason", required=True, help="why no action is needed, in words a colleague will understand")
@click.option("--by", "by", required=True, help="your name or e-mail (and team)")
@click.pass_context
def accept(ctx: click.Context, exception_id: int, reason: str, by: str) -> None:
    """Accept exception ID (no action needed): it stops being alerted and closes when its cause is gone.

    The same decision as the Dagster job accept_exception_job. ID is the number in `exceptions` (#42 -> 42).
    """
    from sparklayer_erp.monitoring.accept import AcceptRefused, accept_exception_now

    with _ledger() as ledger:
        try:
            row = accept_exception_now(ledger, exception_id, reason, by)
        except AcceptRefused as exc:
            _fail(ctx, f"not accepted: {exc}")
            return
    click.echo(f"exception {row.id} ({row.kind}, {row.entity_type} {row.entity_id}) accepted by {row.accepted_by}: "
               f"{row.accepted_reason}")


# ---------------------------------------------------------------------------- resend


@cli.command()
@click.argument("data_type", metavar="customers|prices|stock|pack_sizes",
                type=click.Choice(RESEND_TYPES, case_sensitive=False))
@click.option("--price-list", metavar="CODE", help="prices only: just this price list (its code)")
@click.option("--sku", "skus", multiple=True, metavar="SKU", help="stock or pack_sizes only: just this SKU "
                                                                  "(repeat for more)")
@click.option("--account", "accounts", multiple=True, metavar="CODE",
              help="customers only: just this ERP account code (repeat for more)")
@click.pass_context
def resend(ctx: click.Context, data_type: str, price_list: str | None, skus: tuple[str, ...],
           accounts: tuple[str, ...]) -> None:
    """Send one kind of master data to SparkLayer again in full (undoes hand edits made in SparkLayer).

    Runs the Dagster job master_data_resend_job on the instance of $DAGSTER_HOME, so the run shows in the UI.
    """
    from sparklayer_erp.masterdata.resend import RESEND_JOB_NAME, resend_run_config

    try:
        run_config = resend_run_config(data_type.lower(), price_list=price_list, skus=list(skus),
                                       account_codes=list(accounts))
    except ValueError as exc:
        _fail(ctx, f"nothing sent: {exc}")
        return
    import dagster as dg

    from sparklayer_erp.definitions import defs

    click.echo(f"resending {_request_text(run_config)} with {RESEND_JOB_NAME}")
    with dg.DagsterInstance.get() as instance:
        result = defs.resolve_job_def(RESEND_JOB_NAME).execute_in_process(
            run_config=run_config, instance=instance, raise_on_error=False)
    for line in _run_lines(result):
        click.echo(line)
    if not result.success:
        _fail(ctx, f"run {result.run_id} failed: open it in the Dagster UI (Runs)")
    click.echo(f"run {result.run_id} succeeded")


def _request_text(run_config: dict) -> str:
    request = next(iter(run_config["ops"].values()))["config"]
    parts = [request.get("data_type", "?")]
    if request.get("price_list"):
        parts.append(f"price list {request['price_list']}")
    if request.get("skus"):
        parts.append("SKUs " + ", ".join(request["skus"]))
    if request.get("account_codes"):
        parts.append("accounts " + ", ".join(request["account_codes"]))
    return " / ".join(parts)


def _run_lines(result) -> list[str]:
    """What the run reported: the metadata of its outputs and materializations, and why a step failed."""
    out: list[str] = []
    for event in result.all_events:
        data = event.event_specific_data
        metadata = None
        if event.event_type_value == "ASSET_MATERIALIZATION":
            metadata = data.materialization.metadata
        elif event.event_type_value == "STEP_OUTPUT":
            metadata = getattr(getattr(data, "metadata", None), "items", None) and data.metadata
        elif event.event_type_value == "STEP_FAILURE":
            out.append(f"  {event.step_key} failed: {data.error.message.strip().splitlines()[0]}")
        for key, value in (metadata or {}).items():
            text = str(getattr(value, "value", value)).strip()
            if text and "\n" not in text and len(text) <= 200:
                out.append(f"  {key}: {text}")
    return out


# ---------------------------------------------------------------------------- pack


@cli.command()
@click.option("--month", required=True, metavar="YYYY-MM", help="the month, e.g. 2026-10")
@click.option("--version", "version", type=click.IntRange(min=1), metavar="N",
              help="this version (default: the one the month closed on, else the newest)")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="folder to copy the workbook into")
@click.option("--list", "listing", is_flag=True, help="list the month's versions instead of copying one")
@click.pass_context
def pack(ctx: click.Context, month: str, version: int | None, out: Path, listing: bool) -> None:
    """Copy a month-end pack (the reconciliation workbook) out of the ledger, or list its versions.

    Every month-end run writes a new version; the ledger keeps each one with its checksum, so this works from
    any machine that reaches the ledger. An existing file is never overwritten.
    """
    import hashlib

    with _ledger() as led:
        try:
            versions = led.pack_versions(month)
            closed = led.month_close(month)
        except ValueError as exc:
            _fail(ctx, str(exc), 2)
            return
        if not versions:
            _fail(ctx, f"no pack for {month}: the month has not been reconciled yet")
            return
        if listing:
            rows = [[str(v.version), f"{v.created_at:%Y-%m-%d %H:%M}", "yes" if v.close_ready else "no",
                     "closed on this" if closed and closed.version == v.version else "", v.run_id[:8],
                     v.path or ""] for v in versions]
            click.echo("\n".join(_table(["version", "written (UTC)", "close-ready", "close", "run", "path"], rows)))
            return
        chosen = version or (closed.version if closed else versions[-1].version)
        found = next((v for v in versions if v.version == chosen), None)
        content = led.pack_content(month, chosen) if found else None
    if found is None or content is None:
        _fail(ctx, f"{month} has no version {chosen} (versions: {', '.join(str(v.version) for v in versions)})")
        return
    if hashlib.sha256(content).hexdigest() != found.checksum:
        _fail(ctx, f"{month} version {chosen}: the stored workbook does not match its checksum; not copied")
        return
    target = out / Path(found.path or f"reconciliation-{month}-v{chosen}.xlsx").name
    if target.exists():
        _fail(ctx, f"{target} exists already; not overwritten (choose another --out)")
        return
    out.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    note = "the version the month closed on" if closed and closed.version == chosen else (
        f"not the closed version ({closed.version})" if closed else "the month is not closed yet")
    click.echo(f"{month} version {chosen} ({note}) -> {target} ({len(content):,} bytes, checksum verified)")


# ---------------------------------------------------------------------------- ledger


@cli.group()
def ledger() -> None:
    """Ledger migrations (the integration's own database: LEDGER_DATABASE_URL, or SQLite in the data folder)."""


URL_OPTION = click.option("--url", help="database URL (default: LEDGER_DATABASE_URL or SQLite in the data folder)")


def _ledger_url(url: str | None) -> str:
    return url or settings.ledger_url()


def _show_revision(url: str) -> None:
    from sparklayer_erp.ledger import current_revision

    click.echo(f"ledger at revision {current_revision(url)}")


@ledger.command()
@URL_OPTION
@click.option("--revision", default="head", show_default=True, help="migrate up to this revision")
def upgrade(url: str | None, revision: str) -> None:
    """Bring the ledger up to the newest migration (safe to repeat; the runs also do it on first use)."""
    from sparklayer_erp.ledger import upgrade as migrate_up

    url = _ledger_url(url)
    migrate_up(url, revision)
    _show_revision(url)


def _interactive() -> bool:
    return sys.stdin.isatty()


@ledger.command()
@click.argument("target", metavar="REVISION", required=False)
@URL_OPTION
@click.option("--revision", help="the same as REVISION")
@click.option("--yes", is_flag=True, help="do not ask for confirmation (needed without a terminal)")
@click.pass_context
def downgrade(ctx: click.Context, target: str | None, url: str | None, revision: str | None, yes: bool) -> None:
    """Take the ledger down to REVISION (e.g. 0001; `base` drops every ledger table and its data).

    Asks for confirmation; --yes skips the question. Without a terminal and without --yes it refuses.
    """
    from sparklayer_erp.ledger import current_revision
    from sparklayer_erp.ledger import downgrade as migrate_down
    from sparklayer_erp.ledger.engine import safe_url

    if target and revision and target != revision:
        _fail(ctx, f"two different revisions given ({target} and {revision}): give one", 2)
    target = target or revision
    if not target:
        _fail(ctx, "give the revision to go down to, e.g. `sparklayer-erp ledger downgrade 0001` "
                   "(`base` drops every ledger table and its data)", 2)
        return
    url = _ledger_url(url)
    question = (f"Take the ledger {safe_url(url)} from revision {current_revision(url)} down to {target}"
                + (" (drops every ledger table and its data)" if target == "base" else "") + "?")
    if not yes:
        if not _interactive():
            _fail(ctx, f"refused: {question} needs a confirmation; add --yes to run it without a terminal", 1)
        if not click.confirm(question, default=False):
            _fail(ctx, "nothing changed", 1)
    migrate_down(url, target)
    _show_revision(url)


@ledger.command()
@URL_OPTION
def current(url: str | None) -> None:
    """Show the revision the ledger is at."""
    _show_revision(_ledger_url(url))


# ---------------------------------------------------------------------------- the local stack


@cli.command()
@click.option("--port", type=int, default=3000, show_default=True, help="the Dagster UI's port")
@click.option("--simulate/--no-simulate", default=True, show_default=True,
              help="place simulated orders in the sandbox")
@click.option("--automation/--no-automation", default=True, show_default=True,
              help="turn schedules and sensors on (off: turn them on in the UI)")
@click.pass_context
def demo(ctx: click.Context, port: int, simulate: bool, automation: bool) -> None:
    """Run the whole product locally: ERP, SparkLayer sandbox, Dagster UI and daemon (Ctrl-C stops all)."""
    ctx.exit(run_demo(port, simulate, automation) or 0)


@cli.command()
@click.option("--port", type=int, help="port to serve on (default: the port of SPARKLAYER_BASE_URL)")
@click.option("--db", help="the sandbox's SQLite file (default: sandbox.sqlite in the data folder)")
@click.pass_context
def sandbox(ctx: click.Context, port: int | None, db: str | None) -> None:
    """Serve the local SparkLayer sandbox (the same API as SparkLayer)."""
    from sparklayer_erp.demo.sandbox import server

    argv = ["--port", str(port or _port_of("SPARKLAYER_BASE_URL"))]
    if db:
        argv += ["--db", db]
    ctx.exit(server.main(argv) or 0)


@cli.command()
@click.argument("action", type=click.Choice(["build", "serve", "info"]))
@click.option("--port", type=int, help="serve: port to listen on (default: the port of ERP_URL)")
@click.option("--postgres", metavar="URL",
              help="build, serve: the ERP on this PostgreSQL database (postgresql://user:pw@host:5432/name; "
                   "created and seeded when missing) instead of SQLite")
@click.pass_context
def erp(ctx: click.Context, action: str, port: int | None, postgres: str | None) -> None:
    """Build, serve or describe the local Tryton ERP with the demo company (ACTION: build, serve, info)."""
    from sparklayer_erp.demo import tryton_local as local

    if postgres and action == "info":
        raise click.UsageError("--postgres goes with build or serve")
    argv = [action] + (["--port", str(port or _port_of("ERP_URL"))] if action == "serve" else [])
    ctx.exit(local.main(argv + (["--postgres", postgres] if postgres else [])) or 0)


@cli.command("netsuite-emulator")
@click.option("--port", type=int, help="port to serve on (default: 8800)")
@click.option("--db", help="its SQLite file, seeded with the demo company when new (default: netsuite.sqlite in "
                           "the data folder)")
@click.option("--print-env", is_flag=True, help="print the NETSUITE_* settings that point the integration at it")
@click.pass_context
def netsuite_emulator(ctx: click.Context, port: int | None, db: str | None, print_env: bool) -> None:
    """Serve the local NetSuite emulator (built from NetSuite's documentation, not NetSuite) with the demo
    company; run the integration on it with ERP_KIND=netsuite and the settings --print-env shows."""
    from sparklayer_erp.demo import bootstrap as demo_bootstrap
    from sparklayer_erp.demo.netsuite import server

    if print_env:
        from sparklayer_erp.demo.netsuite.credentials import adapter_settings

        base_url = f"http://{server.HOST}:{port or server.DEFAULT_PORT}"
        for key, value in demo_bootstrap.netsuite_environment(adapter_settings(base_url)).items():
            click.echo(f"{key}={value}".replace("\n", "\\n"))
        ctx.exit(0)
    argv = (["--port", str(port)] if port else []) + (["--db", db] if db else [])
    ctx.exit(server.main(argv) or 0)


def _local_defaults() -> None:
    """Like the Dagster CLI: a ``.env`` in the working folder (``SPARKLAYER_ERP_ENV_FILE`` names another; empty:
    none) fills variables not already set, and the demo's instance folder is the default ``DAGSTER_HOME`` when
    it exists (so ``check`` finds its daemon)."""
    env_file = os.environ.get("SPARKLAYER_ERP_ENV_FILE", settings.SETTINGS["SPARKLAYER_ERP_ENV_FILE"].default)
    if env_file:
        _load_dotenv(Path(env_file))
    if not os.environ.get("DAGSTER_HOME"):
        try:
            demo_home = settings.data_dir() / "dagster_home"
        except settings.SettingError:
            return
        if (demo_home / "dagster.yaml").is_file():
            os.environ["DAGSTER_HOME"] = str(demo_home)


def main(argv: Sequence[str] | None = None) -> int:
    """The ``sparklayer-erp`` entry point: runs one command and returns its exit code."""
    _local_defaults()
    try:
        result = cli.main(args=list(argv) if argv is not None else None, prog_name="sparklayer-erp",
                          standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort:
        click.echo("Aborted!", err=True)
        return 1
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
