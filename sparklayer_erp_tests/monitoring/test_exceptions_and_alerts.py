"""Exceptions reach people: the Dagster view, alerts over real SMTP and webhook sockets (once per exception),
the daily digest, SparkLayer's sync log, a person accepting an exception, and sync-failure alerts.

Driven through the Dagster assets (``dg.materialize``) on a private ERP and shop, like the schedules run them.
"""

from __future__ import annotations

import datetime as dt
import json
from email import message_from_string
from email.policy import default as email_policy

import dagster as dg
import pytest

from sparklayer_erp.demo import demo_data
from sparklayer_erp.domain.exception_kinds import Entity, problem
from sparklayer_erp.ledger import Ledger
from sparklayer_erp.monitoring import watch as flow
from sparklayer_erp.monitoring.accept import accept_exception_job
from sparklayer_erp.monitoring.assets import drift_monitor, integration_exceptions
from sparklayer_erp.monitoring.sensor import sync_failure_alerts
from sparklayer_erp.notify.delivery import AlertRouting
from sparklayer_erp.orders.followup import OrderFollowup
from sparklayer_erp.orders.sync import OrderSync
from sparklayer_erp.resources import AlertsResource, LedgerResource
from sparklayer_erp.sparklayer import contract
from sparklayer_erp_tests.erp import warehouse
from sparklayer_erp_tests.monitoring.conftest import resources_for
from sparklayer_erp_tests.sinks import smtp_sink, webhook_receiver

pytestmark = pytest.mark.filterwarnings("ignore::dagster.PreviewWarning")

COLA = [("SKU-COLA-L", 24)]
NO_GRACE = {"ops": {"drift_monitor": {"config": {"status_grace_minutes": 0, "payment_grace_minutes": 0}}}}
SYNCS = ("orders", "stock", "prices", "customers", "products")
UI = "http://127.0.0.1:3999"
EXCEPTIONS_PAGE = f"{UI}/assets/integration_exceptions"


@pytest.fixture(scope="module")
def sinks():
    with smtp_sink() as smtp, webhook_receiver() as hook:
        yield smtp, hook


@pytest.fixture
def own_sinks():
    """Mail and webhook sinks of a test's own: the alert scenario checks everything the module's sinks got,
    and tests run in random order."""
    with smtp_sink() as smtp, webhook_receiver() as hook:
        yield smtp, hook


def _mailto(smtp, to: str) -> str:
    return f"mailto://127.0.0.1:{smtp.server_address[1]}?smtp=127.0.0.1&from=sparklayer-erp@localhost&to={to}"


def _alerts(smtp, hook) -> AlertsResource:
    url = f"alertjson://127.0.0.1:{hook.server_address[1]}"  # the JSON body with text, ids, category, link
    return AlertsResource(urls_finance=f"{_mailto(smtp, 'controller@example.com')} {url}/finance",
                          urls_operations=_mailto(smtp, "ops@example.com,wh@example.com"),
                          urls_sales_operations=f"{url}/sales", ui_url=UI)


def _run(assets, resources, run_config=None) -> dict:
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(assets, resources=resources, instance=instance, run_config=run_config)
    assert result.success
    return {e.asset_key.path[-1]: e.materialization.metadata for e in result.get_asset_materialization_events()}


def _mails(smtp) -> list:
    return [message_from_string(m["data"], policy=email_policy) for m in smtp.messages]


def _text(mail) -> str:
    return mail.get_body(preferencelist=("plain",)).get_content()


def test_new_exceptions_alert_their_team_once_and_a_person_can_accept_one(
        shop, ledger, erp, client, wh, sandbox, erp_server, ledger_url, sinks, tmp_path):
    smtp, hook = sinks
    for name in SYNCS:
        ledger.record_sync_success(name)
    buyer = shop.demo("C1006")
    card = shop.place(buyer, COLA, "platform_upfront")
    shipped = shop.place(buyer, COLA, "invoice")
    newcomer = demo_data.UNLINKED_SPARKLAYER_CUSTOMER["id"]
    held = sandbox.admin.place_order(newcomer, COLA, "platform_upfront",
                                     unit_price_overrides={"SKU-COLA-L": "0.70"})["purchase_identifiers"]["sparklayer"]
    purchases = [client.get_purchase("sparklayer", p) for p in (card, shipped, held)]
    OrderSync(ledger, erp).run(purchases)
    warehouse.post_invoices(wh, ledger.get_order_link(card).erp_order_id)  # paid by card, unpaid in the ERP
    warehouse.ship_order(wh, ledger.get_order_link(shipped).erp_order_id, tracking="TRK-ALERT")
    resources = resources_for(ledger_url, sandbox, erp_server, tmp_path / "data", alerts=_alerts(smtp, hook))

    meta = _run([drift_monitor, integration_exceptions], resources, NO_GRACE)

    open_rows = ledger.open_exceptions()
    by_team = {team: sorted(r.id for r in open_rows if r.owner_team == team)
               for team in ("finance", "operations", "sales_operations")}
    assert {(r.kind, r.entity_id) for r in open_rows} >= {
        ("paid_in_shop_unpaid_in_erp", card), ("status_mismatch", shipped), ("missing_customer_link", held),
        ("order_stuck", held), ("customer_without_account_code", newcomer)}
    mails = {m["To"]: m for m in _mails(smtp)}
    # one message per team, each of the team's addresses getting its own copy of it (Apprise sends per recipient)
    assert len(smtp.messages) == 3 and set(mails) == {"controller@example.com", "ops@example.com", "wh@example.com"}
    assert (mails["ops@example.com"]["Subject"], _text(mails["ops@example.com"])) == (
        mails["wh@example.com"]["Subject"], _text(mails["wh@example.com"]))
    finance_mail = _text(mails["controller@example.com"])
    assert card in finance_mail and "What to do:" in finance_mail
    assert finance_mail.rstrip().endswith(EXCEPTIONS_PAGE)  # where a person acts
    assert f"{len(by_team['finance'])} new" in mails["controller@example.com"]["Subject"]
    assert shipped in _text(mails["ops@example.com"])
    posts = {p["path"]: p["json"] for p in hook.received}
    assert set(posts) == {"/finance", "/sales"}
    assert sorted(posts["/finance"]["exception_ids"]) == by_team["finance"]
    assert sorted(posts["/sales"]["exception_ids"]) == by_team["sales_operations"]
    assert posts["/sales"]["text"].startswith("[sparklayer-erp]")  # what Slack and Teams display
    assert posts["/sales"]["link"] == posts["/finance"]["link"] == EXCEPTIONS_PAGE
    assert f"customer {newcomer}" in posts["/sales"]["text"]  # names the thing
    view = meta["integration_exceptions"]
    assert view["open"].value == len(open_rows)
    assert view["open_finance"].value == len(by_team["finance"])
    table = view["by_owner_and_kind"].value
    assert {(r.data["owner"], r.data["kind"]) for r in table.records} >= {
        ("Finance", "paid_in_shop_unpaid_in_erp"), ("Operations", "status_mismatch")}
    assert "What to do" in view["open_exceptions"].value
    assert meta["drift_monitor"]["newly_opened"].value >= 4
    log = sandbox.admin.sync_log(contract.SYNC_LOG_INTEGRATION, flow.SYNC_LOG_DATA_TYPE)
    assert len(log["errors"]) == len(open_rows)
    assert any(e["message"].startswith("[orders] [Finance] Paid by card") for e in log["errors"])

    # the next evaluation finds the same problems: no second alert, no second sync-log write
    sent_before, posts_before = len(smtp.messages), len(hook.received)
    again = _run([drift_monitor, integration_exceptions], resources, NO_GRACE)
    assert (len(smtp.messages), len(hook.received)) == (sent_before, posts_before)
    assert again["integration_exceptions"]["alerts_sent"].value == []
    assert again["integration_exceptions"]["sparklayer_sync_log_errors"].value == "unchanged"

    # finance decides the card order needs no action here (e.g. refunded through the provider)
    unpaid = next(r for r in open_rows if r.kind == "paid_in_shop_unpaid_in_erp")
    accepted = accept_exception_job.execute_in_process(
        run_config={"ops": {"accept_exception": {"config": {
            "exception_id": unpaid.id, "reason": "Refunded by the card provider on 26 Nov", "by": "Fiona (finance)"}}}},
        resources={"ledger": LedgerResource(database_url=ledger_url)})
    assert accepted.success

    later = _run([drift_monitor, integration_exceptions], resources, NO_GRACE)

    row = ledger.get_exception(unpaid.id)
    assert row.status == "accepted" and row.count == unpaid.count + 2  # still counted, decision kept
    assert (len(smtp.messages), len(hook.received)) == (sent_before, posts_before)
    view = later["integration_exceptions"]
    assert view["accepted"].value == 1 and "Refunded by the card provider" in view["accepted_exceptions"].value
    log = sandbox.admin.sync_log(contract.SYNC_LOG_INTEGRATION, flow.SYNC_LOG_DATA_TYPE)
    assert card not in json.dumps(log["errors"]) and len(log["errors"]) == len(open_rows) - 1

    # the ERP's truth reaches the shop: the status mismatch closes by itself, nobody is alerted about that
    OrderFollowup(ledger, erp, client).write_back_status()
    final = _run([drift_monitor, integration_exceptions], resources, NO_GRACE)
    assert final["drift_monitor"]["resolved_by_kind"].value.get("status_mismatch") == 1
    assert ledger.open_exceptions(kind="status_mismatch") == []
    assert final["integration_exceptions"]["open"].value == len(open_rows) - 2
    assert len(smtp.messages) == sent_before


def test_a_wrong_id_fails_the_accept_job_with_a_plain_message(ledger_url):
    result = accept_exception_job.execute_in_process(
        run_config={"ops": {"accept_exception": {"config": {"exception_id": 999_999, "reason": "x", "by": "me"}}}},
        resources={"ledger": LedgerResource(database_url=ledger_url)}, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "no exception with id 999999" in failure.event_specific_data.error.message


def test_daily_digest_goes_out_once_a_day_per_team(tmp_path, own_sinks):
    smtp, hook = own_sinks
    # a ledger of its own: the module's ledger would carry this test's accepted exception into the alert
    # scenario when that runs later (random order), and the scenario's exceptions into this digest
    ledger_url = f"sqlite:///{tmp_path}/digest-ledger.sqlite"
    day_before = dt.datetime(2026, 11, 25, 6, tzinfo=dt.UTC)
    with Ledger.from_url(ledger_url, clock=lambda: day_before) as early:  # the digest clock started yesterday
        early.record_sync_success(flow.DIGEST_SYNC_NAME)
    routing = AlertRouting(urls={"finance": (_mailto(smtp, "controller@example.com"),)}, ui_url=UI)
    with Ledger.from_url(ledger_url) as ledger:
        p = problem("price_mismatch", Entity.ORDER, "purchase-digest-1", order="#9001", account_code="C1003",
                    lines="SKU-OJ-S 12 units at 1.50, ERP 1.62")
        ledger.raise_exception(p.kind, p.owner_team, p.entity_type, p.entity_id, p.message, p.action, p.detail)
        ledger.accept(ledger.raise_exception(p.kind, p.owner_team, p.entity_type, "purchase-digest-2", p.message,
                                             p.action).id, "agreed with the buyer", "Fiona")
        open_finance = [r for r in ledger.open_exceptions() if r.owner_team == "finance"]
        before = len(smtp.messages)
        now = dt.datetime.now(dt.UTC)
        hour = (now - dt.timedelta(hours=1)).hour  # the digest hour has just passed

        report = flow.send_digest_if_due(ledger, routing, now, hour)
        again = flow.send_digest_if_due(ledger, routing, now + dt.timedelta(minutes=5), hour)

    assert report is not None and again is None
    (mail,) = [m for m in _mails(smtp)[before:] if m["To"] == "controller@example.com"]
    assert f"Daily digest: {len(open_finance)} open for finance" in mail["Subject"]
    body = _text(mail)
    assert all(r.entity_id in body for r in open_finance) and "purchase-digest-2" not in body  # accepted: left out
    assert "order #9001 (purchase-digest-1)" in body and body.rstrip().endswith(EXCEPTIONS_PAGE)


def test_a_failed_sync_alerts_operations_once_per_outage(tmp_path, own_sinks):
    smtp, hook = own_sinks  # (its /ops posts must not reach the alert scenario's webhook)
    ledger_url = f"sqlite:///{tmp_path}/outage-ledger.sqlite"
    url = f"http://127.0.0.1:{hook.server_address[1]}/ops"

    @dg.op
    def push(context) -> None:  # (no annotation: this module's annotations are strings)
        if context.run.tags.get("fail"):
            raise dg.Failure("the ERP did not answer")

    @dg.job(name="stock_push_job")
    def stock_push_job() -> None:
        push()

    # the deprecated ALERT_WEBHOOK_OPERATIONS, translated to alertjson:// (the same JSON body as before)
    resources = {"ledger": LedgerResource(database_url=ledger_url), "alerts": AlertsResource(webhook_operations=url)}

    failed_runs = []

    def run_and_sense(instance: dg.DagsterInstance, fail: bool) -> None:
        result = stock_push_job.execute_in_process(instance=instance, tags={"fail": "1"} if fail else {},
                                                   raise_on_error=False)
        if fail:
            failed_runs.append(result.run_id)
        assert result.success is not fail
        if fail:
            event = next(e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE")
            context = dg.build_run_status_sensor_context(
                sensor_name="sync_failure_alerts", dagster_event=event, dagster_instance=instance,
                dagster_run=result.dagster_run, resources=resources).for_run_failure()
            sync_failure_alerts(context)

    def ops_posts() -> list[dict]:
        return [p["json"] for p in hook.received if p["path"] == "/ops"]

    with dg.DagsterInstance.ephemeral() as instance:
        run_and_sense(instance, fail=True)
        run_and_sense(instance, fail=True)  # the same outage: no second alert
        assert len(ops_posts()) == 1
        assert ops_posts()[0]["category"] == "sync_failure" and "stock_push_job" in ops_posts()[0]["subject"]
        # links to the failed run (the resource's default UI address, DAGSTER_UI_URL's default)
        assert ops_posts()[0]["link"] == f"http://127.0.0.1:3000/runs/{failed_runs[0]}"
        assert ops_posts()[0]["text"].endswith(ops_posts()[0]["link"])
        run_and_sense(instance, fail=False)  # it recovered ...
        run_and_sense(instance, fail=True)  # ... and failed again: a new outage, a new alert
        assert len(ops_posts()) == 2
