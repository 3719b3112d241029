"""Deliver alerts: e-mail over SMTP and a Slack/Teams-compatible JSON webhook, per owner team."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage

import httpx

from sparklayer_erp.domain.alerting import Alert

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertRouting:
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "sparklayer-erp@localhost"
    smtp_username: str = ""
    smtp_password: str = ""
    emails: dict[str, tuple[str, ...]] = field(default_factory=dict)  # team -> addresses
    webhooks: dict[str, str] = field(default_factory=dict)  # team -> URL

    def channels_for(self, team: str) -> list[str]:
        out = []
        if self.smtp_host and self.emails.get(team):
            out.append("email")
        if self.webhooks.get(team):
            out.append("webhook")
        return out


def send_email(routing: AlertRouting, alert: Alert) -> None:
    msg = EmailMessage()
    msg["Subject"] = alert.subject
    msg["From"] = routing.smtp_from
    msg["To"] = ", ".join(routing.emails[alert.team])
    msg.set_content(alert.text)
    with smtplib.SMTP(routing.smtp_host, routing.smtp_port, timeout=15) as smtp:
        if routing.smtp_username:
            smtp.login(routing.smtp_username, routing.smtp_password)
        smtp.send_message(msg)


def webhook_payload(alert: Alert) -> dict:
    """``text`` is what Slack and Teams incoming webhooks both display; the rest is for generic receivers."""
    return {"text": alert.text, "team": alert.team, "category": alert.category, "subject": alert.subject,
            "items": list(alert.lines), "exception_ids": list(alert.exception_ids)}


def post_webhook(url: str, alert: Alert) -> None:
    response = httpx.post(url, json=webhook_payload(alert), timeout=15)
    response.raise_for_status()


def deliver(routing: AlertRouting, alerts: list[Alert]) -> dict[str, int]:
    """Send every alert on every channel its team has; a failing channel is logged, not fatal."""
    sent = {"email": 0, "webhook": 0, "failed": 0, "no_channel": 0}
    for alert in alerts:
        channels = routing.channels_for(alert.team)
        if not channels:
            sent["no_channel"] += 1
        for channel in channels:
            try:
                if channel == "email":
                    send_email(routing, alert)
                else:
                    post_webhook(routing.webhooks[alert.team], alert)
                sent[channel] += 1
            except (OSError, smtplib.SMTPException, httpx.HTTPError) as exc:
                # never log the webhook URL: it carries the channel's token
                log.warning("alert to %s by %s failed: %s", alert.team, channel, type(exc).__name__)
                sent["failed"] += 1
    return sent
