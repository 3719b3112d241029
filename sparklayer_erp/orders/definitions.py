"""Order-to-cash in Dagster: its assets, jobs, schedules and the order sensor, as one ``Definitions``.

Concurrency by what conflicts (the run queue's ``tag_concurrency_limits``): the order sync carries ``erp/orders``
(two at once), the follow-up ``erp/followup`` (one at a time), and both carry
``erp/order-state=writes`` (changes to existing ERP orders are serialised with approvals: an amend is three
Tryton calls, and an approval landing between them would confirm the old lines); a sensor batch of brand-new
purchases overrides that value, so it never waits for a follow-up run. Master data has ``erp/masterdata``.
The follow-up yields the processor to order syncs (``BACKGROUND_TAG``). Automation (the sensor and both schedules)
starts running only when ``ORDER_AUTOMATION`` says so.
"""

from __future__ import annotations

import dagster as dg

from sparklayer_erp import settings
from sparklayer_erp.orders.assets import (
    CHANGES,
    ORDER_STATE_KEY,
    WRITER_TAG,
    erp_card_payments,
    erp_credit_notes,
    erp_order_approvals,
    erp_sales_orders,
    sparklayer_order_status,
)
from sparklayer_erp.orders.sensor import ORDER_SYNC_JOB, order_sensor
from sparklayer_erp.plumbing import automation
from sparklayer_erp.plumbing.cpu_priority import BACKGROUND_TAG

FOLLOWUP_TAG = {"erp/followup": "orders", ORDER_STATE_KEY: CHANGES, **BACKGROUND_TAG}  # yields to order syncs

ORDER_SYNC_ASSETS = [erp_sales_orders]
ORDER_FOLLOWUP_ASSETS = [erp_order_approvals, erp_card_payments, erp_credit_notes, sparklayer_order_status]

order_sync_job = dg.define_asset_job(
    ORDER_SYNC_JOB, selection=dg.AssetSelection.assets(*ORDER_SYNC_ASSETS), tags=WRITER_TAG,
    description="SparkLayer orders → ERP sales orders. Started by the order sensor with a batch of purchase ids; "
                "run with no ids it is a sweep (re-reads the last 24 h, retries held orders).",
)
order_followup_job = dg.define_asset_job(
    "order_followup_job", selection=dg.AssetSelection.assets(*ORDER_FOLLOWUP_ASSETS), tags=FOLLOWUP_TAG,
    description="Approvals of pay-on-account orders, card payments against invoices, SparkLayer refunds as ERP "
                "credit notes, ERP status (and credit notes) back to SparkLayer.",
)

order_followup_schedule = dg.ScheduleDefinition(
    name="order_followup_schedule", job=order_followup_job, cron_schedule="*/2 * * * *", execution_timezone=str(settings.read("COMPANY_TIMEZONE")),
    default_status=automation.schedule_status(automation.ORDERS), tags=FOLLOWUP_TAG,
    description="Every 2 minutes: approvals, card payments, ERP status back to SparkLayer.",
)
order_sweep_schedule = dg.ScheduleDefinition(
    name="order_sweep_schedule", job=order_sync_job, cron_schedule="*/10 * * * *", execution_timezone=str(settings.read("COMPANY_TIMEZONE")),
    default_status=automation.schedule_status(automation.ORDERS), tags=WRITER_TAG,
    description="Every 10 minutes: re-read the last 24 hours of SparkLayer orders and retry held ones "
                "(never trust the sensor's cursor alone).",
)

ORDER_ASSETS = [*ORDER_SYNC_ASSETS, *ORDER_FOLLOWUP_ASSETS]
ORDER_JOBS = [order_sync_job, order_followup_job]
ORDER_SCHEDULES = [order_followup_schedule, order_sweep_schedule]
ORDER_SENSORS = [order_sensor]

defs = dg.Definitions(assets=ORDER_ASSETS, jobs=ORDER_JOBS, schedules=ORDER_SCHEDULES, sensors=ORDER_SENSORS)
