"""DRY_RUN: every write is computed and reported, none is sent; the real ledger is never written.

Against the real sandbox and the real Tryton adapter: a dry-run order sync creates no ERP order, sends the
sandbox no write, and its report lists the orders it would have created; the dry-run follow-up plans a card
payment without recording it.
"""

from __future__ import annotations

import datetime as dt
import inspect
import re
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from sparklayer_erp.erp.port import ErpPort
from sparklayer_erp.ledger import Ledger, current_revision, head_revision
from sparklayer_erp.orders.followup import OrderFollowup
from sparklayer_erp.orders.sync import OrderSync, fetch_requested, report_sync_log
from sparklayer_erp.plumbing import dry_run
from sparklayer_erp.plumbing.dry_run import DryRunRecorder
from sparklayer_erp.settings import SettingError
from sparklayer_erp.sparklayer.client import SparkLayerClient
from sparklayer_erp.sparklayer.models import PricingRow, StockLevelRow
from sparklayer_erp_tests import fixtures_erp, pg
from sparklayer_erp_tests.orders.shop import Shop

erp_server = fixtures_erp.erp_server
erp = fixtures_erp.erp
admin_rpc = fixtures_erp.admin_rpc
sandbox = fixtures_erp.sandbox
client = fixtures_erp.client
shop = fixtures_erp.shop

_WRITE_VERB = re.compile(r'"(POST|PUT|PATCH|DELETE)"')


def _last_write(sandbox) -> int:
    writes = sandbox.admin.writes()
    return writes[-1]["seq"] if writes else 0


# --- every write is covered ---------------------------------------------------------------------------------


def test_every_writing_client_method_has_a_dry_run_stand_in():
    senders = {name for name, fn in inspect.getmembers(SparkLayerClient, inspect.isfunction)
               if not name.startswith("_") and _WRITE_VERB.search(inspect.getsource(fn))}

    assert senders - set(dry_run.SPARKLAYER_READS_BY_POST) == set(dry_run.SPARKLAYER_WRITES)
    for name in dry_run.SPARKLAYER_WRITES:  # same parameters as the real method, so callers cannot tell
        stand_in = getattr(dry_run.DryRunSparkLayerClient, name)
        assert list(inspect.signature(stand_in).parameters) == list(
            inspect.signature(getattr(SparkLayerClient, name)).parameters), name


def test_every_erp_write_has_a_dry_run_stand_in():
    port_methods = {n for n in dir(ErpPort) if not n.startswith("_")}
    assert set(dry_run.ERP_WRITES) <= port_methods
    for name in dry_run.ERP_WRITES:
        assert list(inspect.signature(getattr(dry_run.DryRunErp, name)).parameters) == list(
            inspect.signature(getattr(ErpPort, name)).parameters), name


# --- the order sync, against the sandbox and Tryton -----------------------------------------------------------


def test_a_dry_run_order_sync_creates_nothing_and_reports_what_it_would_create(shop: Shop, sandbox, client, erp,
                                                                                tmp_path: Path):
    real_url = f"sqlite:///{tmp_path}/ledger.sqlite"
    with Ledger.from_url(real_url) as real:
        buyer = shop.demo("C1006")
        shop.link(real, buyer)  # what the master-data push recorded in the real ledger
        # a card order the (real) order sync put in the ERP earlier: its invoice waits for the follow-up
        earlier_card = shop.place(buyer, [("SKU-COLA-L", 24)], "platform_upfront", po="PO-DRY-EARLIER")
        OrderSync(real, erp).run(fetch_requested(client, [earlier_card], None))
        earlier_id = real.get_order_link(earlier_card).erp_order_id
    on_account = shop.place(buyer, [("SKU-COLA-L", 24)], "on_account", po="PO-DRY-ACC")
    card = shop.place(buyer, [("SKU-COLA-L", 24)], "platform_upfront", po="PO-DRY-CARD")
    pids = [on_account, card]
    since = _last_write(sandbox)
    recorder = DryRunRecorder()
    scratch_url = dry_run.dry_run_ledger_url(tmp_path / "data", source_url=real_url)

    with Ledger.from_url(scratch_url) as scratch:
        dr_client, dr_erp = dry_run.dry_run_client(client, recorder), dry_run.dry_run_port(erp, recorder)
        started = dt.datetime.now(dt.UTC)
        report = OrderSync(scratch, dr_erp).run(fetch_requested(dr_client, pids, None))
        report_sync_log(dr_client, scratch, started, True)
        OrderFollowup(scratch, dr_erp, dr_client).record_card_payments()  # the follow-up settles card orders
        scratch_links = scratch.order_links_for(pids)

    # the flow carried on as if the orders existed (in the scratch ledger only) ...
    assert (report.counts["created"], report.counts["pending_approval"], report.counts["committed"]) == (2, 1, 1)
    assert report.counts["quarantined"] == 0
    assert all(link.erp_order_id is not None and link.erp_order_id < 0 for link in scratch_links.values())
    # ... and nothing was sent: no ERP order, no sandbox write, the real ledger untouched
    assert shop.erp_order_count(pids) == {}
    assert sandbox.admin.writes(since) == []
    with Ledger.from_url(real_url) as real:
        assert real.order_links_for(pids) == {}
    # the report lists what it would have done
    calls = [(w.system, w.call, w.key) for w in recorder.writes]
    assert ("ERP", "create_orders", on_account) in calls and ("ERP", "create_orders", card) in calls
    # the card payment: never by the sync, and a pretend order has no invoice to settle; the follow-up plans the
    # payment of a real card order and sends nothing (the ERP still shows it unpaid)
    assert ("ERP", "record_payment", str(scratch_links[card].erp_order_id)) not in calls
    assert ("ERP", "record_payment", str(earlier_id)) in calls
    earlier = erp.order_status([earlier_id])[0]
    assert not earlier.payments and any(i.amount_due > 0 for i in earlier.invoices)
    assert ("SparkLayer", "put_sync_log", "sparklayer-erp/orders") in calls
    markdown = recorder.render_markdown()
    assert on_account in markdown and "PO PO-DRY-ACC" in markdown and "pending approval" in markdown
    assert card in markdown and "PO PO-DRY-CARD" in markdown and "committed" in markdown


def test_master_data_writes_answer_plausibly_and_reach_nothing(sandbox, client, tmp_path: Path):
    recorder = dry_run.recorder(tmp_path)
    dr = dry_run.dry_run_client(client, recorder)
    since = _last_write(sandbox)
    existing = next(iter(client.iter_customers()))

    replaced = dr.upsert_customer("sparklayer", existing.id, {**existing.raw, "company_name": "Renamed Ltd"})
    created = dr.upsert_customer("email", "nobody-yet@dry-run.example", {"email": "nobody-yet@dry-run.example"})
    stock = dr.batch_update_stock([StockLevelRow("SKU-COLA-L", 5, stock_location_external_id="MAIN"),
                                   StockLevelRow("SKU-CHOC-L", 7, stock_location_external_id="MAIN")])
    slug = "trade-prices"
    prices = dr.patch_pricing(slug, [PricingRow("SKU-COLA-L", slug, ((1, Decimal("1.10")),))])

    assert (replaced.created, replaced.customer.id, replaced.customer.company_name) == (False, existing.id,
                                                                                         "Renamed Ltd")
    assert created.created and created.customer.id.startswith("dry-run-")
    assert (stock.rows, stock.batches, prices.rows) == (2, 1, 1)
    assert dr.get_customer("sparklayer", existing.id).company_name == existing.company_name  # reads are real
    assert sandbox.admin.writes(since) == []
    journal = DryRunRecorder.load(tmp_path / dry_run.JOURNAL_NAME)  # what other processes' reports read
    assert [w.call for w in journal.writes] == ["upsert_customer", "upsert_customer", "batch_update_stock",
                                                "patch_pricing"]
    assert "| SparkLayer | batch_update_stock | 1 |" in journal.render_markdown()


def test_the_same_write_has_the_same_digest():
    a, b = DryRunRecorder(), DryRunRecorder()
    body = {"sku": "A", "price": Decimal("1.10"), "on": dt.date(2026, 1, 2)}

    assert a.record("ERP", "x", "x", "k", body).digest == b.record("ERP", "x", "x", "k", dict(body)).digest
    assert a.record("ERP", "x", "x", "k", {**body, "sku": "B"}).digest != b.writes[0].digest


# --- the scratch ledger -------------------------------------------------------------------------------------


def test_the_scratch_ledger_is_a_fresh_copy_once_per_process_and_the_real_one_is_never_written(tmp_path: Path):
    real_url = f"sqlite:///{tmp_path}/real.sqlite"
    with Ledger.from_url(real_url) as real:
        real.upsert_customer_link("C1", "sl-1", "p-1", "c1@example.com")
    stale = tmp_path / "data" / dry_run.LEDGER_NAME
    stale.parent.mkdir()
    with Ledger.from_url(f"sqlite:///{stale}") as old:  # an earlier process's dry run
        old.upsert_customer_link("OLD", "sl-old", "p-old", "old@example.com")

    url = dry_run.dry_run_ledger_url(tmp_path / "data", source_url=real_url)
    with Ledger.from_url(url) as scratch:
        assert scratch.customer_link_by_sparklayer_id("sl-1") is not None  # a copy of the real ledger
        assert scratch.customer_link_by_sparklayer_id("sl-old") is None  # fresh: nothing of the last dry run
        scratch.upsert_customer_link("C2", "sl-2", "p-2", "c2@example.com")
    again = dry_run.dry_run_ledger_url(tmp_path / "data", source_url=real_url)
    with Ledger.from_url(again) as scratch:
        assert again == url and scratch.customer_link_by_sparklayer_id("sl-2") is not None  # same process: kept
    with Ledger.from_url(real_url) as real:
        assert real.customer_link_by_sparklayer_id("sl-2") is None


def test_an_explicit_dry_run_ledger_url_is_used_as_is(tmp_path: Path):
    url = f"sqlite:///{tmp_path}/ledger-dry-run-copy.sqlite"
    assert dry_run.dry_run_ledger_url(tmp_path / "data", source_url=url) == url
    assert dry_run.is_dry_run_url("postgresql+psycopg2://u@h/sparklayer_erp_dry_run")
    assert not dry_run.is_dry_run_url("postgresql+psycopg2://u@h/sparklayer_erp")


def test_a_postgresql_ledger_is_copied_into_the_scratch_ledger(tmp_path: Path):
    pg.require_server()
    with pg.temporary_database("sle_copy") as url:
        real_url = url.render_as_string(hide_password=False)
        with Ledger.from_url(real_url) as real:
            real.upsert_customer_link("C9", "sl-9", "p-9", "c9@example.com")
        scratch_url = dry_run.dry_run_ledger_url(tmp_path / "data", source_url=real_url)
        with Ledger.from_url(scratch_url) as scratch:
            assert scratch.customer_link_by_sparklayer_id("sl-9").account_code == "C9"
        assert current_revision(scratch_url) == head_revision()  # the real schema, at the same revision
    assert sqlite3.connect(tmp_path / "data" / dry_run.LEDGER_NAME).execute("pragma integrity_check").fetchone() == (
        "ok",)


@pytest.mark.parametrize(("value", "on"), [("on", True), ("ON", True), ("", False), ("off", False), ("0", False)])
def test_the_setting(monkeypatch: pytest.MonkeyPatch, value: str, on: bool):
    monkeypatch.setenv("DRY_RUN", value)
    assert dry_run.enabled() is on


def test_a_malformed_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DRY_RUN", "maybe")
    with pytest.raises(SettingError, match="DRY_RUN"):
        dry_run.enabled()


def test_the_resources_hand_out_dry_run_clients_ports_and_a_scratch_ledger(monkeypatch, tmp_path):
    from sparklayer_erp.plumbing.dry_run import DryRunErp, DryRunSparkLayerClient
    from sparklayer_erp.resources import ErpResource, LedgerResource, SparkLayerResource

    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    monkeypatch.setenv("DRY_RUN", "on")
    ledger = LedgerResource(data_dir=str(data))
    assert "dry-run" in ledger.url() and str(data) in ledger.url()
    client = SparkLayerResource(base_url="http://127.0.0.1:9", site_id="s", client_id="c",
                                client_secret="x").client()
    port = ErpResource(url="http://127.0.0.1:9", database="erp", login="integration", password="x").port()
    assert isinstance(client, DryRunSparkLayerClient) and isinstance(port, DryRunErp)
    monkeypatch.setenv("DRY_RUN", "off")
    assert "dry-run" not in LedgerResource(data_dir=str(data)).url()
