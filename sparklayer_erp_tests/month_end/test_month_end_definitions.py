"""The month-end definitions load with the project's resources, and the schedule asks for the month that
just ended."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest

from sparklayer_erp.month_end.definitions import MONTH_END_SCHEDULES
from sparklayer_erp.month_end.definitions import defs as month_end_defs
from sparklayer_erp.resources import build_resources

pytestmark = pytest.mark.filterwarnings("ignore::dagster.PreviewWarning")


@pytest.fixture
def defs() -> dg.Definitions:
    return dg.Definitions.merge(month_end_defs, dg.Definitions(resources=build_resources()))


def test_the_definitions_load_with_the_projects_resources(defs):
    dg.Definitions.validate_loadable(defs)
    assert defs.resolve_job_def("month_end_job").name == "month_end_job"
    month_end = defs.resolve_assets_def("month_end_reconciliation")
    assert month_end.partitions_def is not None
    (check,) = defs.resolve_asset_graph().asset_check_keys
    assert check.name == "month_is_close_ready"
    assert defs.resolve_asset_graph().get_check_spec(check).blocking


def test_the_month_end_schedule_runs_the_month_that_just_ended(defs):
    schedule = next(s for s in MONTH_END_SCHEDULES if s.name == "month_end_schedule")
    assert schedule.cron_schedule == "0 6 1 * *"
    context = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2026, 12, 1, 6, tzinfo=dt.UTC),
                                       repository_def=defs.get_repository_def())
    (request,) = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == "2026-11-01" and request.run_key == "month-end-2026-11-01"
