"""Build the resources from environment variables (``dg.EnvVar``) with local-stack defaults."""

from __future__ import annotations

import os

import dagster as dg

from sparklayer_erp.resources import (
    AlertsResource,
    ErpResource,
    LedgerResource,
    PolicyResource,
    SparkLayerResource,
)
from sparklayer_erp.settings import SETTINGS, TEAMS


def env_or_default(env: str) -> str | dg.EnvVar:
    """``dg.EnvVar`` when the variable is set (resolved at run time, shown by name in the UI); else the
    local-stack default. Secrets are always ``dg.EnvVar`` so a missing one fails naming the variable."""
    setting = SETTINGS[env]
    if os.environ.get(env) or (setting.secret and setting.default is None):
        return dg.EnvVar(env)
    return setting.default or ""


def build_resources() -> dict[str, dg.ConfigurableResource]:
    e = env_or_default
    return {
        "ledger": LedgerResource(database_url=e("LEDGER_DATABASE_URL"), data_dir=e("SPARKLAYER_ERP_DATA_DIR")),
        "sparklayer": SparkLayerResource(
            base_url=e("SPARKLAYER_BASE_URL"), site_id=e("SPARKLAYER_SITE_ID"),
            client_id=e("SPARKLAYER_CLIENT_ID"), client_secret=e("SPARKLAYER_CLIENT_SECRET"),
            requests_per_second=e("SPARKLAYER_REQUESTS_PER_SECOND"), pack_size_mode=e("SPARKLAYER_PACK_SIZE_MODE"),
        ),
        "erp": ErpResource(url=e("ERP_URL"), database=e("ERP_DATABASE"), login=e("ERP_LOGIN"),
                           password=e("ERP_PASSWORD")),
        "policy": PolicyResource(
            price_policy=e("ORDER_PRICE_POLICY"), price_tolerance=e("ORDER_PRICE_TOLERANCE"),
            tax_rate_percent=e("ORDER_TAX_RATE_PERCENT"),
            overlap_seconds=e("ORDER_OVERLAP_SECONDS"), page_size=e("ORDER_PAGE_SIZE"),
            stock_safety_buffer=e("STOCK_SAFETY_BUFFER"), mass_quarantine_share=e("MASS_QUARANTINE_SHARE"),
            stuck_order_minutes=e("STUCK_ORDER_MINUTES"), data_dir=e("SPARKLAYER_ERP_DATA_DIR"),
        ),
        "alerts": AlertsResource(
            smtp_host=e("ALERT_SMTP_HOST"), smtp_port=e("ALERT_SMTP_PORT"), smtp_from=e("ALERT_SMTP_FROM"),
            smtp_username=e("ALERT_SMTP_USERNAME"), smtp_password=e("ALERT_SMTP_PASSWORD"),
            **{f"email_{t.lower()}": e(f"ALERT_EMAIL_{t}") for t in TEAMS},
            **{f"webhook_{t.lower()}": e(f"ALERT_WEBHOOK_{t}") for t in TEAMS},
        ),
    }
