"""The watch: drift between SparkLayer and the ERP, and every open exception with its owner.

Thin Dagster wiring over ``sparklayer_erp.monitoring.watch``:

    drift_monitor ──── integration_exceptions          (two schedules, a minute apart; definitions.py)

``drift_monitor`` compares both systems every five minutes and records findings as owned exceptions;
``integration_exceptions`` is the view people read (every open exception by owner and kind, with age and
counts), announces new exceptions to their owner team, sends the daily digest and reports the open
exceptions to SparkLayer's sync log. The two run as separate jobs so that an ERP outage, which stops the
drift check, does not also stop the alerts about everything the other flows raise.

No ``from __future__ import annotations`` here: Dagster reads the annotations as real types.
"""

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import dagster as dg
from pydantic import Field

from sparklayer_erp import settings
from sparklayer_erp.domain.drift import DriftConfig
from sparklayer_erp.monitoring import watch as flow
from sparklayer_erp.plumbing.failures import TRANSIENT_RETRY, failures_handled
from sparklayer_erp.plumbing.markdown import team_label
from sparklayer_erp.resources import (
    AlertsResource,
    ErpResource,
    LedgerResource,
    PolicyResource,
    SparkLayerResource,
)
from sparklayer_erp.sparklayer.errors import (
    SparkLayerError,
)

GROUP = "monitoring"


class DriftMonitorConfig(dg.Config):
    lookback_days: int = Field(default=30, description="SparkLayer orders changed (and ERP orders dated) this "
                                                        "many days back are compared")
    status_grace_minutes: int = Field(default=30, description="time the status write-back gets before a shipped "
                                                               "order not shown as shipped counts")
    payment_grace_minutes: int = Field(default=60, description="time to record a card payment on a new invoice")


class ExceptionsConfig(dg.Config):
    digest_hour_utc: int | None = Field(
        default=None, ge=0, le=23,
        description="hour (company time, COMPANY_TIMEZONE, despite the name) of the daily digest for this run; "
                    "empty: the ALERT_DIGEST_HOUR setting (7)")


def company_zone() -> ZoneInfo:
    """``COMPANY_TIMEZONE``: the digest hour and the times people read in findings are in it."""
    return ZoneInfo(str(settings.read("COMPANY_TIMEZONE")))


def drift_config(config: DriftMonitorConfig, policy: PolicyResource) -> DriftConfig:
    return DriftConfig(stuck_after=dt.timedelta(minutes=policy.stuck_after_minutes()),
                       status_grace=dt.timedelta(minutes=config.status_grace_minutes),
                       payment_grace=dt.timedelta(minutes=config.payment_grace_minutes),
                       timezone=company_zone())


def _findings_markdown(outcome: flow.DriftOutcome) -> str:
    lines = ["| Problem | Kind | Owner | Found now | Newly opened |", "|---|---|---|---:|---:|"]
    opened = Counter(r.kind for r in outcome.opened)
    for kind, n in sorted(outcome.by_kind.items()):
        spec = flow.KINDS[kind]
        lines.append(f"| {spec.title} | `{kind}` | {team_label(spec.owner.value)} | {n} | {opened.get(kind, 0)} |")
    if not outcome.by_kind:
        lines.append("| No drift: both systems agree. | | | 0 | 0 |")
    return "\n".join(lines)


@dg.asset(
    group_name=GROUP,
    owners=["team:operations"],
    kinds={"sparklayer", "tryton"},
    retry_policy=TRANSIENT_RETRY,
    description=(
        "Compares SparkLayer, the ERP and the integration's ledger every five minutes and records every "
        "disagreement as an exception for the team that can fix it: orders with no ERP order after "
        "STUCK_ORDER_MINUTES; ERP orders whose SparkLayer order is cancelled or gone; status and amount "
        "mismatches; pay-later orders whose stock is not held; shop customers without an ERP account, products "
        "the ERP does not sell, items without a price; syncs that have not succeeded for too long; orders paid by "
        "card whose ERP invoice is still unpaid. Exceptions whose cause is gone close by themselves."
    ),
)
def drift_monitor(context: dg.AssetExecutionContext, config: DriftMonitorConfig, ledger: LedgerResource,
                  sparklayer: SparkLayerResource, erp: ErpResource, policy: PolicyResource) -> dg.MaterializeResult:
    store = ledger.ledger()
    settings = flow.MonitorSettings(lookback=dt.timedelta(days=config.lookback_days))
    started = flow.utc_now()
    with failures_handled(), sparklayer.session() as client, erp.session() as port:
        snapshot, outcome = flow.run_drift(client, port, store, drift_config(config, policy), settings, started)
    if snapshot.not_judged:
        context.log.warning(f"{len(snapshot.not_judged)} ERP orders were not checked this run (too many unknown "
                            "SparkLayer orders to look up); they are checked in later runs")
    return dg.MaterializeResult(metadata={
        "findings": dg.MetadataValue.int(len(outcome.problems)),
        "newly_opened": dg.MetadataValue.int(len(outcome.opened)),
        "resolved": dg.MetadataValue.int(sum(outcome.resolved.values())),
        "resolved_by_kind": dg.MetadataValue.json(dict(sorted(outcome.resolved.items()))),
        "findings_by_kind": dg.MetadataValue.md(_findings_markdown(outcome)),
        "sparklayer_orders_compared": dg.MetadataValue.int(len(snapshot.purchase_ids)),
        "erp_orders_compared": dg.MetadataValue.int(len(snapshot.erp_labels)),
        "sparklayer_orders_looked_up": dg.MetadataValue.int(snapshot.lookups),
        "seconds": round((flow.utc_now() - started).total_seconds(), 2),
    })


def _summary_table(summaries: list[flow.KindSummary], now: dt.datetime) -> dg.TableMetadataValue:
    schema = dg.TableSchema(columns=[
        dg.TableColumn("owner", "string", "the team that must act"),
        dg.TableColumn("problem", "string"),
        dg.TableColumn("kind", "string"),
        dg.TableColumn("open", "int", "exceptions open now"),
        dg.TableColumn("oldest_open", "string", "how long the oldest has been open"),
        dg.TableColumn("times_seen", "int", "how often the open ones were found, in total"),
        dg.TableColumn("accepted", "int", "decided by a person: no action, not alerted"),
    ])
    records = [dg.TableRecord({
        "owner": team_label(k.owner_team), "problem": k.title, "kind": k.kind, "open": k.open,
        "oldest_open": flow.age_text(now - k.oldest_first_seen) if k.oldest_first_seen else "—",
        "times_seen": k.occurrences, "accepted": k.accepted,
    }) for k in summaries]
    return dg.MetadataValue.table(records, schema)


@dg.asset(
    group_name=GROUP,
    owners=["team:operations", "team:finance", "team:sales_operations", "team:ecommerce"],
    kinds={"sparklayer"},
    deps=[drift_monitor],
    retry_policy=TRANSIENT_RETRY,
    description=(
        "Every open exception of the integration, by owner team and kind, with how long it has been open and how "
        "often it was seen — what each team has to do today. New exceptions are announced once to their team "
        "(e-mail, Slack, Teams, … through Apprise: ALERT_URLS_<TEAM>), naming the order, customer or SKU and "
        "linking to this page; a daily digest (ALERT_DIGEST_HOUR, company time) lists what is still open, and the open "
        "exceptions are shown in SparkLayer's Data Sync log. Exceptions a person accepted (accept_exception_job) "
        "are listed separately and never alerted."
    ),
)
def integration_exceptions(context: dg.AssetExecutionContext, config: ExceptionsConfig, ledger: LedgerResource,
                           sparklayer: SparkLayerResource, alerts: AlertsResource) -> dg.MaterializeResult:
    store = ledger.ledger()
    routing = alerts.routing()
    now = flow.utc_now()
    store.record_sync_start(flow.EXCEPTIONS_SYNC_NAME)
    sent = flow.send_new_exception_alerts(store, routing, now)
    hour = config.digest_hour_utc if config.digest_hour_utc is not None else alerts.digest_hour()
    digest = flow.send_digest_if_due(store, routing, now, hour, company_zone())
    if digest is not None:
        sent.merge(digest)
    reported: int | None | str
    try:
        with sparklayer.session() as client:
            reported = flow.report_to_sparklayer(client, store, now)
    except SparkLayerError as exc:  # the sync log is a courtesy copy: the view and the alerts still count
        context.log.warning(f"could not update SparkLayer's sync log: {exc}")
        reported = "not written"
    rows = store.open_exceptions(include_accepted=True)
    summaries = flow.summarise(rows)
    open_rows = [r for r in rows if r.status == "open"]
    store.record_sync_success(flow.EXCEPTIONS_SYNC_NAME, {"open": len(open_rows), "alerts": len(sent.alerts)})
    per_team = {f"open_{team}": dg.MetadataValue.int(sum(1 for r in open_rows if r.owner_team == team))
                for team in ("finance", "sales_operations", "operations", "ecommerce")}
    return dg.MaterializeResult(metadata={
        # what a person reads first, in this order; the counts below feed the UI's plots
        "overview": dg.MetadataValue.md(flow.summary_markdown(summaries, now)),
        "open_exceptions": dg.MetadataValue.md(flow.open_markdown(rows, now)),
        "accepted_exceptions": dg.MetadataValue.md(flow.accepted_markdown(rows)),
        "by_owner_and_kind": _summary_table(summaries, now),
        "open": dg.MetadataValue.int(len(open_rows)),
        **per_team,
        "accepted": dg.MetadataValue.int(len(rows) - len(open_rows)),
        "alerts_sent": dg.MetadataValue.json([{"team": a.team, "category": a.category, "subject": a.subject}
                                              for a in sent.alerts]),
        "alert_deliveries": dg.MetadataValue.json(dict(sent.delivered)),
        "digest_sent": digest is not None,
        "sparklayer_sync_log_errors": reported if reported is not None else "unchanged",
    })
