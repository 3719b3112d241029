"""Month-end runs on the company's clock (``COMPANY_TIMEZONE``): the monthly partitions, the month's UTC
window for the SparkLayer query, the schedule's run request, and every other schedule — in summer time, in
winter time and in a zone other than London (so it is not hard-wired)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from zoneinfo import ZoneInfo

import dagster as dg
import pandas as pd
import pytest

from sparklayer_erp import settings
from sparklayer_erp.domain.reconciliation import SL_LINE_COLUMNS
from sparklayer_erp.masterdata.definitions import defs as masterdata_defs
from sparklayer_erp.monitoring.definitions import MONITORING_SCHEDULES
from sparklayer_erp.month_end import close
from sparklayer_erp.month_end.definitions import MONTH_END_SCHEDULES, previous_month_key
from sparklayer_erp.month_end.definitions import defs as month_end_defs
from sparklayer_erp.month_end.partitions import COMPANY_TIMEZONE, monthly, monthly_partitions
from sparklayer_erp.orders.definitions import ORDER_SCHEDULES
from sparklayer_erp.resources import build_resources
from sparklayer_erp.settings import REPO_ROOT, SettingError
from sparklayer_erp_tests.domain.recon_builders import Frames

pytestmark = pytest.mark.filterwarnings("ignore::dagster.PreviewWarning")

LONDON, NEW_YORK = ZoneInfo("Europe/London"), ZoneInfo("America/New_York")
UTC = dt.UTC


def _at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


# (order placed at, zone, its partition key)
ORDERS = [
    (_at(2026, 6, 30, 23, 30), "Europe/London", "2026-07-01"),  # 00:30 BST on 1 July
    (_at(2026, 6, 30, 22, 59), "Europe/London", "2026-06-01"),  # 23:59 BST on 30 June
    (_at(2026, 6, 30, 23, 30), "UTC", "2026-06-01"),
    (_at(2026, 12, 1, 0, 30), "Europe/London", "2026-12-01"),  # 00:30 GMT on 1 December
    (_at(2026, 11, 30, 23, 59), "Europe/London", "2026-11-01"),
    (_at(2026, 7, 1, 3, 30), "America/New_York", "2026-06-01"),  # 23:30 EDT on 30 June
    (_at(2026, 7, 1, 4, 0), "America/New_York", "2026-07-01"),  # midnight EDT
]


@pytest.mark.parametrize(("placed", "zone", "key"), ORDERS)
def test_an_order_belongs_to_the_partition_of_its_placed_time_in_company_time(placed, zone, key):
    partitions = monthly_partitions(zone)
    assert partitions.get_partition_key_for_timestamp(placed.timestamp()) == key
    month = close.Month.containing(placed, ZoneInfo(zone))
    assert month.partition_key == key
    # the month's window, as UTC instants for the SparkLayer query, is the partition's time window
    window = partitions.time_window_for_partition_key(key)
    assert (month.starts_at(), month.ends_at()) == (window.start, window.end)
    assert month.starts_at() <= placed < month.ends_at()
    assert month.starts_at().tzinfo is UTC


def test_the_months_window_in_utc_in_summer_winter_and_new_york():
    july = close.Month.from_partition_key("2026-07-01", LONDON)
    assert (july.start, july.end) == (dt.date(2026, 7, 1), dt.date(2026, 8, 1))  # the ERP is asked by days
    assert (july.starts_at(), july.ends_at()) == (_at(2026, 6, 30, 23), _at(2026, 7, 31, 23))
    december = close.Month.from_partition_key("2026-12-01", LONDON)
    assert (december.starts_at(), december.ends_at()) == (_at(2026, 12, 1), _at(2027, 1, 1))
    march = close.Month.from_partition_key("2026-03-01", LONDON)  # the clocks go forward on the 29th
    assert (march.starts_at(), march.ends_at()) == (_at(2026, 3, 1), _at(2026, 3, 31, 23))
    ny = close.Month.from_partition_key("2026-07-01", NEW_YORK)
    assert (ny.starts_at(), ny.ends_at()) == (_at(2026, 7, 1, 4), _at(2026, 8, 1, 4))
    assert ny.today(_at(2026, 8, 1, 3)) == dt.date(2026, 7, 31)  # still July in New York


def test_the_reconciliation_counts_the_company_month():
    f = Frames().sl("first", placed="2026-06-30T23:30:00Z").erp(1, "first", order_date=dt.date(2026, 7, 1))
    f.sl("late", placed="2026-07-31T23:30:00Z").erp(2, "late", order_date=dt.date(2026, 8, 1)).frames()
    built = f.frames()
    frames = close.MonthFrames(sl_orders=built["sl_orders"], sl_lines=pd.DataFrame(columns=list(SL_LINE_COLUMNS)),
                               erp_orders=built["erp_orders"], erp_invoices=built["erp_invoices"],
                               erp_payments=built["erp_payments"], known_purchase_ids=frozenset())
    as_of = dt.date(2026, 8, 5)
    uk = close.reconcile(frames, close.Month.from_partition_key("2026-07-01", LONDON), as_of)
    assert uk.orders["purchase_id"].tolist() == ["first"]  # 00:30 BST on 1 July; 00:30 BST on 1 August is not
    utc = close.reconcile(frames, close.Month.from_partition_key("2026-07-01", UTC), as_of)
    assert utc.orders["purchase_id"].tolist() == ["late"]


@pytest.mark.parametrize(("moment", "zone", "key"), [
    (_at(2026, 12, 1, 6), LONDON, "2026-11-01"),  # 06:00 GMT
    (_at(2027, 1, 1, 6), LONDON, "2026-12-01"),
    (_at(2026, 7, 1, 5), LONDON, "2026-06-01"),  # 06:00 BST on 1 July
    (_at(2026, 6, 30, 23, 30), LONDON, "2026-06-01"),  # already 1 July in London: June just ended
    (_at(2026, 6, 30, 23, 30), UTC, "2026-05-01"),  # still 30 June in UTC
    (_at(2026, 7, 1, 3, 30), NEW_YORK, "2026-05-01"),  # still 30 June in New York
    (_at(2026, 7, 1, 10), NEW_YORK, "2026-06-01"),  # 06:00 EDT on 1 July
])
def test_the_previous_month_is_the_company_months(moment, zone, key):
    assert previous_month_key(moment, zone) == key


@pytest.fixture
def defs() -> dg.Definitions:
    return dg.Definitions.merge(month_end_defs, dg.Definitions(resources=build_resources()))


def test_the_month_end_schedule_runs_at_six_on_the_company_clock(defs):
    assert settings.read("COMPANY_TIMEZONE") == COMPANY_TIMEZONE and monthly.timezone == COMPANY_TIMEZONE
    schedule = next(s for s in MONTH_END_SCHEDULES if s.name == "month_end_schedule")
    assert schedule.execution_timezone == COMPANY_TIMEZONE
    zone = ZoneInfo(COMPANY_TIMEZONE)
    for local, key in ((dt.datetime(2026, 7, 1, 6, tzinfo=zone), "2026-06-01"),
                       (dt.datetime(2026, 12, 1, 6, tzinfo=zone), "2026-11-01")):
        context = dg.build_schedule_context(scheduled_execution_time=local, repository_def=defs.get_repository_def())
        (request,) = schedule.evaluate_tick(context).run_requests
        assert request.partition_key == key and request.run_key == f"month-end-{key}"


def test_every_schedule_runs_on_the_company_clock():
    schedules = [*MONTH_END_SCHEDULES, *MONITORING_SCHEDULES, *ORDER_SCHEDULES,
                 *(masterdata_defs.schedules or [])]
    assert len(schedules) >= 7
    assert {s.name: s.execution_timezone for s in schedules} == {s.name: COMPANY_TIMEZONE for s in schedules}


LOAD = """
import json, datetime as dt
from sparklayer_erp.definitions import defs
from sparklayer_erp.month_end.partitions import monthly
from sparklayer_erp.month_end.definitions import month_end_schedule
key = monthly.get_partition_key_for_timestamp(dt.datetime(2026, 7, 1, 3, 30, tzinfo=dt.UTC).timestamp())
print(json.dumps({"partitions": monthly.timezone, "key": key,
                  "schedules": sorted({s.execution_timezone for s in defs.get_repository_def().schedule_defs})}))
"""


def _load(zone: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COMPANY_TIMEZONE": zone, "SPARKLAYER_ERP_ENV_FILE": ""}
    return subprocess.run([sys.executable, "-W", "ignore", "-c", LOAD], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=300)


def test_the_setting_drives_the_partitions_and_every_schedule_when_the_code_loads():
    loaded = _load("America/New_York")
    assert loaded.returncode == 0, loaded.stderr
    assert json.loads(loaded.stdout.strip().splitlines()[-1]) == {
        "partitions": "America/New_York", "key": "2026-06-01", "schedules": ["America/New_York"]}


def test_a_zone_that_is_not_an_iana_name_fails_naming_the_variable():
    with pytest.raises(SettingError, match="COMPANY_TIMEZONE"):
        settings.read("COMPANY_TIMEZONE", {"COMPANY_TIMEZONE": "GMT+1 London"})
    assert settings.read("COMPANY_TIMEZONE", {}) == "Europe/London"
    assert settings.read("COMPANY_TIMEZONE", {"COMPANY_TIMEZONE": "America/New_York"}) == "America/New_York"
