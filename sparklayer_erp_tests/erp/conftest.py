"""Fixtures for the adapter tests; ``tryton_server`` is the session server from the root conftest."""
from __future__ import annotations

import uuid

import pytest

from sparklayer_erp_tests import fixtures_erp

# The shared ERP fixtures, on the session's Tryton.
erp_server = fixtures_erp.erp_server
erp = fixtures_erp.erp
wh = fixtures_erp.wh
admin_rpc = fixtures_erp.admin_rpc


@pytest.fixture
def uid() -> str:
    """A unique prefix: tests share one ERP database and isolate themselves by data."""
    return uuid.uuid4().hex[:10]
