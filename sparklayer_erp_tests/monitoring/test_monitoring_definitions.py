"""The exported lists load as one ``Definitions`` with the project's resources, and the schedules ask for the
right things."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest

from sparklayer_erp.config_wiring import build_resources
from sparklayer_erp.monitoring.definitions import (
    MONITORING_ASSETS,
    MONITORING_CHECKS,
    MONITORING_JOBS,
    MONITORING_SCHEDULES,
    MONITORING_SENSORS,
)

pytestmark = pytest.mark.filterwarnings("ignore::dagster.PreviewWarning")


@pytest.fixture
def defs() -> dg.Definitions:
    return dg.Definitions(assets=MONITORING_ASSETS, asset_checks=MONITORING_CHECKS, jobs=MONITORING_JOBS,
                          schedules=MONITORING_SCHEDULES, sensors=MONITORING_SENSORS, resources=build_resources())


def test_the_lists_load_with_the_projects_resources(defs):
    dg.Definitions.validate_loadable(defs)
    names = {"drift_monitor_job", "exceptions_job", "month_end_job", "accept_exception_job"}
    assert {defs.resolve_job_def(n).name for n in names} == names
    month_end = defs.resolve_assets_def("month_end_reconciliation")
    assert month_end.partitions_def is not None
    (check,) = defs.resolve_asset_graph().asset_check_keys
    assert check.name == "month_is_close_ready"
    assert defs.resolve_asset_graph().get_check_spec(check).blocking


def test_the_month_end_schedule_runs_the_month_that_just_ended(defs):
    schedule = next(s for s in MONITORING_SCHEDULES if s.name == "month_end_schedule")
    assert schedule.cron_schedule == "0 6 1 * *"
    context = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2026, 12, 1, 6, tzinfo=dt.UTC),
                                       repository_def=defs.get_repository_def())
    (request,) = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == "2026-11-01" and request.run_key == "month-end-2026-11-01"


def test_the_monitor_runs_every_five_minutes_and_alerts_a_minute_later():
    crons = {s.name: s.cron_schedule for s in MONITORING_SCHEDULES}
    assert crons["drift_monitor_schedule"] == "*/5 * * * *"
    assert crons["exceptions_schedule"] == "1-59/5 * * * *"
