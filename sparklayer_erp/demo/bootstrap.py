"""Demo start-up through the Dagster UI's GraphQL API: turn schedules and sensors on, launch first runs.

Uses only the public GraphQL API that the UI itself uses, so the demo shows exactly what a person would
see after clicking "Start" and "Materialize".
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import httpx

from sparklayer_erp.demo import demo_data
from sparklayer_erp.plumbing import automation

LOCATION = "sparklayer_erp"
REPOSITORY = "__repository__"

# The NetSuite emulator numbers its locations in demo_data.WAREHOUSES order; an administrator of the demo
# company would set NETSUITE_LOCATIONS to this.
NETSUITE_DEMO_LOCATIONS = ",".join(f"{i}={code}" for i, (code, _) in enumerate(demo_data.WAREHOUSES, start=1))


def netsuite_environment(adapter_settings: Mapping[str, str]) -> dict[str, str]:
    """What the demo's Dagster needs to run on the NetSuite emulator instead of Tryton: ``ERP_KIND=netsuite``,
    the emulator's URL and demo credentials (``adapter_settings``) and the demo company's locations."""
    return {"ERP_KIND": "netsuite", **adapter_settings, "NETSUITE_LOCATIONS": NETSUITE_DEMO_LOCATIONS,
            "NETSUITE_DEFAULT_LOCATION": "1"}

_AUTOMATION = """
query {
  repositoryOrError(repositorySelector: {repositoryLocationName: "%s", repositoryName: "%s"}) {
    ... on Repository {
      sensors { name sensorState { status } }
      schedules { name scheduleState { status } }
    }
  }
}
"""
_START_SENSOR = """
mutation($s: SensorSelector!) { startSensor(sensorSelector: $s) { __typename } }
"""
_START_SCHEDULE = """
mutation($s: ScheduleSelector!) { startSchedule(scheduleSelector: $s) { __typename } }
"""
_LAUNCH = """
mutation($p: ExecutionParams!) {
  launchRun(executionParams: $p) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
  }
}
"""


def _gql(url: str, query: str, variables: dict | None = None) -> dict:
    response = httpx.post(f"{url}/graphql", json={"query": query, "variables": variables or {}}, timeout=60)
    response.raise_for_status()
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(body["errors"][0].get("message"))
    return body["data"]


def wait_for_location(url: str, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            repo = _gql(url, _AUTOMATION % (LOCATION, REPOSITORY))["repositoryOrError"]
            if "sensors" in repo:
                return
        except (httpx.HTTPError, RuntimeError, KeyError):
            pass
        time.sleep(1)
    raise TimeoutError(f"the Dagster UI at {url} did not load location {LOCATION} in {timeout_s:.0f} s")


def dagster_environment(base: Mapping[str, str], automation_on: bool) -> dict[str, str]:
    """The environment the demo starts Dagster with: ``base`` with every ``*_AUTOMATION`` switch set to on
    (``demo``) or off (``demo --no-automation``, whatever ``.env`` says), so schedules and sensors start
    running with the code location, or all stay stopped."""
    return {**base, **automation.all_on(automation_on)}


def start_automation(url: str) -> list[str]:
    """Start every stopped sensor and schedule; returns their names."""
    repo = _gql(url, _AUTOMATION % (LOCATION, REPOSITORY))["repositoryOrError"]
    base = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}
    started = []
    for sensor in repo["sensors"]:
        if sensor["sensorState"]["status"] != "RUNNING":
            _gql(url, _START_SENSOR, {"s": {**base, "sensorName": sensor["name"]}})
            started.append(sensor["name"])
    for schedule in repo["schedules"]:
        if schedule["scheduleState"]["status"] != "RUNNING":
            _gql(url, _START_SCHEDULE, {"s": {**base, "scheduleName": schedule["name"]}})
            started.append(schedule["name"])
    return started


def launch_job(url: str, job_name: str, run_config: dict | None = None, partition: str | None = None) -> str:
    params = {
        "selector": {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY, "jobName": job_name},
        "runConfigData": run_config or {},
        "mode": "default",
    }
    if partition:
        params["executionMetadata"] = {"tags": [{"key": "dagster/partition", "value": partition}]}
    result = _gql(url, _LAUNCH, {"p": params})["launchRun"]
    if result["__typename"] != "LaunchRunSuccess":
        raise RuntimeError(f"could not launch {job_name}: {result.get('message', result['__typename'])}")
    return result["run"]["runId"]


_RUN_STATUS = """
query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }
"""


def wait_for_run(url: str, run_id: str, timeout_s: float = 600) -> str:
    """Block until the run ends; returns its final status (SUCCESS, FAILURE, CANCELED)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = _gql(url, _RUN_STATUS, {"id": run_id})["runOrError"].get("status")
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            return status
        time.sleep(2)
    return "STILL RUNNING"
