"""Dagster resources: thin, typed wrappers that turn settings into the clients the assets use.

``build_resources`` feeds every field from its environment variable (``env_or_default``); values are checked
when a run or tick starts, with messages that name the variable (never its value when it is a secret).
Clients are handed out as managed contexts — ``with erp.session() as port`` and
``with sparklayer.session() as client`` — so every caller closes them the same way, failure or not.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import TYPE_CHECKING

import dagster as dg
from pydantic import Field

from sparklayer_erp import settings
from sparklayer_erp.settings import SETTINGS, TEAMS

if TYPE_CHECKING:
    from sparklayer_erp.erp.port import ErpPort
    from sparklayer_erp.ledger.store import Ledger
    from sparklayer_erp.sparklayer.client import SparkLayerClient


@functools.cache
def _ledger_for(url: str) -> Ledger:
    from sparklayer_erp.ledger.store import Ledger

    return Ledger.from_url(url, migrate=True)


class LedgerResource(dg.ConfigurableResource):
    """The integration's own state: order links, push hashes, exceptions, audit of every outside write."""

    database_url: str = Field(default="", description="LEDGER_DATABASE_URL; empty = SQLite in the data folder")
    data_dir: str = Field(default="", description="SPARKLAYER_ERP_DATA_DIR")

    def url(self) -> str:
        if self.database_url:
            return str(settings.check("LEDGER_DATABASE_URL", self.database_url))
        folder = settings.check("SPARKLAYER_ERP_DATA_DIR", self.data_dir) if self.data_dir else settings.data_dir()
        return f"sqlite:///{folder}/ledger.sqlite"

    def ledger(self) -> Ledger:
        return _ledger_for(self.url())


class SparkLayerResource(dg.ConfigurableResource):
    """The SparkLayer API (or the local sandbox, which serves the same API)."""

    base_url: str = Field(description="SPARKLAYER_BASE_URL")
    site_id: str = Field(description="SPARKLAYER_SITE_ID")
    client_id: str = Field(description="SPARKLAYER_CLIENT_ID")
    client_secret: str = Field(description="SPARKLAYER_CLIENT_SECRET (secret)")
    requests_per_second: str = Field(default="10", description="SPARKLAYER_REQUESTS_PER_SECOND")
    pack_size_mode: str = Field(default="variants", description="SPARKLAYER_PACK_SIZE_MODE")
    timeout_s: float = 30.0

    def client(self) -> SparkLayerClient:
        checked = dict(
            base_url=str(settings.check("SPARKLAYER_BASE_URL", self.base_url)),
            site_id=str(settings.check("SPARKLAYER_SITE_ID", self.site_id)),
            client_id=str(settings.check("SPARKLAYER_CLIENT_ID", self.client_id)),
            client_secret=str(settings.check("SPARKLAYER_CLIENT_SECRET", self.client_secret)),
            requests_per_second=float(settings.check("SPARKLAYER_REQUESTS_PER_SECOND", self.requests_per_second)),
        )
        from sparklayer_erp.sparklayer.client import SparkLayerClient

        return SparkLayerClient(**checked, timeout=self.timeout_s)

    @contextmanager
    def session(self) -> Iterator[SparkLayerClient]:
        """A client for the duration of a ``with`` block, closed afterwards whatever happens."""
        with self.client() as client:
            yield client

    def pack_sizes_writable(self) -> bool:
        return settings.check("SPARKLAYER_PACK_SIZE_MODE", self.pack_size_mode) == "variants"


class ErpResource(dg.ConfigurableResource):
    """The ERP behind the port; ``adapter`` picks the implementation (Tryton today)."""

    adapter: str = "tryton"
    url: str = Field(description="ERP_URL")
    database: str = Field(description="ERP_DATABASE")
    login: str = Field(description="ERP_LOGIN")
    password: str = Field(description="ERP_PASSWORD (secret)")
    timeout_s: float = 120.0

    def port(self) -> ErpPort:
        if self.adapter != "tryton":
            raise settings.SettingError(f"ERP adapter {self.adapter!r} is not available; only 'tryton' ships today")
        checked = dict(
            url=str(settings.check("ERP_URL", self.url)),
            database=str(settings.check("ERP_DATABASE", self.database)),
            login=str(settings.check("ERP_LOGIN", self.login)),
            password=str(settings.check("ERP_PASSWORD", self.password)),
        )
        from sparklayer_erp.erp.tryton.adapter import TrytonErp

        return TrytonErp(**checked, timeout=self.timeout_s)

    @contextmanager
    def session(self) -> Iterator[ErpPort]:
        """An ERP session for the duration of a ``with`` block, closed afterwards whatever happens."""
        port = self.port()
        try:
            yield port
        finally:
            close = getattr(port, "close", None)
            if callable(close):
                close()


class PolicyResource(dg.ConfigurableResource):
    """Business tunables: price policy, tolerances, buffers, thresholds."""

    price_policy: str = Field(default="hold_for_finance", description="ORDER_PRICE_POLICY")
    price_tolerance: str = Field(default="0.01", description="ORDER_PRICE_TOLERANCE")
    tax_rate_percent: str = Field(default="20", description="ORDER_TAX_RATE_PERCENT")
    overlap_seconds: str = Field(default="120", description="ORDER_OVERLAP_SECONDS")
    page_size: str = Field(default="100", description="ORDER_PAGE_SIZE")
    stock_safety_buffer: str = Field(default="0", description="STOCK_SAFETY_BUFFER")
    price_quantity_breaks: str = Field(default=SETTINGS["PRICE_QUANTITY_BREAKS"].default,
                                       description="PRICE_QUANTITY_BREAKS")
    mass_quarantine_share: str = Field(default="0.2", description="MASS_QUARANTINE_SHARE")
    stuck_order_minutes: str = Field(default="15", description="STUCK_ORDER_MINUTES")
    data_dir: str = Field(default="", description="SPARKLAYER_ERP_DATA_DIR")

    def policy(self) -> str:
        return str(settings.check("ORDER_PRICE_POLICY", self.price_policy))

    def tolerance(self) -> Decimal:
        return Decimal(str(settings.check("ORDER_PRICE_TOLERANCE", self.price_tolerance)))

    def tax_rate(self) -> Decimal:
        return Decimal(str(settings.check("ORDER_TAX_RATE_PERCENT", self.tax_rate_percent)))

    def overlap(self) -> int:
        return int(settings.check("ORDER_OVERLAP_SECONDS", self.overlap_seconds))

    def orders_per_tick(self) -> int:
        return max(1, int(settings.check("ORDER_PAGE_SIZE", self.page_size)))

    def safety_buffer(self) -> int:
        return int(settings.check("STOCK_SAFETY_BUFFER", self.stock_safety_buffer))

    def quantity_breaks(self) -> tuple[int, ...]:
        return tuple(settings.check("PRICE_QUANTITY_BREAKS", self.price_quantity_breaks))  # type: ignore[arg-type]

    def quarantine_share_limit(self) -> Decimal:
        return Decimal(str(settings.check("MASS_QUARANTINE_SHARE", self.mass_quarantine_share)))

    def stuck_after_minutes(self) -> int:
        return int(settings.check("STUCK_ORDER_MINUTES", self.stuck_order_minutes))

    def output_dir(self):
        from pathlib import Path

        folder = Path(str(settings.check("SPARKLAYER_ERP_DATA_DIR", self.data_dir))) if self.data_dir \
            else settings.data_dir()
        folder.mkdir(parents=True, exist_ok=True)
        return folder


class AlertsResource(dg.ConfigurableResource):
    """Where each owner team's alerts go (``ALERT_URLS_<TEAM>``: Apprise URLs), the Dagster UI they link to and
    the digest hour. The ``smtp_*``/``email_*``/``webhook_*`` fields are the deprecated variables, still
    translated for one release (``notify.delivery.routing_from``)."""

    urls_finance: str = ""
    urls_sales_operations: str = ""
    urls_operations: str = ""
    urls_ecommerce: str = ""
    ui_url: str = settings.SETTINGS["DAGSTER_UI_URL"].default or ""
    digest_hour_utc: str = settings.SETTINGS["ALERT_DIGEST_HOUR"].default or "7"
    smtp_host: str = ""
    smtp_port: str = "25"
    smtp_from: str = "sparklayer-erp@localhost"
    smtp_username: str = ""
    smtp_password: str = ""
    email_finance: str = ""
    email_sales_operations: str = ""
    email_operations: str = ""
    email_ecommerce: str = ""
    webhook_finance: str = ""
    webhook_sales_operations: str = ""
    webhook_operations: str = ""
    webhook_ecommerce: str = ""

    def digest_hour(self) -> int:
        return int(str(settings.check("ALERT_DIGEST_HOUR", self.digest_hour_utc)))

    def routing(self):
        from sparklayer_erp.notify.delivery import routing_from

        teams = ("finance", "sales_operations", "operations", "ecommerce")
        legacy = {"ALERT_SMTP_HOST": self.smtp_host, "ALERT_SMTP_PORT": self.smtp_port,
                  "ALERT_SMTP_FROM": self.smtp_from, "ALERT_SMTP_USERNAME": self.smtp_username,
                  "ALERT_SMTP_PASSWORD": self.smtp_password,
                  **{f"ALERT_EMAIL_{t.upper()}": getattr(self, f"email_{t}") for t in teams},
                  **{f"ALERT_WEBHOOK_{t.upper()}": getattr(self, f"webhook_{t}") for t in teams}}
        return routing_from({t: getattr(self, f"urls_{t}") for t in teams}, legacy,
                            ui_url=str(settings.check("DAGSTER_UI_URL", self.ui_url)))


def env_or_default(env: str) -> str | dg.EnvVar:
    """``dg.EnvVar`` when the variable is set (resolved at run time, shown by name in the UI); else the
    local-stack default. Secrets are always ``dg.EnvVar`` so a missing one fails naming the variable."""
    setting = SETTINGS[env]
    if os.environ.get(env) or (setting.secret and setting.default is None):
        return dg.EnvVar(env)
    return setting.default or ""


def build_resources() -> dict[str, dg.ConfigurableResource]:
    """Every resource the definitions use, fed from the settings table."""
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
            price_quantity_breaks=e("PRICE_QUANTITY_BREAKS"),
            stuck_order_minutes=e("STUCK_ORDER_MINUTES"), data_dir=e("SPARKLAYER_ERP_DATA_DIR"),
        ),
        "alerts": AlertsResource(
            **{f"urls_{t.lower()}": e(f"ALERT_URLS_{t}") for t in TEAMS},
            ui_url=e("DAGSTER_UI_URL"), digest_hour_utc=e("ALERT_DIGEST_HOUR"),
            smtp_host=e("ALERT_SMTP_HOST"), smtp_port=e("ALERT_SMTP_PORT"), smtp_from=e("ALERT_SMTP_FROM"),
            smtp_username=e("ALERT_SMTP_USERNAME"), smtp_password=e("ALERT_SMTP_PASSWORD"),
            **{f"email_{t.lower()}": e(f"ALERT_EMAIL_{t}") for t in TEAMS},
            **{f"webhook_{t.lower()}": e(f"ALERT_WEBHOOK_{t}") for t in TEAMS},
        ),
    }
