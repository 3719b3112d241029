"""`check` and `order` against the real local stack: Tryton, the SparkLayer sandbox, a SQLite ledger and a
Dagster instance whose daemon heartbeats are written as the daemon writes them."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid

import dagster as dg
import pytest
from dagster._daemon.types import DaemonHeartbeat

from sparklayer_erp import oncall
from sparklayer_erp.cli import cli
from sparklayer_erp.demo.sandbox.server import SandboxHandle
from sparklayer_erp.orders.sync import OrderSync, fetch_requested
from sparklayer_erp_tests import fixtures_erp
from sparklayer_erp_tests.orders.shop import SITE, Shop

pytestmark = [pytest.mark.tryton, pytest.mark.filterwarnings("ignore::dagster.PreviewWarning")]

erp_server = fixtures_erp.erp_server
erp = fixtures_erp.erp
admin_rpc = fixtures_erp.admin_rpc
sandbox = fixtures_erp.sandbox


client = fixtures_erp.client
shop = fixtures_erp.shop


def _beat(home, age_s: float = 0.0) -> None:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for daemon in instance.get_required_daemon_types():
            instance.add_daemon_heartbeat(DaemonHeartbeat(time.time() - age_s, daemon, "test-daemon", []))


@pytest.fixture
def stack_env(monkeypatch: pytest.MonkeyPatch, erp_server, sandbox: SandboxHandle, ledger, tmp_path) -> dict:
    """The environment of a healthy installation pointed at the test stack."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    _beat(home)
    env = {"ERP_URL": erp_server.url, "ERP_DATABASE": erp_server.db_name, "ERP_LOGIN": erp_server.login,
           "ERP_PASSWORD": erp_server.password, "SPARKLAYER_BASE_URL": sandbox.base_url,
           "SPARKLAYER_SITE_ID": SITE["site_id"], "SPARKLAYER_CLIENT_ID": SITE["client_id"],
           "SPARKLAYER_CLIENT_SECRET": SITE["client_secret"], "DAGSTER_HOME": str(home)}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _secrets_absent(output: str, env: dict) -> None:
    for key in ("ERP_PASSWORD", "SPARKLAYER_CLIENT_SECRET"):
        assert env[key] not in output


def test_check_is_all_ok_on_a_healthy_stack(stack_env, runner):
    result = runner.invoke(cli, ["check"])
    print(result.output)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines] == ["OK"] * 5
    assert [line.split(":")[0].split(None, 1)[1] for line in lines] == [
        "settings", "ERP", "SparkLayer", "ledger", "Dagster daemon"]
    _secrets_absent(result.output, stack_env)


def test_check_names_the_erp_when_it_points_at_a_closed_port(stack_env, runner, monkeypatch):
    port = _closed_port()
    monkeypatch.setenv("ERP_URL", f"http://127.0.0.1:{port}")
    result = runner.invoke(cli, ["check"])
    print(result.output)
    assert result.exit_code == 1
    (erp_line,) = [line for line in result.output.splitlines() if line.startswith("FAIL")]
    assert erp_line.startswith("FAIL  ERP:") and f"127.0.0.1:{port}" in erp_line and "cannot reach" in erp_line
    _secrets_absent(result.output, stack_env)


def test_check_reports_wrong_credentials_bad_settings_a_stale_daemon_and_an_old_ledger(stack_env, runner, monkeypatch,
                                                                                      ledger_url, tmp_path):
    monkeypatch.setenv("ERP_PASSWORD", "wrong-password-123")
    monkeypatch.setenv("SPARKLAYER_CLIENT_SECRET", "wrong-secret-456")
    monkeypatch.setenv("ORDER_PAGE_SIZE", "lots")
    old_home = tmp_path / "old_home"
    old_home.mkdir()
    _beat(old_home, age_s=600)
    monkeypatch.setenv("DAGSTER_HOME", str(old_home))
    from sparklayer_erp.ledger import downgrade

    downgrade(ledger_url, "base")
    result = runner.invoke(cli, ["check"])
    print(result.output)
    assert result.exit_code == 1
    failing = {line.split(":")[0].split(None, 1)[1]: line for line in result.output.splitlines()
               if line.startswith("FAIL")}
    assert set(failing) == {"settings", "ERP", "SparkLayer", "ledger", "Dagster daemon"}
    assert "ORDER_PAGE_SIZE" in failing["settings"]
    assert "refused the login" in failing["ERP"] and "401" in failing["SparkLayer"]
    assert "ledger upgrade" in failing["ledger"] and "10 min ago" in failing["Dagster daemon"]
    assert "wrong-password-123" not in result.output and "wrong-secret-456" not in result.output


def test_the_daemon_check_says_when_nothing_is_configured(tmp_path):
    assert "DAGSTER_HOME is not set" in oncall.check_daemon(environ={}).problem
    empty = tmp_path / "home"
    empty.mkdir()
    assert "no heartbeat ever" in oncall.check_daemon(environ={"DAGSTER_HOME": str(empty)}).problem
    _beat(empty)
    assert oncall.check_daemon(environ={"DAGSTER_HOME": str(empty)}).ok
    assert not oncall.check_daemon(now=time.time() + 180, environ={"DAGSTER_HOME": str(empty)}).ok


def test_check_never_loads_the_demo(stack_env, tmp_path):
    probe = ("import sys; from sparklayer_erp.cli import main; main(['check']); "
             "print('DEMO' if any(m.startswith('sparklayer_erp.demo') for m in sys.modules) else 'CLEAN')")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "CLEAN", out.stdout + out.stderr


# --- order ------------------------------------------------------------------------------------------------------


def _sync(ledger, erp, client, pids):
    return {r.purchase_id: r for r in OrderSync(ledger, erp).run(fetch_requested(client, pids, None)).results}


@pytest.fixture
def orders(shop: Shop, ledger, erp, client) -> dict:
    """A held order (customer not linked), a synced one and one cancelled after it reached the ERP."""
    tag = uuid.uuid4().hex[:6].upper()
    linked = shop.demo("C1006")
    shop.link(ledger, linked)
    po = {name: f"PO-CLI-{name.upper()}-{tag}" for name in ("held", "synced", "cancelled")}
    held = shop.place(shop.demo("C1012"), [("SKU-NUTS-L", 12)], "on_account", po=po["held"])
    synced = shop.place(linked, [("SKU-CRSP-L", 12)], "invoice", po=po["synced"])
    cancelled = shop.place(linked, [("SKU-COLA-L", 12)], "invoice", po=po["cancelled"])
    _sync(ledger, erp, client, [held, synced, cancelled])
    shop.cancel(cancelled)
    _sync(ledger, erp, client, [cancelled])
    return {"po": po, "held": held, "synced": synced, "cancelled": cancelled,
            "number": ledger.get_order_link(synced).erp_order_number}


def _order(runner, ref: str):
    result = runner.invoke(cli, ["order", ref])
    print(result.output)
    return result


def test_order_explains_a_held_order_found_by_its_po_number(orders, stack_env, runner, ledger):
    assert f"order {orders['held']}  (found by PO number)" in _order(runner, orders["po"]["held"]).output
    ledger.update_order_link(orders["held"], po_number=None)  # a link from before the ledger kept PO numbers
    try:
        result = _order(runner, orders["po"]["held"])
    finally:
        ledger.update_order_link(orders["held"], po_number=orders["po"]["held"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"order {orders['held']}" in out and "PO number (in the order's exceptions)" in out
    assert "state:         quarantined" in out and "no ERP order yet" in out
    assert "missing_customer_link [sales_operations] open" in out
    assert "writes to other systems (0)" in out


def test_order_shows_a_synced_order_by_erp_number_purchase_id_or_po(orders, stack_env, runner, ledger):
    by_number = _order(runner, orders["number"])
    assert by_number.exit_code == 0, by_number.output
    out = by_number.output
    assert f"order {orders['synced']}  (found by ERP order number)" in out
    assert "state:         committed" in out and f"ERP order:     {orders['number']}" in out
    assert f"order {orders['number']} (id " in out and "): committed" in out
    assert f"PO number: {orders['po']['synced']}" in out
    assert "exceptions (0)" in out and "create_order" in out and " ok " in out
    assert "found by purchase id" in _order(runner, orders["synced"]).output
    assert f"order {orders['synced']}  (found by PO number)" in _order(runner, orders["po"]["synced"]).output
    ledger.update_order_link(orders["synced"], po_number=None)  # a link from before the ledger kept PO numbers
    try:
        assert "PO number (in the ERP order)" in _order(runner, orders["po"]["synced"]).output
    finally:
        ledger.update_order_link(orders["synced"], po_number=orders["po"]["synced"])


def test_order_shows_a_cancelled_order_with_its_writes_in_order(orders, stack_env, runner):
    result = _order(runner, orders["cancelled"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "state:         cancelled" in out and "): cancelled" in out
    writes = out.split("writes to other systems")[1]
    assert writes.index("create_order") < writes.index("cancel_order")


def test_order_still_answers_from_the_ledger_when_the_erp_is_down(orders, stack_env, runner, monkeypatch):
    monkeypatch.setenv("ERP_URL", f"http://127.0.0.1:{_closed_port()}")
    result = _order(runner, orders["synced"])
    assert result.exit_code == 0
    assert "ERP unreachable: ErpTechnicalError" in result.output and "state:         committed" in result.output


def test_an_unknown_order_is_said_plainly(orders, stack_env, runner):
    result = _order(runner, f"PO-NOBODY-{uuid.uuid4().hex[:6]}")
    assert result.exit_code == 1 and "no order found for" in result.output


# --- resend -----------------------------------------------------------------------------------------------------


def test_resend_refuses_a_request_that_does_not_fit_before_anything_runs(stack_env, runner):
    result = runner.invoke(cli, ["resend", "customers", "--sku", "SKU-COLA-L"])
    assert result.exit_code == 1 and "nothing sent" in result.output and "SKUs can only be given" in result.output
    assert runner.invoke(cli, ["resend", "orders"]).exit_code == 2


def test_resend_runs_the_job_on_the_instance_so_it_shows_in_the_ui(stack_env, ledger_url, tmp_path):
    # A process of its own, as on the server: the definitions read the environment when they load.
    env = {**__import__("os").environ, **stack_env, "LEDGER_DATABASE_URL": ledger_url}
    out = subprocess.run([sys.executable, "-m", "sparklayer_erp.cli", "resend", "stock", "--sku", "SKU-COLA-L"],
                         capture_output=True, text=True, timeout=300, env=env)
    print(out.stdout, out.stderr[-2000:])
    assert out.returncode == 0, out.stdout + out.stderr[-3000:]
    assert "resending stock / SKUs SKU-COLA-L with master_data_resend_job" in out.stdout
    with dg.DagsterInstance.from_config(stack_env["DAGSTER_HOME"]) as instance:
        (run,) = instance.get_runs()
    assert run.job_name == "master_data_resend_job" and f"run {run.run_id} succeeded" in out.stdout
