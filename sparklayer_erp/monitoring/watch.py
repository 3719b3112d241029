"""Drift monitoring and the people-facing side of exceptions, without Dagster.

Four jobs, each safe to repeat:

1. ``build_snapshot`` reads SparkLayer, the ERP and the ledger into ``domain.drift.DriftSnapshot``;
2. ``record_drift`` runs ``domain.drift.evaluate_drift`` and opens, refreshes and resolves the monitor's
   exceptions in the ledger. Resolution is *scoped*: an exception is closed only when the monitor looked at
   its entity this time and the rule no longer fires. An order outside the look-back window keeps its
   exception (nobody looked), and an exception a flow raised about an order the monitor did not read is never
   touched;
3. alerts: every exception is announced once, when it opens, in one message per owner team
   (``domain.alerting``); a daily digest of what is still open; accepted exceptions are never announced;
4. ``report_to_sparklayer`` puts every open exception into SparkLayer's sync log.

Date-only ERP facts (a shipment done "on 26 Nov", an invoice dated "26 Nov") get a time from the moment the
monitor first saw them (kept in the ledger), so the grace periods of the rules count from when the fact
appeared, not from midnight: a shipment done at 14:00 is not reported as "not shown in SparkLayer" at 14:01.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from sparklayer_erp.domain.alerting import (
    Alert,
    AlertItem,
    digest_alerts,
    new_exception_alerts,
    sync_failure_alert,
)
from sparklayer_erp.domain.drift import (
    DriftConfig,
    DriftSnapshot,
    ErpOrderSnap,
    OpenInvoice,
    PendingQuantity,
    SlCustomerSnap,
    SlOrderSnap,
    evaluate_drift,
)
from sparklayer_erp.domain.exception_kinds import KINDS, Entity, Problem
from sparklayer_erp.domain.models import ErpItem, ErpOrderState, ErpOrderStatus
from sparklayer_erp.erp.port import ErpPort
from sparklayer_erp.ledger import AuditOutcome, AuditSystem, ExceptionRow, Ledger, SyncState
from sparklayer_erp.ledger.digest import canonical_json, request_digest
from sparklayer_erp.plumbing.markdown import cell, team_label
from sparklayer_erp.sparklayer.client import SparkLayerClient
from sparklayer_erp.sparklayer.errors import SparkLayerNotFound, SparkLayerValidationError
from sparklayer_erp.sparklayer.models import SYNC_LOG_MAX_ERRORS, Purchase, SyncLogEntry, SyncLogError

if TYPE_CHECKING:  # Apprise (notify.delivery) loads only when an alert is sent: not in every run worker
    from sparklayer_erp.notify.delivery import AlertRouting

log = logging.getLogger(__name__)

SYNC_NAME = "monitoring"  # ledger sync status of the drift monitor
EXCEPTIONS_SYNC_NAME = "exception_alerts"  # ledger sync status of the exceptions/alerts step
DIGEST_SYNC_NAME = "alert_digest"  # last_success_at = when the last daily digest went out
SYNC_FAILURE_ALERT_PREFIX = "alert_sync_failure:"  # + job name: when its last failure alert went out
SYNC_LOG_DATA_TYPE = "exceptions"  # SparkLayer sync-log data type of the monitor (contract 11)
SYNC_LOG_HASH_KIND = "monitor_sync_log"  # ledger push-state kind: digest of the last sync-log report
FIRST_SEEN_KIND = "monitor_first_seen"  # ledger push-state kind: when a date-only ERP fact was first seen

# What each drift kind is about, which says when the monitor may close it (see module doc).
ORDER_SCOPED_KINDS = frozenset({"order_stuck", "status_mismatch", "amount_mismatch", "draft_order_stock_not_held",
                                "paid_in_shop_unpaid_in_erp"})
ERP_ORDER_SCOPED_KINDS = frozenset({"erp_order_orphaned"})
GLOBAL_KINDS = frozenset({"customer_without_account_code", "sku_unknown_to_erp", "item_without_price"})
SYNC_KINDS = frozenset({"stale_sync"})
DRIFT_KINDS = ORDER_SCOPED_KINDS | ERP_ORDER_SCOPED_KINDS | GLOBAL_KINDS | SYNC_KINDS

# SparkLayer sync-log data type each exception belongs to (the entity decides, a few kinds override).
_DATA_TYPE_BY_ENTITY = {Entity.ORDER.value: "orders", Entity.ERP_ORDER.value: "orders",
                        Entity.CUSTOMER.value: "customers", Entity.PRICE_LIST.value: "prices",
                        Entity.SKU.value: "products"}
_DATA_TYPE_BY_KIND = {"stock_invalid": "stock", "item_without_price": "prices", "price_invalid": "prices"}
_DATASET_DATA_TYPES = {"orders": "orders", "stock": "stock", "prices": "prices", "price_lists": "prices",
                       "customers": "customers", "products": "products", "items": "products"}


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- the snapshot ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonitorSettings:
    lookback: dt.timedelta = dt.timedelta(days=30)  # SparkLayer orders changed, ERP orders dated, this recently
    max_purchase_lookups: int = 200  # ERP orders whose SparkLayer order is looked up one by one, per run
    pending_grace: dt.timedelta = dt.timedelta(minutes=15)  # a new pending order waits for the next stock push
    warehouse_code: str = "WH"  # where the order sync's orders ship from (the ERP port does not say)


@dataclass(frozen=True)
class Snapshot:
    """What the monitor read, and which entities it therefore judged (the scope of resolution)."""

    drift: DriftSnapshot
    purchase_ids: frozenset[str]
    erp_labels: frozenset[str]
    lookups: int = 0  # SparkLayer orders read one by one
    not_judged: tuple[str, ...] = ()  # ERP orders left out: their SparkLayer order could not be looked up


class _FirstSeen:
    """When the monitor first saw a date-only fact, kept in the ledger's key → text store."""

    def __init__(self, ledger: Ledger, now: dt.datetime) -> None:
        self.ledger, self.now = ledger, now
        self.known = ledger.load_push_hashes(FIRST_SEEN_KIND)
        self.current: dict[str, str] = {}

    def at(self, key: str, day: dt.date) -> dt.datetime:
        """``min(first seen, end of that day)``: today's fact counts from when it appeared, an old one from
        its own day (the monitor may have been switched on long after it happened)."""
        seen = self.known.get(key) or self.now.isoformat()
        self.current[key] = seen
        end_of_day = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
        return min(dt.datetime.fromisoformat(seen), end_of_day)

    def save(self) -> None:
        new = {k: v for k, v in self.current.items() if k not in self.known}
        self.ledger.save_push_hashes(FIRST_SEEN_KIND, new)
        self.ledger.delete_push_hashes(FIRST_SEEN_KIND, set(self.known) - set(self.current))


def sl_order_snap(purchase: Purchase) -> SlOrderSnap | None:
    """A SparkLayer order as the rules see it; None for what is not a placed order."""
    pid, placed = purchase.sparklayer_id, purchase.placed_at
    if not pid or purchase.type != "order" or placed is None:
        return None
    return SlOrderSnap(
        purchase_id=pid, visible_id=purchase.visible_id,
        customer_sparklayer_id=purchase.customer_identifiers.get("sparklayer", ""),
        payment_method=purchase.payment_method or "", status=purchase.status or "",
        placed_at=placed, total_gross=purchase.total if purchase.total is not None else Decimal("0"),
        total_paid=purchase.total_paid or Decimal("0"),
        skus=tuple(sorted({line.sku for line in purchase.lines if line.sku})),
        cancelled_gross=sum((line.line_gross or Decimal("0") for p in purchase.packages
                             if p.type == "cancellation" for line in p.lines), Decimal("0")),
    )


def erp_label(status: ErpOrderStatus) -> str:
    """How the drift rules name an ERP order (its number, else ``#id``)."""
    return status.number or f"#{status.erp_id}"


def _base_quantities(status: ErpOrderStatus, items: Mapping[str, ErpItem], warehouse: str) -> tuple[
        PendingQuantity, ...]:
    """ERP lines are in sale units (2 × "Case of 12"); stock is pushed in base units (24)."""
    totals: dict[str, int] = defaultdict(int)
    for line in status.lines:
        item = items.get(line.sku)
        if item is None:
            continue
        factor = item.sale_unit.factor if line.unit == item.sale_unit.name else (
            1 if line.unit == item.base_unit else None)
        if factor is not None:
            totals[line.sku] += int(Decimal(line.quantity) * factor)
    return tuple(PendingQuantity(sku, warehouse, qty) for sku, qty in sorted(totals.items()))


def erp_order_snap(status: ErpOrderStatus, items: Mapping[str, ErpItem], warehouse: str,
                   first_seen: _FirstSeen) -> ErpOrderSnap:
    """The ERP order as the rules see it.

    Stock held (committed orders): a shipment that is not cancelled. Tryton keeps a confirmed sale's goods in
    a waiting shipment, counted by its stock forecast; the stock is released when that shipment is cancelled
    while the sale stays open. No shipment at all says nothing either way (``None``).
    """
    committed = status.state is ErpOrderState.COMMITTED
    held = any(sh.state != "cancelled" for sh in status.shipments) if committed and status.shipments else None
    shipped_days = [sh.shipped_on for sh in status.shipments if sh.state == "done" and sh.shipped_on]
    shipped_at = first_seen.at(f"shipped:{status.erp_id}", min(shipped_days)) if shipped_days else None
    open_invoices = tuple(
        OpenInvoice(inv.number, inv.amount_due,
                    first_seen.at(f"invoice:{inv.number}", inv.invoice_date or first_seen.now.date()))
        for inv in status.invoices if inv.state == "posted" and inv.amount_due > 0 and inv.number
    )
    pending = (_base_quantities(status, items, warehouse)
               if status.state is ErpOrderState.PENDING_APPROVAL else ())
    return ErpOrderSnap(erp_id=status.erp_id, number=status.number, purchase_id=status.purchase_id,
                        state=status.state.value, total=status.total, stock_held=held, shipped_at=shipped_at,
                        pending=pending, open_invoices=open_invoices)


def pushed_pending_stock(ledger: Ledger, erp_orders: Iterable[ErpOrderSnap], now: dt.datetime,
                         grace: dt.timedelta) -> dict[tuple[str, str], int]:
    """What the last stock push held back for pending-approval orders, reconstructed from the ledger.

    The stock push subtracts every order the ledger knows as pending approval (and the ERP still holds as a
    quotation), so an order counts as held back when its link is pending and existed at the last successful
    stock push — or is younger than ``grace`` (the next push will hold it back). An ERP quotation the ledger
    does not know as pending, or one waiting since before a stock push that never came, is not.
    """
    status = ledger.sync_status("stock")
    last_push = status.last_success_at if status else None
    pending = [e for e in erp_orders if e.state == ErpOrderState.PENDING_APPROVAL.value and e.purchase_id]
    links = ledger.order_links_for(e.purchase_id for e in pending if e.purchase_id)
    held: dict[tuple[str, str], int] = defaultdict(int)
    for e in pending:
        link = links.get(e.purchase_id or "")
        if link is None or link.sync_state != SyncState.PENDING_APPROVAL:
            continue
        if (last_push is not None and link.created_at <= last_push) or now - link.created_at < grace:
            for q in e.pending:
                held[(q.sku, q.warehouse)] += q.quantity
    return dict(held)


def build_snapshot(client: SparkLayerClient, erp: ErpPort, ledger: Ledger, now: dt.datetime,
                   settings: MonitorSettings | None = None) -> Snapshot:
    """Read both systems and the ledger. Bounded: SparkLayer orders changed within the look-back, the ERP's
    orders for them plus its orders dated within it; unknown purchase ids are looked up one by one (capped)."""
    s = settings or MonitorSettings()
    sl: dict[str, SlOrderSnap] = {}
    for purchase in client.iter_purchases(now - s.lookback):
        snap = sl_order_snap(purchase)
        if snap is not None:
            sl[snap.purchase_id] = snap
    statuses = {st.erp_id: st for st in erp.list_orders_between((now - s.lookback).date(),
                                                                 now.date() + dt.timedelta(days=1))}
    refs = erp.find_orders(sorted(sl)) if sl else {}
    extra = sorted({r.erp_id for r in refs.values()} - set(statuses))
    statuses.update({st.erp_id: st for st in (erp.order_status(extra) if extra else [])})

    missing: set[str] = set()
    lookups, not_judged = 0, []
    for st in sorted(statuses.values(), key=lambda x: x.erp_id):
        pid = st.purchase_id
        if not pid or pid in sl or pid in missing:
            continue
        if lookups >= s.max_purchase_lookups:
            not_judged.append(erp_label(st))
            continue
        lookups += 1
        try:
            snap = sl_order_snap(client.get_purchase("sparklayer", pid))
        except (SparkLayerNotFound, SparkLayerValidationError):  # 400: not even a valid purchase id
            missing.add(pid)
            continue
        if snap is not None:
            sl[pid] = snap
        else:
            missing.add(pid)  # a cart or quote, not an order: nothing a sales order may carry
    skipped = set(not_judged)
    kept = [st for st in statuses.values() if erp_label(st) not in skipped]

    items = erp.list_items()
    by_sku = {i.sku: i for i in items}
    first_seen = _FirstSeen(ledger, now)
    erp_snaps = tuple(erp_order_snap(st, by_sku, s.warehouse_code, first_seen)
                      for st in sorted(kept, key=lambda x: x.erp_id))
    first_seen.save()
    links = {link.sparklayer_customer_id: link.account_code for link in ledger.customer_links()
             if link.sparklayer_customer_id}
    customers = tuple(
        SlCustomerSnap(sparklayer_id=c.id, name=c.company_name or c.email or c.id, account_code=links.get(c.id))
        for c in client.iter_customers() if c.id
    )
    drift = DriftSnapshot(
        sl_orders=tuple(sl[k] for k in sorted(sl)),
        erp_orders=erp_snaps,
        sl_missing_purchase_ids=frozenset(missing),
        sl_customers=customers,
        sl_skus=frozenset(sku for o in sl.values() for sku in o.skus),
        erp_items=tuple(items),
        erp_prices=tuple(erp.list_prices()),
        pushed_pending_stock=pushed_pending_stock(ledger, erp_snaps, now, s.pending_grace),
        sync_last_success={st.name: st.last_success_at for st in ledger.sync_statuses()},
    )
    return Snapshot(drift=drift, purchase_ids=frozenset(sl), erp_labels=frozenset(erp_label(st) for st in kept),
                    lookups=lookups, not_judged=tuple(not_judged))


# --- evaluation -----------------------------------------------------------------------------------------------


@dataclass
class DriftOutcome:
    problems: list[Problem]
    rows: list[ExceptionRow]  # the ledger rows the problems counted towards
    resolved: Counter[str] = field(default_factory=Counter)  # kind -> exceptions closed this run

    @property
    def opened(self) -> list[ExceptionRow]:
        return [r for r in self.rows if r.is_new]

    @property
    def by_kind(self) -> Counter[str]:
        return Counter(p.kind for p in self.problems)


def judged(row: ExceptionRow, snapshot: Snapshot, config: DriftConfig) -> bool:
    """Whether this run looked at the entity of a live exception (so its absence means "cause gone")."""
    if row.kind in ORDER_SCOPED_KINDS:
        return row.entity_type == Entity.ORDER.value and row.entity_id in snapshot.purchase_ids
    if row.kind in ERP_ORDER_SCOPED_KINDS:
        return row.entity_id in snapshot.erp_labels
    if row.kind in SYNC_KINDS:
        return row.entity_id in config.stale_after
    return row.kind in GLOBAL_KINDS


def record_drift(ledger: Ledger, snapshot: Snapshot, config: DriftConfig, now: dt.datetime) -> DriftOutcome:
    """Evaluate the rules, raise what they find, resolve what they judged and no longer find."""
    problems = evaluate_drift(snapshot.drift, config, now)
    rows = [ledger.raise_exception(p.kind, p.owner_team, p.entity_type, p.entity_id, p.message, p.action, p.detail)
            for p in problems]
    found = {p.key for p in problems}
    outcome = DriftOutcome(problems, rows)
    for row in ledger.open_exceptions(include_accepted=True):
        if row.kind not in DRIFT_KINDS or (row.kind, row.entity_type, row.entity_id) in found:
            continue
        if judged(row, snapshot, config) and ledger.resolve(row.kind, row.entity_type, row.entity_id, now):
            outcome.resolved[row.kind] += 1
    return outcome


def run_drift(client: SparkLayerClient, erp: ErpPort, ledger: Ledger, config: DriftConfig,
              settings: MonitorSettings | None = None, now: dt.datetime | None = None) -> tuple[
        Snapshot, DriftOutcome]:
    """One monitor evaluation, recorded in the ledger's sync status (a failure too, then re-raised)."""
    moment = now or utc_now()
    ledger.record_sync_start(SYNC_NAME)
    try:
        snapshot = build_snapshot(client, erp, ledger, moment, settings)
        outcome = record_drift(ledger, snapshot, config, moment)
    except Exception as exc:
        ledger.record_sync_failure(SYNC_NAME, f"{type(exc).__name__}: {exc}")
        raise
    ledger.record_sync_success(SYNC_NAME, {"findings": len(outcome.problems), "opened": len(outcome.opened),
                                           "resolved": sum(outcome.resolved.values())})
    return snapshot, outcome


# --- the exceptions overview ----------------------------------------------------------------------------------


def age_text(delta: dt.timedelta) -> str:
    """``3 d 4 h`` / ``25 min``: how long, for people (never negative)."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {mins} min"
    return f"{mins} min"


@dataclass(frozen=True)
class KindSummary:
    """Open (and accepted) exceptions of one kind for one owner team."""

    owner_team: str
    kind: str
    title: str
    open: int
    accepted: int
    occurrences: int  # how many times the open ones were seen in total
    oldest_first_seen: dt.datetime | None


def summarise(rows: Iterable[ExceptionRow]) -> list[KindSummary]:
    """Group live exceptions by owner and kind, most urgent first (owner, then oldest)."""
    groups: dict[tuple[str, str], list[ExceptionRow]] = defaultdict(list)
    for row in rows:
        groups[(row.owner_team, row.kind)].append(row)
    out = []
    for (team, kind), group in groups.items():
        open_rows = [r for r in group if r.status == "open"]
        spec = KINDS.get(kind)
        out.append(KindSummary(
            owner_team=team, kind=kind, title=spec.title if spec else kind, open=len(open_rows),
            accepted=len(group) - len(open_rows), occurrences=sum(r.count for r in open_rows),
            oldest_first_seen=min((r.first_seen for r in open_rows), default=None),
        ))
    return sorted(out, key=lambda k: (k.owner_team, -k.open, k.oldest_first_seen or dt.datetime.max.replace(
        tzinfo=dt.UTC), k.kind))


def summary_markdown(summaries: Sequence[KindSummary], now: dt.datetime) -> str:
    """Per owner team, what is open: a list (it stays readable in the UI's narrow metadata column)."""
    if not any(k.open for k in summaries):
        return "**Nothing open.** Every order, customer, price and sync is in step."
    lines: list[str] = []
    for team in sorted({k.owner_team for k in summaries if k.open}):
        mine = [k for k in summaries if k.owner_team == team and k.open]
        lines.append(f"**{team_label(team)}** — {sum(k.open for k in mine)} open")
        for k in mine:
            oldest = age_text(now - k.oldest_first_seen) if k.oldest_first_seen else "—"
            lines.append(f"- {k.open} × {k.title} (`{k.kind}`), oldest open {oldest}")
        lines.append("")
    return "\n".join(lines).strip()


def open_markdown(rows: Sequence[ExceptionRow], now: dt.datetime, limit: int = 200) -> str:
    """Every open exception, per owner team, oldest first: what happened and what to do."""
    open_rows = sorted((r for r in rows if r.status == "open"), key=lambda r: (r.owner_team, r.first_seen, r.id))
    if not open_rows:
        return "Nothing open."
    lines: list[str] = []
    team = None
    for r in open_rows[:limit]:
        if r.owner_team != team:
            team = r.owner_team
            lines += ["", f"**{team_label(team)}**"]
        title = KINDS[r.kind].title if r.kind in KINDS else r.kind
        lines.append(f"- **#{r.id} {title}** ({r.entity_type} `{r.entity_id}`; open {age_text(now - r.first_seen)}, "
                     f"seen {r.count}×): {r.message} *What to do:* {r.action}")
    if len(open_rows) > limit:
        lines.append(f"… and {len(open_rows) - limit} more.")
    return "\n".join(lines).strip()


def accepted_markdown(rows: Sequence[ExceptionRow]) -> str:
    accepted = sorted((r for r in rows if r.status == "accepted"), key=lambda r: (r.owner_team, r.id))
    if not accepted:
        return "Nothing accepted."
    return "\n".join(
        f"- **#{r.id}** `{r.kind}` ({r.entity_type} `{r.entity_id}`), {team_label(r.owner_team)}: accepted by "
        f"{cell(r.accepted_by)}" + (f" on {r.accepted_at:%Y-%m-%d %H:%M} UTC" if r.accepted_at else "")
        + f" — {cell(r.accepted_reason)}" for r in accepted)


# --- alerts ---------------------------------------------------------------------------------------------------


def alert_items(rows: Iterable[ExceptionRow]) -> list[AlertItem]:
    return [AlertItem(exception_id=r.id, kind=r.kind, owner_team=r.owner_team, entity_type=r.entity_type,
                      entity_id=r.entity_id, message=r.message, action=r.action, first_seen=r.first_seen,
                      count=r.count, status=r.status, alerted=r.alerted_at is not None,
                      label=str((r.detail or {}).get("order") or "")) for r in rows]


@dataclass
class AlertReport:
    alerts: list[Alert] = field(default_factory=list)
    delivered: Counter[str] = field(default_factory=Counter)  # email / webhook / failed / no_channel / dry_run
    marked: int = 0  # exceptions now recorded as announced

    def merge(self, other: AlertReport) -> None:
        self.alerts.extend(other.alerts)
        self.delivered.update(other.delivered)
        self.marked += other.marked


def send_new_exception_alerts(ledger: Ledger, routing: AlertRouting, now: dt.datetime) -> AlertReport:
    """Announce each exception that opened since the last run, once: one message per owner team.

    An exception counts as announced when its message reached at least one channel, or when its team has no
    channel configured (the UI and the digest still show it; configuring a channel later must not flood it
    with history). Only when every channel failed is it tried again next run.
    """
    from sparklayer_erp.notify.delivery import deliver

    report = AlertReport()
    for alert in new_exception_alerts(alert_items(ledger.open_exceptions(include_accepted=True)), now,
                                      routing.ui_url):
        counts = deliver(routing, [alert])
        report.alerts.append(alert)
        report.delivered.update(counts)
        if counts["email"] + counts["webhook"] + counts["dry_run"] > 0 or counts["no_channel"] > 0:
            report.marked += ledger.mark_alerted(alert.exception_ids, now)
    return report


def digest_slot(now: dt.datetime, hour: int, zone: dt.tzinfo = dt.UTC) -> dt.datetime:
    """The latest daily digest time (``hour`` o'clock on the wall clock of ``zone``, the company's time zone)
    at or before ``now``, as a UTC instant. 07:00 in Europe/London is 06:00 UTC in summer, 07:00 in winter."""
    local = now.astimezone(zone)
    slot = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if slot > now:
        day = local.date() - dt.timedelta(days=1)
        slot = dt.datetime.combine(day, dt.time(hour), tzinfo=zone)
    return slot.astimezone(dt.UTC)


def send_digest_if_due(ledger: Ledger, routing: AlertRouting, now: dt.datetime, hour: int = 7,
                       zone: dt.tzinfo = dt.UTC) -> AlertReport | None:
    """The daily digest of everything still open, per team, once per day after ``hour`` in ``zone`` (company
    time: the assets pass ``COMPANY_TIMEZONE``).

    The first run only starts the clock: a digest right after installing would repeat the new-exception
    alerts sent in the same run.
    """
    status = ledger.sync_status(DIGEST_SYNC_NAME)
    last = status.last_success_at if status else None
    if last is None:
        ledger.record_sync_success(DIGEST_SYNC_NAME, {"teams": 0, "note": "digest clock started"})
        return None
    if last >= digest_slot(now, hour, zone):
        return None
    from sparklayer_erp.notify.delivery import deliver

    report = AlertReport()
    for alert in digest_alerts(alert_items(ledger.open_exceptions()), now, routing.ui_url):
        report.alerts.append(alert)
        report.delivered.update(deliver(routing, [alert]))
    ledger.record_sync_success(DIGEST_SYNC_NAME, {"teams": len(report.alerts)})
    return report


def send_sync_failure_alert(ledger: Ledger, routing: AlertRouting, job_name: str, error: str, now: dt.datetime,
                            succeeded_since: Callable[[dt.datetime], bool],
                            repeat_after: dt.timedelta = dt.timedelta(hours=6), run_id: str = "") -> AlertReport | None:
    """Tell operations a sync failed — once per outage: again only after a success, or as a reminder after
    ``repeat_after`` (a sweep failing every 10 minutes is one problem, not 36 e-mails in six hours). The alert
    links to the failed run ``run_id`` in the Dagster UI."""
    name = SYNC_FAILURE_ALERT_PREFIX + job_name
    status = ledger.sync_status(name)
    last = status.last_success_at if status else None
    if last is not None and now - last < repeat_after and not succeeded_since(last):
        return None
    from sparklayer_erp.notify.delivery import deliver

    alert = sync_failure_alert(job_name, error, routing.ui_url, run_id)
    report = AlertReport(alerts=[alert], delivered=Counter(deliver(routing, [alert])))
    ledger.record_sync_success(name, {"error": error[:500]})
    return report


# --- SparkLayer's sync log ------------------------------------------------------------------------------------


def data_type_of(row: ExceptionRow) -> str:
    """The SparkLayer data type an exception is about (orders, customers, prices, products, stock)."""
    if row.kind in _DATA_TYPE_BY_KIND:
        return _DATA_TYPE_BY_KIND[row.kind]
    if row.entity_type == Entity.DATASET.value:
        return _DATASET_DATA_TYPES.get(row.entity_id, SYNC_LOG_DATA_TYPE)
    return _DATA_TYPE_BY_ENTITY.get(row.entity_type, SYNC_LOG_DATA_TYPE)


def sync_log_errors(rows: Iterable[ExceptionRow]) -> tuple[SyncLogError, ...]:
    """One error per open exception, grouped by data type, each saying who owns it and what to do."""
    out = []
    for r in sorted((r for r in rows if r.status == "open"), key=lambda r: (data_type_of(r), r.kind, r.entity_id)):
        title = KINDS[r.kind].title if r.kind in KINDS else r.kind
        ident = f"{data_type_of(r)}:{r.kind}:{r.entity_type}:{r.entity_id}"
        visible = str((r.detail or {}).get("order") or r.entity_id)[:255]
        message = (f"[{data_type_of(r)}] [{team_label(r.owner_team)}] {title}: {r.message} "
                   f"What to do: {r.action}")
        out.append(SyncLogError(external_id=ident[:255], message=message[:5000], visible_id=visible))
    return tuple(out[:SYNC_LOG_MAX_ERRORS])


def report_to_sparklayer(client: SparkLayerClient, ledger: Ledger, started: dt.datetime,
                         now: dt.datetime | None = None) -> int | None:
    """Replace the ``exceptions`` sync log with every open exception; None when nothing changed.

    Why one data type of our own: a full-sync PUT replaces every error of its data type, and the order and
    master-data flows already report their own ``orders``/``customers``/``prices``/``products``/``stock``
    runs. Writing there too would make two writers erase each other's reports, so the monitor keeps the
    whole picture under ``exceptions``, each entry tagged with the data type it concerns. Accepted
    exceptions are left out: a person decided they need no action.
    """
    errors = sync_log_errors(ledger.open_exceptions())
    digest = request_digest(canonical_json([e.to_api() for e in errors]).decode())
    assert digest is not None
    if ledger.load_push_hashes(SYNC_LOG_HASH_KIND).get(SYNC_LOG_DATA_TYPE) == digest:
        return None
    entry = SyncLogEntry(started_full_sync=started, last_full_sync=now or utc_now(), last_full_sync_succeeded=True,
                         errors=errors)
    client.put_sync_log(SYNC_LOG_DATA_TYPE, entry)
    ledger.audit(AuditSystem.SPARKLAYER, "put_sync_log", SYNC_LOG_DATA_TYPE, entry.to_api(), AuditOutcome.OK,
                 {"errors": len(errors)})
    ledger.save_push_hashes(SYNC_LOG_HASH_KIND, {SYNC_LOG_DATA_TYPE: digest})
    return len(errors)


# --- the catalogue, for people --------------------------------------------------------------------------------


def kinds_markdown() -> str:
    """Every exception kind with its owner, what it means and what to do (the operating guide's table)."""
    lines = ["| Problem (kind) | Owner | What it means | What to do |", "|---|---|---|---|"]
    for spec in sorted(KINDS.values(), key=lambda k: (k.owner.value, k.code)):
        lines.append(f"| **{cell(spec.title)}** (`{spec.code}`) | {team_label(spec.owner.value)} | "
                     f"{cell(_generic(spec.message))} | {cell(_generic(spec.action))} |")
    return "\n".join(lines)


def _generic(template: str) -> str:
    """A kind's template with its facts shown as placeholders people understand (``‹order›``)."""
    return template.format_map(_Placeholders())


class _Placeholders(dict):
    def __missing__(self, key: str) -> str:
        return f"‹{key.replace('_', ' ')}›"
