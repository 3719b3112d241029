"""Customers (v2 full-replace upsert), customer groups and their settings.

The v2 PUT replaces the whole record: a field the caller leaves out is cleared (``accounting_id``,
``price_lists``, ``payment_on_account``, addresses, ...). That is the behaviour most likely to bite an
integration that only sends "what changed", so the sandbox reproduces it exactly.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from decimal import Decimal
from typing import Any

from sparklayer_erp.demo.sandbox.db import Database, dumps, loads
from sparklayer_erp.demo.sandbox.paging import page_envelope
from sparklayer_erp.demo.sandbox.problems import ApiError, FieldError, bad_request, conflict, not_found
from sparklayer_erp.demo.sandbox.validate import Checker, parse_uuid, prop_of
from sparklayer_erp.domain.money import round_money
from sparklayer_erp.sparklayer import contract

ROLES = ("main", "limited-customer", "sales-agent", "sales-admin")
SCALAR_FIELDS = ("external_id", "accounting_id", "email", "title", "first_name", "last_name", "company_name",
                 "group", "role", "discount_percentage", "tax_exempt", "payment_on_account",
                 "parent_customer_id", "status", "currency_code")
LIST_FIELDS = ("price_lists", "sales_agent_groups", "addresses")
ALL_FIELDS = ("id", "legacy_id", *SCALAR_FIELDS, *LIST_FIELDS)
POA_KEYS = (contract.POA_CREDIT_LIMIT, contract.POA_BALANCE, contract.POA_BALANCE_DATE, contract.POA_CURRENCY,
            contract.POA_NET_TERMS)
ADDRESS_TEXT = ("external_id", "first_name", "last_name", "company_name", "address_line1", "address_line2",
                "city", "region_name", "region_code", "postal_code", "country_code", "phone")
ADDRESS_FLAGS = ("is_default_shipping", "is_default_billing")
GROUP_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
DEFAULT_PAYMENT_METHODS = ("platform_upfront",)


# -- lookups ---------------------------------------------------------------------------------------------

def _lookup_column(lookup_by: str, identifier: str) -> tuple[str, str]:
    if lookup_by == "platform":
        return "external_id", identifier
    if lookup_by == "email":
        return "email_key", identifier.casefold()
    if lookup_by == "sparklayer":
        if identifier.startswith("cu_"):
            return "legacy_id", identifier
        canonical = parse_uuid(identifier)
        if canonical is None:
            raise bad_request("resource-id-invalid", "a sparklayer customer id is a UUID or a cu_ id",
                              "identifier")
        return "id", canonical
    raise bad_request("resource-id-invalid", f"lookupBy must be one of {', '.join(contract.CUSTOMER_LOOKUPS)}",
                      "lookupBy")


def find(conn: sqlite3.Connection, lookup_by: str, identifier: str) -> dict | None:
    column, value = _lookup_column(lookup_by, identifier)
    row = conn.execute(f"SELECT doc FROM customers WHERE {column} = ?", (value,)).fetchone()  # noqa: S608
    return loads(row["doc"]) if row else None


def find_any(conn: sqlite3.Connection, identifier: str) -> dict | None:
    """By SparkLayer UUID, e-mail or platform id: whichever the identifier looks like (buyer side)."""
    if parse_uuid(identifier) or identifier.startswith("cu_"):
        return find(conn, "sparklayer", identifier)
    if "@" in identifier:
        return find(conn, "email", identifier)
    return find(conn, "platform", identifier)


def get(db: Database, lookup_by: str, identifier: str) -> dict:
    with db.tx() as conn:
        doc = find(conn, lookup_by, identifier)
    if doc is None:
        raise not_found("customer", identifier, "identifier")
    return doc


def list_page(db: Database, page: int, per_page: int) -> dict[str, Any]:
    with db.tx() as conn:
        total = conn.execute("SELECT COUNT(*) FROM customers").fetchone()[0]
        rows = conn.execute("SELECT doc FROM customers ORDER BY seq LIMIT ? OFFSET ?",
                            (per_page, (page - 1) * per_page)).fetchall()
    return page_envelope([loads(r["doc"]) for r in rows], total, page, per_page)


def delete(db: Database, lookup_by: str, identifier: str) -> None:
    with db.tx() as conn:
        column, value = _lookup_column(lookup_by, identifier)
        deleted = conn.execute(f"DELETE FROM customers WHERE {column} = ?", (value,)).rowcount  # noqa: S608
    if not deleted:
        raise not_found("customer", identifier, "identifier")


# -- the full-replace upsert ------------------------------------------------------------------------------

def _validate(body: Any) -> dict[str, Any]:
    check = Checker()
    data = check.root_object(body)
    check.only_keys(data, ALL_FIELDS)
    doc: dict[str, Any] = {
        "id": check.uuid(data, "id"),
        "legacy_id": check.text(data, "legacy_id", max_len=64, pattern=re.compile(r"^cu_\w+$")),
        "external_id": check.text(data, "external_id", max_len=255),
        "accounting_id": check.text(data, "accounting_id", max_len=255),
        "email": check.text(data, "email", max_len=255, pattern=re.compile(r"^[^@\s]+@[^@\s]+$")),
        "title": check.text(data, "title", max_len=64),
        "first_name": check.text(data, "first_name", max_len=255),
        "last_name": check.text(data, "last_name", max_len=255),
        "company_name": check.text(data, "company_name", max_len=255),
        "group": check.text(data, "group", max_len=64),
        "role": check.text(data, "role", choices=ROLES),
        "discount_percentage": check.number(data, "discount_percentage", minimum=Decimal(0),
                                            maximum=Decimal(100)),
        "tax_exempt": check.boolean(data, "tax_exempt"),
        "payment_on_account": _validate_poa(check, data),
        "parent_customer_id": check.uuid(data, "parent_customer_id"),
        "status": check.text(data, "status", max_len=32),
        "currency_code": check.currency(data, "currency_code"),
        "price_lists": check.strings(data, "price_lists") or [],
        "sales_agent_groups": check.strings(data, "sales_agent_groups") or [],
        "addresses": _validate_addresses(check, data),
    }
    if doc["external_id"] and doc["external_id"].startswith("cu_"):
        check.fail("external_id", "external_id cannot start with cu_", "invalid-format")
    check.raise_if_any("the customer is invalid")
    return doc


def _validate_poa(check: Checker, data: dict) -> dict | None:
    poa = check.obj(data, "payment_on_account")
    if poa is None:
        return None
    check.only_keys(poa, POA_KEYS, "payment_on_account")
    p = "payment_on_account"
    return {
        contract.POA_CREDIT_LIMIT: check.number(poa, contract.POA_CREDIT_LIMIT, p, minimum=Decimal(0)),
        contract.POA_BALANCE: check.number(poa, contract.POA_BALANCE, p),
        contract.POA_BALANCE_DATE: check.date(poa, contract.POA_BALANCE_DATE, p),
        contract.POA_CURRENCY: check.currency(poa, contract.POA_CURRENCY, p),
        contract.POA_NET_TERMS: check.integer(poa, contract.POA_NET_TERMS, p, minimum=0, maximum=365),
    }


def _validate_addresses(check: Checker, data: dict) -> list[dict]:
    out = []
    seen: set[str] = set()
    for prop, item in check.objects(data, "addresses", max_items=500):
        check.only_keys(item, ADDRESS_TEXT + ADDRESS_FLAGS, prop)
        address: dict[str, Any] = {k: check.text(item, k, prop, max_len=255) for k in ADDRESS_TEXT}
        address.update({k: bool(check.boolean(item, k, prop)) for k in ADDRESS_FLAGS})
        ext = address["external_id"]
        if ext is not None:
            if ext in seen:
                check.fail(prop_of(prop, "external_id"), "address external_id repeats", "duplicate")
            seen.add(ext)
        out.append(address)
    return out


def _check_identity(doc: dict, lookup_by: str, identifier: str) -> None:
    """The URL names the customer; the body must name the same one (400 idMismatch otherwise)."""
    def mismatch(prop: str) -> ApiError:
        message = f"{prop} in the body must equal the identifier in the URL"
        return ApiError(400, message, [FieldError("idMismatch", message, prop)])

    if lookup_by == "platform":
        if doc["external_id"] != identifier:
            raise mismatch("external_id")
    elif lookup_by == "email":
        if (doc["email"] or "").casefold() != identifier.casefold():
            raise mismatch("email")
    elif identifier.startswith("cu_"):
        if doc["legacy_id"] != identifier:
            raise mismatch("legacy_id")
    elif doc["id"] != parse_uuid(identifier):
        raise mismatch("id")


def upsert(db: Database, lookup_by: str, identifier: str, body: Any) -> tuple[dict, bool]:
    """Create (``True``) or fully replace (``False``) the customer named by the URL."""
    _lookup_column(lookup_by, identifier)
    doc = _validate(body)
    _check_identity(doc, lookup_by, identifier)
    with db.tx() as conn:
        existing = find(conn, lookup_by, identifier)
        if existing is None and lookup_by != "sparklayer" and doc["id"]:
            existing = find(conn, "sparklayer", doc["id"])
        if existing is not None:
            if doc["id"] and doc["id"] != existing["id"]:
                message = "id cannot change"
                raise ApiError(400, message, [FieldError("idMismatch", message, "id")])
            doc["id"] = existing["id"]
            doc["legacy_id"] = doc["legacy_id"] or existing["legacy_id"]
        else:
            doc["id"] = doc["id"] or str(uuid.uuid4())
        _check_references(conn, doc)
        _check_unique(conn, doc)
        email_key = doc["email"].casefold() if doc["email"] else None
        stored = {k: doc[k] for k in ALL_FIELDS}
        if existing is None:
            conn.execute("INSERT INTO customers (id, legacy_id, external_id, email_key, doc) VALUES (?,?,?,?,?)",
                         (doc["id"], doc["legacy_id"], doc["external_id"], email_key, dumps(stored)))
        else:
            conn.execute("UPDATE customers SET legacy_id=?, external_id=?, email_key=?, doc=? WHERE id=?",
                         (doc["legacy_id"], doc["external_id"], email_key, dumps(stored), doc["id"]))
    return loads(dumps(stored)), existing is None


def _check_references(conn: sqlite3.Connection, doc: dict) -> None:
    errors = []
    if doc["group"] and not conn.execute("SELECT 1 FROM customer_groups WHERE slug=?", (doc["group"],)).fetchone():
        errors.append(FieldError("resource-id-not-found", f"customer group {doc['group']!r} does not exist",
                                 "group"))
    parent = doc["parent_customer_id"]
    if parent and (parent == doc["id"] or not conn.execute("SELECT 1 FROM customers WHERE id=?",
                                                           (parent,)).fetchone()):
        errors.append(FieldError("resource-id-not-found", "parent_customer_id is not another existing customer",
                                 "parent_customer_id"))
    if errors:
        raise ApiError(400, "the customer references something that does not exist", errors)


def _check_unique(conn: sqlite3.Connection, doc: dict) -> None:
    """e-mail, external_id and address external_ids are unique per site: 409 resource-already-exists."""
    if doc["email"] and conn.execute("SELECT 1 FROM customers WHERE email_key=? AND id<>?",
                                     (doc["email"].casefold(), doc["id"])).fetchone():
        raise conflict("resource-already-exists", "another customer has this email", "email")
    if doc["external_id"] and conn.execute("SELECT 1 FROM customers WHERE external_id=? AND id<>?",
                                           (doc["external_id"], doc["id"])).fetchone():
        raise conflict("resource-already-exists", "another customer has this external_id", "external_id")
    if doc["legacy_id"] and conn.execute("SELECT 1 FROM customers WHERE legacy_id=? AND id<>?",
                                         (doc["legacy_id"], doc["id"])).fetchone():
        raise conflict("resource-already-exists", "another customer has this legacy_id", "legacy_id")
    for i, address in enumerate(doc["addresses"]):
        ext = address["external_id"]
        if ext and conn.execute(
                "SELECT 1 FROM customers, json_each(customers.doc, '$.addresses') AS a "
                "WHERE customers.id <> ? AND json_extract(a.value, '$.external_id') = ?",
                (doc["id"], ext)).fetchone():
            raise conflict("resource-already-exists", "another customer has an address with this external_id",
                           f"addresses[{i}].external_id")


def adjust_balance(conn: sqlite3.Connection, customer_id: str | None, delta: Decimal) -> None:
    """What the customer owes on account moves by ``delta`` (orders raise it, applied payments lower it).

    Only customers with a ``payment_on_account`` record carry a balance; for the others there is nothing to
    move (the integration has not given them an account yet).
    """
    if not customer_id or not delta:
        return
    row = conn.execute("SELECT doc FROM customers WHERE id = ?", (customer_id,)).fetchone()
    if row is None:
        return
    doc = loads(row["doc"])
    poa = doc.get("payment_on_account")
    if poa is None:
        return
    poa[contract.POA_BALANCE] = round_money(Decimal(poa.get(contract.POA_BALANCE) or 0) + delta)
    conn.execute("UPDATE customers SET doc = ? WHERE id = ?", (dumps(doc), customer_id))


# -- customer groups and their settings ------------------------------------------------------------------

def _group_row(row: sqlite3.Row) -> dict[str, Any]:
    return {"slug": row["slug"], "name": row["name"], "parent_slug": row["parent_slug"]}


def list_groups(db: Database) -> list[dict[str, Any]]:
    with db.tx() as conn:
        return [_group_row(r) for r in conn.execute("SELECT * FROM customer_groups ORDER BY seq")]


def create_group(db: Database, body: Any, settings: dict | None = None) -> list[dict[str, Any]]:
    """``POST /api/v1/customer-groups`` answers with the whole list, as documented."""
    check = Checker()
    data = check.root_object(body)
    check.only_keys(data, ("slug", "name", "parent_slug"))
    slug = check.text(data, "slug", required=True, max_len=64, pattern=GROUP_SLUG)
    name = check.text(data, "name", required=True, max_len=255)
    parent = check.text(data, "parent_slug", max_len=64) or contract.BASE_GROUP
    check.raise_if_any("the customer group is invalid")
    with db.tx() as conn:
        if conn.execute("SELECT 1 FROM customer_groups WHERE slug = ?", (slug,)).fetchone():
            raise bad_request("resource-already-exists", f"customer group {slug!r} already exists", "slug")
        if slug != parent and not conn.execute("SELECT 1 FROM customer_groups WHERE slug = ?",
                                               (parent,)).fetchone():
            raise bad_request("resource-id-not-found", f"parent group {parent!r} does not exist", "parent_slug")
        conn.execute("INSERT INTO customer_groups (slug, name, parent_slug, settings) VALUES (?, ?, ?, ?)",
                     (slug, name, None if slug == parent else parent, dumps(settings or {})))
    return list_groups(db)


def group_chain(conn: sqlite3.Connection, slug: str | None) -> list[dict[str, Any]]:
    """The group and its ancestors up to ``base`` (groups inherit from base); empty if unknown."""
    chain: list[dict[str, Any]] = []
    current = slug or contract.BASE_GROUP
    while current and len(chain) < 20:
        row = conn.execute("SELECT * FROM customer_groups WHERE slug = ?", (current,)).fetchone()
        if row is None:
            break
        chain.append({**_group_row(row), "settings": loads(row["settings"])})
        current = row["parent_slug"]
    return chain


def effective_settings(conn: sqlite3.Connection, slug: str | None) -> dict[str, Any]:
    """Each setting comes from the nearest group in the chain that sets it."""
    chain = group_chain(conn, slug)
    settings: dict[str, Any] = {"payment_methods": list(DEFAULT_PAYMENT_METHODS), "price_lists": []}
    for key in settings:
        for group in chain:
            if key in group["settings"]:
                settings[key] = group["settings"][key]
                break
    return settings


def get_settings(db: Database, slug: str) -> dict[str, Any]:
    with db.tx() as conn:
        if not conn.execute("SELECT 1 FROM customer_groups WHERE slug = ?", (slug,)).fetchone():
            raise not_found("customer group", slug, "slug")
        return effective_settings(conn, slug)


def set_settings(db: Database, slug: str, body: Any) -> dict[str, Any]:
    """Sandbox admin: the Dashboard's group settings (the API path for this is not documented)."""
    check = Checker()
    data = check.root_object(body)
    check.only_keys(data, ("payment_methods", "price_lists"))
    methods = check.strings(data, "payment_methods")
    for i, method in enumerate(methods or []):
        if method not in contract.PAYMENT_METHODS:
            check.fail(f"payment_methods[{i}]", f"must be one of {', '.join(contract.PAYMENT_METHODS)}",
                       "invalid-choice")
    price_lists = check.strings(data, "price_lists")
    check.raise_if_any("the group settings are invalid")
    with db.tx() as conn:
        row = conn.execute("SELECT settings FROM customer_groups WHERE slug = ?", (slug,)).fetchone()
        if row is None:
            raise not_found("customer group", slug, "slug")
        settings = loads(row["settings"])
        if methods is not None:
            settings["payment_methods"] = methods
        if price_lists is not None:
            settings["price_lists"] = price_lists
        conn.execute("UPDATE customer_groups SET settings = ? WHERE slug = ?", (dumps(settings), slug))
        return effective_settings(conn, slug)
