"""What the person on call asks: is everything up, where is this order, what is open.

Plain functions that return data (``cli.py`` prints it), so each answer is testable without the command line.
Nothing here writes to another system; ``check`` and ``order`` only read (the ERP through the port).
Messages never carry a secret: every text that leaves this module passes :func:`scrub`.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sparklayer_erp import settings
from sparklayer_erp.domain.exception_kinds import Entity

if TYPE_CHECKING:
    from sparklayer_erp.domain.models import ErpOrderStatus
    from sparklayer_erp.erp.port import ErpPort
    from sparklayer_erp.ledger import AuditEntry, ExceptionRow, Ledger, OrderLink

CHECK_TIMEOUT_S = 15.0  # per outside call of ``check``: a hung server is reported, not waited on
HEARTBEAT_MAX_AGE_S = 120  # a daemon whose newest heartbeat is older than this is not running
PO_SCAN_LIMIT = 2_000  # linked orders whose ERP PO number ``order`` compares when the ledger does not know it
ERP_CHECK_PURCHASE_ID = "sparklayer-erp-check"  # looked up (never created) to prove login and shop set-up

ErpSession = Callable[[], AbstractContextManager["ErpPort"]]


# --- secrets ------------------------------------------------------------------------------------------------


def secret_values(environ: Mapping[str, str] | None = None) -> list[str]:
    """The values of every secret setting that is set (longest first, so a secret inside another is masked too)."""
    source = os.environ if environ is None else environ
    values = {source.get(s.env, "") for s in settings.SETTINGS.values() if s.secret}
    return sorted((v for v in values if len(v) >= 3), key=len, reverse=True)


def scrub(text: str, environ: Mapping[str, str] | None = None) -> str:
    for value in secret_values(environ):
        text = text.replace(value, "***")
    return text


def _why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


# --- check --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    """One line of ``sparklayer-erp check``: ``problem`` is None when the item is fine."""

    item: str
    problem: str | None = None
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.problem is None


def check_settings(environ: Mapping[str, str] | None = None) -> list[CheckResult]:
    """Every setting of the table read and checked: one result per bad setting, or one OK for all."""
    bad = []
    for env in settings.SETTINGS:
        try:
            settings.read(env, dict(environ) if environ is not None else None)
        except settings.SettingError as exc:
            bad.append(CheckResult("settings", scrub(str(exc), environ)))
    return bad or [CheckResult("settings", note=f"{len(settings.SETTINGS)} valid")]


def _read(env: str, environ: Mapping[str, str] | None) -> str:
    return str(settings.read(env, dict(environ) if environ is not None else None))


def erp_session_from_settings(environ: Mapping[str, str] | None = None,
                              timeout_s: float = CHECK_TIMEOUT_S) -> AbstractContextManager[ErpPort]:
    """An ERP session built from the settings exactly as the Dagster resource builds it."""
    from sparklayer_erp.resources import erp_resource_from_settings

    return erp_resource_from_settings(environ, timeout_s=timeout_s).session()


def check_erp(environ: Mapping[str, str] | None = None) -> CheckResult:
    """Log in to the ERP and make one cheap read (look up a purchase id that never exists)."""
    try:
        from sparklayer_erp.resources import erp_location

        where = erp_location(environ)
        session = erp_session_from_settings(environ)
    except settings.SettingError as exc:
        return CheckResult("ERP", f"not configured: {scrub(str(exc), environ)}")
    try:
        with session as port:
            port.find_orders([ERP_CHECK_PURCHASE_ID])
    except Exception as exc:  # any failure is the answer
        return CheckResult("ERP", f"{where}: {scrub(_why(exc), environ)}")
    return CheckResult("ERP", note=f"logged in to {where}")


def check_sparklayer(environ: Mapping[str, str] | None = None) -> CheckResult:
    """Fetch an access token with the configured client id and secret."""
    try:
        base_url, site = _read("SPARKLAYER_BASE_URL", environ), _read("SPARKLAYER_SITE_ID", environ)
        client_id, secret = _read("SPARKLAYER_CLIENT_ID", environ), _read("SPARKLAYER_CLIENT_SECRET", environ)
    except settings.SettingError as exc:
        return CheckResult("SparkLayer", f"not configured: {scrub(str(exc), environ)}")
    where = f"site {site} at {base_url} (client {client_id})"
    from sparklayer_erp.sparklayer.client import SparkLayerClient

    try:
        with SparkLayerClient(base_url, site, client_id, secret, timeout=CHECK_TIMEOUT_S, max_attempts=2,
                              max_total_wait_s=5.0, requests_per_second=None, backoff_initial_s=0.2,
                              backoff_max_s=1.0) as client:
            client.get_token()
    except Exception as exc:  # any failure is the answer
        return CheckResult("SparkLayer", f"no token for {where}: {scrub(_why(exc), environ)}")
    return CheckResult("SparkLayer", note=f"token for {where}")


def check_ledger(url: str | None = None, environ: Mapping[str, str] | None = None) -> CheckResult:
    """The ledger answers and is at the newest migration (an absent SQLite file is reported, not created)."""
    from sqlalchemy.engine import make_url

    from sparklayer_erp.ledger import current_revision, head_revision
    from sparklayer_erp.ledger.engine import safe_url

    try:
        url = url or settings.ledger_url()
        shown = safe_url(url)
        parsed = make_url(url)
    except (settings.SettingError, ValueError) as exc:
        return CheckResult("ledger", scrub(str(exc), environ))
    item = "ledger"
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") \
            and not Path(parsed.database).expanduser().exists():
        return CheckResult(item, f"{shown}: the database file does not exist: run `sparklayer-erp ledger upgrade`")
    try:
        current, head = current_revision(url), head_revision()
    except Exception as exc:  # any failure is the answer
        password = parsed.password
        text = _why(exc).replace(str(password), "***") if password else _why(exc)
        return CheckResult(item, f"{shown} unreachable: " + scrub(text, environ))
    if current != head:
        return CheckResult(item, f"{shown} at revision {current or 'none (empty database)'}, the code needs {head}: "
                                 "run `sparklayer-erp ledger upgrade`")
    return CheckResult(item, note=f"{shown} at revision {head} (head)")


def check_daemon(now: float | None = None, environ: Mapping[str, str] | None = None) -> CheckResult:
    """The Dagster daemon of ``$DAGSTER_HOME`` beat in the last two minutes (every daemon it must run)."""
    home = (os.environ if environ is None else environ).get("DAGSTER_HOME", "")
    if not home:
        return CheckResult("Dagster daemon", "DAGSTER_HOME is not set, so the daemon's heartbeats cannot be read "
                                             "(set it to the folder holding the instance's dagster.yaml)")
    item = "Dagster daemon"
    if not Path(home).is_dir():
        return CheckResult(item, f"DAGSTER_HOME={home} is not a folder")
    now = time.time() if now is None else now
    try:
        import dagster as dg

        with dg.DagsterInstance.from_config(home) as instance:
            beats = instance.get_daemon_heartbeats()
            required = list(instance.get_required_daemon_types())
    except Exception as exc:  # any failure is the answer
        return CheckResult(item, "cannot open the Dagster instance: " + scrub(_why(exc), environ))
    if not beats:
        return CheckResult(item, f"no heartbeat ever in DAGSTER_HOME={home}: the daemon is not running "
                                 "(`dagster-daemon run`, or `dagster dev` which starts it)")
    stale = []
    for daemon in required or sorted(beats):
        beat = beats.get(daemon)
        if beat is None:
            stale.append(f"{daemon}: no heartbeat")
        elif now - beat.timestamp > HEARTBEAT_MAX_AGE_S:
            stale.append(f"{daemon}: last heartbeat {_ago(now - beat.timestamp)} ago")
    if stale:
        return CheckResult(item, f"no heartbeat in the last {HEARTBEAT_MAX_AGE_S // 60} minutes ("
                                 + "; ".join(stale) + "): the daemon is down, schedules and sensors do not run")
    newest = max(b.timestamp for b in beats.values())
    return CheckResult(item, note=f"heartbeat {_ago(now - newest)} ago ({len(required or beats)} daemons, "
                                  f"DAGSTER_HOME={home})")


def _ago(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def run_checks(environ: Mapping[str, str] | None = None) -> list[CheckResult]:
    """Everything ``sparklayer-erp check`` looks at, in order."""
    return [*check_settings(environ), check_erp(environ), check_sparklayer(environ), check_ledger(environ=environ),
            check_daemon(environ=environ)]


# --- order ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderReport:
    """One order as the ledger and the ERP see it now."""

    purchase_id: str
    found_by: str
    link: OrderLink | None
    erp: ErpOrderStatus | None
    erp_problem: str | None  # "ERP unreachable: …", "no ERP order yet", … when ``erp`` is None
    exceptions: list[ExceptionRow]
    audit: list[AuditEntry]


@dataclass
class OrderLookup:
    ref: str
    orders: list[OrderReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # how the search went when it had to go to the ERP

    @property
    def found(self) -> bool:
        return bool(self.orders)


_ORDER_ENTITIES = (Entity.ORDER.value, Entity.ERP_ORDER.value)


@contextmanager
def _lazy(session: ErpSession) -> Iterator[Callable[[], ErpPort]]:
    """Open the ERP session only when a port is first asked for, and close it at the end."""
    opened: list[AbstractContextManager[ErpPort]] = []
    ports: list[ErpPort] = []

    def port() -> ErpPort:
        if not ports:
            cm = session()
            ports.append(cm.__enter__())
            opened.append(cm)
        return ports[0]

    try:
        yield port
    finally:
        for cm in opened:
            cm.__exit__(None, None, None)


def look_up_order(ledger: Ledger, ref: str, erp_session: ErpSession | None = None, *,
                  po_scan_limit: int = PO_SCAN_LIMIT) -> OrderLookup:
    """Find an order by SparkLayer purchase id, ERP order number or PO number; report each match.

    The ledger keeps purchase ids, ERP numbers and PO numbers (links made before the ledger kept PO numbers
    have none until their order next changes). A PO number the ledger does not know is then looked for in the
    words of the order's exceptions (``"<purchase id> (PO <number>)"``), then in the ERP: the PO numbers of the
    ``po_scan_limit`` most recently updated linked orders (one batched ``order_status``).
    """
    ref = ref.strip()
    lookup = OrderLookup(ref)
    if not ref:
        return lookup
    erp_session = erp_session or erp_session_from_settings
    found: dict[str, str] = {}
    links: dict[str, OrderLink] = {}
    for link in ledger.find_order_links(ref):
        found[link.purchase_id] = ("purchase id" if link.purchase_id == ref
                                   else "ERP order number" if link.erp_order_number == ref else "PO number")
        links[link.purchase_id] = link
    erp_orphans: list[str] = []
    if not found:
        for row in ledger.exceptions(entity_ids=[ref]):
            if row.entity_type == Entity.ORDER:
                found.setdefault(ref, "purchase id (in exceptions only)")
            elif row.entity_type == Entity.ERP_ORDER and ref not in erp_orphans:
                erp_orphans.append(ref)
    if not found:
        for row in ledger.exceptions(entity_type=Entity.ORDER.value, mentioning=f"(PO {ref})"):
            found.setdefault(row.entity_id, "PO number (in the order's exceptions)")
    statuses: dict[int, ErpOrderStatus] = {}
    erp_problem: str | None = None
    with _lazy(erp_session) as port:
        if not found and not erp_orphans:
            recent = ledger.recent_order_links(po_scan_limit)
            try:
                scanned = port().order_status([link.erp_order_id for link in recent if link.erp_order_id])
            except Exception as exc:  # the search ends here; say so
                lookup.notes.append(f"the ERP could not be searched for PO number {ref}: {scrub(_why(exc))}")
                scanned = []
            by_id = {link.erp_order_id: link for link in recent}
            for status in scanned:
                if status.po_number == ref and status.erp_id in by_id:
                    pid = by_id[status.erp_id].purchase_id
                    found.setdefault(pid, "PO number (in the ERP order)")
                    statuses[status.erp_id] = status
            if recent and not found and not lookup.notes:
                lookup.notes.append(f"searched the PO numbers of the {len(recent)} most recently updated "
                                    "linked orders in the ERP")
        links.update({pid: link for pid, link in ledger.order_links_for(found).items() if pid not in links})
        wanted = [links[p].erp_order_id for p in found if p in links and links[p].erp_order_id is not None]
        missing = [i for i in wanted if i not in statuses]
        if missing:
            try:
                statuses.update({s.erp_id: s for s in port().order_status(missing)})
            except Exception as exc:  # reported per order, the ledger's part still answers
                erp_problem = f"ERP unreachable: {scrub(_why(exc))}"
    for pid, how in found.items():
        link = links.get(pid)
        status, problem = None, None
        if link is None or link.erp_order_id is None:
            problem = "no ERP order yet"
        elif erp_problem:
            problem = erp_problem
        else:
            status = statuses.get(link.erp_order_id)
            if status is None:
                problem = f"ERP order {link.erp_order_number or link.erp_order_id} not found in the ERP"
        ids = [pid] + ([link.erp_order_number] if link and link.erp_order_number else [])
        rows = [r for r in ledger.exceptions(entity_ids=ids) if r.entity_type in _ORDER_ENTITIES]
        lookup.orders.append(OrderReport(pid, how, link, status, problem, rows, ledger.audit_entries(key=pid)))
    for number in erp_orphans:
        rows = [r for r in ledger.exceptions(entity_ids=[number]) if r.entity_type in _ORDER_ENTITIES]
        lookup.orders.append(OrderReport(number, "ERP order number (no shop order linked)", None, None,
                                         "not linked to any SparkLayer order", rows,
                                         ledger.audit_entries(key=number)))
    return lookup


# --- exceptions ---------------------------------------------------------------------------------------------


EXCEPTION_COLUMNS = ("id", "kind", "owner", "entity", "first seen", "last seen", "count", "status")


def exception_rows(ledger: Ledger, *, team: str | None = None, include_closed: bool = False) -> list[ExceptionRow]:
    """Open exceptions (or every one, accepted and resolved too), oldest first, of one team or all."""
    from sparklayer_erp.ledger import ExceptionStatus

    statuses: Sequence[str] | None = None if include_closed else (ExceptionStatus.OPEN.value,)
    return ledger.exceptions(statuses=statuses, owner_team=team)


def exception_table(rows: Sequence[ExceptionRow]) -> list[tuple[str, ...]]:
    """The rows of the ``exceptions`` table, in :data:`EXCEPTION_COLUMNS` order."""
    return [(str(r.id), r.kind, r.owner_team, f"{r.entity_type} {r.entity_id}", when(r.first_seen),
             when(r.last_seen), str(r.count), r.status) for r in rows]


def when(moment: dt.datetime | None) -> str:
    return f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S}" if moment else "-"
