"""The order-to-cash definitions, as lists the lead merges into ``definitions.py``."""

from __future__ import annotations

from sparklayer_erp.orders.assets import (
    ORDER_FOLLOWUP_ASSETS,
    ORDER_SYNC_ASSETS,
    order_followup_job,
    order_sync_job,
)
from sparklayer_erp.orders.sensor import order_followup_schedule, order_sensor, order_sweep_schedule

ORDER_ASSETS = [*ORDER_SYNC_ASSETS, *ORDER_FOLLOWUP_ASSETS]
ORDER_JOBS = [order_sync_job, order_followup_job]
ORDER_SCHEDULES = [order_followup_schedule, order_sweep_schedule]
ORDER_SENSORS = [order_sensor]
