"""Fixtures shared by the test directories that drive the real Tryton: the adapter, the people working in
the ERP, and a sandbox shop.

A directory's conftest binds the ones it uses to module names (``name = fixtures_erp.name``; pytest registers
a fixture under the name it is bound to): ``pytest_plugins`` is only allowed in the root conftest, and these
must not reach every test. They work on ``erp_server``: the session's shared Tryton
unless the directory's conftest defines its own (the monitoring tests use a private one per module).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing

import pytest

from sparklayer_erp.demo.sandbox.server import SandboxHandle, run_sandbox
from sparklayer_erp.demo.tryton_local import TrytonServer
from sparklayer_erp.erp.tryton.adapter import TrytonErp
from sparklayer_erp.erp.tryton.rpc import TrytonRpc
from sparklayer_erp.sparklayer.client import SparkLayerClient
from sparklayer_erp_tests.erp import warehouse
from sparklayer_erp_tests.orders.shop import SITE, Shop


@pytest.fixture(scope="session")
def erp_server(tryton_server: TrytonServer) -> TrytonServer:
    """The ERP the fixtures below work on: by default the session's shared Tryton (root conftest)."""
    return tryton_server


@pytest.fixture(scope="module")
def erp(erp_server: TrytonServer) -> Iterator[TrytonErp]:
    with closing(TrytonErp(erp_server.url, erp_server.db_name, erp_server.login, erp_server.password)) as adapter:
        yield adapter


@pytest.fixture(scope="module")
def wh(erp_server: TrytonServer) -> Iterator[TrytonRpc]:
    """A warehouse / finance person in the ERP."""
    with closing(warehouse.person(erp_server)) as rpc:
        yield rpc


@pytest.fixture(scope="module")
def operator(erp_server: TrytonServer) -> Iterator[TrytonRpc]:
    """A person in the ERP who may approve over a credit warning."""
    with closing(warehouse.operator(erp_server)) as rpc:
        yield rpc


@pytest.fixture(scope="module")
def admin_rpc(erp_server: TrytonServer) -> Iterator[TrytonRpc]:
    with closing(warehouse.admin(erp_server)) as rpc:
        yield rpc


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle]:
    with run_sandbox(tmp_path_factory.mktemp("sandbox") / "shop.sqlite") as handle:
        yield handle


def shop_client(sandbox: SandboxHandle, *, timeout: float) -> SparkLayerClient:
    """The integration's SparkLayer client on the sandbox shop, with short back-offs so fault tests stay quick
    (use it as a context manager)."""
    return SparkLayerClient(sandbox.base_url, SITE["site_id"], SITE["client_id"], SITE["client_secret"],
                            requests_per_second=None, backoff_initial_s=0.05, backoff_max_s=0.5, timeout=timeout)


@pytest.fixture(scope="module")
def client(sandbox: SandboxHandle) -> Iterator[SparkLayerClient]:
    """A SparkLayer client of the module's sandbox, as the integration uses it."""
    with shop_client(sandbox, timeout=5.0) as c:
        yield c


@pytest.fixture(scope="module")
def shop(sandbox: SandboxHandle, client: SparkLayerClient, erp: TrytonErp, admin_rpc: TrytonRpc) -> Shop:
    """Buyers placing orders in the sandbox and the ERP side to look at them."""
    return Shop(sandbox, client, erp, admin_rpc)

