"""Sync logging: 404 before the first full sync, replace semantics, error limits, delete-all."""

from __future__ import annotations

import httpx

from sparklayer_erp.demo.sandbox.server import SandboxHandle

PATH = "/api/v1/sync-log/sparklayer-erp/customers"


def test_full_sync_put_get_replace_and_delete(api: httpx.Client, sandbox: SandboxHandle) -> None:
    assert api.get(PATH).status_code == 404
    first = {"started_full_sync": "2025-03-01T10:00:00Z", "last_full_sync": "2025-03-01T10:05:00+00:00",
             "last_full_sync_succeeded": False,
             "errors": [{"external_id": "C1001", "visible_id": "Acme", "message": "no account code"},
                        {"external_id": "C1002", "message": "bad email"}]}
    assert api.put(PATH, json=first).status_code == 200
    status = api.get(PATH).json()
    assert status["error_count"] == 2 and status["last_full_sync_succeeded"] is False
    assert status["last_full_sync"] == "2025-03-01T10:05:00.000000Z"

    second = {"started_full_sync": "2025-03-02T10:00:00Z", "last_full_sync_succeeded": True,
              "errors": [{"external_id": "C1003", "message": "still wrong"}]}
    api.put(PATH, json=second)
    status = api.get(PATH).json()
    assert status["last_full_sync"] is None  # omitted timestamp is cleared
    assert status["error_count"] == 1
    assert [e["external_id"] for e in sandbox.admin.sync_log("sparklayer-erp", "customers")["errors"]] == ["C1003"]

    assert api.delete("/api/v1/sync-log").status_code == 204
    assert api.get(PATH).status_code == 404


def test_duplicate_external_id_too_many_errors_and_unknown_data_type_are_400(api: httpx.Client) -> None:
    dup = {"errors": [{"external_id": "X", "message": "a"}, {"external_id": "X", "message": "b"}]}
    response = api.put(PATH, json=dup)
    assert response.status_code == 400 and response.json()["errors"][0]["property"] == "errors[1].external_id"
    too_many = {"errors": [{"external_id": str(i), "message": "m"} for i in range(5001)]}
    assert api.put(PATH, json=too_many).status_code == 400
    exactly = {"errors": [{"external_id": str(i), "message": "m"} for i in range(5000)]}
    assert api.put(PATH, json=exactly).status_code == 200
    assert api.put("/api/v1/sync-log/sparklayer-erp/widgets", json={}).status_code == 400
