"""The real flows on NetSuite (the emulator, over loopback HTTP) instead of Tryton: orders become exactly one
NetSuite sales order each — under a 429 storm, a lost answer, a crash between the ERP write and the ledger
write, two runs at once — and master data goes from NetSuite to the sandbox shop.

The adapter is built from ``NETSUITE_*`` settings exactly as a deployment builds it (``ErpResource``). Run
as a module (``python -m sparklayer_erp_tests.orders.test_netsuite_end_to_end crash …``) it is the crashing
sync process of the crash test.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from sparklayer_erp.demo import demo_data
from sparklayer_erp.demo.bootstrap import netsuite_environment
from sparklayer_erp.domain.models import CreateResult, ErpOrderDraft
from sparklayer_erp.ledger import Ledger, SyncState
from sparklayer_erp.orders.followup import OrderFollowup
from sparklayer_erp.orders.sync import OrderSync, fetch_requested, fetch_sweep, utc_now
from sparklayer_erp.resources import (
    AlertsResource,
    ErpResource,
    LedgerResource,
    PolicyResource,
    SparkLayerResource,
    erp_resource_from_settings,
)
from sparklayer_erp.sparklayer import contract
from sparklayer_erp.sparklayer.client import SparkLayerClient
from sparklayer_erp_tests import fixtures_erp
from sparklayer_erp_tests.orders.shop import SITE, Shop

pytestmark = pytest.mark.filterwarnings("ignore::dagster.PreviewWarning")

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUYER = "C1006"  # no credit limit: every committed order fits

sandbox = fixtures_erp.sandbox
client = fixtures_erp.client


class NetSuiteShop(Shop):
    """Buyers in the sandbox; the ERP side counted in NetSuite itself (SuiteQL as an administrator)."""

    def __init__(self, sandbox, client, erp, staff) -> None:
        super().__init__(sandbox, client, erp, admin=None)  # type: ignore[arg-type]
        self.staff = staff

    def erp_order_count(self, purchase_ids: Iterable[str]) -> Counter[str]:
        ids = sorted(set(purchase_ids))
        rows = self.staff.suiteql("SELECT id, externalid FROM transaction WHERE type = 'SalesOrd' AND externalid IN ("
                                  + ", ".join("?" for _ in ids) + ")", ids)
        return Counter(row["externalid"] for row in rows)

    def sales_order(self, purchase_id: str) -> dict[str, Any]:
        return self.staff.get("salesOrder", f"eid:{purchase_id}")


@pytest.fixture(scope="module")
def ns_env(netsuite_emulator) -> dict[str, str]:
    """A deployment's environment pointed at the emulator."""
    return {**netsuite_environment(netsuite_emulator.settings("oauth2")), "NETSUITE_CONCURRENCY": "5"}


@pytest.fixture(scope="module")
def erp(ns_env) -> Iterator[Any]:
    with closing(erp_resource_from_settings(ns_env).port()) as port:
        yield port


@pytest.fixture(scope="module")
def shop(sandbox, client, erp, netsuite_emulator) -> NetSuiteShop:
    return NetSuiteShop(sandbox, client, erp, netsuite_emulator.staff)


@pytest.fixture
def faults(netsuite_emulator) -> Iterator[Any]:
    """The emulator's fault switches, cleared after the test."""
    yield netsuite_emulator
    netsuite_emulator.clear_faults()
    netsuite_emulator.wait_idle()


def _place(shop: NetSuiteShop, ledger: Ledger, tag: str, methods: Sequence[str],
           sku: str = "SKU-NUTS-L") -> list[str]:
    buyer = shop.demo(BUYER)
    shop.link(ledger, buyer)
    return [shop.place(buyer, [(sku, 12)], method, po=f"PO-{tag}-{n}") for n, method in enumerate(methods)]


# --- orders -------------------------------------------------------------------------------------------------


def test_each_purchase_becomes_one_netsuite_sales_order_routed_by_payment_method(shop, ledger, erp, client):
    pids = _place(shop, ledger, "NS", ["invoice", "on_account", "platform_upfront"])
    report = OrderSync(ledger, erp).run(fetch_requested(client, pids, None))

    assert report.counts["created"] == 3
    assert shop.erp_order_count(pids) == {pid: 1 for pid in pids}
    orders = {pid: shop.sales_order(pid) for pid in pids}
    assert [orders[pid]["orderStatus"]["id"] for pid in pids] == ["B", "A", "B"]  # on account: pending approval
    assert [orders[pid]["otherRefNum"] for pid in pids] == ["PO-NS-0", "PO-NS-1", "PO-NS-2"]
    links = ledger.order_links_for(pids)
    assert [links[pid].sync_state for pid in pids] == [SyncState.COMMITTED, SyncState.PENDING_APPROVAL,
                                                        SyncState.COMMITTED]
    assert all(str(links[pid].erp_order_id) == str(orders[pid]["id"]) for pid in pids)

    followup = OrderFollowup(ledger, erp, client)
    followup.approve()  # no credit limit: the pending order is approved in NetSuite
    assert shop.sales_order(pids[1])["orderStatus"]["id"] == "B"
    followup.write_back_status()
    assert all(shop.purchase(pid).status == "processing" for pid in pids)
    assert {shop.purchase(pid).identifiers.get("internal") for pid in pids} == {
        orders[pid]["tranId"] for pid in pids}

    again = OrderSync(ledger, erp).run(fetch_requested(client, pids, None))  # nothing new
    assert again.counts["created"] == 0 and shop.erp_order_count(pids) == {pid: 1 for pid in pids}


def test_a_429_storm_and_a_tight_concurrency_limit_still_make_one_order_each(shop, ledger, erp, client, faults):
    pids = _place(shop, ledger, "STORM", ["invoice", "invoice", "on_account", "invoice"], sku="SKU-CHOC-L")
    purchases = fetch_requested(client, pids, None)
    faults.set_faults(concurrency_limit=1, rate_limit_next=3, rate_limit_rate=0.2, seed=11)

    report = OrderSync(ledger, erp).run(purchases)

    injected = dict(faults.emulator.faults.injected)
    faults.clear_faults()
    assert injected.get("rate_limit", 0) >= 3, injected  # the storm happened (and any concurrency refusals)
    assert report.counts["created"] == 4
    assert shop.erp_order_count(pids) == {pid: 1 for pid in pids}


def test_an_answer_lost_after_netsuite_committed_the_write_is_repaired_without_a_duplicate(shop, ledger, erp,
                                                                                            client, faults):
    pids = _place(shop, ledger, "LOST", ["invoice", "on_account"], sku="SKU-FLAP-L")
    purchases = fetch_requested(client, pids, None)
    faults.set_faults(drop_after_commit_next=1)

    with contextlib.suppress(Exception):  # a run may fail technically; the next one repairs it
        OrderSync(ledger, erp).run(purchases)
    report = OrderSync(ledger, erp).run(fetch_sweep(client, ledger, utc_now()))

    assert shop.erp_order_count(pids) == {pid: 1 for pid in pids}
    links = ledger.order_links_for(pids)
    assert all(links[pid].erp_order_id for pid in pids), (links, report.counts)


def test_a_process_killed_between_the_netsuite_write_and_the_ledger_write_creates_no_duplicate(
        shop, ledger, ledger_url, sandbox, ns_env, erp, client):
    pids = _place(shop, ledger, "CRASH", ["invoice", "on_account"])
    worker = subprocess.run(
        [sys.executable, "-m", "sparklayer_erp_tests.orders.test_netsuite_end_to_end", "crash", ledger_url,
         sandbox.base_url, *pids],
        cwd=REPO, env={**os.environ, **ns_env}, capture_output=True, timeout=120)

    assert worker.returncode == -9, worker.stderr.decode()[-2000:]
    assert shop.erp_order_count(pids) == {pid: 1 for pid in pids}  # NetSuite has them ...
    links = ledger.order_links_for(pids)
    assert all(link.sync_state == SyncState.CLAIMED and link.erp_order_id is None for link in links.values())

    # ... the next sweep finds the half-done claims and recovers them instead of creating again
    report = OrderSync(ledger, erp).run(fetch_sweep(client, ledger, utc_now()))
    recovered = {r.purchase_id: r for r in report.results if r.purchase_id in pids}
    assert set(recovered) == set(pids) and all(r.recovered for r in recovered.values())
    assert shop.erp_order_count(pids) == {pid: 1 for pid in pids}
    links = ledger.order_links_for(pids)
    assert [links[pid].sync_state for pid in pids] == [SyncState.COMMITTED, SyncState.PENDING_APPROVAL]


def test_two_runs_for_the_same_batch_at_once_create_each_order_once(shop, ledger, ledger_url, sandbox, ns_env):
    pids = _place(shop, ledger, "RACE", ["invoice", "invoice", "on_account", "platform_upfront"],
                  sku="SKU-COLA-L")
    barrier = threading.Barrier(2)
    reports, errors = [], []

    def run() -> None:
        try:
            with Ledger(ledger_url) as own, SparkLayerClient(sandbox.base_url, **SITE) as own_client, \
                    closing(erp_resource_from_settings(ns_env).port()) as port:
                purchases = fetch_requested(own_client, pids, None)
                barrier.wait()
                reports.append(OrderSync(own, port).run(purchases))
        except Exception as exc:  # noqa: BLE001 - surfaced below
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
    # both runs answer with the one NetSuite order (the loser's create is refused as a duplicate external id
    # and answered with the existing order), and the ledger links every purchase to it
    by_run = [{r.purchase_id: r.erp_number for r in report.results} for report in reports]
    orders = {pid: shop.sales_order(pid) for pid in pids}
    assert all({pid: run.get(pid) for pid in pids} == {pid: o["tranId"] for pid, o in orders.items()}
               for run in by_run), (by_run, orders)
    with Ledger(ledger_url) as own:
        assert {pid: str(link.erp_order_id) for pid, link in own.order_links_for(pids).items()} == {
            pid: str(o["id"]) for pid, o in orders.items()}


# --- master data --------------------------------------------------------------------------------------------


def test_master_data_goes_from_netsuite_to_the_shop(ns_env, tmp_path):
    from sparklayer_erp.demo.sandbox.server import run_sandbox
    from sparklayer_erp.masterdata.assets import MASTERDATA_ASSETS, MASTERDATA_CHECKS

    erp_resource = ErpResource(adapter="netsuite", netsuite_concurrency=5, **{
        name: ns_env.get(env, "") for name, env in _netsuite_fields().items() if name != "netsuite_concurrency"})
    with run_sandbox(tmp_path / "shop.sqlite") as shop_sandbox, dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(
            [*MASTERDATA_ASSETS, *MASTERDATA_CHECKS], instance=instance, raise_on_error=False,
            resources={
                "erp": erp_resource,
                "ledger": LedgerResource(database_url=f"sqlite:///{tmp_path / 'ledger.sqlite'}"),
                "sparklayer": SparkLayerResource(base_url=shop_sandbox.base_url, **_site(), requests_per_second="1000"),
                "policy": PolicyResource(stock_safety_buffer="0"),
                "io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path / "io")),
            })
        assert result.success
        failed = [e.check_name for e in result.get_asset_check_evaluations() if not e.passed]
        assert not failed, failed
        with SparkLayerClient(shop_sandbox.base_url, **SITE) as shop_client:
            for demo in demo_data.CUSTOMERS:
                customer = shop_client.get_customer("email", demo.email)
                assert customer.accounting_id == demo.account_code
                held = customer.group == contract.CREDIT_HOLD_GROUP
                assert held is demo.on_credit_hold, demo.account_code
        stock = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
        assert {"erp_customers", "erp_prices", "erp_stock", "sparklayer_customers", "sparklayer_price_lists",
                "sparklayer_stock"} <= stock


def _netsuite_fields() -> dict[str, str]:
    from sparklayer_erp.resources import _NETSUITE_FIELDS

    return dict(_NETSUITE_FIELDS)


def _site() -> dict[str, str]:
    return {"site_id": SITE["site_id"], "client_id": SITE["client_id"], "client_secret": SITE["client_secret"]}


# --- monitoring ----------------------------------------------------------------------------------------------


def test_drift_rules_fire_on_netsuite_situations_and_spare_a_healthy_order(shop, ledger, erp, client, sandbox,
                                                                          netsuite_emulator):
    from sparklayer_erp.domain.drift import DriftConfig
    from sparklayer_erp.monitoring.watch import MonitorSettings, erp_label, run_drift

    shipped, cancelled_late, healthy = _place(shop, ledger, "DRIFT", ["invoice", "invoice", "invoice"],
                                              sku="SKU-AJ-L")
    OrderSync(ledger, erp).run(fetch_requested(client, [shipped, cancelled_late, healthy], None))
    staff = netsuite_emulator.staff
    staff.ship(int(shop.sales_order(shipped)["id"]), ("1ZDRIFT",))  # shipped, not yet shown in the shop
    staff.ship(int(shop.sales_order(cancelled_late)["id"]), (), ship_status="A")  # picked: point of no return
    sandbox.admin.cancel_order(cancelled_late)  # ... and then the buyer cancels in the shop
    OrderSync(ledger, erp).run(fetch_requested(client, [cancelled_late], None))

    config = DriftConfig(stuck_after=dt.timedelta(0), status_grace=dt.timedelta(0),
                         payment_grace=dt.timedelta(0), stale_after={})
    _, outcome = run_drift(client, erp, ledger, config, MonitorSettings(pending_grace=dt.timedelta(0)))

    late = erp.order_status([ledger.get_order_link(cancelled_late).erp_order_id])[0]
    found = {(p.kind, p.entity_id) for p in outcome.problems}
    assert {("status_mismatch", shipped), ("erp_order_orphaned", erp_label(late))} <= found, found
    assert not {entity for _, entity in found if entity == healthy}, "a healthy order must never be reported"


# --- month-end ------------------------------------------------------------------------------------------------


def test_month_end_reconciles_this_months_orders_against_netsuite(shop, ledger, ledger_url, erp, client, sandbox,
                                                                 ns_env, netsuite_emulator, tmp_path):
    from sparklayer_erp.month_end.assets import month_end_reconciliation, month_is_close_ready
    from sparklayer_erp.settings import read

    paid, pending, open_order = _place(shop, ledger, "MONTH", ["invoice", "on_account", "invoice"],
                                       sku="SKU-PRTZ-L")
    OrderSync(ledger, erp).run(fetch_requested(client, [paid, pending, open_order], None))
    staff = netsuite_emulator.staff
    order_id = int(shop.sales_order(paid)["id"])
    staff.ship(order_id, ("1ZMONTHEND",))  # warehouse ships, accounts receivable bills, the customer pays
    staff.pay(staff.invoice(order_id))

    fields = {name: ns_env.get(env, "") for name, env in _netsuite_fields().items() if name != "netsuite_concurrency"}
    resources = {
        "ledger": LedgerResource(database_url=ledger_url),
        "sparklayer": SparkLayerResource(base_url=sandbox.base_url, **_site(), requests_per_second="100"),
        "erp": ErpResource(adapter="netsuite", netsuite_concurrency=5, **fields),
        "policy": PolicyResource(data_dir=str(tmp_path)),
        "alerts": AlertsResource(),
    }
    zone = ZoneInfo(str(read("COMPANY_TIMEZONE")))
    partition = dt.datetime.now(zone).date().replace(day=1).isoformat()
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize([month_end_reconciliation, month_is_close_ready], partition_key=partition,
                                resources=resources, instance=instance, raise_on_error=False)
        (materialization,) = result.get_asset_materialization_events()  # the pack, whatever it says
        (close_check,) = result.get_asset_check_evaluations()  # (other tests' orders share the shop's month)
        value = result.asset_value(dg.AssetKey("month_end_reconciliation"))
    assert materialization.asset_key == dg.AssetKey("month_end_reconciliation")
    assert close_check.check_name == "month_is_close_ready"
    classes = dict(zip(value.orders["purchase_id"], value.orders["recon_class"], strict=True))
    assert (classes[paid], classes[pending], classes[open_order]) == (
        "settled", "pending_approval", "committed_not_invoiced")


# --- the crashing sync process ------------------------------------------------------------------------------


def _crash(ledger_url: str, sandbox_url: str, purchase_ids: Sequence[str]) -> None:
    """A sync that dies (SIGKILL) right after NetSuite created the orders, before the ledger heard of it."""
    port = erp_resource_from_settings().port()
    real_create = port.create_orders

    def create_then_die(drafts: Sequence[ErpOrderDraft]) -> list[CreateResult]:
        real_create(drafts)  # NetSuite has the orders ...
        os.kill(os.getpid(), signal.SIGKILL)  # ... and the process is gone before anything else happens
        raise AssertionError("unreachable")

    port.create_orders = create_then_die  # type: ignore[method-assign]
    with SparkLayerClient(sandbox_url, **SITE) as crash_client:
        OrderSync(Ledger.from_url(ledger_url), port).run(
            fetch_requested(crash_client, list(purchase_ids), None))
    raise SystemExit("the sync finished although it should have been killed: " + json.dumps(list(purchase_ids)))


if __name__ == "__main__":
    if sys.argv[1:2] == ["crash"]:
        _crash(sys.argv[2], sys.argv[3], sys.argv[4:])
