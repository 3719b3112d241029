"""Exactly one ERP order per purchase, whatever happens: a crash mid-write, two runs at once, a flaky API."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

from sparklayer_erp.erp.tryton.adapter import TrytonErp
from sparklayer_erp.ledger import Ledger, SyncState
from sparklayer_erp.orders.followup import OrderFollowup
from sparklayer_erp.orders.sync import OrderSync, fetch_requested, fetch_sweep, report_sync_log, utc_now
from sparklayer_erp.sparklayer.client import SparkLayerClient
from sparklayer_erp_tests.orders.shop import SITE, Shop

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_a_process_killed_between_the_erp_write_and_the_ledger_write_creates_no_duplicate(
        shop: Shop, ledger, ledger_url, sandbox, tryton_server, erp, client):
    buyer = shop.demo("C1006")
    shop.link(ledger, buyer)
    pids = [shop.place(buyer, [("SKU-NUTS-L", 12)], "invoice", po="PO-CRASH-1"),
            shop.place(buyer, [("SKU-NUTS-L", 12)], "on_account", po="PO-CRASH-2")]

    worker = subprocess.run(
        [sys.executable, "-m", "sparklayer_erp_tests.orders.crash_worker", ledger_url, sandbox.base_url,
         tryton_server.url, tryton_server.db_name, tryton_server.login, *pids],
        cwd=REPO, env={**os.environ, "ERP_PASSWORD": tryton_server.password}, capture_output=True, timeout=120)

    assert worker.returncode == -9, worker.stderr.decode()[-2000:]
    assert shop.erp_order_count(pids) == {pid: 1 for pid in pids}  # the ERP has them ...
    links = ledger.order_links_for(pids)
    assert all(link.sync_state == SyncState.CLAIMED and link.erp_order_id is None for link in links.values())

    # ... the next sweep finds the half-done claims and recovers them instead of creating again
    report = OrderSync(ledger, erp).run(fetch_sweep(client, ledger, utc_now()))

    recovered = {r.purchase_id: r for r in report.results if r.purchase_id in pids}
    assert all(r.recovered for r in recovered.values()) and set(recovered) == set(pids)
    assert shop.erp_order_count(pids) == {pid: 1 for pid in pids}
    links = ledger.order_links_for(pids)
    assert links[pids[0]].sync_state == SyncState.COMMITTED and links[pids[1]].sync_state == SyncState.PENDING_APPROVAL
    assert all(link.erp_order_id for link in links.values())


def test_two_runs_for_the_same_batch_at_once_create_each_order_once(shop: Shop, ledger_url, tryton_server, sandbox,
                                                                    erp):
    buyer = shop.demo("C1006")
    with Ledger.from_url(ledger_url) as setup:
        shop.link(setup, buyer)
    pids = [shop.place(buyer, [("SKU-COLA-L", 12)], method, po=f"PO-RACE-{n}")
            for n, method in enumerate(["invoice", "invoice", "on_account", "platform_upfront"])]
    barrier = threading.Barrier(2)
    reports, errors = [], []

    def run() -> None:
        try:
            with Ledger(ledger_url) as ledger, SparkLayerClient(sandbox.base_url, **SITE) as client:
                adapter = TrytonErp(tryton_server.url, tryton_server.db_name, tryton_server.login,
                                    tryton_server.password)
                purchases = fetch_requested(client, pids, None)
                barrier.wait()
                reports.append(OrderSync(ledger, adapter).run(purchases))
                adapter.close()
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert not errors, errors
    assert shop.erp_order_count(pids) == {pid: 1 for pid in pids}
    created_by = [r.purchase_id for report in reports for r in report.results if not r.recovered]
    assert sorted(created_by) == sorted(pids)  # each order was made by exactly one of the two runs
    with Ledger(ledger_url) as ledger, SparkLayerClient(sandbox.base_url, **SITE) as client:
        links = ledger.order_links_for(pids)
        assert all(link.erp_order_id for link in links.values())
        # the follow-up settles the card order (one follow-up at a time; a second one finds nothing to pay)
        (paid,) = OrderFollowup(ledger, erp, client).record_card_payments().steps
        assert (paid.purchase_id, paid.outcome) == (pids[3], "card payment recorded")
        assert OrderFollowup(ledger, erp, client).record_card_payments().steps == []
    card = erp.order_status([links[pids[3]].erp_order_id])[0]
    assert len(card.payments) == 1 and card.invoices[0].state == "paid"  # the card payment recorded once


def test_sparklayer_rate_limits_server_errors_and_dropped_connections_during_a_sync(shop: Shop, ledger, sandbox,
                                                                                   erp, client):
    buyer = shop.demo("C1006")
    shop.link(ledger, buyer)
    pids = [shop.place(buyer, [("SKU-CHOC-L", 12)], "invoice", po=f"PO-FLAKY-{n}") for n in range(2)]
    started = utc_now()
    sandbox.admin.set_faults(drop_next=1, rate_limit_next=2, retry_after_s=0, server_error_next=1)

    report = OrderSync(ledger, erp).run(fetch_requested(client, pids, started))
    sandbox.admin.set_faults(server_error_next=1, rate_limit_next=1)  # the write-backs meet faults too
    OrderFollowup(ledger, erp, client).write_back_status()
    report_sync_log(client, ledger, started, succeeded=True)

    injected = sandbox.admin.faults()["injected"]
    sandbox.admin.clear_faults()
    assert injected == {"drop": 1, "rate_limit": 3, "server_error": 2}
    assert report.counts["created"] == 2
    assert shop.erp_order_count(pids) == {pid: 1 for pid in pids}
    assert all(shop.purchase(pid).status == "processing" for pid in pids)
    assert [w["method"] for w in sandbox.admin.writes() if w["status"] == 200 and pids[0] in w["path"]
            and w["method"] == "PUT"] == ["PUT"]  # one write-back landed, however many attempts it took


def test_sparklayer_timeouts_during_a_sync_are_retried(shop: Shop, ledger, sandbox, erp):
    buyer = shop.demo("C1006")
    shop.link(ledger, buyer)
    pid = shop.place(buyer, [("SKU-CHOC-L", 12)], "on_account", po="PO-SLOW")
    impatient = SparkLayerClient(sandbox.base_url, **SITE, timeout=0.4, requests_per_second=None,
                                 backoff_initial_s=0.2, backoff_max_s=1.0)
    impatient.get_token()
    sandbox.admin.set_faults(latency_ms=1500)  # SparkLayer answers too late for a while ...
    threading.Timer(1.0, sandbox.admin.clear_faults).start()  # ... then recovers
    began = time.monotonic()

    report = OrderSync(ledger, erp).run(fetch_requested(impatient, [pid], None))

    assert time.monotonic() - began >= 0.8  # it really waited through the timeouts
    assert impatient.stats.retries >= 1
    assert report.counts["created"] == 1
    assert shop.erp_order_count([pid]) == {pid: 1}
    impatient.close()
