"""The one ``Definitions`` object: assets, checks, jobs, schedules, sensors and resources."""

from __future__ import annotations

import dagster as dg

from sparklayer_erp.config_wiring import build_resources
from sparklayer_erp.masterdata_definitions import (
    MASTERDATA_ASSETS,
    MASTERDATA_CHECKS,
    MASTERDATA_JOBS,
    MASTERDATA_SCHEDULES,
)

defs = dg.Definitions(
    assets=[*MASTERDATA_ASSETS],
    asset_checks=[*MASTERDATA_CHECKS],
    jobs=[*MASTERDATA_JOBS],
    schedules=[*MASTERDATA_SCHEDULES],
    resources=build_resources(),
    # One process per run: the default multiprocess executor costs ~3 s of start-up per step on a
    # 2-core box, and order sync must take seconds, not minutes.
    executor=dg.in_process_executor,
)
