"""The monitor's own rules, without an ERP: which exceptions a run may close, when a date-only fact counts,
when the digest is due, what is retried after a failed delivery, how a month is cut. Real ledger (SQLite),
real sockets where something is sent."""

from __future__ import annotations

import datetime as dt
import socket
from decimal import Decimal

import pytest

from sparklayer_erp.domain.drift import DriftConfig, DriftSnapshot, SlOrderSnap
from sparklayer_erp.domain.exception_kinds import Entity, problem
from sparklayer_erp.domain.models import ErpOrderState, ErpOrderStatus, Invoice, Shipment
from sparklayer_erp.ledger import Ledger
from sparklayer_erp.monitoring import watch as flow
from sparklayer_erp.month_end.close import Month
from sparklayer_erp.notify.delivery import AlertRouting
from sparklayer_erp_tests.sinks import webhook_receiver

NOW = dt.datetime(2026, 11, 26, 14, 0, tzinfo=dt.UTC)


@pytest.fixture
def ledger(tmp_path):
    with Ledger.from_url(f"sqlite:///{tmp_path}/ledger.sqlite") as store:
        yield store


def _raise(ledger: Ledger, kind: str, entity: str, entity_id: str, **facts):
    p = problem(kind, entity, entity_id, **facts)
    return ledger.raise_exception(p.kind, p.owner_team, p.entity_type, p.entity_id, p.message, p.action, p.detail)


def _snapshot(*purchase_ids: str) -> flow.Snapshot:
    orders = tuple(SlOrderSnap(pid, None, "cust", "invoice", "processing", NOW - dt.timedelta(hours=1),
                               Decimal("10.00")) for pid in purchase_ids)
    return flow.Snapshot(drift=DriftSnapshot(sl_orders=orders), purchase_ids=frozenset(purchase_ids),
                         erp_labels=frozenset())


def test_a_run_closes_only_what_it_looked_at(ledger):
    looked_at = _raise(ledger, "status_mismatch", Entity.ORDER, "p-seen", order="#1", sparklayer_status="incoming",
                       erp_order="SO1", erp_status="shipped")
    outside = _raise(ledger, "status_mismatch", Entity.ORDER, "p-old", order="#2", sparklayer_status="incoming",
                     erp_order="SO2", erp_status="shipped")
    flows_own = _raise(ledger, "missing_customer_link", Entity.ORDER, "p-seen", order="#1", customer="c")
    stale = _raise(ledger, "stale_sync", Entity.DATASET, "stock", dataset="stock", last_success="never")

    outcome = flow.record_drift(ledger, _snapshot("p-seen"), DriftConfig(stale_after={"orders": dt.timedelta(0)}),
                                NOW)

    assert outcome.resolved == {"status_mismatch": 1}
    assert ledger.get_exception(looked_at.id).status == "resolved"
    assert ledger.get_exception(outside.id).status == "open"  # outside the look-back: nobody looked
    assert ledger.get_exception(flows_own.id).status == "open"  # the order flow's exception is not ours
    assert ledger.get_exception(stale.id).status == "open"  # "stock" is not a sync this run watched
    assert ("stale_sync", "orders") in {(p.kind, p.entity_id) for p in outcome.problems}


def test_an_accepted_exception_stays_accepted_while_the_cause_lasts_and_closes_when_it_goes(ledger):
    config = DriftConfig(stale_after={"prices": dt.timedelta(hours=1)})
    flow.record_drift(ledger, _snapshot(), config, NOW)
    (row,) = ledger.open_exceptions(kind="stale_sync")
    ledger.accept(row.id, "prices are frozen during the migration", "Olga (operations)")

    again = flow.record_drift(ledger, _snapshot(), config, NOW)
    assert again.opened == [] and ledger.get_exception(row.id).status == "accepted"

    ledger.record_sync_success("prices")
    snap = flow.Snapshot(drift=DriftSnapshot(sync_last_success={"prices": NOW}), purchase_ids=frozenset(),
                         erp_labels=frozenset())
    assert flow.record_drift(ledger, snap, config, NOW).resolved == {"stale_sync": 1}
    assert ledger.get_exception(row.id).status == "resolved"


def _status(shipped_on: dt.date, invoice_date: dt.date) -> ErpOrderStatus:
    return ErpOrderStatus(
        erp_id=7, number="SO7", purchase_id="p7", account_code="C1", po_number=None,
        state=ErpOrderState.COMMITTED, point_of_no_return=True, total_untaxed=Decimal("10"),
        total_tax=Decimal("2"), total=Decimal("12"),
        shipments=(Shipment("S7", "done", shipped_on=shipped_on),),
        invoices=(Invoice("INV7", "posted", Decimal("12"), Decimal("12"), invoice_date),))


def test_a_date_only_fact_counts_from_when_it_was_first_seen_today_and_from_its_day_when_old(ledger):
    first = flow._FirstSeen(ledger, NOW)
    snap = flow.erp_order_snap(_status(NOW.date(), NOW.date()), {}, "WH", first)
    first.save()
    assert snap.shipped_at == NOW and snap.open_invoices[0].posted_at == NOW and snap.stock_held is True

    later = NOW + dt.timedelta(hours=3)
    again = flow.erp_order_snap(_status(NOW.date(), NOW.date()), {}, "WH", flow._FirstSeen(ledger, later))
    assert again.shipped_at == NOW  # remembered, not "now" again

    old_day = dt.date(2026, 11, 20)
    old = flow.erp_order_snap(_status(old_day, old_day), {}, "WH", flow._FirstSeen(ledger, later))
    assert old.shipped_at == dt.datetime(2026, 11, 21, tzinfo=dt.UTC)  # the end of its own day


def test_the_digest_is_due_once_a_day_after_its_hour():
    assert flow.digest_slot(NOW, 7) == dt.datetime(2026, 11, 26, 7, tzinfo=dt.UTC)
    assert flow.digest_slot(NOW.replace(hour=6), 7) == dt.datetime(2026, 11, 25, 7, tzinfo=dt.UTC)


def test_the_first_run_starts_the_digest_clock_without_sending(ledger):
    routing = AlertRouting()
    assert flow.send_digest_if_due(ledger, routing, NOW) is None
    assert ledger.sync_status(flow.DIGEST_SYNC_NAME).last_success_at is not None


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_alert_no_channel_could_deliver_is_sent_again_next_run(ledger):
    row = _raise(ledger, "price_mismatch", Entity.ORDER, "p-1", order="#1", account_code="C1", lines="x")
    down = AlertRouting(urls={"finance": (f"alertjson://127.0.0.1:{_closed_port()}/hook",)})
    first = flow.send_new_exception_alerts(ledger, down, NOW)
    assert first.delivered["failed"] == 1 and first.marked == 0
    assert ledger.get_exception(row.id).alerted_at is None
    with webhook_receiver() as hook:
        up = AlertRouting(urls={"finance": (f"alertjson://127.0.0.1:{hook.server_address[1]}/hook",)})
        second = flow.send_new_exception_alerts(ledger, up, NOW)
        third = flow.send_new_exception_alerts(ledger, up, NOW)
    assert second.marked == 1 and third.alerts == []
    assert [p["json"]["exception_ids"] for p in hook.received] == [[row.id]]


def test_an_exception_of_a_team_without_a_channel_is_not_kept_for_later(ledger):
    row = _raise(ledger, "unknown_sku", Entity.ORDER, "p-2", order="#2", skus="SKU-X")
    report = flow.send_new_exception_alerts(ledger, AlertRouting(), NOW)
    assert report.delivered["no_channel"] == 1 and ledger.get_exception(row.id).alerted_at is not None


def test_sync_log_entries_say_data_type_owner_and_what_to_do(ledger):
    _raise(ledger, "stale_sync", Entity.DATASET, "stock", dataset="stock", last_success="never")
    _raise(ledger, "item_without_price", Entity.SKU, "SKU-1", sku="SKU-1", price_list="any price list")
    accepted = _raise(ledger, "sku_unknown_to_erp", Entity.SKU, "SKU-2", sku="SKU-2")
    ledger.accept(accepted.id, "discontinued", "Eve")
    errors = flow.sync_log_errors(ledger.open_exceptions(include_accepted=True))
    assert [e.external_id for e in errors] == ["prices:item_without_price:sku:SKU-1", "stock:stale_sync:dataset:stock"]
    assert errors[0].message.startswith("[prices] [Finance] Item has no price in the ERP:")
    assert "What to do:" in errors[1].message


def test_months_are_cut_like_the_monthly_partitions():
    month = Month.from_partition_key("2026-02-01")
    assert (month.start, month.end, month.last_day) == (dt.date(2026, 2, 1), dt.date(2026, 3, 1), dt.date(2026, 2, 28))
    assert month.default_as_of(dt.date(2026, 2, 10)) == dt.date(2026, 2, 10)  # still running: today
    assert month.default_as_of(dt.date(2026, 5, 1)) == dt.date(2026, 2, 28)  # over: as it closed
    assert Month.of(dt.date(2026, 12, 31)).end == dt.date(2027, 1, 1)
