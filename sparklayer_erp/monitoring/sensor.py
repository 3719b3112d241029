"""The run-failure sensor: operations hear about a failed sync run once per outage, not once per run."""

import datetime as dt

import dagster as dg

from sparklayer_erp.monitoring import watch as flow
from sparklayer_erp.monitoring.accept import ACCEPT_JOB_NAME
from sparklayer_erp.plumbing import automation
from sparklayer_erp.resources import AlertsResource, LedgerResource


def _succeeded_since(instance: dg.DagsterInstance, job_name: str):
    def check(since: dt.datetime) -> bool:
        runs = instance.get_run_records(
            filters=dg.RunsFilter(job_name=job_name, statuses=[dg.DagsterRunStatus.SUCCESS], updated_after=since),
            limit=1)
        return bool(runs)
    return check


@dg.run_failure_sensor(
    name="sync_failure_alerts",
    default_status=automation.sensor_status(automation.MONITORING),
    description="Tells operations when a sync run fails (ALERT_URLS_OPERATIONS: e-mail, chat, …), with a link to "
                "the failed run, once per outage: again only after that sync succeeded in between, or as a "
                "reminder after six hours.",
)
def sync_failure_alerts(context: dg.RunFailureSensorContext, ledger: LedgerResource,
                        alerts: AlertsResource) -> None:
    job = context.dagster_run.job_name
    if job == ACCEPT_JOB_NAME:
        return  # a person's mistyped id is not a sync failure
    message = context.failure_event.message or "the run failed"
    error = f"{message} (run {context.dagster_run.run_id[:8]})"
    flow.send_sync_failure_alert(ledger.ledger(), alerts.routing(), job, error, flow.utc_now(),
                                 _succeeded_since(context.instance, job), run_id=context.dagster_run.run_id)
