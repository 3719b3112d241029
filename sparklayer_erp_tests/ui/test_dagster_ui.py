"""The Dagster UI a finance person opens: a real ``dagster dev`` on a temporary instance, driven by headless
Chromium (Playwright with Debian's ``/usr/bin/chromium``; Playwright never downloads a browser here).

A month with orders that block the close is reconciled and the exceptions view refreshed into the instance
first; the browser then finds the reconciliation asset, its close-ready check (failed, with who must act) and
the exceptions view, and saves screenshots. ``SPARKLAYER_UPDATE_SCREENSHOTS=1`` also copies them into
``docs/img/`` for the operating guide.

Needs: ``apt-get install -y chromium`` and ``pip install playwright`` (skips, saying so, without them).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import httpx
import pytest

from sparklayer_erp.demo import demo_data
from sparklayer_erp.demo.tryton_local import free_port
from sparklayer_erp.monitoring.assets import drift_monitor, integration_exceptions
from sparklayer_erp.month_end.assets import month_end_reconciliation, month_is_close_ready
from sparklayer_erp.month_end.close import Month
from sparklayer_erp.orders.sync import OrderSync
from sparklayer_erp.settings import REPO_ROOT
from sparklayer_erp_tests.erp import warehouse
from sparklayer_erp_tests.monitoring.conftest import resources_for

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.ui,
    pytest.mark.filterwarnings("ignore::dagster.PreviewWarning"),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="the UI test needs Debian's Chromium at /usr/bin/chromium "
                                                     "(apt-get install -y chromium)"),
    pytest.mark.skipif(importlib.util.find_spec("playwright") is None,
                       reason="the UI test needs the playwright package (pip install playwright; never "
                              "'playwright install': it uses /usr/bin/chromium)"),
]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
DOCS_IMG = REPO_ROOT / "docs" / "img"
COLA = [("SKU-COLA-L", 24)]


def _sync_api():
    from playwright import sync_api  # only imported when present (see pytestmark)

    return sync_api


@pytest.fixture(scope="module")
def dagster_home(tmp_path_factory, shop, ledger, erp, client, wh, sandbox, erp_server, ledger_url) -> Path:
    """An instance holding a month that is not close-ready and a few open exceptions."""
    home = tmp_path_factory.mktemp("dagster_home")
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    buyer = shop.demo("C1006")
    orders = [shop.place(buyer, COLA, m) for m in ("invoice", "invoice", "on_account", "platform_upfront")]
    held = sandbox.admin.place_order(demo_data.UNLINKED_SPARKLAYER_CUSTOMER["id"], COLA, "platform_upfront",
                                     unit_price_overrides={"SKU-COLA-L": "0.75"})["purchase_identifiers"]["sparklayer"]
    OrderSync(ledger, erp).run([client.get_purchase("sparklayer", p) for p in [*orders, held]])
    for pid in (orders[0], orders[3]):  # on terms; and a card order posted before its payment was recorded
        warehouse.post_invoices(wh, ledger.get_order_link(pid).erp_order_id)
    resources = resources_for(ledger_url, sandbox, erp_server, home / "data", stuck_minutes=0)
    partition = Month.containing(client.get_purchase("sparklayer", orders[0]).placed_at).partition_key
    with dg.DagsterInstance.from_config(str(home)) as instance:
        month = dg.materialize([month_end_reconciliation, month_is_close_ready], partition_key=partition,
                               resources=resources, instance=instance, raise_on_error=False)
        assert not month.get_asset_check_evaluations()[0].passed
        assert dg.materialize([drift_monitor, integration_exceptions], resources=resources, instance=instance,
                              run_config={"ops": {"drift_monitor": {"config": {"payment_grace_minutes": 0}}}}).success
    return home


@pytest.fixture(scope="module")
def dagster_dev(dagster_home: Path) -> Iterator[str]:
    """``dagster dev`` (webserver + daemon) on a free port; yields the UI's base URL once the code loaded."""
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home), "PYTHONPATH": str(REPO_ROOT)}
    log = (dagster_home / "dagster-dev.log").open("wb")
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster")), "dev", "-w", str(REPO_ROOT / "workspace.yaml"),
         "-h", "127.0.0.1", "-p", str(port)],
        cwd=dagster_home, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_loaded(base, proc, dagster_home / "dagster-dev.log")
        yield base
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)  # the group this test started: webserver, daemon, code server
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        log.close()


_LOCATIONS = ("{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus "
              "locationOrLoadError { __typename ... on PythonError { message } } } } } }")


def _wait_loaded(base: str, proc: subprocess.Popen, log: Path, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"dagster dev exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            reply = httpx.post(f"{base}/graphql", json={"query": _LOCATIONS}, timeout=10).json()
            entries = reply["data"]["workspaceOrError"]["locationEntries"]
        except (httpx.HTTPError, KeyError, TypeError, ValueError):
            entries = None
        if entries and all(e["loadStatus"] == "LOADED" for e in entries):
            errors = [e["locationOrLoadError"].get("message") for e in entries
                      if (e["locationOrLoadError"] or {}).get("__typename") == "PythonError"]
            assert not errors, f"the code location did not load: {errors}"
            return
        time.sleep(1)
    raise AssertionError(f"dagster dev did not load the code location in {timeout_s:.0f}s")


def _shot(page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=False)
    if os.environ.get("SPARKLAYER_UPDATE_SCREENSHOTS") == "1":
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, DOCS_IMG / name)
    return path


def _dismiss_dialogs(page) -> None:
    """The first visit offers a newsletter dialog; a person would press Skip."""
    skip = page.get_by_role("button", name="Skip")
    try:
        skip.wait_for(timeout=5_000)
        skip.click()
    except Exception:  # noqa: BLE001 - no dialog this time
        pass


def _open_markdown(page, key: str) -> None:
    """Long markdown metadata opens in a dialog from its "[Show Markdown]" link."""
    row = page.locator("tr", has=page.get_by_text(key, exact=True))
    row.get_by_text("[Show Markdown]").first.click()
    page.get_by_role("button", name="Close").wait_for()
    page.wait_for_timeout(1_000)  # let the dialog finish fading in before a screenshot


def test_finance_finds_the_month_its_close_ready_check_and_the_exceptions(dagster_dev: str, tmp_path: Path):
    sync_api = _sync_api()
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.set_default_timeout(90_000)  # the first GraphQL load of the location is slow on 2 cores

            page.goto(f"{dagster_dev}/assets/month_end_reconciliation")
            page.get_by_text("month_end_reconciliation").first.wait_for()
            _dismiss_dialogs(page)
            page.get_by_text("Not close-ready").first.wait_for()  # the summary metadata of the latest run
            overview = _shot(page, tmp_path, "month-end-reconciliation.png")

            page.goto(f"{dagster_dev}/assets/month_end_reconciliation?view=checks")
            page.get_by_text("month_is_close_ready").first.wait_for()
            page.get_by_text("month_is_close_ready").first.click()
            page.get_by_text("who must act").first.wait_for()
            check = _shot(page, tmp_path, "month-is-close-ready-check.png")
            _open_markdown(page, "what_blocks_the_close")
            page.get_by_text("Who must act:").first.wait_for()
            blockers = _shot(page, tmp_path, "what-blocks-the-close.png")

            page.goto(f"{dagster_dev}/assets/month_end_reconciliation")
            _open_markdown(page, "chart")
            page.locator("img[alt='Orders per status']").wait_for()
            chart = _shot(page, tmp_path, "month-end-chart.png")

            page.goto(f"{dagster_dev}/assets/integration_exceptions")
            page.get_by_text("integration_exceptions").first.wait_for()
            page.get_by_text("paid_in_shop_unpaid_in_erp").first.wait_for()
            exceptions = _shot(page, tmp_path, "integration-exceptions.png")
        finally:
            browser.close()
    for shot in (overview, check, blockers, chart, exceptions):
        assert shot.stat().st_size > 10_000  # a rendered page, not a blank one
