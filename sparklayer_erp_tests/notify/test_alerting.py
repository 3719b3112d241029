"""Alert rules (pure) and delivery to a real SMTP sink and webhook receiver on loopback."""

import datetime as dt

from sparklayer_erp.domain.alerting import (
    MAX_ITEMS_PER_MESSAGE,
    AlertItem,
    digest_alerts,
    digest_due,
    new_exception_alerts,
    sync_failure_alert,
)
from sparklayer_erp.notify.delivery import AlertRouting, deliver, routing_from
from sparklayer_erp_tests.sinks import smtp_sink, webhook_receiver

NOW = dt.datetime(2026, 11, 26, 12, tzinfo=dt.UTC)


def item(i: int, team: str = "finance", *, alerted: bool = False, status: str = "open") -> AlertItem:
    return AlertItem(i, "price_mismatch", team, "order", f"P-{i}", "Price differs from the ERP.",
                     "Check the price list.", NOW - dt.timedelta(hours=2), 1, status, alerted)


def test_new_exceptions_go_out_once_as_one_message_per_team():
    alerts = new_exception_alerts([item(1), item(2), item(3, "operations"), item(4, alerted=True)], NOW)
    assert [(a.team, a.exception_ids) for a in alerts] == [("finance", (1, 2)), ("operations", (3,))]
    assert "2 new problems need finance" in alerts[0].subject


def test_accepted_exceptions_are_never_announced_nor_digested():
    accepted = item(9, status="accepted")
    assert new_exception_alerts([accepted], NOW) == []
    assert digest_alerts([accepted], NOW) == []


def test_a_flood_is_capped_in_one_message():
    (alert,) = new_exception_alerts([item(i) for i in range(200)], NOW)
    assert len(alert.lines) == MAX_ITEMS_PER_MESSAGE + 1
    assert "150 more" in alert.lines[-1]
    assert len(alert.exception_ids) == 200


def test_digest_is_due_once_per_period():
    assert digest_due(None, NOW, dt.timedelta(days=1))
    assert not digest_due(NOW - dt.timedelta(hours=3), NOW, dt.timedelta(days=1))
    assert digest_due(NOW - dt.timedelta(days=1), NOW, dt.timedelta(days=1))


def test_delivery_reaches_smtp_and_webhook_over_real_sockets():
    with smtp_sink() as smtp, webhook_receiver() as hook:
        routing = routing_from({}, {  # the deprecated variables, translated to Apprise URLs
            "ALERT_SMTP_HOST": "127.0.0.1", "ALERT_SMTP_PORT": str(smtp.server_address[1]),
            "ALERT_EMAIL_FINANCE": "controller@example.com",
            "ALERT_WEBHOOK_FINANCE": f"http://127.0.0.1:{hook.server_address[1]}/hook",
        })
        counts = deliver(routing, new_exception_alerts([item(1)], NOW) + [sync_failure_alert("stock", "timeout")])
    assert counts == {"email": 1, "webhook": 1, "failed": 0, "no_channel": 1, "dry_run": 0}
    (mail,) = smtp.messages
    assert mail["rcpt"] == ["controller@example.com"] and "P-1" in mail["data"]
    (posted,) = hook.received
    assert posted["path"] == "/hook" and "P-1" in posted["json"]["text"]
    assert posted["json"]["exception_ids"] == [1]


def test_a_dead_channel_is_counted_not_fatal():
    routing = AlertRouting(urls={"finance": ("alertjson://127.0.0.1:9/unreachable",)})
    assert deliver(routing, new_exception_alerts([item(1)], NOW))["failed"] == 1


def test_a_dry_run_sends_no_alert_and_lists_each_one_with_its_planned_writes(tmp_path, monkeypatch):
    from sparklayer_erp.plumbing import dry_run

    monkeypatch.setenv("DRY_RUN", "on")
    monkeypatch.setenv("SPARKLAYER_ERP_DATA_DIR", str(tmp_path))
    with smtp_sink() as smtp, webhook_receiver() as hook:
        routing = routing_from({}, {
            "ALERT_SMTP_HOST": "127.0.0.1", "ALERT_SMTP_PORT": str(smtp.server_address[1]),
            "ALERT_EMAIL_FINANCE": "controller@example.com",
            "ALERT_WEBHOOK_FINANCE": f"http://127.0.0.1:{hook.server_address[1]}/hook",
        })
        counts = deliver(routing, new_exception_alerts([item(1)], NOW))
    assert smtp.messages == [] and hook.received == []
    assert counts == {"email": 0, "webhook": 0, "failed": 0, "no_channel": 0, "dry_run": 2}
    planned = dry_run.DryRunRecorder.load(tmp_path / dry_run.JOURNAL_NAME).writes
    assert sorted(w.method for w in planned) == ["email to finance", "webhook to finance"]
    assert {w.system for w in planned} == {"alerts"} and "controller@example.com" not in str(planned)
