"""Master data (ERP → SparkLayer) in Dagster: its assets, checks, jobs and schedules, as one ``Definitions``.

Two jobs because the data moves at two speeds: stock changes all day (every 5 minutes by default), customers,
prices and pack sizes change a few times a day (hourly). Every asset can also be materialised by hand from
the UI; the ``master_data_full_job`` runs everything at once (e.g. after a bulk change in the ERP). Both send
only what changed; ``master_data_resend_job`` (launched by hand, never scheduled) sends one data type again in
full, to undo hand edits made in SparkLayer (``masterdata.resend``).

Schedules are configurable with cron strings (``MASTERDATA_STOCK_CRON``, ``MASTERDATA_HOURLY_CRON``, read
when the definitions load) and start stopped unless ``MASTERDATA_AUTOMATION`` is on (``plumbing.automation``).
"""

from __future__ import annotations

import os

import dagster as dg
from dagster._utils.schedules import is_valid_cron_string

from sparklayer_erp import settings
from sparklayer_erp.masterdata.assets import (
    GROUP,
    MASTERDATA_ASSETS,
    MASTERDATA_CHECKS,
    erp_customers,
    erp_items,
    erp_price_lists,
    erp_prices,
    erp_stock,
    master_data_resend,
    sparklayer_customers,
    sparklayer_pack_sizes,
    sparklayer_price_lists,
    sparklayer_stock,
)
from sparklayer_erp.masterdata.catalog import RESEND_JOB_NAME
from sparklayer_erp.plumbing import automation
from sparklayer_erp.plumbing.cpu_priority import BACKGROUND_TAG
from sparklayer_erp.settings import SettingError

STOCK_CRON_ENV = "MASTERDATA_STOCK_CRON"
HOURLY_CRON_ENV = "MASTERDATA_HOURLY_CRON"
DEFAULT_STOCK_CRON = "*/5 * * * *"
# run queue: one master-data run at a time; housekeeping: yields the processor to order syncs
MASTERDATA_TAGS = {"flow": "master_data", "erp/masterdata": "writes", **BACKGROUND_TAG}
DEFAULT_HOURLY_CRON = "7 * * * *"  # past the hour, away from everyone else's top-of-the-hour jobs


def cron_from_env(env: str, default: str) -> str:
    """The cron string in ``env`` (or ``default``); a malformed one fails loading, naming the variable."""
    value = (os.environ.get(env) or "").strip() or default
    if not is_valid_cron_string(value):
        raise SettingError(f"{env} must be a cron string such as {default!r}, got {value!r}")
    return value


master_data_stock_job = dg.define_asset_job(
    "master_data_stock_job",
    selection=dg.AssetSelection.assets(erp_stock, sparklayer_stock),
    description="ERP stock → SparkLayer stock levels (changed figures only).",
    tags=MASTERDATA_TAGS,
)
master_data_hourly_job = dg.define_asset_job(
    "master_data_customers_prices_job",
    selection=dg.AssetSelection.assets(erp_customers, erp_price_lists, erp_prices, erp_items,
                                       sparklayer_price_lists, sparklayer_customers, sparklayer_pack_sizes),
    description="ERP customers (credit status included), price lists, prices and pack sizes → SparkLayer "
                "(changed records only).",
    tags=MASTERDATA_TAGS,
)
master_data_full_job = dg.define_asset_job(
    "master_data_full_job",
    selection=dg.AssetSelection.groups(GROUP),
    description="Every master-data asset in one run.",
    tags=MASTERDATA_TAGS,
)



@dg.job(
    name=RESEND_JOB_NAME,
    description="Send one data type to SparkLayer again in full (customers, prices, stock or pack sizes, "
                "all or chosen ones), whatever changed in the ERP: undoes hand edits made in SparkLayer. "
                "Launched by hand (Launchpad, or `sparklayer-erp resend`), never scheduled.",
    tags=MASTERDATA_TAGS,
)
def master_data_resend_job() -> None:
    master_data_resend()


MASTERDATA_JOBS = [master_data_stock_job, master_data_hourly_job, master_data_full_job, master_data_resend_job]
MASTERDATA_SCHEDULES = [
    dg.ScheduleDefinition(
        name="master_data_stock_schedule", job=master_data_stock_job,
        cron_schedule=cron_from_env(STOCK_CRON_ENV, DEFAULT_STOCK_CRON), execution_timezone=str(settings.read("COMPANY_TIMEZONE")),
        default_status=automation.schedule_status(automation.MASTERDATA),
        description="Stock to SparkLayer every few minutes (MASTERDATA_STOCK_CRON).",
    ),
    dg.ScheduleDefinition(
        name="master_data_customers_prices_schedule", job=master_data_hourly_job,
        cron_schedule=cron_from_env(HOURLY_CRON_ENV, DEFAULT_HOURLY_CRON), execution_timezone=str(settings.read("COMPANY_TIMEZONE")),
        default_status=automation.schedule_status(automation.MASTERDATA),
        description="Customers, credit status, prices and pack sizes to SparkLayer hourly "
                    "(MASTERDATA_HOURLY_CRON).",
    ),
]

defs = dg.Definitions(assets=MASTERDATA_ASSETS, asset_checks=MASTERDATA_CHECKS, jobs=MASTERDATA_JOBS,
                      schedules=MASTERDATA_SCHEDULES)
