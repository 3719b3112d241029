"""Sync logging (Data Sync in the SparkLayer Dashboard): one record per integration and data type.

A full-sync ``PUT`` replaces the record: an omitted timestamp is cleared and ``errors`` replaces every earlier
error (at most 5,000, ``external_id`` unique). ``GET`` is 404 until the first full sync was recorded.
"""

from __future__ import annotations

from typing import Any

from sparklayer_erp.demo.sandbox.db import Database, dumps, loads
from sparklayer_erp.demo.sandbox.problems import bad_request, not_found
from sparklayer_erp.demo.sandbox.validate import Checker, prop_of
from sparklayer_erp.sparklayer import contract

MAX_ERRORS = 5000
ERROR_KEYS = ("external_id", "visible_id", "external_url", "message")


def _check_path(integration: str, data_type: str) -> None:
    if not integration.strip() or len(integration) > 100:
        raise bad_request("invalid-format", "integration must be 1 to 100 characters", "integration")
    if data_type not in contract.SYNC_LOG_DATA_TYPES:
        raise bad_request("invalid-choice", f"data_type must be one of {', '.join(contract.SYNC_LOG_DATA_TYPES)}",
                          "data_type")


def _status(integration: str, data_type: str, doc: dict[str, Any], error_count: int) -> dict[str, Any]:
    return {"integration": integration, "data_type": data_type, **doc, "error_count": error_count}


def put_full_sync(db: Database, integration: str, data_type: str, body: Any) -> dict[str, Any]:
    _check_path(integration, data_type)
    check = Checker()
    data = check.root_object(body)
    check.only_keys(data, ("started_full_sync", "last_full_sync", "last_full_sync_succeeded", "errors"))
    doc = {
        "started_full_sync": check.instant(data, "started_full_sync"),
        "last_full_sync": check.instant(data, "last_full_sync"),
        "last_full_sync_succeeded": check.boolean(data, "last_full_sync_succeeded"),
    }
    errors, seen = [], set()
    for prop, item in check.objects(data, "errors", max_items=MAX_ERRORS):
        check.only_keys(item, ERROR_KEYS, prop)
        entry = {"external_id": check.text(item, "external_id", prop, required=True, max_len=255),
                 "visible_id": check.text(item, "visible_id", prop, max_len=255),
                 "external_url": check.text(item, "external_url", prop, max_len=2000),
                 "message": check.text(item, "message", prop, max_len=5000)}
        if entry["external_id"] is not None:
            if entry["external_id"] in seen:
                check.fail(prop_of(prop, "external_id"), "external_id repeats in errors", "duplicate")
            seen.add(entry["external_id"])
        errors.append(entry)
    check.raise_if_any("the sync log is invalid")
    with db.tx() as conn:
        conn.execute("INSERT OR REPLACE INTO sync_logs (integration, data_type, doc, errors) VALUES (?, ?, ?, ?)",
                     (integration, data_type, dumps(doc), dumps(errors)))
    return _status(integration, data_type, doc, len(errors))


def get_status(db: Database, integration: str, data_type: str, *, with_errors: bool = False) -> dict[str, Any]:
    _check_path(integration, data_type)
    with db.tx() as conn:
        row = conn.execute("SELECT doc, errors FROM sync_logs WHERE integration = ? AND data_type = ?",
                           (integration, data_type)).fetchone()
    if row is None:
        raise not_found("sync log", f"{integration}/{data_type}", "data_type")
    errors = loads(row["errors"])
    status = _status(integration, data_type, loads(row["doc"]), len(errors))
    if with_errors:
        status["errors"] = errors
    return status


def delete_all(db: Database) -> None:
    with db.tx() as conn:
        conn.execute("DELETE FROM sync_logs")
