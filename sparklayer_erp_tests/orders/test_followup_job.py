"""The follow-up job's credit-note step, run through Dagster against the real Tryton and the sandbox shop: a
refund recorded in the shop becomes one ERP credit note and a second run adds none; one order whose
SparkLayer calls keep failing is counted and left for the next run while the others are credited; a dry run
raises no note and reports the one it would raise; an ERP connection without credit notes skips the step."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from sparklayer_erp.demo.sandbox.server import SandboxHandle
from sparklayer_erp.erp.port import ErpCreditNotes
from sparklayer_erp.orders import assets as order_assets
from sparklayer_erp.orders.definitions import ORDER_FOLLOWUP_ASSETS, order_followup_job
from sparklayer_erp.orders.sync import OrderSync, fetch_requested
from sparklayer_erp.plumbing import dry_run
from sparklayer_erp.resources import ErpResource
from sparklayer_erp.sparklayer.models import Transaction
from sparklayer_erp_tests.erp import warehouse
from sparklayer_erp_tests.orders.shop import Shop

CREDIT_NOTES = dg.AssetKey("erp_credit_notes")
STATUS = dg.AssetKey("sparklayer_order_status")


def _invoiced_orders(shop: Shop, ledger, erp, client, wh, n: int) -> list[tuple[str, int]]:
    """``n`` orders shipped and invoiced (posted) in the ERP, so each can be credited."""
    buyer = shop.demo("C1006")  # no credit limit: invoice orders are committed whatever other tests do
    shop.link(ledger, buyer)
    pids = [shop.place(buyer, [("SKU-COLA-L", 12)], "invoice", po=f"PO-FJ-{uuid.uuid4().hex[:6]}") for _ in range(n)]
    OrderSync(ledger, erp).run(fetch_requested(client, pids, None))
    out = []
    for pid in pids:
        erp_id = ledger.get_order_link(pid).erp_order_id
        warehouse.ship_order(wh, erp_id)
        warehouse.post_invoices(wh, erp_id)
        out.append((pid, erp_id))
    return out


def _refund(client, pid: str, platform_id: str, amount: str) -> None:
    client.put_transaction("sparklayer", pid, Transaction(platform_id=platform_id, type="refund",
                                                          total=-Decimal(amount), currency="GBP",
                                                          apply_to_balance=True))


def _followup(resources: dict, logs: list[str] | None = None) -> tuple[bool, dict[dg.AssetKey, dict[str, Any]]]:
    """One run of the follow-up job's assets; the metadata of each materialisation by asset (and the run's
    log messages into ``logs``)."""
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(ORDER_FOLLOWUP_ASSETS, resources=resources, instance=instance)
        if logs is not None:
            logs.extend(e.user_message for e in instance.all_logs(result.run_id) if e.user_message)
    meta = {e.asset_key: e.materialization.metadata for e in result.get_asset_materialization_events()}
    return result.success, meta


def test_the_follow_up_job_runs_the_credit_note_step_before_the_status_write_back():
    from sparklayer_erp.definitions import defs

    keys = defs.resolve_job_def(order_followup_job.name).asset_layer.executable_asset_keys
    assert CREDIT_NOTES in keys and STATUS in keys
    (status,) = [a for a in ORDER_FOLLOWUP_ASSETS if STATUS in a.keys]
    assert CREDIT_NOTES in status.asset_deps[STATUS]


def test_a_refund_in_the_shop_becomes_one_credit_note_and_a_second_run_adds_none(
        shop: Shop, ledger, erp, client, wh, resources):
    ((pid, erp_id),) = _invoiced_orders(shop, ledger, erp, client, wh, 1)
    _refund(client, pid, "RF-JOB-1", "7.50")

    ok, meta = _followup(resources)

    assert ok
    assert meta[CREDIT_NOTES]["credit_note_raised"].value == 1
    assert meta[CREDIT_NOTES]["failed_writes"].value == 0
    (note,) = erp.order_status([erp_id])[0].credit_notes
    assert note.total == Decimal("7.50") and note.state == "posted"
    assert len(ledger.audit_entries(key=pid, operation="create_credit_note")) == 1

    ok, meta = _followup(resources)  # nothing new in the shop: no note, no step

    assert ok
    assert "credit_note_raised" not in meta[CREDIT_NOTES]
    assert len(erp.order_status([erp_id])[0].credit_notes) == 1
    assert len(ledger.audit_entries(key=pid, operation="create_credit_note")) == 1
    # the shop's own refund is not echoed back as a second refund by the status write-back
    assert [t.platform_id for t in client.get_transactions("sparklayer", pid) if t.type == "refund"] == ["RF-JOB-1"]


def test_one_order_that_keeps_failing_is_counted_and_credited_by_a_later_run(
        shop: Shop, ledger, erp, client, wh, resources, sandbox: SandboxHandle):
    (first, _), (stuck, stuck_erp), (last, _) = _invoiced_orders(shop, ledger, erp, client, wh, 3)
    for n, pid in enumerate((first, stuck, last)):
        _refund(client, pid, f"RF-ISO-{n}", "3.00")
    # every SparkLayer call about ``stuck`` is throttled; Retry-After 0 keeps the client's retries quick
    sandbox.admin.set_faults(rate_limit_rate=1.0, retry_after_s=0,
                             path_prefix=f"/api/v1/purchases/sparklayer/{stuck}")
    try:
        with dg.DagsterInstance.ephemeral() as instance:
            result = dg.materialize([a for a in ORDER_FOLLOWUP_ASSETS if CREDIT_NOTES in a.keys],
                                    resources=resources, instance=instance)
    finally:
        sandbox.admin.clear_faults()

    assert result.success
    (event,) = result.get_asset_materialization_events()
    meta = event.materialization.metadata
    assert meta["failed_writes"].value == 1 and meta["failed_write_orders"].value == [stuck]
    assert meta["credit_note_raised"].value == 2
    assert erp.order_status([stuck_erp])[0].credit_notes == ()
    assert [e.outcome for e in ledger.audit_entries(key=stuck, operation="get_transactions")] == ["error"]

    ok, meta = _followup(resources)  # SparkLayer answers again

    assert ok and meta[CREDIT_NOTES]["credit_note_raised"].value == 1
    assert [n.total for n in erp.order_status([stuck_erp])[0].credit_notes] == [Decimal("3.00")]


@pytest.fixture
def dry_run_on(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    data = tmp_path / "dry-run-data"
    data.mkdir()
    monkeypatch.setenv("DRY_RUN", "on")
    monkeypatch.setenv("SPARKLAYER_ERP_DATA_DIR", str(data))
    return data


def test_a_dry_run_raises_no_credit_note_and_reports_the_one_it_would(
        shop: Shop, ledger, erp, client, wh, resources, dry_run_on: Path):
    ((pid, erp_id),) = _invoiced_orders(shop, ledger, erp, client, wh, 1)
    _refund(client, pid, "RF-DRY-1", "4.00")

    ok, meta = _followup(resources)

    assert ok and meta[CREDIT_NOTES]["credit_note_raised"].value == 1
    assert erp.order_status([erp_id])[0].credit_notes == ()  # nothing reached the ERP
    assert not ledger.audit_entries(key=pid, operation="create_credit_note")  # nor the real ledger
    planned = [w for w in dry_run.DryRunRecorder.load(dry_run_on / dry_run.JOURNAL_NAME).writes
               if w.call == "create_credit_note"]
    assert len(planned) == 1 and planned[0].key == str(erp_id) and "RF-DRY-1" in planned[0].summary


class _WithoutCreditNotes:
    """The real ERP port with its credit notes hidden: an adapter that does not implement them yet."""

    def __init__(self, port: Any) -> None:
        self._port = port

    def __getattr__(self, name: str) -> Any:
        if name in ("create_credit_note", "orders_with_credit_notes_since"):
            raise AttributeError(name)
        return getattr(self._port, name)


class ErpWithoutCreditNotes(ErpResource):
    @contextmanager
    def session(self) -> Iterator[Any]:
        with super().session() as port:
            yield _WithoutCreditNotes(port)


def test_an_erp_without_credit_notes_skips_the_step_and_says_refunds_wait(
        shop: Shop, ledger, erp, client, wh, resources, monkeypatch: pytest.MonkeyPatch):
    ((pid, erp_id),) = _invoiced_orders(shop, ledger, erp, client, wh, 1)
    _refund(client, pid, "RF-WAIT-1", "2.00")
    monkeypatch.setattr(order_assets, "_said_refunds_wait", set())  # "once a process": this test's process
    plain = resources["erp"]
    without = ErpWithoutCreditNotes(**{k: getattr(plain, k) for k in ("url", "database", "login", "password")})
    assert not isinstance(_WithoutCreditNotes(erp), ErpCreditNotes)

    logs: list[str] = []
    ok, meta = _followup({**resources, "erp": without}, logs)
    ok_again, _ = _followup({**resources, "erp": without}, logs)

    assert ok and ok_again
    assert "refunds wait" in meta[CREDIT_NOTES]["credit_notes"].value
    assert meta[STATUS]["orders_with_recent_credit_notes"].value == 0
    assert sum("cannot raise credit notes" in m for m in logs) == 1  # logged once, not every run
    assert erp.order_status([erp_id])[0].credit_notes == ()
    assert not ledger.audit_entries(key=pid, operation="create_credit_note")
