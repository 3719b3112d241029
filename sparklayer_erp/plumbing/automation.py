"""Whether a flow's schedules and sensors start running when the code location loads.

Everything that writes somewhere (SparkLayer, the ERP, alerts, files) starts STOPPED, so a first deployment
writes nothing before a person has looked. One switch per flow turns its automation on at load:

    ORDER_AUTOMATION        order sensor, order follow-up and sweep schedules
    MASTERDATA_AUTOMATION   stock and customers/prices/pack-sizes schedules
    MONITORING_AUTOMATION   drift monitor, exceptions/alerts schedule, run-failure alert sensor
    MONTH_END_AUTOMATION    month-end reconciliation schedule

The switch only sets Dagster's *default* status: once someone starts or stops a schedule in the UI's
Automation tab, the instance remembers that and the switch no longer matters for it. Read when the
definitions load; a malformed value fails loading, naming the variable.
"""

from __future__ import annotations

import dagster as dg

from sparklayer_erp import settings

ORDERS = "ORDER_AUTOMATION"
MASTERDATA = "MASTERDATA_AUTOMATION"
MONITORING = "MONITORING_AUTOMATION"
MONTH_END = "MONTH_END_AUTOMATION"
SWITCHES = (MASTERDATA, ORDERS, MONITORING, MONTH_END)  # the order to turn them on in (docs/go-live.md)


def is_on(env: str) -> bool:
    """Whether the switch ``env`` (one of ``SWITCHES``) says on; any case, surrounding spaces ignored."""
    if env not in SWITCHES:
        raise KeyError(f"{env} is not an automation switch ({', '.join(SWITCHES)})")
    return settings.switch_on(env)


def schedule_status(env: str) -> dg.DefaultScheduleStatus:
    return dg.DefaultScheduleStatus.RUNNING if is_on(env) else dg.DefaultScheduleStatus.STOPPED


def sensor_status(env: str) -> dg.DefaultSensorStatus:
    return dg.DefaultSensorStatus.RUNNING if is_on(env) else dg.DefaultSensorStatus.STOPPED


def all_on(on: bool = True) -> dict[str, str]:
    """Every switch set to ``on`` (or ``off``): the environment the demo starts Dagster with."""
    return {env: "on" if on else "off" for env in SWITCHES}
