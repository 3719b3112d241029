"""Month-end reconciliation in Dagster, as one ``Definitions``: its own group, monthly partitions
(``partitions.py``), the blocking close-ready check, the job and the schedule for the month that just ended."""

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg

from sparklayer_erp.month_end.assets import month_end_reconciliation, month_is_close_ready
from sparklayer_erp.month_end.partitions import COMPANY_TIMEZONE
from sparklayer_erp.plumbing import automation
from sparklayer_erp.plumbing.cpu_priority import BACKGROUND_TAG

month_end_job = dg.define_asset_job(
    "month_end_job", selection=dg.AssetSelection.assets(month_end_reconciliation),
    description="Reconcile one month (pick the partition): spreadsheet, CSV and the close-ready check.",
    tags=BACKGROUND_TAG,
)


def previous_month_key(moment: dt.datetime | None, zone: dt.tzinfo | None = None) -> str:
    """The partition key of the month before ``moment`` in company time (``2026-10-01`` for any time in
    November 2026 there). ``zone``: default ``COMPANY_TIMEZONE``; a naive ``moment`` is taken as UTC."""
    moment = moment or dt.datetime.now(dt.UTC)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    local = moment.astimezone(zone or ZoneInfo(COMPANY_TIMEZONE))
    day = local.date().replace(day=1) - dt.timedelta(days=1)
    return day.replace(day=1).isoformat()


@dg.schedule(cron_schedule="0 6 1 * *", job=month_end_job, execution_timezone=COMPANY_TIMEZONE,
             default_status=automation.schedule_status(automation.MONTH_END),
             description="06:00 company time (COMPANY_TIMEZONE) on the 1st: reconcile the month that just ended.")
def month_end_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    key = previous_month_key(context.scheduled_execution_time)
    return dg.RunRequest(run_key=f"month-end-{key}", partition_key=key)


MONTH_END_ASSETS = [month_end_reconciliation]
MONTH_END_CHECKS = [month_is_close_ready]
MONTH_END_JOBS = [month_end_job]
MONTH_END_SCHEDULES = [month_end_schedule]

defs = dg.Definitions(assets=MONTH_END_ASSETS, asset_checks=MONTH_END_CHECKS, jobs=MONTH_END_JOBS,
                      schedules=MONTH_END_SCHEDULES)
