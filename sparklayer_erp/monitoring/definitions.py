"""Drift monitoring, exceptions and alerts in Dagster, as one ``Definitions``.

    drift_monitor_job      drift_monitor_schedule (every 5 minutes)
    exceptions_job         exceptions_schedule (every 5 minutes, a minute after the drift monitor)
    accept_exception_job   a person accepts an exception with a reason
    sync_failure_alerts    run-failure sensor → operations
"""

import dagster as dg

from sparklayer_erp import settings
from sparklayer_erp.monitoring.accept import accept_exception_job
from sparklayer_erp.monitoring.assets import drift_monitor, integration_exceptions
from sparklayer_erp.monitoring.sensor import sync_failure_alerts
from sparklayer_erp.plumbing import automation
from sparklayer_erp.plumbing.cpu_priority import BACKGROUND_TAG

drift_monitor_job = dg.define_asset_job(
    "drift_monitor_job", selection=dg.AssetSelection.assets(drift_monitor),
    description="Compare SparkLayer and the ERP and record disagreements as owned exceptions.", tags=BACKGROUND_TAG,
)
exceptions_job = dg.define_asset_job(
    "exceptions_job", selection=dg.AssetSelection.assets(integration_exceptions),
    description="Refresh the exceptions view, send alerts and the daily digest, report to SparkLayer's sync log.",
    tags=BACKGROUND_TAG,
)
drift_monitor_schedule = dg.ScheduleDefinition(
    name="drift_monitor_schedule", job=drift_monitor_job, cron_schedule="*/5 * * * *", execution_timezone=str(settings.read("COMPANY_TIMEZONE")),
    default_status=automation.schedule_status(automation.MONITORING), description="Every 5 minutes.",
)
exceptions_schedule = dg.ScheduleDefinition(
    name="exceptions_schedule", job=exceptions_job, cron_schedule="1-59/5 * * * *", execution_timezone=str(settings.read("COMPANY_TIMEZONE")),
    default_status=automation.schedule_status(automation.MONITORING),
    description="Every 5 minutes, one minute after the drift monitor: alerts go out within minutes.",
)

MONITORING_ASSETS = [drift_monitor, integration_exceptions]
MONITORING_JOBS = [drift_monitor_job, exceptions_job, accept_exception_job]
MONITORING_SCHEDULES = [drift_monitor_schedule, exceptions_schedule]
MONITORING_SENSORS = [sync_failure_alerts]

defs = dg.Definitions(assets=MONITORING_ASSETS, jobs=MONITORING_JOBS, schedules=MONITORING_SCHEDULES,
                      sensors=MONITORING_SENSORS)
