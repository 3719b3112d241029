"""One real sandbox (uvicorn on loopback) for the whole package, reset to the seeded shop before each test."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sparklayer_erp.demo.sandbox.server import SandboxHandle, run_sandbox
from sparklayer_erp_tests.demo.sandbox.helpers import SITE, new_token


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle]:
    with run_sandbox(tmp_path_factory.mktemp("sandbox") / "sandbox.sqlite") as handle:
        yield handle


@pytest.fixture(autouse=True)
def _fresh_shop(sandbox: SandboxHandle) -> None:
    sandbox.admin.reset()


@pytest.fixture()
def api(sandbox: SandboxHandle) -> Iterator[httpx.Client]:
    """A client carrying a fresh Bearer token and the Site-Id, as every /api call needs."""
    headers = {"Authorization": f"Bearer {new_token(sandbox.base_url)}", "Site-Id": SITE}
    with httpx.Client(base_url=sandbox.base_url, headers=headers, timeout=10) as client:
        yield client
