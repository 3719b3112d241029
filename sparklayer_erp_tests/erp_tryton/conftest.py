"""Fixtures for the adapter tests; ``tryton_server`` is the session server from the root conftest."""
from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from sparklayer_erp.erp.tryton.adapter import TrytonErp
from sparklayer_erp.erp.tryton.rpc import TrytonRpc
from sparklayer_erp_tests.erp_tryton import warehouse


@pytest.fixture(scope="module")
def erp(tryton_server) -> Iterator[TrytonErp]:
    adapter = TrytonErp(tryton_server.url, tryton_server.db_name, tryton_server.login, tryton_server.password)
    yield adapter
    adapter.close()


@pytest.fixture(scope="module")
def wh(tryton_server) -> Iterator[TrytonRpc]:
    """A warehouse / finance person in the ERP."""
    rpc = warehouse.person(tryton_server)
    yield rpc
    rpc.close()


@pytest.fixture(scope="module")
def admin_rpc(tryton_server) -> Iterator[TrytonRpc]:
    rpc = warehouse.admin(tryton_server)
    yield rpc
    rpc.close()


@pytest.fixture
def uid() -> str:
    """A unique prefix: tests share one ERP database and isolate themselves by data."""
    return uuid.uuid4().hex[:10]
