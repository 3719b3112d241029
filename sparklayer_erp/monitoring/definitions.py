"""Drift monitoring, exceptions and alerts, month-end reconciliation: lists the lead merges into ``definitions.py``.

    MONITORING_ASSETS     drift_monitor, integration_exceptions, month_end_reconciliation (monthly)
    MONITORING_CHECKS     month_is_close_ready (blocking, per month)
    MONITORING_JOBS       drift_monitor_job, exceptions_job, month_end_job, accept_exception_job
    MONITORING_SCHEDULES  drift_monitor_schedule (*/5), exceptions_schedule (1-59/5), month_end_schedule (1st)
    MONITORING_SENSORS    sync_failure_alerts (run-failure sensor → operations)

Resources used: ledger, sparklayer, erp, policy, alerts (all in ``config_wiring.build_resources``).
"""

from sparklayer_erp.monitoring.accept import accept_exception_job
from sparklayer_erp.monitoring.assets import (
    drift_monitor,
    drift_monitor_job,
    drift_monitor_schedule,
    exceptions_job,
    exceptions_schedule,
    integration_exceptions,
    sync_failure_alerts,
)
from sparklayer_erp.month_end.assets import (
    month_end_job,
    month_end_reconciliation,
    month_end_schedule,
    month_is_close_ready,
)

MONITORING_ASSETS = [drift_monitor, integration_exceptions, month_end_reconciliation]
MONITORING_CHECKS = [month_is_close_ready]
MONITORING_JOBS = [drift_monitor_job, exceptions_job, month_end_job, accept_exception_job]
MONITORING_SCHEDULES = [drift_monitor_schedule, exceptions_schedule, month_end_schedule]
MONITORING_SENSORS = [sync_failure_alerts]

__all__ = ["MONITORING_ASSETS", "MONITORING_CHECKS", "MONITORING_JOBS", "MONITORING_SCHEDULES",
           "MONITORING_SENSORS"]
