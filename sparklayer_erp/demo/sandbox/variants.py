"""Product variants of the custom (Ignite) store the sandbox plays: their status and per-group ``settings``.

The integration writes pack sizes here (contract.py item 12); the buyer side enforces them at checkout.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sparklayer_erp.demo.sandbox.db import Database, dumps, loads
from sparklayer_erp.demo.sandbox.problems import not_found
from sparklayer_erp.demo.sandbox.validate import Checker, prop_of

STATUSES = ("pending", "discontinued", "suspended", "live")
INT_SETTINGS = ("pack_size", "min_order_quantity", "max_order_quantity", "min_order_parent_quantity",
                "max_order_parent_quantity", "reserve_stock_quantity")
BOOL_SETTINGS = ("display", "sell")


def find(conn: sqlite3.Connection, identifier: str) -> dict[str, Any] | None:
    """By external id (== SKU in this store) or by the internal ``pv_`` id."""
    row = conn.execute("SELECT doc FROM variants WHERE external_id = ? OR id = ?",
                       (identifier, identifier)).fetchone()
    return loads(row["doc"]) if row else None


def find_by_sku(conn: sqlite3.Connection, sku: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT doc FROM variants WHERE sku = ?", (sku,)).fetchone()
    return loads(row["doc"]) if row else None


def get(db: Database, identifier: str) -> dict[str, Any]:
    with db.tx() as conn:
        doc = find(conn, identifier)
    if doc is None:
        raise not_found("variant", identifier, "id")
    return doc


def insert(conn: sqlite3.Connection, doc: dict[str, Any]) -> None:
    conn.execute("INSERT INTO variants (id, external_id, sku, doc) VALUES (?, ?, ?, ?)",
                 (doc["id"], doc["external_id"], doc["sku"], dumps(doc)))


def patch(db: Database, identifier: str, body: Any) -> dict[str, Any]:
    """Partial update of ``status`` and/or ``settings`` (sending ``settings`` replaces all of them)."""
    check = Checker()
    data = check.root_object(body)
    check.only_keys(data, ("status", "settings"))
    status = check.text(data, "status", nullable=False, choices=STATUSES)
    settings = []
    groups_seen: set[str] = set()
    with db.tx() as conn:
        for prop, item in check.objects(data, "settings", nullable=False, max_items=100):
            check.only_keys(item, ("customer_group", *INT_SETTINGS, *BOOL_SETTINGS), prop)
            group = check.text(item, "customer_group", prop, required=True, max_len=64)
            setting: dict[str, Any] = {"customer_group": group}
            for key in INT_SETTINGS:
                minimum = 1 if key == "pack_size" else 0
                value = check.integer(item, key, prop, minimum=minimum, maximum=10**6)
                if value is not None:
                    setting[key] = value
            for key in BOOL_SETTINGS:
                flag = check.boolean(item, key, prop)
                if flag is not None:
                    setting[key] = flag
            if group is not None:
                if group in groups_seen:
                    check.fail(prop_of(prop, "customer_group"), f"customer group {group!r} appears twice",
                               "duplicate")
                elif not conn.execute("SELECT 1 FROM customer_groups WHERE slug = ?", (group,)).fetchone():
                    check.fail(prop_of(prop, "customer_group"), f"customer group {group!r} does not exist",
                               "resource-id-not-found")
                groups_seen.add(group)
            settings.append(setting)
        doc = find(conn, identifier)
        if doc is None:
            raise not_found("variant", identifier, "id")
        check.raise_if_any("the variant change is invalid")
        if status is not None:
            doc["status"] = status
        if "settings" in data:
            doc["settings"] = settings
        conn.execute("UPDATE variants SET doc = ? WHERE id = ?", (dumps(doc), doc["id"]))
    return doc


def rule_for(variant: dict[str, Any], group_chain: list[str]) -> dict[str, Any]:
    """The settings that apply to a customer in ``group_chain`` (own group first, then its ancestors)."""
    by_group = {s["customer_group"]: s for s in variant.get("settings") or []}
    for group in group_chain:
        if group in by_group:
            return by_group[group]
    return {}
