"""The shared ``tryton_server`` fixture: one real local Tryton on a fresh copy of the seeded DB per session.

Wire it from the root conftest with ``pytest_plugins = ["sparklayer_erp_tests.conftest_tryton"]``. The first
run on a machine builds the Tryton venv and the seeded database (~40 s, cached under .venv-tryton and
.data/tryton); later sessions only copy the database and start the server (~1.5 s).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sparklayer_erp.demo.tryton_local import TrytonServer, start_server


@pytest.fixture(scope="session")
def tryton_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrytonServer]:
    """A running Tryton (``.url``, ``.db_name``, ``.rpc_url``, ``.login``, ``.password``) for the session.

    Tests share it, so they isolate themselves by data (their own purchase ids / PO numbers), not by resets.
    """
    server = start_server(db_copy_dir=tmp_path_factory.mktemp("tryton"))
    try:
        yield server
    finally:
        server.stop()
