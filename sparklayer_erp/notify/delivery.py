"""Deliver alerts through Apprise: one list of Apprise URLs per owner team (``ALERT_URLS_<TEAM>``).

Anything Apprise speaks works: e-mail with TLS (``mailtos://…?mode=starttls``), Slack (``slack://``), Teams
Workflows (``workflows://``), plain JSON (``json://``/``jsons://``) and 100+ more. One schema is ours:
``alertjson://`` / ``alertjsons://`` POST the JSON body older versions posted (``text``, ``team``, ``category``,
``subject``, ``items``, ``exception_ids``, plus ``link``) to the same address over http / https, for receivers
built for it.

The old variables (``ALERT_SMTP_*``, ``ALERT_EMAIL_<TEAM>``, ``ALERT_WEBHOOK_<TEAM>``) still work for one
release: ``routing_from`` translates them (plain SMTP → ``mailto://``, a webhook → ``alertjson(s)://`` so its
receiver gets exactly what it got before) and logs one deprecation warning per variable in use.

The URLs carry credentials: nothing here logs one, and a filter on Apprise's logger masks them in its lines.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import apprise
import httpx
from apprise.decorators import notify as apprise_plugin

from sparklayer_erp import settings
from sparklayer_erp.domain.alerting import Alert

log = logging.getLogger(__name__)

TEAMS = ("finance", "sales_operations", "operations", "ecommerce")
LEGACY_JSON_SCHEMAS = {"alertjson": "http", "alertjsons": "https"}  # our schema -> the scheme it posts over
EMAIL_SCHEMAS = ("mailto", "mailtos")
_ASSET = apprise.AppriseAsset(app_id="sparklayer-erp", app_desc="SparkLayer–ERP integration alerts")
# a list separator is a run of spaces/commas followed by the next URL's schema: commas inside one URL
# (?to=a@x,b@x) stay where they are
_SPLIT = re.compile(r"[\s,]+(?=[A-Za-z][A-Za-z0-9+.-]*://)")


def split_urls(value: str) -> tuple[str, ...]:
    """``ALERT_URLS_<TEAM>``: Apprise URLs separated by spaces or commas."""
    return tuple(u.strip(" ,\t\r\n") for u in _SPLIT.split(value.strip()) if u.strip(" ,\t\r\n"))


def schema_of(url: str) -> str:
    return url.split("://", 1)[0].lower() if "://" in url else ""


def channel_of(url: str) -> str:
    """How the counts name a channel: ``email`` for mailto(s)://, ``webhook`` for every chat/webhook service."""
    return "email" if schema_of(url) in EMAIL_SCHEMAS else "webhook"


@dataclass(frozen=True)
class AlertRouting:
    """Each team's Apprise URLs and the Dagster UI root the alerts link to."""

    urls: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # team -> Apprise URLs
    ui_url: str = ""

    def channels_for(self, team: str) -> tuple[str, ...]:
        return tuple(self.urls.get(team, ()))


# --- secrets out of the logs ----------------------------------------------------------------------------------


class _MaskSecrets(logging.Filter):
    """Masks every configured alert URL and its credential-looking parts (password, long path segments and
    query values: tokens) in Apprise's log lines. Apprise already hides passwords in the URLs it prints; this
    also covers the lines where it quotes what it was given (an unsupported URL, an invalid token)."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def remember(self, url: str) -> None:
        parts = urlsplit(url)
        found = {url, url.split("://", 1)[-1]}
        if parts.password:
            found |= {parts.password, unquote(parts.password)}
        found |= {seg for seg in parts.path.split("/") if len(seg) >= 8 and "@" not in seg}
        found |= {v for kv in parts.query.split("&") for v in kv.split("=", 1)[1:] if len(v) >= 8 and "@" not in v}
        self.secrets |= {s for s in found if len(s) >= 4}

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        text = record.getMessage()
        masked = text
        for secret in sorted(self.secrets, key=len, reverse=True):
            masked = masked.replace(secret, "****")
        if masked != text:
            record.msg, record.args = masked, None
        return True


_MASK = _MaskSecrets()
logging.getLogger("apprise").addFilter(_MASK)


# --- our JSON schema: the body older versions posted ---------------------------------------------------------


def webhook_payload(alert: Alert) -> dict:
    """``text`` is what Slack-compatible receivers display; the rest is for receivers that read fields."""
    return {"text": alert.text, "team": alert.team, "category": alert.category, "subject": alert.subject,
            "items": list(alert.lines), "exception_ids": list(alert.exception_ids), "link": alert.link}


def _post_alert_json(body: str, title: str, notify_type: str, meta: dict, *args, **kwargs) -> bool:
    """Apprise plugin for alertjson(s)://: POST ``body`` (already our JSON) to the http(s) address."""
    schema = str(meta["schema"]).lower()
    target = LEGACY_JSON_SCHEMAS[schema] + str(meta["url"])[len(schema):]
    try:
        response = httpx.post(target, content=body.encode(), timeout=15, verify=bool(meta.get("verify", True)),
                              headers={"Content-Type": "application/json"})
        response.raise_for_status()
    except httpx.HTTPError as exc:  # never the URL: it carries the channel's token
        log.warning("alert JSON webhook at %s failed: %s", meta.get("host"), type(exc).__name__)
        return False
    return True


for _schema in LEGACY_JSON_SCHEMAS:
    apprise_plugin(on=_schema, name=f"sparklayer-erp alert JSON ({_schema})")(_post_alert_json)


# --- sending --------------------------------------------------------------------------------------------------


def send(url: str, alert: Alert, attachments: Sequence[str | Path] = ()) -> bool:
    """One alert to one Apprise URL; False when the URL is not one Apprise knows or the send failed.
    ``attachments``: files sent with it where the service takes files (e-mail does; a chat without file
    support gets the text alone; our alertjson body never carries files)."""
    _MASK.remember(url)
    service = apprise.Apprise(asset=_ASSET)
    if not service.add(url):
        log.warning("alert to %s: not an Apprise URL it knows (schema %r)", alert.team, schema_of(url))
        return False
    if schema_of(url) in LEGACY_JSON_SCHEMAS:
        return bool(service.notify(body=json.dumps(webhook_payload(alert)), title=""))
    attach = [str(p) for p in attachments] or None
    return bool(service.notify(body=alert.body, title=alert.subject, body_format=apprise.NotifyFormat.TEXT,
                               attach=attach))


def deliver(routing: AlertRouting, alerts: Iterable[Alert],
            attachments: Sequence[str | Path] = ()) -> dict[str, int]:
    """Send every alert to every URL of its team, with ``attachments`` (see ``send``); a failing channel is
    logged (never its URL), not fatal.

    Under ``DRY_RUN=on`` nothing is sent: each message is recorded with the dry run's other planned writes
    (system ``alerts``; the channel kind and team, never the URL) and counted as ``dry_run``. A dry run works
    on a scratch copy of the ledger, so its exceptions are not the real ones, and people would be told about
    them again once the integration runs for real."""
    sent = {"email": 0, "webhook": 0, "failed": 0, "no_channel": 0, "dry_run": 0}
    planned = _dry_run_recorder()
    for alert in alerts:
        urls = routing.channels_for(alert.team)
        if not urls:
            sent["no_channel"] += 1
        for index, url in enumerate(urls, 1):
            channel = channel_of(url)
            if planned is not None:
                planned.record("alerts", "alert", f"{channel} to {alert.team}", alert.subject,
                               {"subject": alert.subject, "body": alert.body},
                               f"{alert.category}, {len(alert.lines)} line(s)")
                sent["dry_run"] += 1
            elif send(url, alert, attachments):
                sent[channel] += 1
            else:
                log.warning("alert to %s by %s (URL %d of %d, schema %s) failed", alert.team, channel, index,
                            len(urls), schema_of(url))
                sent["failed"] += 1
    return sent


def _dry_run_recorder():
    """The dry run's recorder when ``DRY_RUN`` is on, else None (imported here: only a dry run needs it)."""
    from sparklayer_erp.plumbing import dry_run

    return dry_run.recorder() if dry_run.enabled() else None


# --- the old variables, for one release -----------------------------------------------------------------------

SMTP_VARIABLES = ("ALERT_SMTP_HOST", "ALERT_SMTP_PORT", "ALERT_SMTP_FROM", "ALERT_SMTP_USERNAME",
                  "ALERT_SMTP_PASSWORD")
_MAILTOS_EXAMPLE = "mailtos://user:pass@smtp.office365.com?to=finance@acme.example&mode=starttls"
_warned: set[str] = set()


def replacement_for(variable: str) -> str:
    """What replaces an old variable (names and forms only: never a value)."""
    if variable in SMTP_VARIABLES:
        return (f"put a mailtos:// URL (server, login, sender and recipients in one) in ALERT_URLS_<TEAM>, "
                f"e.g. {_MAILTOS_EXAMPLE}")
    team = variable.split("_", 2)[2]
    if variable.startswith("ALERT_EMAIL_"):
        return f"put the addresses in the to= of a mailtos:// URL in ALERT_URLS_{team}, e.g. {_MAILTOS_EXAMPLE}"
    return (f"put an Apprise URL in ALERT_URLS_{team}: slack://…, workflows://… (Teams), json(s)://…, or "
            f"alertjsons://<host>/<path> for the same JSON body as before")


def warn_deprecated(variable: str) -> None:
    """ONE warning per old variable per process, naming it and its replacement."""
    if variable not in _warned:
        _warned.add(variable)
        log.warning("%s is deprecated and goes away in the next release: %s", variable, replacement_for(variable))


def _in_use(variable: str, value: str) -> bool:
    return bool(value) and value != (settings.SETTINGS[variable].default or "")


def legacy_email_url(host: str, port: int, sender: str, username: str, password: str,
                     addresses: Iterable[str]) -> str:
    """Plain SMTP at ``host:port`` (no TLS, login only with a username), as an Apprise ``mailto://`` URL."""
    auth = f"{quote(username, safe='')}:{quote(password, safe='')}@" if username else ""
    to = ",".join(quote(a, safe="@") for a in addresses)
    return f"mailto://{auth}{host}:{port}?smtp={quote(host, safe='')}&from={quote(sender, safe='@')}&to={to}"


def legacy_webhook_url(url: str) -> str:
    """A webhook address as our alertjson(s):// URL: its receiver gets exactly the body it got before."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        raise settings.SettingError(f"an ALERT_WEBHOOK_<TEAM> value must be an http(s) URL (scheme {scheme!r})")
    return ("alertjsons://" if scheme.lower() == "https" else "alertjson://") + rest


def routing_from(urls: Mapping[str, str], legacy: Mapping[str, str], ui_url: str = "") -> AlertRouting:
    """Each team's ``ALERT_URLS_<TEAM>`` plus what the old variables in ``legacy`` (old name -> value) translate
    to. Old variables in use log one deprecation warning each."""
    for variable, value in legacy.items():
        if _in_use(variable, value):
            warn_deprecated(variable)
    host = legacy.get("ALERT_SMTP_HOST", "")
    out: dict[str, tuple[str, ...]] = {}
    for team in TEAMS:
        found = list(split_urls(urls.get(team, "")))
        addresses = [a.strip() for a in legacy.get(f"ALERT_EMAIL_{team.upper()}", "").split(",") if a.strip()]
        if host and addresses:
            port = int(settings.check("ALERT_SMTP_PORT", legacy.get("ALERT_SMTP_PORT") or "25"))  # type: ignore
            found.append(legacy_email_url(host, port, legacy.get("ALERT_SMTP_FROM") or "sparklayer-erp@localhost",
                                          legacy.get("ALERT_SMTP_USERNAME", ""),
                                          legacy.get("ALERT_SMTP_PASSWORD", ""), addresses))
        webhook = legacy.get(f"ALERT_WEBHOOK_{team.upper()}", "")
        if webhook:
            found.append(legacy_webhook_url(webhook))
        if found:
            out[team] = tuple(found)
    return AlertRouting(urls=out, ui_url=ui_url)
