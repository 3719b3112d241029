"""Small helpers shared by the emulator tests (unique ids, raw calls, error codes)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from sparklayer_erp_tests.netsuite_fixtures import NetSuiteEmulator


def unique(prefix: str = "WS") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def error_code(response: httpx.Response) -> str:
    return response.json()["o:errorDetails"][0]["o:errorCode"]


def error_detail(response: httpx.Response) -> str:
    return response.json()["o:errorDetails"][0]["detail"]


def order_body(ns: NetSuiteEmulator, account: str = "C1002", *, status: str = "A",
               external_id: str | None = None, lines: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A sales order for ``account`` with two lines by SKU: 2 cases of 12 cola, 5 single cans."""
    items = {row["itemid"]: row["id"] for row in ns.staff.suiteql(
        "SELECT id, itemid FROM item WHERE itemid IN ('SKU-COLA-L', 'SKU-COLA-S')")}
    return {"externalId": external_id or unique(), "entity": {"id": str(ns.staff.customer_id(account))},
            "otherRefNum": "PO-1", "orderStatus": {"id": status},
            "item": {"items": lines or [{"item": {"id": items["SKU-COLA-L"]}, "quantity": 2, "units": "3",
                                         "rate": 10.8},
                                        {"item": {"id": items["SKU-COLA-S"]}, "quantity": 5, "rate": 0.9}]}}


def create_order(ns: NetSuiteEmulator, account: str = "C1002", status: str = "A", **kwargs: Any) -> int:
    return ns.staff.create("salesOrder", order_body(ns, account, status=status, **kwargs))


def stock(ns: NetSuiteEmulator, sku: str, location: int = 1) -> dict[str, float]:
    rows = ns.staff.suiteql(
        "SELECT iil.quantityonhand, iil.quantityavailable, iil.quantitycommitted FROM inventoryitemlocations iil "
        "JOIN item i ON i.id = iil.item WHERE i.itemid = ? AND iil.location = ?", [sku, location])
    return {k: float(v) for k, v in rows[0].items() if k != "links"}
