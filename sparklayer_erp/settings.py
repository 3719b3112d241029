"""Every setting the integration reads, its environment variable, its default and how it is checked.

One table, so the README, ``.env.example`` and the Dagster resources cannot disagree. Secrets have no
default here: they always come from the environment through ``dg.EnvVar`` (the demo's ``.env`` supplies
the sandbox and local-ERP credentials).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

REPO_ROOT = Path(__file__).resolve().parent.parent


class SettingError(ValueError):
    """A setting is missing or malformed; the message always names the environment variable."""


def _url(name: str, value: str) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise SettingError(f"{name} must be an http(s) URL such as http://127.0.0.1:8000, got {value!r}")
    return value.rstrip("/")


def _db_url(name: str, value: str) -> str:
    if value == "":
        return value  # empty: SQLite in the data folder
    if not (value.startswith("sqlite") or value.startswith("postgresql")):
        raise SettingError(f"{name} must be a sqlite:/// or postgresql+psycopg2:// URL, got {value!r}")
    return value


def _positive_int(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise SettingError(f"{name} must be a whole number, got {value!r}") from None
    if number < 0:
        raise SettingError(f"{name} must not be negative, got {value!r}")
    return number


def _positive_decimal(name: str, value: str) -> Decimal:
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise SettingError(f"{name} must be a decimal number, got {value!r}") from None
    if not number.is_finite() or number < 0:
        raise SettingError(f"{name} must be a non-negative number, got {value!r}")
    return number


def _quantity_list(name: str, value: str) -> tuple[int, ...]:
    try:
        numbers = sorted({int(part) for part in value.replace(" ", "").split(",") if part} | {1})
    except ValueError:
        raise SettingError(f"{name} must be whole numbers separated by commas (1,120,240), got {value!r}") from None
    if numbers[0] < 1:
        raise SettingError(f"{name} quantities must be at least 1, got {value!r}")
    return tuple(numbers)


def _hour(name: str, value: str) -> int:
    hour = _positive_int(name, value)
    if hour > 23:
        raise SettingError(f"{name} is an hour of the day, 0 to 23, got {value!r}")
    return hour


def _timezone(name: str, value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingError(f"{name} must be an IANA time zone such as Europe/London, America/New_York or UTC, "
                           f"got {value!r}") from None
    return value


def _share(name: str, value: str) -> Decimal:
    number = _positive_decimal(name, value)
    if number > 1:
        raise SettingError(f"{name} is a share between 0 and 1 (0.2 = 20 %), got {value!r}")
    return number


def _choice(*allowed: str) -> Callable[[str, str], str]:
    def check(name: str, value: str) -> str:
        if value not in allowed:
            raise SettingError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
        return value

    return check


def _text(name: str, value: str) -> str:
    if not value.strip():
        raise SettingError(f"{name} must not be empty")
    return value


_SWITCH = _choice("on", "off", "1", "0", "true", "false", "yes", "no")  # an on/off setting


def _optional(name: str, value: str) -> str:
    return value


def _optional_url(name: str, value: str) -> str:
    return _url(name, value) if value.strip() else ""


def _at_least_one(name: str, value: str) -> int:
    number = _positive_int(name, value)
    if number < 1:
        raise SettingError(f"{name} must be at least 1, got {value!r}")
    return number


def _location_map(name: str, value: str) -> dict[str, str]:
    """``1=MAIN,2=NORTH`` -> {"1": "MAIN", "2": "NORTH"}: NetSuite location internal id -> warehouse code."""
    pairs: dict[str, str] = {}
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        location, sep, code = (x.strip() for x in part.partition("="))
        if not sep or not location or not code:
            raise SettingError(f"{name} is internal id=warehouse code pairs such as 1=MAIN,2=NORTH, got {part!r}")
        if location in pairs or code in pairs.values():
            raise SettingError(f"{name} names location {location} or warehouse {code} twice")
        pairs[location] = code
    return pairs


TEAMS = ("FINANCE", "SALES_OPERATIONS", "OPERATIONS", "ECOMMERCE")


@dataclass(frozen=True)
class Setting:
    env: str
    default: str | None  # None: required (secrets)
    check: Callable[[str, str], object]
    help: str
    secret: bool = False


def _data_dir_default() -> str:
    return str(REPO_ROOT / ".data")


SETTINGS: dict[str, Setting] = {s.env: s for s in [
    Setting("SPARKLAYER_ERP_DATA_DIR", _data_dir_default(), _text,
            "Folder for the ledger (SQLite), the local ERP, the sandbox and finance exports."),
    Setting("SPARKLAYER_ERP_ENV_FILE", ".env", _optional,
            "File of KEY=VALUE lines the command line reads for variables not already set (empty: none)."),
    Setting("LEDGER_DATABASE_URL", "", _db_url,
            "The integration ledger. Empty: a SQLite file in the data folder. "
            "PostgreSQL: postgresql+psycopg2://user:pass@host:5432/db"),
    Setting("HANDOFF_RETENTION_DAYS", "7", _positive_int,
            "Days (at least 1) an asset output handed from one run to the next (an ERP extract for its push, "
            "a month's reconciliation for its check) stays in the ledger database after its last run."),
    Setting("SPARKLAYER_BASE_URL", "http://127.0.0.1:8700", _url,
            "SparkLayer API root: https://app.sparklayer.io (live), https://test.app.sparklayer.io (test), "
            "or the local sandbox."),
    Setting("SPARKLAYER_SITE_ID", "demo-site", _text, "SparkLayer Site ID (Dashboard > Settings > API)."),
    Setting("SPARKLAYER_CLIENT_ID", "demo-client", _text, "SparkLayer API client id."),
    Setting("SPARKLAYER_CLIENT_SECRET", None, _text, "SparkLayer API client secret.", secret=True),
    Setting("SPARKLAYER_REQUESTS_PER_SECOND", "10", _positive_decimal,
            "Client-side cap on SparkLayer requests per second (avoids 429 storms on large pushes)."),
    Setting("SPARKLAYER_PACK_SIZE_MODE", "variants", _choice("variants", "ledger"),
            "variants: write pack sizes to SparkLayer variant settings (custom platforms); "
            "ledger: the store keeps them in platform metafields, we only record and report the gap."),
    Setting("ERP_URL", "http://127.0.0.1:8000", _url, "ERP (Tryton) JSON-RPC server root."),
    Setting("ERP_DATABASE", "erp", _text, "ERP database name."),
    Setting("ERP_LOGIN", "integration", _text, "ERP integration user (not an administrator)."),
    Setting("ERP_PASSWORD", None, _text, "ERP integration user's password.", secret=True),
    Setting("ERP_KIND", "tryton", _choice("tryton", "netsuite"),
            "Which ERP the integration talks to: tryton (ERP_URL, ERP_DATABASE, ERP_LOGIN, ERP_PASSWORD) or "
            "netsuite (the NETSUITE_* settings; see docs/erp-adapters.md)."),
    Setting("NETSUITE_ACCOUNT_ID", "", _optional,
            "NetSuite account id as in Setup > Company > Company Information, e.g. 1234567 or 1234567_SB1 for a "
            "sandbox (ERP_KIND=netsuite)."),
    Setting("NETSUITE_BASE_URL", "", _optional_url,
            "NetSuite REST host override (empty: https://<account id>.suitetalk.api.netsuite.com); the demo "
            "points it at the local NetSuite emulator."),
    Setting("NETSUITE_AUTH", "oauth2", _choice("oauth2", "tba"),
            "oauth2: OAuth 2.0 client credentials with a certificate (NETSUITE_CLIENT_ID, NETSUITE_CERTIFICATE_ID, "
            "NETSUITE_PRIVATE_KEY); tba: token-based authentication (NETSUITE_CONSUMER_KEY, "
            "NETSUITE_CONSUMER_SECRET, NETSUITE_TOKEN_ID, NETSUITE_TOKEN_SECRET)."),
    Setting("NETSUITE_CLIENT_ID", "", _optional, "NetSuite integration record's client id (NETSUITE_AUTH=oauth2)."),
    Setting("NETSUITE_CERTIFICATE_ID", "", _optional,
            "Certificate id of the OAuth 2.0 client credentials mapping (NETSUITE_AUTH=oauth2)."),
    Setting("NETSUITE_PRIVATE_KEY", "", _optional,
            "PEM private key of that certificate (NETSUITE_AUTH=oauth2); line breaks may be written as \\n.",
            secret=True),
    Setting("NETSUITE_CONSUMER_KEY", "", _optional, "Integration record's consumer key (NETSUITE_AUTH=tba)."),
    Setting("NETSUITE_CONSUMER_SECRET", "", _optional, "Integration record's consumer secret (NETSUITE_AUTH=tba).",
            secret=True),
    Setting("NETSUITE_TOKEN_ID", "", _optional, "Access token id of the integration user (NETSUITE_AUTH=tba)."),
    Setting("NETSUITE_TOKEN_SECRET", "", _optional, "Access token secret (NETSUITE_AUTH=tba).", secret=True),
    Setting("NETSUITE_SUBSIDIARY", "", _optional,
            "Internal id of the subsidiary new records belong to (OneWorld accounts; empty: the account's default)."),
    Setting("NETSUITE_LOCATIONS", "", _location_map,
            "NetSuite locations and the warehouse codes SparkLayer knows them by: internal id=code, comma "
            "separated, e.g. 1=MAIN,2=NORTH (empty: a location's name is its code)."),
    Setting("NETSUITE_DEFAULT_LOCATION", "", _optional,
            "Internal id of the location new orders ship from (empty: the first of NETSUITE_LOCATIONS)."),
    Setting("NETSUITE_CONCURRENCY", "5", _at_least_one,
            "Most NetSuite requests in flight at once; keep it below the account's concurrency limit "
            "(Setup > Integration > Integration Governance), which other integrations share."),
    Setting("ORDER_PRICE_POLICY", "hold_for_finance", _choice("erp_wins", "sparklayer_wins", "hold_for_finance"),
            "What to do when a SparkLayer price differs from the ERP price."),
    Setting("ORDER_PRICE_TOLERANCE", "0.01", _positive_decimal,
            "Largest per-unit price difference accepted without a price check exception."),
    Setting("ORDER_TAX_RATE_PERCENT", "20", _positive_decimal,
            "The ERP's sales tax rate in percent, used to check that ERP and SparkLayer order totals agree."),
    Setting("ORDER_POLL_SECONDS", "1", _positive_int,
            "How often the order sensor looks at SparkLayer for new orders (0 means the default). A look costs one "
            "SparkLayer list call and one ledger read. Dagster's sensor daemon ticks a sensor once per 5 s pass; "
            "below 5 the sensor looks again within the pass until it finds an order, so an order is seen within "
            "about this many seconds. 5 or more: one look per tick, at this minimum interval."),
    Setting("ORDER_OVERLAP_SECONDS", "120", _positive_int,
            "How far back each poll re-reads, so late writes in SparkLayer are never missed."),
    Setting("ORDER_PAGE_SIZE", "200", _positive_int,
            "Orders per sensor tick, and so per order-sync run (a backlog drains over ticks); also the page size of "
            "the tick's SparkLayer list call (capped by the API's page limit). Each run reads the ERP's items and "
            "price lists once, so a larger run drains a backlog faster; 200 keeps that under 5 % of the ERP time."),
    Setting("PRICE_QUANTITY_BREAKS", "1,120,240,480", _quantity_list,
            "Quantities (in base units) at which the ERP is asked for a price: 1 plus every volume break your "
            "price lists use. Extra quantities cost ERP time, never wrong prices (a break that does not lower "
            "the price is not sent)."),
    Setting("STOCK_SAFETY_BUFFER", "0", _positive_int, "Units per SKU and warehouse kept back from SparkLayer."),
    Setting("MASS_QUARANTINE_SHARE", "0.2", _share,
            "Stop a push when more than this share of the source is quarantined (a broken extract)."),
    Setting("STUCK_ORDER_MINUTES", "15", _positive_int,
            "An order with no ERP order after this long is reported as stuck."),
    Setting("ORDER_AUTOMATION", "off", _SWITCH,
            "on: the order sensor and order schedules start running when the code location loads "
            "(otherwise turn them on in the UI's Automation tab)."),
    Setting("MASTERDATA_AUTOMATION", "off", _SWITCH,
            "on: the master-data schedules (stock, customers, prices, pack sizes to SparkLayer) start running "
            "when the code location loads (otherwise turn them on in the UI's Automation tab)."),
    Setting("MONITORING_AUTOMATION", "off", _SWITCH,
            "on: the drift monitor, the exceptions/alerts schedule and the run-failure alert sensor start "
            "running when the code location loads (otherwise turn them on in the UI's Automation tab)."),
    Setting("MONTH_END_AUTOMATION", "off", _SWITCH,
            "on: the month-end reconciliation schedule starts running when the code location loads "
            "(otherwise turn it on in the UI's Automation tab)."),
    Setting("DRY_RUN", "off", _SWITCH,
            "on: compute every write to SparkLayer and the ERP and report it, send none, and list the alerts "
            "instead of sending them; the ledger is then a scratch copy (ledger-dry-run.sqlite in the data "
            "folder). For the first run against live systems."),
    Setting("MASTERDATA_STOCK_CRON", "*/5 * * * *", _text, "When stock is pushed to SparkLayer (cron, company time: COMPANY_TIMEZONE)."),
    Setting("MASTERDATA_HOURLY_CRON", "7 * * * *", _text,
            "When customers, credit status, prices and pack sizes are pushed (cron, company time: COMPANY_TIMEZONE)."),
    *[Setting(f"ALERT_URLS_{team}", "", _optional,
              f"Where the {team.lower()} team's alerts go: Apprise URLs separated by spaces or commas, e.g. "
              "mailtos://user:pass@smtp.office365.com?to=finance@acme.example&mode=starttls slack://… "
              "workflows://… (empty: no alerts, the Dagster UI still lists everything).", secret=True)
      for team in TEAMS],
    Setting("DAGSTER_UI_URL", "http://127.0.0.1:3000", _url,
            "The Dagster UI address people open from an alert (every alert links to its page there)."),
    Setting("COMPANY_TIMEZONE", "Europe/London", _timezone,
            "The company's time zone (IANA name, e.g. Europe/London): the month and day an order belongs to "
            "(month-end partitions, reconciliation), every schedule's cron and the digest hour are in it."),
    Setting("COMPANY_CURRENCY", "GBP", lambda name, value: value if len(value) == 3 and value.isalpha() and value.isupper()
            else _choice("an ISO 4217 code in capitals, e.g. GBP, EUR, USD")(name, value),
            "The company's own currency (ISO 4217, e.g. GBP): month-end totals across orders are in it, each "
            "foreign-currency order converted at the ERP's rate for the order."),
    Setting("ALERT_DIGEST_HOUR", "7", lambda name, value: _hour(name, value),
            "Hour of the daily digest of open exceptions, 0-23, in company time (COMPANY_TIMEZONE)."),
    Setting("ALERT_SMTP_HOST", "", _optional, "DEPRECATED (use ALERT_URLS_<TEAM>): SMTP server, plain SMTP."),
    Setting("ALERT_SMTP_PORT", "25", _positive_int, "DEPRECATED (use ALERT_URLS_<TEAM>): SMTP port."),
    Setting("ALERT_SMTP_FROM", "sparklayer-erp@localhost", _text,
            "DEPRECATED (use ALERT_URLS_<TEAM>): sender address of alert e-mails."),
    Setting("ALERT_SMTP_USERNAME", "", _optional, "DEPRECATED (use ALERT_URLS_<TEAM>): SMTP login."),
    Setting("ALERT_SMTP_PASSWORD", "", _optional, "DEPRECATED (use ALERT_URLS_<TEAM>): SMTP password.",
            secret=True),
    *[Setting(f"ALERT_EMAIL_{team}", "", _optional,
              f"DEPRECATED (use ALERT_URLS_{team}): comma-separated e-mail addresses of the {team.lower()} team.")
      for team in TEAMS],
    *[Setting(f"ALERT_WEBHOOK_{team}", "", _optional,
              f"DEPRECATED (use ALERT_URLS_{team}): incoming-webhook URL of the {team.lower()} team.", secret=True)
      for team in TEAMS],
]}


def read(env: str, environ: Mapping[str, str] | None = None) -> object:
    """Read and check one setting now (for code outside Dagster, e.g. the CLI)."""
    setting = SETTINGS[env]
    source = os.environ if environ is None else environ
    raw = source.get(env)
    if raw is None or raw == "":
        if setting.default is None:
            raise SettingError(f"{env} is not set: {setting.help}")
        raw = setting.default
    return setting.check(env, raw) if raw != "" else raw


def switch_on(env: str, environ: Mapping[str, str] | None = None) -> bool:
    """Whether the on/off setting ``env`` says on (any case, spaces ignored; malformed: SettingError)."""
    raw = (os.environ if environ is None else environ).get(env, "").strip().lower()
    return read(env, {env: raw} if raw else {}) in ("on", "1", "true", "yes")


def check(env: str, value: object) -> object:
    """Check a value that Dagster resolved from ``env`` (resources call this)."""
    return SETTINGS[env].check(env, str(value))


def data_dir() -> Path:
    path = Path(str(read("SPARKLAYER_ERP_DATA_DIR")))
    path.mkdir(parents=True, exist_ok=True)
    return path


def ledger_url() -> str:
    url = str(read("LEDGER_DATABASE_URL"))
    return url or f"sqlite:///{data_dir() / 'ledger.sqlite'}"
