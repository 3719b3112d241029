"""Resources with a lifecycle: one SparkLayer token per API client and process, one ERP login per run.

Real parts only: the sandbox counts the tokens it issues (``/_sandbox/tokens``), the local Tryton is the ERP and
its logins are counted where the integration calls ``common.db.login`` (``TrytonRpc.login``, wrapped, not
replaced).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import dagster as dg
import pytest

from sparklayer_erp.demo.sandbox.server import SandboxHandle, run_sandbox
from sparklayer_erp.erp.tryton.rpc import TrytonRpc
from sparklayer_erp.masterdata.assets import erp_customers, erp_items, erp_stock
from sparklayer_erp.orders.sensor import order_sensor
from sparklayer_erp.resources import ErpResource, LedgerResource, PolicyResource, SparkLayerResource
from sparklayer_erp.sparklayer import contract
from sparklayer_erp.sparklayer.client import SparkLayerClient, TokenCache
from sparklayer_erp.sparklayer.clock import ManualClock
from sparklayer_erp.sparklayer.errors import SparkLayerAuthError

SITE, CLIENT_ID, SECRET = "demo-site", "demo-client", "demo-secret"
POLL_S = 10  # a sensor interval (ORDER_POLL_SECONDS); the property holds for any interval, 10 s keeps the loop short


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle]:
    with run_sandbox(tmp_path_factory.mktemp("lifecycle") / "sandbox.db") as handle:
        yield handle


@pytest.fixture(autouse=True)
def _no_cached_tokens() -> Iterator[None]:
    TokenCache.clear_all()  # every test counts from an empty process cache
    yield
    TokenCache.clear_all()


def _resources(sandbox: SandboxHandle, tmp_path, tryton=None) -> dict:
    resources = {
        "ledger": LedgerResource(database_url=f"sqlite:///{tmp_path / 'ledger.sqlite'}"),
        "sparklayer": SparkLayerResource(base_url=sandbox.base_url, site_id=SITE, client_id=CLIENT_ID,
                                         client_secret=SECRET, requests_per_second="1000"),
        "policy": PolicyResource(),
    }
    if tryton is not None:
        resources["erp"] = ErpResource(url=tryton.url, database=tryton.db_name, login=tryton.login,
                                       password=tryton.password)
    return resources


def test_a_minute_of_order_sensor_ticks_fetches_one_token(sandbox: SandboxHandle, tmp_path, tryton_server,
                                                          logins: list[str]) -> None:
    resources = _resources(sandbox, tmp_path, tryton_server)  # the full set, as the code location has it
    before = sandbox.admin.tokens_issued()
    cursor = None
    with dg.DagsterInstance.ephemeral() as instance:
        for _ in range(60 // POLL_S + 1):  # a minute of ticks at the sensor's interval, each a fresh set-up
            with dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources) as context:
                result = order_sensor(context)
            cursor = result.cursor
    assert not logins  # the ERP resource is set up and torn down each tick, but nothing asked it for a port
    assert sandbox.admin.tokens_issued() - before == 1  # was one per tick: 8,640 a day at 10 s


def test_an_hour_of_ticks_fetches_one_token_and_renews_it_a_minute_early(sandbox: SandboxHandle) -> None:
    """What every tick does (a new client, one read) on a clock that moves 10 s per tick, for an hour."""
    clock = ManualClock()
    before = sandbox.admin.tokens_issued()
    issued_at: list[float] = []
    for _ in range(contract.TOKEN_LIFETIME_S // POLL_S + 1):
        seen = sandbox.admin.tokens_issued()
        with SparkLayerClient(sandbox.base_url, SITE, CLIENT_ID, SECRET, clock=clock,
                              requests_per_second=None) as client:
            client.get_sync_log("orders")
        if sandbox.admin.tokens_issued() > seen:
            issued_at.append(clock.monotonic())
        clock.advance(POLL_S)
    assert sandbox.admin.tokens_issued() - before == 2  # the first, and its renewal inside the same hour
    start = issued_at[0]
    assert issued_at[1] - start == contract.TOKEN_LIFETIME_S - contract.TOKEN_RENEW_BEFORE_S


def test_threads_share_one_token_and_a_revoked_one_is_renewed_once(sandbox: SandboxHandle) -> None:
    before = sandbox.admin.tokens_issued()
    errors: list[BaseException] = []

    def tick() -> None:
        try:
            with SparkLayerClient(sandbox.base_url, SITE, CLIENT_ID, SECRET, requests_per_second=None) as client:
                client.get_sync_log("orders")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=tick) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and sandbox.admin.tokens_issued() - before == 1

    sandbox.admin.set_faults(revoke_tokens=True)  # the server forgets it: a 401, one renewal, the call retried
    try:
        clients = [SparkLayerClient(sandbox.base_url, SITE, CLIENT_ID, SECRET, requests_per_second=None)
                   for _ in range(2)]
        for client in clients:
            client.get_sync_log("orders")
        assert sandbox.admin.tokens_issued() - before == 2  # the second client got the renewed token
        assert [c.stats.auth_renewals for c in clients] == [1, 0]
    finally:
        sandbox.admin.clear_faults()
        for client in clients:
            client.close()


def test_a_cached_token_is_never_handed_to_a_client_with_another_secret(sandbox: SandboxHandle) -> None:
    with SparkLayerClient(sandbox.base_url, SITE, CLIENT_ID, SECRET, requests_per_second=None) as good:
        good.get_sync_log("orders")
        with SparkLayerClient(sandbox.base_url, SITE, CLIENT_ID, "not-the-secret",
                              requests_per_second=None) as wrong, pytest.raises(SparkLayerAuthError) as refused:
            wrong.get_sync_log("orders")
        assert "not-the-secret" not in str(refused.value)
        before = sandbox.admin.tokens_issued()
        good.get_sync_log("orders")  # the good client's token is still the cached one
        assert sandbox.admin.tokens_issued() == before
    assert "demo-secret" not in repr(TokenCache.shared(sandbox.base_url.rstrip("/"), SITE, CLIENT_ID,
                                                       good._clock))  # noqa: SLF001


@pytest.fixture
def logins(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every ``common.db.login`` the integration makes (the real login runs; it is only counted)."""
    seen: list[str] = []
    real = TrytonRpc.login

    def counted(self: TrytonRpc) -> None:
        seen.append(self.login_name)
        real(self)

    monkeypatch.setattr(TrytonRpc, "login", counted)
    return seen


def test_one_erp_login_per_run_with_several_erp_assets(sandbox: SandboxHandle, tmp_path, tryton_server,
                                                       logins: list[str]) -> None:
    resources = _resources(sandbox, tmp_path, tryton_server)
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize([erp_customers, erp_items, erp_stock], resources=resources, instance=instance)
        assert result.success
        assert len(logins) == 1  # three assets, three `with erp.session()`, one session
        again = dg.materialize([erp_customers, erp_items], resources=resources, instance=instance)
    assert again.success and len(logins) == 2  # the next run logs in afresh (the first run's port was closed)

    erp = resources["erp"]  # outside Dagster each session is its own, closed at the end of the block
    for _ in range(2):
        with erp.session() as port:
            port.find_orders(["NO-SUCH-PURCHASE"])
    assert len(logins) == 4


def test_the_shared_port_is_closed_when_the_run_ends(tryton_server, logins: list[str]) -> None:
    erp = ErpResource(url=tryton_server.url, database=tryton_server.db_name, login=tryton_server.login,
                      password=tryton_server.password)
    with dg.build_resources({"erp": erp}) as res:
        with res.erp.session() as first:
            first.find_orders(["NO-SUCH-PURCHASE"])
        with res.erp.session() as second:
            second.find_orders(["NO-SUCH-PURCHASE"])
        assert first is second and len(logins) == 1
    http = first.rpc._http  # noqa: SLF001 - the adapter's httpx client
    assert http.is_closed
