"""Wire formats of the record service: documents → REST JSON (links, references, enums, sublists) and
request bodies → canonical documents (case-insensitive names, ``{"id"}``/``refName`` enums, numbers)."""

from __future__ import annotations

import sqlite3
from decimal import Decimal, InvalidOperation
from typing import Any

from sparklayer_erp.demo.netsuite import errors
from sparklayer_erp.demo.netsuite import not_confirmed as nc
from sparklayer_erp.demo.netsuite.record_types import TYPES, RecordType, Sublist
from sparklayer_erp.demo.netsuite.store import Doc, Store, ref_id

NUMERIC = frozenset({
    "quantity", "rate", "amount", "price", "creditLimit", "payment", "total", "shippingCost", "conversionRate", "discountPct",
    "quantityOnHand", "quantityOnOrder", "quantityInTransit", "packageWeight", "line", "orderLine", "exchangeRate",
    "daysUntilNetDue", "reorderPoint", "preferredStockLevel", "safetyStockLevel", "averageCostMli", "priceQty"})
BOOLEAN = frozenset({"isClosed", "isInactive", "isPerson", "apply", "itemReceive", "baseUnit", "autoApply",
                     "toBeEmailed", "shipComplete", "isOnline", "isBaseCurrency", "inUse", "defaultBilling",
                     "defaultShipping"})
SINGULAR = "application/vnd.oracle.resource+json; type=singular"
COLLECTION = "application/vnd.oracle.resource+json; type=collection"


def ref_name(store: Store, conn: sqlite3.Connection, target: str, record_id: int) -> str | None:
    doc = store.load(conn, target, record_id)
    if doc is None:
        return None
    if target == "customer":
        return f"{doc.get('entityId')} {doc.get('companyName') or ''}".strip()
    if target == "inventoryItem":
        return doc.get("itemId")
    if target in ("salesOrder", "invoice", "itemFulfillment", "customerPayment", "creditMemo"):
        label = {"salesOrder": "Sales Order", "invoice": "Invoice", "itemFulfillment": "Item Fulfillment",
                 "customerPayment": "Payment", "creditMemo": "Credit Memo"}[target]
        return f"{label} #{doc.get('tranId')}"
    return doc.get("name")


DATETIME_FIELDS = frozenset({"createdDate", "lastModifiedDate", "dateCreated", "pickedDate", "packedDate",
                             "shippedDate"})


def iso_datetime(value: Any) -> Any:
    """SuiteQL text ``2025-03-14 09:12:45`` → REST ``2025-03-14T09:12:45Z`` (datetimes are UTC ISO 8601)."""
    if isinstance(value, str) and len(value) == 19 and value[10] == " ":
        return f"{value[:10]}T{value[11:]}Z"
    return value


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        return int(value) if isinstance(exponent, int) and exponent >= 0 and value == value.to_integral() \
            else float(value)
    return value


class Renderer:
    """Renders documents for one request (``root`` = ``{scheme}://{host}/services/rest``)."""

    def __init__(self, store: Store, conn: sqlite3.Connection, root: str, *, simple_enum: bool = False) -> None:
        self.store, self.conn, self.root, self.simple_enum = store, conn, root, simple_enum

    def href(self, type_name: str, record_id: Any, *tail: str) -> str:
        return "/".join([f"{self.root}/record/v1/{type_name}/{record_id}", *tail])

    def _ref(self, target: str, value: Any) -> Any:
        record_id = ref_id(value)
        if record_id is None or target in ("term", "subsidiary", "currency") and record_id < 0:
            return value
        out: dict[str, Any] = {"links": [{"rel": "self", "href": self.href(target, record_id)}], "id": str(record_id)}
        name = ref_name(self.store, self.conn, target, record_id) if record_id > 0 else "Custom"
        if name is not None:
            out["refName"] = name
        return out

    def _value(self, name: str, value: Any, refs: dict[str, str], enums: dict[str, dict[str, str]]) -> Any:
        if name in refs and value is not None:
            return self._ref(refs[name], value)
        if name in enums and value is not None:
            return value if self.simple_enum else {"id": value, "refName": enums[name].get(value, value)}
        if name in DATETIME_FIELDS:
            return iso_datetime(value)
        return _number(value)

    def line(self, sub: Sublist, line: Doc) -> Doc:
        return {k: self._value(k, v, sub.refs, {}) for k, v in line.items() if not k.startswith("_")}

    def sublist(self, rtype: RecordType, doc: Doc, name: str) -> Doc:
        items = (doc.get(name) or {}).get("items") or []
        href = self.href(rtype.name, doc["id"], name)
        return {"links": [{"rel": "self", "href": href}], "count": len(items), "hasMore": False, "offset": 0,
                "totalResults": len(items), "items": [
                    {"links": [], **self.line(rtype.sublists[name], line)} for line in items]}

    def record(self, rtype: RecordType, doc: Doc, *, expand: bool = False, fields: set[str] | None = None) -> Doc:
        out: Doc = {"links": [{"rel": "self", "href": self.href(rtype.name, doc["id"])}], "id": doc["id"]}
        for key, value in doc.items():
            if key.startswith("_") or value is None:
                continue
            if fields is not None and key.lower() not in fields and key != "id":
                continue
            if key in rtype.sublists:
                if fields is not None:
                    continue
                out[key] = (self.sublist(rtype, doc, key) if expand
                            else {"links": [{"rel": "self", "href": self.href(rtype.name, doc["id"], key)}]})
            else:
                out[key] = self._value(key, value, rtype.refs, rtype.enums)
        return out


def _bad(name: str, value: Any, path: str) -> errors.NsError:
    return errors.invalid_field_value(value, name, path)


def _coerce(name: str, value: Any, refs: dict[str, str], enums: dict[str, dict[str, str]], path: str) -> Any:
    if value is None:
        return None
    if name in refs:
        if isinstance(value, dict):
            if "id" not in value:
                raise _bad(name, value, path)  # references by external id inside a body: not supported
            value = value["id"]
        if isinstance(value, bool) or not isinstance(value, (str, int)) or ref_id(value) is None:
            raise _bad(name, value, path)
        return {"id": str(value)}
    if name in enums:
        labels = enums[name]
        if isinstance(value, dict):
            if "id" in value:
                value = value["id"]
            else:
                by_label = {v.lower(): k for k, v in labels.items()}
                value = by_label.get(str(value.get("refName", "")).lower(), value.get("refName"))
        key = str(value).upper()
        if key not in labels:
            raise _bad(name, value, path)
        return key
    if name in NUMERIC:
        if isinstance(value, dict) and name == "quantity" and "value" in value:  # price sublist break
            value = value["value"]
        if isinstance(value, bool):
            raise _bad(name, value, path)
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise _bad(name, value, path) from None
        if not number.is_finite():
            raise _bad(name, value, path)
        return number
    if name in BOOLEAN:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.upper() in ("T", "F", "TRUE", "FALSE"):
            return value.upper() in ("T", "TRUE")
        raise _bad(name, value, path)
    return value


def _canonical(names: tuple[str, ...], key: str) -> str | None:
    lowered = key.lower()
    return next((n for n in names if n.lower() == lowered), None)


def parse_body(rtype: RecordType, body: Any, *, strict: bool) -> Doc:
    """A request body → canonical fields; sublists as ``{"items": [...]}`` or None (remove all lines).

    Read-only fields are dropped; unknown fields are dropped, or refused when ``strict`` (the
    ``X-NetSuite-PropertyNameValidation: Error`` header)."""
    if not isinstance(body, dict):
        raise errors.NsError(400, nc.BAD_BODY_CODE, "Invalid content in the request body")
    out: Doc = {}
    for key, value in body.items():
        name = rtype.canonical(key)
        if name is None:
            if strict:
                raise errors.NsError(400, nc.UNKNOWN_FIELD_CODE,
                                     f"Invalid field name {key!r}. The field does not exist on record "
                                     f"type {rtype.name}.", errorPath=key)
            continue
        if name in rtype.sublists:
            out[name] = _parse_sublist(rtype.sublists[name], name, value, strict=strict)
        elif name not in rtype.read_only or name == "externalId":
            out[name] = _coerce(name, value, rtype.refs, rtype.enums, name)
    return out


def _parse_sublist(sub: Sublist, name: str, value: Any, *, strict: bool) -> Doc | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise errors.invalid_content(f"Invalid value for the sublist {name}.", name)
    items = next((v for k, v in value.items() if k.lower() == "items"), None)
    if items is None:
        return None
    if not isinstance(items, list):
        raise errors.invalid_content(f"Invalid value for the sublist {name}.", f"{name}.items")
    parsed = []
    for i, line in enumerate(items):
        if not isinstance(line, dict):
            raise errors.invalid_content("Invalid sublist line.", f"{name}.items[{i}]")
        out: Doc = {}
        for key, field_value in line.items():
            field = _canonical(sub.fields, key)
            path = f"{name}.items[{i}].{key}"
            if field is None:
                if strict:
                    raise errors.NsError(400, nc.UNKNOWN_FIELD_CODE, f"Invalid field name {key!r}.", errorPath=path)
                continue
            if field in sub.read_only:
                continue
            out[field] = _coerce(field, field_value, sub.refs, {}, path)
        parsed.append(out)
    return {"items": parsed}


def record_type_or_404(name: str) -> RecordType:
    from sparklayer_erp.demo.netsuite.record_types import record_type

    rtype = record_type(name)
    if rtype is None:
        raise errors.NsError(nc.UNKNOWN_RECORD_TYPE_STATUS, nc.UNKNOWN_RECORD_TYPE_CODE,
                             f"Record type '{name}' does not exist")
    return rtype


__all__ = ["COLLECTION", "SINGULAR", "TYPES", "Renderer", "parse_body", "record_type_or_404"]
