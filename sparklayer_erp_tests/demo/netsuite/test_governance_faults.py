"""Concurrency governance (429 above the limit) and the run-time fault switches."""

from __future__ import annotations

import threading

import httpx
import pytest

from sparklayer_erp.demo import demo_data
from sparklayer_erp.demo.netsuite.server import run_emulator
from sparklayer_erp.demo.netsuite.staff import NetSuiteStaff
from sparklayer_erp_tests.demo.netsuite.helpers import error_code, order_body
from sparklayer_erp_tests.netsuite_fixtures import NetSuiteEmulator


def test_requests_above_the_concurrency_limit_get_429(netsuite: NetSuiteEmulator) -> None:
    token = netsuite.staff.token()
    netsuite.wait_idle()
    netsuite.set_faults(concurrency_limit=2, latency_ms=600)
    statuses: list[httpx.Response] = []
    barrier = threading.Barrier(5)

    def call() -> None:
        barrier.wait()
        statuses.append(httpx.get(f"{netsuite.base_url}/services/rest/record/v1/customer/eid:C1001",
                                  headers={"Authorization": f"Bearer {token}"}, timeout=10))

    threads = [threading.Thread(target=call) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    refused = [r for r in statuses if r.status_code == 429]
    codes = sorted(r.status_code for r in statuses)
    assert codes == [200, 200, 429, 429, 429], [r.text for r in statuses]
    body = refused[0].json()
    assert body["o:errorCode"] == "USER_ERROR" and error_code(refused[0]) == "CONCURRENCY_LIMIT_EXCEEDED"
    assert "Retry-After" not in refused[0].headers
    limits = netsuite.staff.request("GET", "/system/v1/governanceLimits").json()
    assert limits["accountConcurrencyLimit"] == 2


@pytest.mark.parametrize(("switch", "status", "code"), [("rate_limit_next", 429, "CONCURRENCY_LIMIT_EXCEEDED"),
                                                        ("server_error_next", 500, "UNEXPECTED_ERROR")])
def test_forced_faults_fire_exactly_n_times(netsuite: NetSuiteEmulator, switch: str, status: int, code: str) -> None:
    netsuite.staff.token()
    netsuite.set_faults(**{switch: 2})
    responses = [netsuite.staff.request("GET", "/record/v1/customer/eid:C1001") for _ in range(3)]
    assert [r.status_code for r in responses] == [status, status, 200]
    assert error_code(responses[0]) == code


def test_fault_share_is_deterministic_for_a_seed(netsuite: NetSuiteEmulator) -> None:
    netsuite.staff.token()
    runs = []
    for _ in range(2):
        netsuite.set_faults(rate_limit_rate=0.5, seed=7)
        runs.append([netsuite.staff.request("GET", "/record/v1/customer/eid:C1001").status_code for _ in range(8)])
    assert runs[0] == runs[1] and {429, 200} == set(runs[0])


def test_drop_after_commit_leaves_the_order_findable_by_eid(netsuite: NetSuiteEmulator) -> None:
    body = order_body(netsuite)
    netsuite.staff.token()
    netsuite.set_faults(drop_after_commit_next=1)
    with pytest.raises(httpx.RemoteProtocolError):
        netsuite.staff.request("POST", "/record/v1/salesOrder", json_body=body)
    assert netsuite.staff.get("salesOrder", f"eid:{body['externalId']}")["externalId"] == body["externalId"]
    again = netsuite.staff.request("POST", "/record/v1/salesOrder", json_body=body)
    assert again.status_code == 400  # the retry without a re-read would be refused, not duplicated


def test_dropped_connection_does_nothing(netsuite: NetSuiteEmulator) -> None:
    body = order_body(netsuite)
    netsuite.staff.token()
    netsuite.set_faults(drop_next=1)
    with pytest.raises(httpx.RemoteProtocolError):
        netsuite.staff.request("POST", "/record/v1/salesOrder", json_body=body)
    assert netsuite.staff.request("GET", f"/record/v1/salesOrder/eid:{body['externalId']}").status_code == 404


def test_delay_after_commit_times_out_a_client_but_commits(netsuite: NetSuiteEmulator) -> None:
    body = order_body(netsuite)
    token = netsuite.staff.token()
    netsuite.set_faults(delay_after_commit_ms=1500)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{netsuite.base_url}/services/rest/record/v1/salesOrder", json=body,
                   headers={"Authorization": f"Bearer {token}"}, timeout=0.5)
    netsuite.clear_faults()
    assert netsuite.staff.request("GET", f"/record/v1/salesOrder/eid:{body['externalId']}").status_code == 200


def test_bad_fault_switches_are_refused(netsuite: NetSuiteEmulator) -> None:
    response = httpx.put(f"{netsuite.base_url}/_emulator/faults", json={"no_such_switch": 1})
    assert response.status_code == 400
    assert httpx.put(f"{netsuite.base_url}/_emulator/faults", json={"rate_limit_rate": 2}).status_code == 400


def test_reset_reseeds_the_demo_company(tmp_path) -> None:
    with run_emulator(tmp_path / "ns.sqlite") as handle:
        staff = NetSuiteStaff(handle.base_url)
        staff.patch("customer", "eid:C1003", {"companyName": "Changed"})
        staff.reset()
        assert staff.get("customer", "eid:C1003")["companyName"] == "Corner Shop Co"
        assert len(staff.suiteql("SELECT id FROM customer")) == len(demo_data.CUSTOMERS)
        staff.close()
