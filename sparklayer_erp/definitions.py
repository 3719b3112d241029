"""The one ``Definitions`` object: assets, checks, jobs, schedules, sensors and resources."""

from __future__ import annotations

import dagster as dg

from sparklayer_erp.config_wiring import build_resources
from sparklayer_erp.masterdata.definitions import (
    MASTERDATA_ASSETS,
    MASTERDATA_CHECKS,
    MASTERDATA_JOBS,
    MASTERDATA_SCHEDULES,
)
from sparklayer_erp.monitoring.definitions import (
    MONITORING_ASSETS,
    MONITORING_CHECKS,
    MONITORING_JOBS,
    MONITORING_SCHEDULES,
    MONITORING_SENSORS,
)
from sparklayer_erp.orders.definitions import ORDER_ASSETS, ORDER_JOBS, ORDER_SCHEDULES, ORDER_SENSORS

defs = dg.Definitions(
    assets=[*MASTERDATA_ASSETS, *ORDER_ASSETS, *MONITORING_ASSETS],
    asset_checks=[*MASTERDATA_CHECKS, *MONITORING_CHECKS],
    jobs=[*MASTERDATA_JOBS, *ORDER_JOBS, *MONITORING_JOBS],
    schedules=[*MASTERDATA_SCHEDULES, *ORDER_SCHEDULES, *MONITORING_SCHEDULES],
    sensors=[*ORDER_SENSORS, *MONITORING_SENSORS],
    resources=build_resources(),
    # One process per run: the default multiprocess executor costs ~3 s of start-up per step on a
    # 2-core box, and order sync must take seconds, not minutes.
    executor=dg.in_process_executor,
)
