"""Safe first start: every schedule and sensor that writes anywhere starts STOPPED unless its flow's
``*_AUTOMATION`` switch says on; the demo turns them all on (``demo --no-automation`` keeps them off).

Each case loads ``sparklayer_erp.definitions`` afresh in its own process, as a code location does: the
default status is decided when the definitions load.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from sparklayer_erp.demo import bootstrap
from sparklayer_erp.plumbing import automation
from sparklayer_erp.settings import SettingError

# Every schedule and sensor of the code location, by the switch that starts it. A new one must be added
# here (and given a switch): the tests compare the whole set.
GROUPS = {
    "ORDER_AUTOMATION": {"order_sensor", "order_followup_schedule", "order_sweep_schedule"},
    "MASTERDATA_AUTOMATION": {"master_data_stock_schedule", "master_data_customers_prices_schedule"},
    "MONITORING_AUTOMATION": {"drift_monitor_schedule", "exceptions_schedule", "sync_failure_alerts"},
    "MONTH_END_AUTOMATION": {"month_end_schedule"},
}
EVERYTHING = set().union(*GROUPS.values())

_LOAD = """
import json
from sparklayer_erp.definitions import defs
repo = defs.get_repository_def()
print(json.dumps({d.name: d.default_status.value for d in [*repo.schedule_defs, *repo.sensor_defs]}))
"""


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in automation.SWITCHES and k != "DRY_RUN"}
    return {**env, **extra}


def _load(env: dict[str, str]) -> dict[str, str]:
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", _LOAD], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _running(statuses: dict[str, str]) -> set[str]:
    assert set(statuses) == EVERYTHING, "a schedule or sensor without an automation switch (add it to GROUPS)"
    return {name for name, status in statuses.items() if status == "RUNNING"}


def test_a_fresh_load_with_no_switch_set_starts_everything_stopped():
    statuses = _load(_clean_env())

    assert _running(statuses) == set()
    assert set(statuses.values()) == {"STOPPED"}


@pytest.mark.parametrize("switch", sorted(GROUPS))
def test_each_switch_starts_its_own_flow_and_nothing_else(switch: str):
    assert _running(_load(_clean_env(**{switch: "on"}))) == GROUPS[switch]


def test_the_demo_environment_starts_everything_and_no_automation_starts_nothing():
    base = _clean_env(ORDER_AUTOMATION="on", MASTERDATA_AUTOMATION="yes")  # what a developer's .env may say

    assert _running(_load(bootstrap.dagster_environment(_clean_env(), True))) == EVERYTHING
    assert _running(_load(bootstrap.dagster_environment(base, False))) == set()


@pytest.mark.parametrize(("value", "on"), [("on", True), (" ON ", True), ("true", True), ("1", True), ("yes", True),
                                           ("off", False), ("no", False), ("0", False), ("", False)])
def test_switch_values(monkeypatch: pytest.MonkeyPatch, value: str, on: bool):
    monkeypatch.setenv("MONTH_END_AUTOMATION", value)

    assert automation.is_on("MONTH_END_AUTOMATION") is on


def test_a_malformed_switch_fails_loading_and_names_the_variable(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MASTERDATA_AUTOMATION", "sometimes")

    with pytest.raises(SettingError, match="MASTERDATA_AUTOMATION"):
        automation.schedule_status("MASTERDATA_AUTOMATION")
