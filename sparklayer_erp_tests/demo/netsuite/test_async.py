"""Asynchronous requests with jobs, and the idempotency key."""

from __future__ import annotations

import uuid

from sparklayer_erp_tests.demo.netsuite.helpers import error_code, order_body
from sparklayer_erp_tests.netsuite_fixtures import NetSuiteEmulator


def test_respond_async_returns_a_job_whose_result_is_the_record(netsuite: NetSuiteEmulator) -> None:
    body = order_body(netsuite)
    response = netsuite.staff.request("POST", "/record/v1/salesOrder", json_body=body,
                                      headers={"Prefer": "respond-async"})
    assert response.status_code == 202 and response.headers["Preference-Applied"] == "respond-async"
    job_path = response.headers["Location"].removeprefix("/services/rest")
    job = netsuite.staff.request("GET", job_path).json()
    assert job["completed"] is True and job["progress"] == "succeeded"
    task = netsuite.staff.request("GET", f"{job_path}/task/1").json()
    assert task["progress"] == "succeeded"
    result = netsuite.staff.request("GET", f"{job_path}/task/1/result").json()
    assert result["externalId"] == body["externalId"]


def test_a_repeated_idempotency_key_is_refused_with_the_first_job(netsuite: NetSuiteEmulator) -> None:
    key = str(uuid.uuid4())
    headers = {"Prefer": "respond-async", "X-NetSuite-Idempotency-Key": key}
    first = netsuite.staff.request("POST", "/record/v1/salesOrder", json_body=order_body(netsuite), headers=headers)
    second = netsuite.staff.request("POST", "/record/v1/salesOrder", json_body=order_body(netsuite), headers=headers)
    assert second.status_code == 400 and error_code(second) == "IDEMPOTENCY_ERROR"
    assert second.headers["Location"] == first.headers["Location"]
    sync = netsuite.staff.request("POST", "/record/v1/salesOrder", json_body=order_body(netsuite),
                                  headers={"X-NetSuite-Idempotency-Key": key})
    assert sync.status_code == 204  # the key is ignored on synchronous calls


def test_a_failed_async_request_reports_failure(netsuite: NetSuiteEmulator) -> None:
    response = netsuite.staff.request("POST", "/record/v1/salesOrder", json_body={"entity": {"id": "1"}},
                                      headers={"Prefer": "respond-async"})
    job_path = response.headers["Location"].removeprefix("/services/rest")
    assert netsuite.staff.request("GET", job_path).json()["progress"] == "failed"
    assert netsuite.staff.request("GET", f"{job_path}/task/1/result").status_code == 400
