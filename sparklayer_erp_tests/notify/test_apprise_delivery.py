"""Alerts through Apprise to real loopback receivers: an SMTP server that requires STARTTLS and a login (aiosmtpd,
with a self-signed certificate made here by ``openssl``), and a webhook endpoint; the links in the messages; the
translation of the deprecated variables; secrets kept out of the logs."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import socket
import subprocess
from email import message_from_bytes
from email.policy import default as email_policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from sparklayer_erp.domain.alerting import AlertItem, digest_alerts, new_exception_alerts, sync_failure_alert
from sparklayer_erp.notify import delivery
from sparklayer_erp.notify.delivery import AlertRouting, deliver, routing_from, split_urls
from sparklayer_erp.resources import AlertsResource
from sparklayer_erp_tests.sinks import smtp_sink, webhook_receiver

NOW = dt.datetime(2026, 11, 26, 12, tzinfo=dt.UTC)
UI = "http://127.0.0.1:3999"
PASSWORD = "pw-Sup3r-Secret-77"
TOKEN = "tok3nXYZsecretABC123"


def order_item(i: int = 7) -> AlertItem:
    return AlertItem(i, "price_mismatch", "finance", "order", "purchase-77", "Price differs from the ERP.",
                     "Check the price list.", NOW - dt.timedelta(hours=2), 1, label="#9001")


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[dict] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
        self.messages.append({"rcpt": list(envelope.rcpt_tos), "tls": session.ssl is not None,
                              "authenticated": session.authenticated,
                              "mail": message_from_bytes(envelope.original_content, policy=email_policy)})
        return "250 OK"


def _login(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = auth_data.login == b"alerts" and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def tls_smtp(tmp_path: Path, monkeypatch):
    """An SMTP server on loopback that refuses mail and login before STARTTLS. Its self-signed certificate
    (for IP 127.0.0.1) is made the trusted root, so Apprise checks the certificate as against a real server."""
    if not shutil.which("openssl"):
        pytest.skip("needs the openssl binary")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # what ssl.create_default_context() trusts (Apprise uses it)
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port(), tls_context=context,
                            require_starttls=True, authenticator=_login, auth_required=True,
                            auth_require_tls=True)
    controller.start()
    try:
        yield controller.port, inbox
    finally:
        controller.stop()


def test_an_alert_reaches_a_starttls_mail_server_and_a_webhook_naming_the_order_with_a_link(tls_smtp):
    port, inbox = tls_smtp
    with webhook_receiver() as hook:
        urls = (f"mailtos://alerts:{PASSWORD}@127.0.0.1:{port}?mode=starttls&from=erp@acme.example"
                f"&to=finance@acme.example,controller@acme.example, "
                f"json://127.0.0.1:{hook.server_address[1]}/chat")
        routing = AlertRouting(urls={"finance": split_urls(urls)}, ui_url=UI)
        counts = deliver(routing, new_exception_alerts([order_item()], NOW, routing.ui_url))
        posted = hook.received
    assert counts == {"email": 1, "webhook": 1, "failed": 0, "no_channel": 0, "dry_run": 0}
    assert sorted(m["rcpt"][0] for m in inbox.messages) == ["controller@acme.example", "finance@acme.example"]
    assert all(m["tls"] and m["authenticated"] for m in inbox.messages)  # over TLS, logged in (as alerts/PASSWORD)
    mail = inbox.messages[0]["mail"]
    assert mail["Subject"] == "[sparklayer-erp] 1 new problem needs finance: order #9001 (purchase-77)"
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert "order #9001 (purchase-77)" in body and "exception #7" in body and "What to do:" in body
    assert f"{UI}/assets/integration_exceptions" in body
    ((chat,),) = [[p for p in posted if p["path"] == "/chat"]]
    assert chat["json"]["title"] == mail["Subject"]  # Apprise's JSON body: title + message
    assert "order #9001" in chat["json"]["message"]
    assert chat["json"]["message"].endswith(f"Open the exceptions in Dagster: {UI}/assets/integration_exceptions")


def test_a_mail_server_whose_certificate_is_not_trusted_gets_nothing(tls_smtp, monkeypatch, tmp_path):
    port, inbox = tls_smtp
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-ca.pem"))
    routing = AlertRouting(urls={"finance": (
        f"mailtos://alerts:{PASSWORD}@127.0.0.1:{port}?mode=starttls&from=erp@acme.example&to=f@acme.example",)})
    assert deliver(routing, new_exception_alerts([order_item()], NOW))["failed"] == 1
    assert inbox.messages == []


def test_the_sync_failure_links_to_its_run_and_the_digest_to_the_exceptions():
    with webhook_receiver() as hook:
        url = f"alertjson://127.0.0.1:{hook.server_address[1]}/ops"
        routing = AlertRouting(urls={"operations": (url,), "finance": (url,)}, ui_url=UI + "/")
        deliver(routing, [sync_failure_alert("stock_push_job", "the ERP did not answer", routing.ui_url, "abc-123"),
                          *digest_alerts([order_item()], NOW, routing.ui_url)])
    failure, digest = (p["json"] for p in hook.received)
    assert failure["link"] == f"{UI}/runs/abc-123" and failure["text"].endswith(f"{UI}/runs/abc-123")
    assert failure["category"] == "sync_failure" and "stock_push_job" in failure["subject"]
    assert digest["link"] == f"{UI}/assets/integration_exceptions" and "order #9001" in digest["text"]


def test_urls_split_on_spaces_and_commas_but_not_inside_one_url():
    assert split_urls(" mailtos://u:p@h?to=a@x,b@x ,slack://T/B/C\n workflows://h/w/s,, ") == (
        "mailtos://u:p@h?to=a@x,b@x", "slack://T/B/C", "workflows://h/w/s")
    assert split_urls("") == ()


def test_the_old_variables_are_translated_and_each_warns_once(monkeypatch, caplog):
    monkeypatch.setattr(delivery, "_warned", set())
    legacy = {"ALERT_SMTP_HOST": "mail.acme.example", "ALERT_SMTP_PORT": "2525", "ALERT_SMTP_FROM": "erp@acme.example",
              "ALERT_SMTP_USERNAME": "alerts@acme.example", "ALERT_SMTP_PASSWORD": PASSWORD,
              "ALERT_EMAIL_FINANCE": "a@acme.example, b@acme.example", "ALERT_EMAIL_OPERATIONS": "",
              "ALERT_WEBHOOK_OPERATIONS": f"https://chat.acme.example/hooks/{TOKEN}?x=1",
              "ALERT_WEBHOOK_ECOMMERCE": "http://127.0.0.1:8099/hook"}
    with caplog.at_level(logging.WARNING, logger="sparklayer_erp.notify.delivery"):
        routing = routing_from({"finance": "slack://T1/B1/C1"}, legacy, UI)
        assert routing_from({}, legacy, UI).urls["operations"] == routing.urls["operations"]  # (no second warning)
    assert routing.urls == {
        "finance": ("slack://T1/B1/C1",
                    f"mailto://alerts%40acme.example:{PASSWORD}@mail.acme.example:2525?smtp=mail.acme.example"
                    "&from=erp@acme.example&to=a@acme.example,b@acme.example"),
        "operations": (f"alertjsons://chat.acme.example/hooks/{TOKEN}?x=1",),
        "ecommerce": ("alertjson://127.0.0.1:8099/hook",),
    }
    warned = [r.getMessage() for r in caplog.records if "deprecated" in r.getMessage()]
    assert sorted(m.split()[0] for m in warned) == sorted(
        ["ALERT_SMTP_HOST", "ALERT_SMTP_PORT", "ALERT_SMTP_FROM", "ALERT_SMTP_USERNAME", "ALERT_SMTP_PASSWORD",
         "ALERT_EMAIL_FINANCE", "ALERT_WEBHOOK_OPERATIONS", "ALERT_WEBHOOK_ECOMMERCE"])
    assert any("ALERT_WEBHOOK_OPERATIONS" in m and "ALERT_URLS_OPERATIONS" in m for m in warned)
    assert any("ALERT_SMTP_HOST" in m and "mailtos://" in m for m in warned)
    assert PASSWORD not in caplog.text and TOKEN not in caplog.text


def test_the_resource_reads_the_new_urls_the_ui_and_the_digest_hour():
    resource = AlertsResource(urls_finance="json://127.0.0.1:1/a jsons://127.0.0.1:2/b", urls_ecommerce="",
                              ui_url="https://dagster.acme.example/", digest_hour_utc="18")
    routing = resource.routing()
    assert routing.urls == {"finance": ("json://127.0.0.1:1/a", "jsons://127.0.0.1:2/b")}
    assert routing.ui_url == "https://dagster.acme.example" and resource.digest_hour() == 18
    assert AlertsResource().routing().ui_url == "http://127.0.0.1:3000" and AlertsResource().digest_hour() == 7


def test_secrets_never_reach_the_logs_even_when_sending_fails(monkeypatch, caplog):
    with smtp_sink() as plain:  # speaks no STARTTLS: the secure send fails after connecting
        urls = (f"mailtos://alerts:{PASSWORD}@127.0.0.1:{plain.server_address[1]}?mode=starttls&to=f@acme.example",
                f"alertjson://127.0.0.1:9/hooks/{TOKEN}",  # nobody listens
                f"json://user:{PASSWORD}@127.0.0.1:9/hooks/{TOKEN}",  # Apprise logs the address it posts to
                f"nosuchservice://user:{PASSWORD}@h/{TOKEN}")  # not a URL Apprise knows
        with caplog.at_level(logging.DEBUG):
            counts = deliver(AlertRouting(urls={"finance": urls}), new_exception_alerts([order_item()], NOW))
    assert counts["failed"] == 4
    assert "alert to finance" in caplog.text  # the failures are logged ...
    assert PASSWORD not in caplog.text and TOKEN not in caplog.text  # ... without what they carry
