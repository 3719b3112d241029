"""The monitoring definitions load with the project's resources, and the schedules ask for the right things."""

from __future__ import annotations

import dagster as dg
import pytest

from sparklayer_erp.monitoring.definitions import MONITORING_SCHEDULES
from sparklayer_erp.monitoring.definitions import defs as monitoring_defs
from sparklayer_erp.resources import build_resources

pytestmark = pytest.mark.filterwarnings("ignore::dagster.PreviewWarning")


@pytest.fixture
def defs() -> dg.Definitions:
    return dg.Definitions.merge(monitoring_defs, dg.Definitions(resources=build_resources()))


def test_the_definitions_load_with_the_projects_resources(defs):
    dg.Definitions.validate_loadable(defs)
    names = {"drift_monitor_job", "exceptions_job", "accept_exception_job"}
    assert {defs.resolve_job_def(n).name for n in names} == names
    assert {s.name for s in defs.sensors or ()} == {"sync_failure_alerts"}


def test_the_monitor_runs_every_five_minutes_and_alerts_a_minute_later():
    crons = {s.name: s.cron_schedule for s in MONITORING_SCHEDULES}
    assert crons["drift_monitor_schedule"] == "*/5 * * * *"
    assert crons["exceptions_schedule"] == "1-59/5 * * * *"
