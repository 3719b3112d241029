"""Stock locations and stock levels (Stock API).

``batch-update-stock`` is an upsert per SKU + location: values sent overwrite, pairs not sent are untouched.
The whole batch is checked before anything is written, so a 400 (unknown location, a pair repeated in the
request) leaves the store exactly as it was.
"""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

from sparklayer_erp.demo.sandbox.db import Database
from sparklayer_erp.demo.sandbox.problems import ApiError, FieldError, conflict, not_found
from sparklayer_erp.demo.sandbox.validate import Checker, parse_uuid, prop_of
from sparklayer_erp.sparklayer import contract

MAX_BATCH = 10_000


def _location(row: sqlite3.Row) -> dict[str, Any]:
    return {"id": row["id"], "name": row["name"], "external_id": row["external_id"]}


def list_locations(db: Database) -> list[dict[str, Any]]:
    with db.tx() as conn:
        return [_location(r) for r in conn.execute("SELECT * FROM stock_locations ORDER BY seq")]


def _find_location(conn: sqlite3.Connection, identifier: str) -> sqlite3.Row | None:
    canonical = parse_uuid(identifier)
    if canonical:
        row = conn.execute("SELECT * FROM stock_locations WHERE id = ?", (canonical,)).fetchone()
        if row:
            return row
    return conn.execute("SELECT * FROM stock_locations WHERE external_id = ?", (identifier,)).fetchone()


def get_location(db: Database, identifier: str) -> dict[str, Any]:
    """By SparkLayer id (UUID) or by ``external_id``."""
    with db.tx() as conn:
        row = _find_location(conn, identifier)
    if row is None:
        raise not_found("stock location", identifier, "StockLocationID")
    return _location(row)


def create_location(db: Database, body: Any) -> dict[str, Any]:
    check = Checker()
    data = check.root_object(body)
    check.only_keys(data, ("name", "external_id"))
    name = check.text(data, "name", required=True, max_len=255)
    external_id = check.text(data, "external_id", required=True, max_len=255)
    check.raise_if_any("the stock location is invalid")
    with db.tx() as conn:
        if conn.execute("SELECT 1 FROM stock_locations WHERE external_id = ?", (external_id,)).fetchone():
            raise conflict("resource-already-exists", f"a stock location with external_id {external_id!r} exists",
                           "external_id")
        location_id = str(uuid.uuid4())
        conn.execute("INSERT INTO stock_locations (id, external_id, name) VALUES (?, ?, ?)",
                     (location_id, external_id, name))
    return {"id": location_id, "name": name, "external_id": external_id}


def batch_update(db: Database, body: Any) -> int:
    """Upsert every ``{sku, stock_location_id | stock_location_external_id, stock_level, ...}``."""
    check = Checker()
    items = check.root_array(body, min_items=1, max_items=MAX_BATCH)
    parsed = []
    for i, item in enumerate(items):
        prop = prop_of("", i)
        if not isinstance(item, dict):
            check.fail(prop, "must be an object", "invalid-type")
            continue
        check.only_keys(item, ("sku", "stock_location_id", "stock_location_external_id", "stock_level",
                               "restock_date", "min_stock_level"), prop)
        parsed.append((prop, {
            "sku": check.text(item, "sku", prop, required=True, max_len=255),
            "location_id": check.text(item, "stock_location_id", prop, max_len=64),
            "external_id": check.text(item, "stock_location_external_id", prop, max_len=255),
            "stock_level": check.integer(item, "stock_level", prop, required=True, minimum=-(10**9),
                                         maximum=10**9),
            "restock_date": check.date(item, "restock_date", prop),
            "min_stock_level": check.integer(item, "min_stock_level", prop, minimum=-(10**9), maximum=10**9),
        }))
    check.raise_if_any("the stock update is invalid")
    with db.tx() as conn:
        rows, seen = [], set()
        for prop, entry in parsed:
            location = _resolve(check, conn, prop, entry)
            if location is None:
                continue
            pair = (location, entry["sku"])
            if pair in seen:
                check.fail(prop, f"SKU {entry['sku']!r} is sent twice for one stock location", "duplicate")
            seen.add(pair)
            rows.append((location, entry["sku"], entry["stock_level"], entry["restock_date"],
                         entry["min_stock_level"]))
        check.raise_if_any("the stock update is invalid")
        conn.executemany(
            "INSERT INTO stock_levels (location_id, sku, stock_level, restock_date, min_stock_level) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (location_id, sku) DO UPDATE SET stock_level = excluded.stock_level, "
            "restock_date = excluded.restock_date, min_stock_level = excluded.min_stock_level", rows)
    return len(rows)


def _resolve(check: Checker, conn: sqlite3.Connection, prop: str, entry: dict) -> str | None:
    """The location's id from either key; both given must agree; unknown → 400 (not 404: it is the body)."""
    by_id = by_ext = None
    if entry["location_id"] is None and entry["external_id"] is None:
        check.fail(prop, "stock_location_id or stock_location_external_id is required", "required")
        return None
    if entry["location_id"] is not None:
        canonical = parse_uuid(entry["location_id"])
        row = conn.execute("SELECT id FROM stock_locations WHERE id = ?", (canonical,)).fetchone()
        if row is None:
            check.fail(prop_of(prop, "stock_location_id"), "unknown stock location", "resource-id-not-found")
            return None
        by_id = row["id"]
    if entry["external_id"] is not None:
        row = conn.execute("SELECT id FROM stock_locations WHERE external_id = ?",
                           (entry["external_id"],)).fetchone()
        if row is None:
            check.fail(prop_of(prop, "stock_location_external_id"), "unknown stock location",
                       "resource-id-not-found")
            return None
        by_ext = row["id"]
    if by_id and by_ext and by_id != by_ext:
        check.fail(prop, "stock_location_id and stock_location_external_id name different locations", "invalid")
        return None
    return by_id or by_ext


def _skus(body: Any) -> list[str]:
    """``{"skus": [...]}`` (contract.py item 14), or a bare array of SKUs."""
    check = Checker()
    key = contract.STOCK_FETCH_BODY_KEY
    if isinstance(body, dict):
        check.only_keys(body, (key,))
        skus = check.strings(body, key, max_items=MAX_BATCH)
        if skus is None and key not in body:
            check.fail(key, f"{key} is required", "required")
    elif isinstance(body, list):
        skus = check.strings({key: body}, key, max_items=MAX_BATCH)
    else:
        raise ApiError(400, "the body must be {\"skus\": [...]}",
                       [FieldError("invalid-type", "the body must be an object", "")])
    check.raise_if_any("the SKU list is invalid")
    return skus or []


def batch_fetch(db: Database, body: Any) -> list[dict[str, Any]]:
    """``[{sku, stock_levels: [{stock_location_id, stock_location_external_id, stock_level, ...}]}]``."""
    skus = _skus(body)
    out = []
    with db.tx() as conn:
        for sku in dict.fromkeys(skus):
            rows = conn.execute(
                "SELECT s.*, l.external_id FROM stock_levels s JOIN stock_locations l ON l.id = s.location_id "
                "WHERE s.sku = ? ORDER BY l.seq", (sku,)).fetchall()
            out.append({"sku": sku, "stock_levels": [
                {"stock_location_id": r["location_id"], "stock_location_external_id": r["external_id"],
                 "stock_level": r["stock_level"], "restock_date": r["restock_date"],
                 "min_stock_level": r["min_stock_level"]} for r in rows]})
    return out


def batch_delete(db: Database, body: Any) -> None:
    skus = _skus(body)
    with db.tx() as conn:
        conn.executemany("DELETE FROM stock_levels WHERE sku = ?", [(s,) for s in skus])
