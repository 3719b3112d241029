"""Monitoring and month-end fixtures: a private ERP and a private shop per test module.

Why private (not the session's shared Tryton): drift and reconciliation judge *every* order in the ERP's
SparkLayer shop, so another module's orders (whose purchases live in another sandbox) would be "claiming an
unknown SparkLayer order" here. A copy of the seeded ERP costs ~3 s to start.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sparklayer_erp.demo import demo_data
from sparklayer_erp.demo.sandbox.server import SandboxHandle
from sparklayer_erp.demo.tryton_local import TrytonServer, start_server
from sparklayer_erp.erp.tryton.adapter import TrytonErp
from sparklayer_erp.erp.tryton.rpc import TrytonRpc
from sparklayer_erp.ledger import Ledger
from sparklayer_erp.resources import (
    AlertsResource,
    ErpResource,
    LedgerResource,
    PolicyResource,
    SparkLayerResource,
)
from sparklayer_erp.sparklayer.client import SparkLayerClient
from sparklayer_erp_tests import fixtures_erp
from sparklayer_erp_tests.orders.shop import SITE, Shop

# The shared ERP fixtures, here on this module's private ``erp_server`` (below).
erp = fixtures_erp.erp
wh = fixtures_erp.wh
admin = fixtures_erp.admin_rpc  # the scenarios call the ERP admin ``admin``
sandbox = fixtures_erp.sandbox


@pytest.fixture(scope="module")
def erp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrytonServer]:
    server = start_server(db_copy_dir=tmp_path_factory.mktemp("tryton-private"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def client(sandbox: SandboxHandle) -> Iterator[SparkLayerClient]:
    with fixtures_erp.shop_client(sandbox, timeout=10.0) as c:
        yield c


@pytest.fixture(scope="module")
def shop(sandbox: SandboxHandle, client: SparkLayerClient, erp: TrytonErp, admin: TrytonRpc) -> Shop:
    return Shop(sandbox, client, erp, admin)


@pytest.fixture(scope="module")
def ledger_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One ledger per module: the scenarios of a module build on each other, like a working day."""
    return f"sqlite:///{tmp_path_factory.mktemp('ledger')}/ledger-{uuid.uuid4().hex[:6]}.sqlite"


@pytest.fixture(scope="module")
def ledger(ledger_url: str) -> Iterator[Ledger]:
    store = Ledger.from_url(ledger_url)
    for c in demo_data.CUSTOMERS:  # what the master-data customers push records for every ERP customer
        store.upsert_customer_link(c.account_code, c.sparklayer_id, c.platform_id, c.email)
    yield store
    store.close()


def resources_for(ledger_url: str, sandbox: SandboxHandle, server: TrytonServer, data_dir: Path,
                  alerts: AlertsResource | None = None, stuck_minutes: int = 0) -> dict:
    return {
        "ledger": LedgerResource(database_url=ledger_url),
        "sparklayer": SparkLayerResource(base_url=sandbox.base_url, site_id=SITE["site_id"],
                                         client_id=SITE["client_id"], client_secret=SITE["client_secret"],
                                         requests_per_second="100"),
        "erp": ErpResource(url=server.url, database=server.db_name, login=server.login, password=server.password),
        "policy": PolicyResource(price_policy="hold_for_finance", price_tolerance="0.01",
                                 stuck_order_minutes=str(stuck_minutes), data_dir=str(data_dir)),
        "alerts": alerts or AlertsResource(),
    }
