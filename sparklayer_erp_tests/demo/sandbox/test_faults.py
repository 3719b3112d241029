"""Every fault switch, observed from the client side over a real socket."""

from __future__ import annotations

import time

import httpx
import pytest

from sparklayer_erp.demo.sandbox.admin import SandboxRejected
from sparklayer_erp.demo.sandbox.server import SandboxHandle
from sparklayer_erp.sparklayer import contract
from sparklayer_erp_tests.demo.sandbox.helpers import CREDENTIALS, SITE

GROUPS = "/api/v1/customer-groups"


def test_rate_limit_for_the_next_n_requests_with_retry_after(api: httpx.Client, sandbox: SandboxHandle) -> None:
    sandbox.admin.set_faults(rate_limit_next=2, retry_after_s=7)
    first, second, third = (api.get(GROUPS) for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (429, 429, 200)
    assert first.headers["Retry-After"] == "7"
    assert first.headers["content-type"] == "application/problem+json" and first.json()["status"] == 429
    assert sandbox.admin.faults()["injected"] == {"rate_limit": 2}


def test_server_errors_by_rate_are_reproducible_with_a_seed(api: httpx.Client, sandbox: SandboxHandle) -> None:
    def statuses() -> list[int]:
        sandbox.admin.set_faults(seed=42, server_error_rate=0.5, server_error_status=502)
        return [api.get(GROUPS).status_code for _ in range(16)]

    first = statuses()
    assert set(first) == {200, 502}
    assert statuses() == first


def test_server_errors_for_the_next_n(api: httpx.Client, sandbox: SandboxHandle) -> None:
    sandbox.admin.set_faults(server_error_next=1)
    assert api.get(GROUPS).status_code == 503
    assert api.get(GROUPS).status_code == 200


def test_added_latency(api: httpx.Client, sandbox: SandboxHandle) -> None:
    sandbox.admin.set_faults(latency_ms=250)
    started = time.perf_counter()
    assert api.get(GROUPS).status_code == 200
    assert time.perf_counter() - started >= 0.25
    sandbox.admin.clear_faults()
    started = time.perf_counter()
    api.get(GROUPS)
    assert time.perf_counter() - started < 0.25


def test_concurrent_update_conflict_hits_writes_only(api: httpx.Client, sandbox: SandboxHandle) -> None:
    sandbox.admin.set_faults(conflict_next=1)
    assert api.get(GROUPS).status_code == 200
    body = {"slug": "L1", "name": "L1", "currency_code": "GBP"}
    conflict = api.post("/api/v1/price-lists", json=body)
    assert conflict.status_code == 409
    assert conflict.json()["errors"][0]["code"] == contract.RETRYABLE_409_CODE
    assert api.post("/api/v1/price-lists", json=body).status_code == 201  # the retry succeeds
    log = sandbox.admin.writes()
    assert [(w["status"], w["fault"]) for w in log] == [(409, "conflict"), (201, None)]


def test_dropped_connection_gets_no_response_at_all(api: httpx.Client, sandbox: SandboxHandle) -> None:
    sandbox.admin.set_faults(drop_next=1)
    with pytest.raises(httpx.RemoteProtocolError):
        api.get(GROUPS)
    assert api.get(GROUPS).status_code == 200


def test_token_endpoint_is_spared_unless_asked(sandbox: SandboxHandle) -> None:
    token_url = sandbox.base_url + "/api/auth/token"
    sandbox.admin.set_faults(rate_limit_next=1)
    assert httpx.post(token_url, headers={"Site-Id": SITE}, json=CREDENTIALS).status_code == 200
    sandbox.admin.set_faults(include_token_endpoint=True)
    assert httpx.post(token_url, headers={"Site-Id": SITE}, json=CREDENTIALS).status_code == 429


def test_path_prefix_limits_faults_and_python_switches_work_too(api: httpx.Client, sandbox: SandboxHandle) -> None:
    sandbox.sandbox.set_faults(server_error_next=1, path_prefix="/api/v1/purchases")
    assert api.get(GROUPS).status_code == 200
    assert api.get("/api/v1/purchases").status_code == 503


def test_bad_switches_are_rejected(sandbox: SandboxHandle) -> None:
    for switches in ({"rate_limit_rate": 2}, {"server_error_status": 404}, {"no_such_switch": 1},
                     {"drop_next": -1}):
        with pytest.raises(SandboxRejected) as refused:
            sandbox.admin.set_faults(**switches)
        assert refused.value.status == 400
