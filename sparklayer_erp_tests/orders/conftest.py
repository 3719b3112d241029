"""Order-to-cash fixtures: the real Tryton (session), a sandbox shop per module, a fresh ledger per test.

Tests share one ERP database with every other module, so they isolate themselves by data: their own
purchases (checked by purchase id), demo customers without a credit limit for committed orders, and fresh
customers (``shop.new_customer``) whenever a test depends on a credit position.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sparklayer_erp.demo.sandbox.server import SandboxHandle
from sparklayer_erp.ledger import Ledger
from sparklayer_erp.resources import ErpResource, LedgerResource, PolicyResource, SparkLayerResource
from sparklayer_erp_tests import fixtures_erp
from sparklayer_erp_tests.orders.shop import SITE

# The shared ERP fixtures, on the session's Tryton.
erp_server = fixtures_erp.erp_server
erp = fixtures_erp.erp
wh = fixtures_erp.wh
operator = fixtures_erp.operator
admin_rpc = fixtures_erp.admin_rpc
sandbox = fixtures_erp.sandbox


client = fixtures_erp.client
shop = fixtures_erp.shop


@pytest.fixture
def ledger_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/ledger-{uuid.uuid4().hex[:6]}.sqlite"


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[Ledger]:
    store = Ledger.from_url(ledger_url)
    yield store
    store.close()


@pytest.fixture
def resources(ledger_url: str, sandbox: SandboxHandle, tryton_server) -> dict:
    """The Dagster resources pointed at this test's ledger, the module's sandbox and the real ERP."""
    return resources_for(ledger_url, sandbox, tryton_server)


def resources_for(ledger_url: str, sandbox: SandboxHandle, tryton_server, *, price_policy: str = "hold_for_finance",
                  page_size: int = 100) -> dict:
    return {
        "ledger": LedgerResource(database_url=ledger_url),
        "sparklayer": SparkLayerResource(base_url=sandbox.base_url, site_id=SITE["site_id"],
                                         client_id=SITE["client_id"], client_secret=SITE["client_secret"],
                                         requests_per_second="100"),
        "erp": ErpResource(url=tryton_server.url, database=tryton_server.db_name, login=tryton_server.login,
                           password=tryton_server.password),
        "policy": PolicyResource(price_policy=price_policy, price_tolerance="0.01", overlap_seconds="120",
                                 page_size=str(page_size)),
    }


