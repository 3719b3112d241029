"""One sandbox per test module, served over real loopback HTTP; every test starts from the seeded shop."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sparklayer_erp.demo.sandbox.server import SandboxHandle, run_sandbox
from sparklayer_erp.sparklayer.client import SparkLayerClient
from sparklayer_erp.sparklayer.clock import ManualClock

SITE, CLIENT_ID, SECRET = "demo-site", "demo-client", "demo-secret"
MakeClient = Callable[..., SparkLayerClient]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle]:
    with run_sandbox(tmp_path_factory.mktemp("sparklayer") / "sandbox.db") as handle:
        yield handle


@pytest.fixture
def fresh_shop(sandbox: SandboxHandle) -> Iterator[SandboxHandle]:
    sandbox.admin.reset()  # seeded data back, faults cleared
    yield sandbox
    sandbox.admin.clear_faults()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def make_client(fresh_shop: SandboxHandle, clock: ManualClock) -> Iterator[MakeClient]:
    """Clients on the manual clock (every wait is recorded, none is slept) with pacing off unless asked."""
    made: list[SparkLayerClient] = []

    def make(**options: Any) -> SparkLayerClient:
        options.setdefault("clock", clock)
        options.setdefault("requests_per_second", None)
        options.setdefault("rng", random.Random(7))
        client = SparkLayerClient(
            options.pop("base_url", fresh_shop.base_url),
            SITE,
            CLIENT_ID,
            options.pop("client_secret", SECRET),
            **options,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: MakeClient) -> SparkLayerClient:
    return make_client()
