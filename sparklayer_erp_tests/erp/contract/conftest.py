"""``erp_under_contract``: every adapter of the port, each with the back office of its ERP.

Parametrised by adapter ("tryton": the real local Tryton server; "netsuite": the NetSuite emulator), module
scoped so each module runs once per adapter on one login. Tests use ``erp_port`` and ``office``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, closing
from typing import Any, NamedTuple

import pytest

from sparklayer_erp.erp.port import ErpPort
from sparklayer_erp_tests.erp.contract.back_office import BackOffice


class ErpUnderContract(NamedTuple):
    port: ErpPort
    office: BackOffice


def _tryton(request: pytest.FixtureRequest, stack: ExitStack) -> ErpUnderContract:
    from sparklayer_erp.erp.tryton.adapter import TrytonErp
    from sparklayer_erp_tests.erp import warehouse
    from sparklayer_erp_tests.erp.contract.tryton_office import TrytonBackOffice

    server = request.getfixturevalue("tryton_server")
    port = stack.enter_context(closing(TrytonErp(server.url, server.db_name, server.login, server.password)))
    person = stack.enter_context(closing(warehouse.person(server)))
    admin = stack.enter_context(closing(warehouse.admin(server)))
    return ErpUnderContract(port, TrytonBackOffice(person, admin))


def _netsuite(request: pytest.FixtureRequest, stack: ExitStack) -> ErpUnderContract:
    from sparklayer_erp_tests.erp.contract.netsuite_office import netsuite_under_contract

    return netsuite_under_contract(request, stack)


_OPEN: dict[str, Any] = {"tryton": _tryton, "netsuite": _netsuite}


@pytest.fixture(scope="module", params=[pytest.param("tryton", marks=pytest.mark.tryton), "netsuite"])
def erp_under_contract(request: pytest.FixtureRequest) -> Iterator[ErpUnderContract]:
    """(port, back office) of one adapter, on an ERP seeded with the demo company."""
    with ExitStack() as stack:
        yield _OPEN[request.param](request, stack)


@pytest.fixture
def erp_port(erp_under_contract: ErpUnderContract) -> ErpPort:
    return erp_under_contract.port


@pytest.fixture
def office(erp_under_contract: ErpUnderContract) -> BackOffice:
    return erp_under_contract.office
