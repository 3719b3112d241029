"""Dagster resources: thin, typed wrappers that turn settings into the clients the assets use.

``build_resources`` feeds every field from its environment variable (``env_or_default``; whole numbers through
``env_or_default_int``, so they reach the resource as ``int``). Each resource checks all its values once, when
a run, step or sensor tick sets it up (``setup_for_execution``), with messages that name the variable and never
its value when it is a secret; built by hand outside Dagster, a resource checks them on first use instead.
Decimals stay strings in the config (Dagster has no decimal type) and become ``Decimal`` once; choices become
enums once.

Clients are handed out as managed contexts — ``with erp.session() as port`` and
``with sparklayer.session() as client`` — so every caller closes them the same way, failure or not. Inside a
run (or step) every ``erp.session()`` hands out the same port, logged in once and closed when the run's
resources are torn down. SparkLayer clients are cheap: every client of the process shares one access token
per API client (``sparklayer.client.TokenCache``), so a sensor tick does not fetch a token.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg
from pydantic import Field, PrivateAttr

from sparklayer_erp import settings
from sparklayer_erp.domain.orders import PricePolicy
from sparklayer_erp.plumbing.cpu_priority import yield_cpu_if_background
from sparklayer_erp.settings import SETTINGS, TEAMS

if TYPE_CHECKING:
    from sparklayer_erp.erp.port import ErpPort
    from sparklayer_erp.ledger.store import Ledger
    from sparklayer_erp.sparklayer.client import SparkLayerClient

_URL_PASSWORD = re.compile(r"(://[^/:@\s]*:)[^@\s]*@")


def _scrubbed(message: str, env: str, value: object) -> str:
    """``message`` without the value when the variable is a secret, and without any password in a URL."""
    raw = str(value)
    if SETTINGS[env].secret and raw:
        message = message.replace(raw, "***")
    return _URL_PASSWORD.sub(r"\1***@", message)


class _Checks:
    """Checks several variables and reports every bad one at once (each message names its variable)."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def __call__(self, env: str, value: object, convert: Callable[[Any], Any] = lambda v: v) -> Any:
        resolve = getattr(value, "get_value", None)  # a resource built by hand outside Dagster holds dg.EnvVar
        if callable(resolve):
            value = resolve()
            if value is None:
                self.problems.append(f"{env} is not set: {SETTINGS[env].help}")
                return None
        try:
            return convert(settings.check(env, value))
        except settings.SettingError as exc:
            self.problems.append(_scrubbed(str(exc), env, value))
        except (TypeError, ValueError):
            self.problems.append(f"{env} is not valid")
        return None

    def done(self) -> None:
        if self.problems:
            raise settings.SettingError("; ".join(self.problems))


@functools.cache
def _ledger_for(url: str) -> Ledger:
    from sparklayer_erp.ledger.store import Ledger

    return Ledger.from_url(url, migrate=True)


def _dry_run() -> bool:
    """``DRY_RUN=on``: every write to SparkLayer and the ERP is computed and reported, never sent."""
    from sparklayer_erp.plumbing import dry_run

    return dry_run.enabled()


def _dry_run_ledger(real_url: str, folder: str | None) -> str:
    """In a dry run the ledger is a scratch copy of the real one: pretend writes never reach the real one."""
    if not _dry_run():
        return real_url
    from sparklayer_erp.plumbing import dry_run

    return dry_run.dry_run_ledger_url(folder or settings.data_dir(), real_url)


class LedgerResource(dg.ConfigurableResource):
    """The integration's own state: order links, push hashes, exceptions, audit of every outside write."""

    database_url: str = Field(default="", description="LEDGER_DATABASE_URL; empty = SQLite in the data folder")
    data_dir: str = Field(default="", description="SPARKLAYER_ERP_DATA_DIR")
    _url: str | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self.url()  # checked once per run, step or tick
        # Every run uses the ledger, so this is where a housekeeping run worker steps back for order syncs (a run
        # executed in-process on a throw-away instance, as tests do, leaves the calling process alone).
        if context.instance is not None and not context.instance.is_ephemeral:
            yield_cpu_if_background(context.run.tags if context.run else None)

    def url(self) -> str:
        if self._url is None:
            check = _Checks()
            url = check("LEDGER_DATABASE_URL", self.database_url, str) if self.database_url else ""
            folder = check("SPARKLAYER_ERP_DATA_DIR", self.data_dir, str) if self.data_dir else None
            check.done()
            real = url or f"sqlite:///{folder or settings.data_dir()}/ledger.sqlite"
            self._url = _dry_run_ledger(real, folder)
        return self._url

    def ledger(self) -> Ledger:
        return _ledger_for(self.url())


class PackSizeMode(StrEnum):
    """SPARKLAYER_PACK_SIZE_MODE: who holds pack sizes in the shop."""

    variants = "variants"  # we write them to SparkLayer variant settings
    ledger = "ledger"  # the store keeps them in platform metafields; we record and report the gap


@dataclass(frozen=True)
class _SparkLayerValues:
    base_url: str
    site_id: str
    client_id: str
    client_secret: str = field(repr=False)
    requests_per_second: Decimal
    pack_size_mode: PackSizeMode


class SparkLayerResource(dg.ConfigurableResource):
    """The SparkLayer API (or the local sandbox, which serves the same API)."""

    base_url: str = Field(description="SPARKLAYER_BASE_URL")
    site_id: str = Field(description="SPARKLAYER_SITE_ID")
    client_id: str = Field(description="SPARKLAYER_CLIENT_ID")
    client_secret: str = Field(description="SPARKLAYER_CLIENT_SECRET (secret)")
    requests_per_second: str = Field(default="10", description="SPARKLAYER_REQUESTS_PER_SECOND (a decimal)")
    pack_size_mode: str = Field(default="variants", description="SPARKLAYER_PACK_SIZE_MODE: variants or ledger")
    timeout_s: float = 30.0
    _values: _SparkLayerValues | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self.values()  # checked once per run, step or tick

    def values(self) -> _SparkLayerValues:
        if self._values is None:
            check = _Checks()
            values = dict(
                base_url=check("SPARKLAYER_BASE_URL", self.base_url, str),
                site_id=check("SPARKLAYER_SITE_ID", self.site_id, str),
                client_id=check("SPARKLAYER_CLIENT_ID", self.client_id, str),
                client_secret=check("SPARKLAYER_CLIENT_SECRET", self.client_secret, str),
                requests_per_second=check("SPARKLAYER_REQUESTS_PER_SECOND", self.requests_per_second, Decimal),
                pack_size_mode=check("SPARKLAYER_PACK_SIZE_MODE", self.pack_size_mode, PackSizeMode),
            )
            check.done()
            self._values = _SparkLayerValues(**values)
        return self._values

    def client(self) -> SparkLayerClient:
        """A new client; every client of the process shares the access token of its API client."""
        v = self.values()
        from sparklayer_erp.sparklayer.client import SparkLayerClient

        client = SparkLayerClient(v.base_url, v.site_id, v.client_id, v.client_secret,
                                  requests_per_second=float(v.requests_per_second), timeout=self.timeout_s)
        if _dry_run():
            from sparklayer_erp.plumbing import dry_run

            return dry_run.dry_run_client(client, dry_run.recorder())  # type: ignore[return-value]
        return client

    @contextmanager
    def session(self) -> Iterator[SparkLayerClient]:
        """A client for the duration of a ``with`` block, closed afterwards whatever happens."""
        with self.client() as client:
            yield client

    def pack_sizes_writable(self) -> bool:
        return self.values().pack_size_mode is PackSizeMode.variants


class ErpAdapter(StrEnum):
    """Which implementation of the ERP port ``ErpResource`` hands out (``ERP_KIND``)."""

    tryton = "tryton"
    netsuite = "netsuite"


@dataclass(frozen=True)
class _ErpValues:
    url: str
    database: str
    login: str
    password: str = field(repr=False)


# ErpResource field -> setting, for the NetSuite adapter (NetSuiteConfig field names in _netsuite_config).
_NETSUITE_FIELDS = {
    "netsuite_account_id": "NETSUITE_ACCOUNT_ID", "netsuite_base_url": "NETSUITE_BASE_URL",
    "netsuite_auth": "NETSUITE_AUTH", "netsuite_client_id": "NETSUITE_CLIENT_ID",
    "netsuite_certificate_id": "NETSUITE_CERTIFICATE_ID", "netsuite_private_key": "NETSUITE_PRIVATE_KEY",
    "netsuite_consumer_key": "NETSUITE_CONSUMER_KEY", "netsuite_consumer_secret": "NETSUITE_CONSUMER_SECRET",
    "netsuite_token_id": "NETSUITE_TOKEN_ID", "netsuite_token_secret": "NETSUITE_TOKEN_SECRET",
    "netsuite_subsidiary": "NETSUITE_SUBSIDIARY", "netsuite_locations": "NETSUITE_LOCATIONS",
    "netsuite_default_location": "NETSUITE_DEFAULT_LOCATION", "netsuite_concurrency": "NETSUITE_CONCURRENCY",
}


def _netsuite_config(values: dict[str, Any], timeout_s: float) -> Any:
    """A ``NetSuiteConfig`` from checked settings; its own refusals become a ``SettingError`` naming the
    variables (the config never puts a secret in a message)."""
    from sparklayer_erp.erp.netsuite.config import NetSuiteConfig, NetSuiteConfigError

    def text(name: str) -> str | None:
        value = str(values[name] or "").strip()
        return value or None

    key = text("netsuite_private_key")
    try:
        return NetSuiteConfig(
            account_id=text("netsuite_account_id") or "", auth=values["netsuite_auth"],
            base_url=text("netsuite_base_url"), client_id=text("netsuite_client_id"),
            certificate_id=text("netsuite_certificate_id"),
            private_key_pem=key.replace("\\n", "\n") if key else None,  # one-line PEM from an env file
            consumer_key=text("netsuite_consumer_key"), consumer_secret=text("netsuite_consumer_secret"),
            token_id=text("netsuite_token_id"), token_secret=text("netsuite_token_secret"),
            subsidiary=text("netsuite_subsidiary"), locations=values["netsuite_locations"] or {},
            default_location=text("netsuite_default_location"),
            concurrency=int(values["netsuite_concurrency"]), timeout=timeout_s,
        )
    except NetSuiteConfigError as exc:
        raise settings.SettingError(str(exc)) from None


def _close(port: object) -> None:
    close = getattr(port, "close", None)
    if callable(close):
        close()


class _SharedPort:
    """The one port of a run: opened (and so logged in) on first use, closed at teardown."""

    def __init__(self, open_port: Callable[[], ErpPort]) -> None:
        self._open = open_port
        self._port: ErpPort | None = None
        self._lock = threading.Lock()

    def get(self) -> ErpPort:
        with self._lock:
            if self._port is None:
                self._port = self._open()
            return self._port

    def close(self) -> None:
        with self._lock:
            port, self._port = self._port, None
        if port is not None:
            _close(port)


class ErpResource(dg.ConfigurableResource):
    """The ERP behind the port; ``adapter`` (``ERP_KIND``) picks the implementation: Tryton (the default,
    ``url``/``database``/``login``/``password``) or NetSuite (the ``netsuite_*`` fields).

    Inside a Dagster run (or step) ``session()`` hands out one port for the whole run: one login however many
    assets use the ERP, closed when the run's resources are torn down. Built by hand outside Dagster (the
    command line's checks), each ``session()`` opens its own port and closes it at the end of the block.
    """

    adapter: str = Field(default=ErpAdapter.tryton.value, description="ERP_KIND: tryton or netsuite")
    url: str = Field(default=SETTINGS["ERP_URL"].default or "", description="ERP_URL")
    database: str = Field(default=SETTINGS["ERP_DATABASE"].default or "", description="ERP_DATABASE")
    login: str = Field(default=SETTINGS["ERP_LOGIN"].default or "", description="ERP_LOGIN")
    password: str = Field(default="", description="ERP_PASSWORD (secret)")
    netsuite_account_id: str = Field(default="", description="NETSUITE_ACCOUNT_ID")
    netsuite_base_url: str = Field(default="", description="NETSUITE_BASE_URL (empty: from the account id)")
    netsuite_auth: str = Field(default="oauth2", description="NETSUITE_AUTH: oauth2 or tba")
    netsuite_client_id: str = Field(default="", description="NETSUITE_CLIENT_ID")
    netsuite_certificate_id: str = Field(default="", description="NETSUITE_CERTIFICATE_ID")
    netsuite_private_key: str = Field(default="", description="NETSUITE_PRIVATE_KEY (secret)")
    netsuite_consumer_key: str = Field(default="", description="NETSUITE_CONSUMER_KEY")
    netsuite_consumer_secret: str = Field(default="", description="NETSUITE_CONSUMER_SECRET (secret)")
    netsuite_token_id: str = Field(default="", description="NETSUITE_TOKEN_ID")
    netsuite_token_secret: str = Field(default="", description="NETSUITE_TOKEN_SECRET (secret)")
    netsuite_subsidiary: str = Field(default="", description="NETSUITE_SUBSIDIARY")
    netsuite_locations: str = Field(default="", description="NETSUITE_LOCATIONS: 1=MAIN,2=NORTH")
    netsuite_default_location: str = Field(default="", description="NETSUITE_DEFAULT_LOCATION")
    netsuite_concurrency: int = Field(default=5, description="NETSUITE_CONCURRENCY")
    timeout_s: float = 120.0
    _values: _ErpValues | None = PrivateAttr(default=None)
    _kind: ErpAdapter | None = PrivateAttr(default=None)
    _netsuite: Any = PrivateAttr(default=None)
    _shared: _SharedPort | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self.values()  # checked once per run, step or tick; the login waits for the first session()
        self._shared = _SharedPort(self.port)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        shared, self._shared = self._shared, None
        if shared is not None:
            shared.close()

    def kind(self) -> ErpAdapter:
        """Which adapter ``ERP_KIND`` names (checked once)."""
        if self._kind is None:
            check = _Checks()
            kind = check("ERP_KIND", self.adapter, ErpAdapter)
            check.done()
            self._kind = kind
        return self._kind

    def values(self) -> Any:
        """The checked settings of the chosen adapter: Tryton's connection, or a ``NetSuiteConfig``. Only the
        chosen adapter's variables are required."""
        if self.kind() is ErpAdapter.netsuite:
            if self._netsuite is None:
                check = _Checks()
                values = {name: check(env, getattr(self, name)) for name, env in _NETSUITE_FIELDS.items()}
                check.done()
                self._netsuite = _netsuite_config(values, self.timeout_s)
            return self._netsuite
        if self._values is None:
            check = _Checks()
            values = dict(
                url=check("ERP_URL", self.url, str),
                database=check("ERP_DATABASE", self.database, str),
                login=check("ERP_LOGIN", self.login, str),
                password=check("ERP_PASSWORD", self.password, str),
            )
            check.done()
            self._values = _ErpValues(**values)
        return self._values

    def port(self) -> ErpPort:
        """A new port (its own session); callers normally use ``session()``."""
        v = self.values()
        port: ErpPort
        if self.kind() is ErpAdapter.netsuite:
            from sparklayer_erp.erp.netsuite.adapter import NetSuiteErp

            port = NetSuiteErp(v)
        else:
            from sparklayer_erp.erp.tryton.adapter import TrytonErp

            tryton = TrytonErp(url=v.url, database=v.database, login=v.login, password=v.password,
                               timeout=self.timeout_s)
            tryton.rpc.log_in_background()  # a session is opened to be used: log in while the run reads SparkLayer
            port = tryton
        if _dry_run():
            from sparklayer_erp.plumbing import dry_run

            return dry_run.dry_run_port(port, dry_run.recorder())  # type: ignore[return-value]
        return port

    @contextmanager
    def session(self) -> Iterator[ErpPort]:
        """An ERP session for the duration of a ``with`` block: the run's shared port inside a run (left open
        for the next asset), else a port of its own, closed afterwards whatever happens."""
        shared = self._shared
        if shared is not None:
            yield shared.get()
            return
        port = self.port()
        try:
            yield port
        finally:
            _close(port)


@dataclass(frozen=True)
class _PolicyValues:
    price_policy: PricePolicy
    price_tolerance: Decimal
    tax_rate_percent: Decimal
    overlap_seconds: int
    page_size: int
    stock_safety_buffer: int
    quantity_breaks: tuple[int, ...]
    mass_quarantine_share: Decimal
    stuck_order_minutes: int
    data_dir: str  # "" = the SPARKLAYER_ERP_DATA_DIR setting read when the folder is needed


class PolicyResource(dg.ConfigurableResource):
    """Business tunables: price policy, tolerances, buffers, thresholds."""

    price_policy: str = Field(default="hold_for_finance",
                              description="ORDER_PRICE_POLICY: erp_wins, sparklayer_wins or hold_for_finance")
    price_tolerance: str = Field(default="0.01", description="ORDER_PRICE_TOLERANCE (a decimal)")
    tax_rate_percent: str = Field(default="20", description="ORDER_TAX_RATE_PERCENT (a decimal)")
    overlap_seconds: int = Field(default=120, description="ORDER_OVERLAP_SECONDS")
    page_size: int = Field(default=100, description="ORDER_PAGE_SIZE")
    stock_safety_buffer: int = Field(default=0, description="STOCK_SAFETY_BUFFER")
    price_quantity_breaks: str = Field(default=SETTINGS["PRICE_QUANTITY_BREAKS"].default,
                                       description="PRICE_QUANTITY_BREAKS")
    mass_quarantine_share: str = Field(default="0.2", description="MASS_QUARANTINE_SHARE (a decimal, 0 to 1)")
    stuck_order_minutes: int = Field(default=15, description="STUCK_ORDER_MINUTES")
    data_dir: str = Field(default="", description="SPARKLAYER_ERP_DATA_DIR")
    _values: _PolicyValues | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self.values()  # checked once per run, step or tick

    def values(self) -> _PolicyValues:
        if self._values is None:
            check = _Checks()
            values = dict(
                price_policy=check("ORDER_PRICE_POLICY", self.price_policy, PricePolicy),
                price_tolerance=check("ORDER_PRICE_TOLERANCE", self.price_tolerance, Decimal),
                tax_rate_percent=check("ORDER_TAX_RATE_PERCENT", self.tax_rate_percent, Decimal),
                overlap_seconds=check("ORDER_OVERLAP_SECONDS", self.overlap_seconds, int),
                page_size=check("ORDER_PAGE_SIZE", self.page_size, int),
                stock_safety_buffer=check("STOCK_SAFETY_BUFFER", self.stock_safety_buffer, int),
                quantity_breaks=check("PRICE_QUANTITY_BREAKS", self.price_quantity_breaks, tuple),
                mass_quarantine_share=check("MASS_QUARANTINE_SHARE", self.mass_quarantine_share, Decimal),
                stuck_order_minutes=check("STUCK_ORDER_MINUTES", self.stuck_order_minutes, int),
                data_dir=check("SPARKLAYER_ERP_DATA_DIR", self.data_dir, str) if self.data_dir else "",
            )
            check.done()
            self._values = _PolicyValues(**values)
        return self._values

    def policy(self) -> str:
        return self.values().price_policy.value

    def tolerance(self) -> Decimal:
        return self.values().price_tolerance

    def tax_rate(self) -> Decimal:
        return self.values().tax_rate_percent

    def overlap(self) -> int:
        return self.values().overlap_seconds

    def orders_per_tick(self) -> int:
        return max(1, self.values().page_size)

    def safety_buffer(self) -> int:
        return self.values().stock_safety_buffer

    def quantity_breaks(self) -> tuple[int, ...]:
        return self.values().quantity_breaks

    def quarantine_share_limit(self) -> Decimal:
        return self.values().mass_quarantine_share

    def stuck_after_minutes(self) -> int:
        return self.values().stuck_order_minutes

    def output_dir(self) -> Path:
        folder = Path(self.values().data_dir or settings.data_dir())
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


def env_or_default_int(env: str) -> int:
    """``env_or_default`` for a whole-number field: ``dg.EnvVar.int`` when set (a value that is not a whole
    number fails naming the variable), else the default as an ``int``."""
    if os.environ.get(env):
        return dg.EnvVar.int(env)
    return int(str(SETTINGS[env].default))


def erp_resource_from_settings(environ: Mapping[str, str] | None = None, *, timeout_s: float = 120.0) -> ErpResource:
    """The ERP resource built now from the settings (the command line's checks), as ``build_resources``
    builds it for Dagster; a missing or malformed setting raises ``SettingError`` naming it."""
    source = os.environ if environ is None else environ

    def read(env: str) -> str:
        value = settings.read(env, source)
        return str(value) if env != "NETSUITE_LOCATIONS" else (source.get(env) or "")

    if read("ERP_KIND") == ErpAdapter.netsuite.value:
        fields: dict[str, Any] = {name: read(env) for name, env in _NETSUITE_FIELDS.items()}
        fields["netsuite_concurrency"] = int(fields["netsuite_concurrency"])
        return ErpResource(adapter=ErpAdapter.netsuite.value, timeout_s=timeout_s, **fields)
    return ErpResource(url=read("ERP_URL"), database=read("ERP_DATABASE"), login=read("ERP_LOGIN"),
                       password=read("ERP_PASSWORD"), timeout_s=timeout_s)


def erp_location(environ: Mapping[str, str] | None = None) -> str:
    """Where the configured ERP is, for people (never a secret)."""
    source = os.environ if environ is None else environ
    if str(settings.read("ERP_KIND", source)) == ErpAdapter.netsuite.value:
        account = settings.read("NETSUITE_ACCOUNT_ID", source) or "?"
        url = settings.read("NETSUITE_BASE_URL", source) or "its suitetalk.api.netsuite.com host"
        return f"NetSuite account {account} at {url}"
    return (f"{settings.read('ERP_DATABASE', source)} at {settings.read('ERP_URL', source)} "
            f"as {settings.read('ERP_LOGIN', source)}")


def _erp_password() -> str | dg.EnvVar:
    """``ERP_PASSWORD`` is Tryton's: required (an ``EnvVar``) unless ``ERP_KIND=netsuite`` leaves it unset."""
    if os.environ.get("ERP_KIND", "").strip() == ErpAdapter.netsuite.value and not os.environ.get("ERP_PASSWORD"):
        return ""
    return env_or_default("ERP_PASSWORD")


def build_resources() -> dict[str, dg.ConfigurableResource]:
    """Every resource the definitions use, fed from the settings table."""
    e, i = env_or_default, env_or_default_int
    return {
        "ledger": LedgerResource(database_url=e("LEDGER_DATABASE_URL"), data_dir=e("SPARKLAYER_ERP_DATA_DIR")),
        "sparklayer": SparkLayerResource(
            base_url=e("SPARKLAYER_BASE_URL"), site_id=e("SPARKLAYER_SITE_ID"),
            client_id=e("SPARKLAYER_CLIENT_ID"), client_secret=e("SPARKLAYER_CLIENT_SECRET"),
            requests_per_second=e("SPARKLAYER_REQUESTS_PER_SECOND"), pack_size_mode=e("SPARKLAYER_PACK_SIZE_MODE"),
        ),
        "erp": ErpResource(adapter=e("ERP_KIND"), url=e("ERP_URL"), database=e("ERP_DATABASE"),
                           login=e("ERP_LOGIN"), password=_erp_password(),
                           **{name: (i(env) if env == "NETSUITE_CONCURRENCY" else e(env))
                              for name, env in _NETSUITE_FIELDS.items()}),
        "policy": PolicyResource(
            price_policy=e("ORDER_PRICE_POLICY"), price_tolerance=e("ORDER_PRICE_TOLERANCE"),
            tax_rate_percent=e("ORDER_TAX_RATE_PERCENT"),
            overlap_seconds=i("ORDER_OVERLAP_SECONDS"), page_size=i("ORDER_PAGE_SIZE"),
            stock_safety_buffer=i("STOCK_SAFETY_BUFFER"), mass_quarantine_share=e("MASS_QUARANTINE_SHARE"),
            price_quantity_breaks=e("PRICE_QUANTITY_BREAKS"),
            stuck_order_minutes=i("STUCK_ORDER_MINUTES"), data_dir=e("SPARKLAYER_ERP_DATA_DIR"),
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
