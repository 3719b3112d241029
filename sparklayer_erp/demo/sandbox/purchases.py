"""Purchases (orders, quotes, carts), their history and transactions — the Purchasing API.

Rules reproduced because an integration's correctness depends on them:
- ``PUT`` is an upsert and a *full replace*; ``calculated_*`` and ``total_paid`` are ignored on input and
  recomputed; changing the SparkLayer id of an existing purchase is 403.
- every write (PUT, history, transaction, buyer cancel/amend) moves ``dates.last_updated`` to a fresh,
  strictly increasing stamp with microseconds, and listing orders by it ties-break by insertion order, so a
  poller that re-reads an overlap window sees every change exactly in order.
- a transaction with ``apply_to_balance`` counts towards ``total_paid`` and lowers the customer's balance;
  flipping it back to ``false`` reverses both.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections import Counter
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sparklayer_erp.demo.sandbox import customers
from sparklayer_erp.demo.sandbox.db import Database, dumps, loads
from sparklayer_erp.demo.sandbox.monetary import amount, money
from sparklayer_erp.demo.sandbox.paging import int_param, reject_unknown_params
from sparklayer_erp.demo.sandbox.problems import ApiError, FieldError, bad_request, conflict, not_found
from sparklayer_erp.demo.sandbox.validate import Checker, parse_instant, parse_uuid, prop_of
from sparklayer_erp.domain.money import ZERO
from sparklayer_erp.sparklayer import contract

REQUIRED = ("type", "purchase_identifiers", "customer_identifiers", "dates", "packages", "accounting_files",
            "custom_fields")
OPTIONAL = ("payment_method", "customer_reference", "currency_code", "billing_address", "shipping_address",
            "tax_lines", "metadata", "status", "total_shipping", "shipping_tax", "revision_date")
CALCULATED = ("calculated_total", "calculated_total_usd", "calculated_fulfilment_status",
              "calculated_shipping_address", "total_paid")
PURCHASE_ID_KEYS = contract.LOOKUP_KINDS
CUSTOMER_ID_KEYS = ("sparklayer", "platform", "sparklayer_impersonator", "sparklayer_sales_rep")
DATE_KEYS = ("placed", "last_updated", "cancelled")
LINE_TOTAL_KEYS = ("total_net", "total_tax", "total_gross", "discount_net", "discount_gross")
LIST_PARAMS = (contract.FILTER_TYPE, contract.FILTER_UPDATED_GTE, contract.FILTER_UPDATED_LTE,
               contract.FILTER_PLACED_GTE, contract.FILTER_PLACED_LTE, contract.FILTER_CUSTOMER, "order_by",
               "limit", "offset")
ORDER_COLUMNS = {"last_updated": "last_updated", "placed": "COALESCE(placed, '')"}
_COLUMNS = {"sparklayer": "sparklayer_id", "platform": "platform_id", "internal": "internal_id",
            "visible": "visible_id"}


# -- validation --------------------------------------------------------------------------------------------

def _address(check: Checker, data: dict, key: str, prefix: str = "") -> dict | None:
    """Addresses were only partly documented (address_line1, city, country_code, ...): string fields."""
    value = check.obj(data, key, prefix)
    if value is None:
        return None
    prop = prop_of(prefix, key)
    if len(value) > 40:
        check.fail(prop, "has too many fields", "too-many-items")
    for field in value:
        check.text(value, field, prop, max_len=255, blank=True)
    return value


def _tax_lines(check: Checker, data: dict, prefix: str = "") -> list[dict]:
    out = []
    for prop, item in check.objects(data, "tax_lines", prefix, max_items=50):
        check.only_keys(item, ("title", "amount", "rate"), prop)
        check.text(item, "title", prop, required=True, max_len=255)
        check.money(item, "amount", prop, required=True)
        check.decimal_text(item, "rate", prop, minimum=ZERO)
        out.append(item)
    return out


def _line_item(check: Checker, prop: str, item: dict) -> None:
    check.only_keys(item, ("identifiers", "name_parent", "name_child", "quantity", "custom_attributes",
                           "line_total", "unit_total", "tax_rate", "tax_lines"), prop)
    identifiers = check.obj(item, "identifiers", prop, required=True)
    if identifiers is not None:
        id_prop = prop_of(prop, "identifiers")
        check.text(identifiers, "sku", id_prop, required=True, max_len=255)
        for key in identifiers:
            if key != "sku":
                check.text(identifiers, key, id_prop, max_len=255)
    check.text(item, "name_parent", prop, max_len=500, blank=True)
    check.text(item, "name_child", prop, max_len=500, blank=True)
    check.integer(item, "quantity", prop, required=True, minimum=0, maximum=10**9)
    for attr_prop, attr in check.objects(item, "custom_attributes", prop, max_items=100):
        check.only_keys(attr, ("key", "value"), attr_prop)
        check.text(attr, "key", attr_prop, required=True, max_len=255)
        if isinstance(attr.get("value"), (dict, list)):
            check.fail(prop_of(attr_prop, "value"), "must be a scalar", "invalid-type")
    totals = check.obj(item, "line_total", prop)
    if totals is not None:
        totals_prop = prop_of(prop, "line_total")
        check.only_keys(totals, LINE_TOTAL_KEYS, totals_prop)
        for key in LINE_TOTAL_KEYS:
            check.money(totals, key, totals_prop)
    check.money(item, "unit_total", prop)
    check.decimal_text(item, "tax_rate", prop, minimum=ZERO)
    _tax_lines(check, item, prop)


def _package(check: Checker, prop: str, package: dict) -> None:
    check.only_keys(package, ("identifiers", "type", "line_items", "shipping_method", "shipping_address",
                              "shipments", "accounting_files"), prop)
    identifiers = check.obj(package, "identifiers", prop)
    for key in identifiers or {}:
        check.text(identifiers, key, prop_of(prop, "identifiers"), max_len=255)  # type: ignore[arg-type]
    check.text(package, "type", prop, required=True, choices=contract.PACKAGE_TYPES)
    for line_prop, line in check.objects(package, "line_items", prop, required=True, max_items=2000):
        _line_item(check, line_prop, line)
    method = check.obj(package, "shipping_method", prop)
    if method is not None:
        method_prop = prop_of(prop, "shipping_method")
        check.only_keys(method, ("name", "line_total"), method_prop)
        check.text(method, "name", method_prop, max_len=255)
        check.money(method, "line_total", method_prop)
    _address(check, package, "shipping_address", prop)
    for ship_prop, shipment in check.objects(package, "shipments", prop, max_items=100):
        check.only_keys(shipment, ("carrier", "carrier_id", "tracking_number", "tracking_url", "shipped_at"),
                        ship_prop)
        for key in ("carrier", "carrier_id", "tracking_number", "tracking_url"):
            check.text(shipment, key, ship_prop, max_len=1000)
        check.instant(shipment, "shipped_at", ship_prop)
    _accounting_files(check, package, prop)


def _accounting_files(check: Checker, data: dict, prefix: str = "", *, required: bool = False) -> None:
    for prop, item in check.objects(data, "accounting_files", prefix, required=required, max_items=200):
        check.only_keys(item, ("identifiers", "data", "file_type"), prop)
        identifiers = check.obj(item, "identifiers", prop)
        if identifiers is not None:
            check.only_keys(identifiers, ("visible",), prop_of(prop, "identifiers"))
            check.text(identifiers, "visible", prop_of(prop, "identifiers"), max_len=255)
        check.text(item, "file_type", prop, required=True, max_len=64)
        data_obj = check.obj(item, "data", prop, required=True)
        if data_obj is not None:
            data_prop = prop_of(prop, "data")
            check.only_keys(data_obj, ("type", "uri"), data_prop)
            check.text(data_obj, "type", data_prop, required=True, choices=("uri",))
            check.text(data_obj, "uri", data_prop, required=True, max_len=2000,
                       pattern=re.compile(r"^https?://\S+$"))


def validate(body: Any) -> dict[str, Any]:
    """The purchase as sent, checked field by field; calculated fields are dropped (never trusted)."""
    check = Checker()
    data = check.root_object(body)
    check.only_keys(data, REQUIRED + OPTIONAL + CALCULATED)
    doc = {k: v for k, v in data.items() if k not in CALCULATED}
    check.text(data, "type", required=True, choices=contract.PURCHASE_TYPES)
    ids = check.obj(data, "purchase_identifiers", required=True)
    if ids is not None:
        check.only_keys(ids, PURCHASE_ID_KEYS, "purchase_identifiers")
        for key in PURCHASE_ID_KEYS:
            if key == "sparklayer":
                ids_uuid = check.uuid(ids, key, "purchase_identifiers")
                if ids_uuid:
                    ids[key] = ids_uuid
            else:
                check.text(ids, key, "purchase_identifiers", max_len=255)
    cust = check.obj(data, "customer_identifiers", required=True)
    if cust is not None:
        check.only_keys(cust, CUSTOMER_ID_KEYS, "customer_identifiers")
        for key in CUSTOMER_ID_KEYS:
            if key == "platform":
                check.text(cust, key, "customer_identifiers", max_len=255)
            else:
                canonical = check.uuid(cust, key, "customer_identifiers")
                if canonical:
                    cust[key] = canonical
        if not cust.get("sparklayer") and not cust.get("platform"):
            check.fail("customer_identifiers", "customer_identifiers needs sparklayer or platform", "required")
    dates = check.obj(data, "dates", required=True)
    if dates is not None:
        check.only_keys(dates, DATE_KEYS, "dates")
        for key in DATE_KEYS:
            stamp = check.instant(dates, key, "dates")
            if stamp:
                dates[key] = stamp
    check.text(data, "payment_method", choices=contract.PAYMENT_METHODS)
    check.text(data, "status", choices=contract.PURCHASE_STATUSES)
    check.text(data, "customer_reference", max_len=255, blank=True)
    check.currency(data, "currency_code")
    check.text(data, "revision_date", max_len=64)
    _address(check, data, "billing_address")
    _address(check, data, "shipping_address")
    _tax_lines(check, data)
    check.money(data, "total_shipping")
    check.money(data, "shipping_tax")
    for prop, package in check.objects(data, "packages", required=True, max_items=200):
        _package(check, prop, package)
    _accounting_files(check, data, required=True)
    for prop, field in check.objects(data, "custom_fields", required=True, max_items=200):
        check.text(field, "name", prop, required=True, max_len=255)
        for key, value in field.items():
            if isinstance(value, (dict, list)):
                check.fail(prop_of(prop, key), "must be a scalar", "invalid-type")
    for prop, item in check.objects(data, "metadata", max_items=200):
        check.only_keys(item, ("name", "value"), prop)
        check.text(item, "name", prop, required=True, max_len=255)
        if isinstance(item.get("value"), (dict, list)):
            check.fail(prop_of(prop, "value"), "must be a scalar", "invalid-type")
    check.raise_if_any("the purchase is invalid")
    doc["dates"].pop("last_updated", None)
    return doc


# -- calculated fields ---------------------------------------------------------------------------------------

def fulfilment_status(doc: dict[str, Any]) -> str:
    """Derived from the packages (contract.py items 4 and 15): what the customer sees in My Account."""
    if doc.get("status") == "cancelled":
        return "cancelled"
    units: Counter[str] = Counter()
    for package in doc.get("packages") or []:
        units[package["type"]] += sum(line["quantity"] for line in package.get("line_items") or [])
    open_units = units["incoming"]
    if units["return"] and not open_units:
        return "returned"
    if units["shipment"]:
        return "part_shipped" if open_units else "shipped"
    if units["cancellation"] and not open_units:
        return "cancelled"
    return "incoming"


def _calculate(doc: dict[str, Any], paid: Decimal) -> None:
    currency = doc.get("currency_code") or "GBP"
    total = ZERO
    for package in doc.get("packages") or []:
        if package["type"] in ("cancellation", "return"):  # not charged / repeats units already counted
            continue
        for line in package.get("line_items") or []:
            total += amount((line.get("line_total") or {}).get("total_gross"))
    total += amount(doc.get("total_shipping")) + amount(doc.get("shipping_tax"))
    address = next((p.get("shipping_address") for p in doc.get("packages") or [] if p.get("shipping_address")),
                   doc.get("shipping_address"))
    doc["calculated_total"] = money(total, currency)
    doc["calculated_total_usd"] = None
    doc["calculated_fulfilment_status"] = fulfilment_status(doc)
    doc["calculated_shipping_address"] = (", ".join(str(v) for v in address.values() if v)
                                          if isinstance(address, dict) else None)
    doc["total_paid"] = money(paid, currency)


# -- storage -------------------------------------------------------------------------------------------------

def _lookup(lookup_by: str, identifier: str) -> tuple[str, str]:
    if lookup_by not in _COLUMNS:
        raise bad_request("resource-id-invalid", f"lookupBy must be one of {', '.join(contract.LOOKUP_KINDS)}",
                          "lookupBy")
    if lookup_by == "sparklayer":
        canonical = parse_uuid(identifier)
        if canonical is None:
            raise bad_request("resource-id-invalid", "a sparklayer purchase id is a UUID", "identifier")
        return _COLUMNS[lookup_by], canonical
    return _COLUMNS[lookup_by], identifier


def find_row(conn: sqlite3.Connection, lookup_by: str, identifier: str) -> sqlite3.Row | None:
    column, key = _lookup(lookup_by, identifier)
    return conn.execute(f"SELECT * FROM purchases WHERE {column} = ?", (key,)).fetchone()  # noqa: S608


def row_or_404(conn: sqlite3.Connection, lookup_by: str, identifier: str) -> sqlite3.Row:
    row = find_row(conn, lookup_by, identifier)
    if row is None:
        raise not_found("purchase", identifier, "identifier")
    return row


def get(db: Database, lookup_by: str, identifier: str) -> dict[str, Any]:
    with db.tx() as conn:
        return loads(row_or_404(conn, lookup_by, identifier)["doc"])


def _paid(conn: sqlite3.Connection, seq: int | None) -> Decimal:
    if seq is None:
        return ZERO
    rows = conn.execute("SELECT applied FROM purchase_transactions WHERE purchase_seq = ?", (seq,)).fetchall()
    return sum((Decimal(r["applied"]) for r in rows), ZERO)


def write(conn: sqlite3.Connection, db: Database, doc: dict[str, Any], seq: int | None = None,
          balance_charge: Decimal | None = None) -> tuple[int, dict[str, Any]]:
    """Store ``doc`` (insert when ``seq`` is None): fresh ``last_updated``, recomputed calculated fields."""
    doc["dates"]["last_updated"] = db.now()
    _calculate(doc, _paid(conn, seq))
    ids = doc["purchase_identifiers"]
    cust = doc["customer_identifiers"]
    values = (ids.get("sparklayer"), ids.get("platform"), ids.get("internal"), ids.get("visible"), doc["type"],
              cust.get("sparklayer"), doc["dates"].get("placed"), doc["dates"]["last_updated"], dumps(doc))
    if seq is None:
        cursor = conn.execute(
            "INSERT INTO purchases (sparklayer_id, platform_id, internal_id, visible_id, type, customer_id, "
            "placed, last_updated, doc, balance_charge) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (*values, str(balance_charge or ZERO)))
        seq = int(cursor.lastrowid or 0)
    else:
        conn.execute("UPDATE purchases SET sparklayer_id=?, platform_id=?, internal_id=?, visible_id=?, type=?, "
                     "customer_id=?, placed=?, last_updated=?, doc=? WHERE seq=?", (*values, seq))
        if balance_charge is not None:
            conn.execute("UPDATE purchases SET balance_charge = ? WHERE seq = ?", (str(balance_charge), seq))
    return seq, loads(dumps(doc))


def touch(conn: sqlite3.Connection, db: Database, seq: int) -> None:
    """A write on a purchase's history or transactions counts as a change of the purchase."""
    row = conn.execute("SELECT doc FROM purchases WHERE seq = ?", (seq,)).fetchone()
    write(conn, db, loads(row["doc"]), seq)


def _resolve_customer(conn: sqlite3.Connection, doc: dict[str, Any]) -> None:
    """Both customer identifiers filled from the customer record; an unknown customer is a 400."""
    cust = doc["customer_identifiers"]
    found = (customers.find(conn, "sparklayer", cust["sparklayer"]) if cust.get("sparklayer")
             else customers.find(conn, "platform", cust["platform"]))
    if found is None:
        raise bad_request("resource-id-not-found", "the customer in customer_identifiers does not exist",
                          "customer_identifiers")
    if cust.get("platform") and found.get("external_id") and cust["platform"] != found["external_id"]:
        raise bad_request("idMismatch", "customer_identifiers.platform belongs to another customer",
                          "customer_identifiers.platform")
    cust["sparklayer"] = found["id"]
    if found.get("external_id"):
        cust["platform"] = found["external_id"]


def _check_unique(conn: sqlite3.Connection, ids: dict[str, Any], seq: int | None) -> None:
    for key, column in _COLUMNS.items():
        value = ids.get(key)
        if value is None:
            continue
        row = conn.execute(f"SELECT seq FROM purchases WHERE {column} = ?", (value,)).fetchone()  # noqa: S608
        if row is not None and row["seq"] != seq:
            raise conflict("resource-already-exists", f"another purchase has purchase_identifiers.{key} {value!r}",
                           f"purchase_identifiers.{key}")


def upsert(db: Database, lookup_by: str, identifier: str, body: Any) -> tuple[dict[str, Any], bool]:
    """``PUT /api/v1/purchases/{lookupBy}/{identifier}``: create or fully replace."""
    _, key = _lookup(lookup_by, identifier)
    doc = validate(body)
    ids = doc["purchase_identifiers"]
    if ids.get(lookup_by) is not None and ids[lookup_by] != key:
        message = f"purchase_identifiers.{lookup_by} must equal the identifier in the URL"
        raise ApiError(400, message, [FieldError("idMismatch", message, f"purchase_identifiers.{lookup_by}")])
    ids[lookup_by] = key
    with db.tx() as conn:
        row = find_row(conn, lookup_by, identifier)
        if row is not None:
            if ids.get("sparklayer") and ids["sparklayer"] != row["sparklayer_id"]:
                raise ApiError(403, "the sparklayer id of a purchase cannot change",
                               [FieldError("forbidden", "the sparklayer id of a purchase cannot change",
                                           "purchase_identifiers.sparklayer")])
            ids["sparklayer"] = row["sparklayer_id"]
        else:
            ids["sparklayer"] = ids.get("sparklayer") or str(uuid.uuid4())
        seq = row["seq"] if row is not None else None
        _check_unique(conn, ids, seq)
        _resolve_customer(conn, doc)
        _, stored = write(conn, db, doc, seq)
    return stored, row is None


def delete(db: Database, lookup_by: str, identifier: str) -> None:
    with db.tx() as conn:
        row = row_or_404(conn, lookup_by, identifier)
        for table in ("purchase_history", "purchase_transactions"):
            conn.execute(f"DELETE FROM {table} WHERE purchase_seq = ?", (row["seq"],))  # noqa: S608
        conn.execute("DELETE FROM purchases WHERE seq = ?", (row["seq"],))


def list_purchases(db: Database, params: Mapping[str, str]) -> list[dict[str, Any]]:
    """``GET /api/v1/purchases``: filters, ``order_by``, ``limit`` 1–500 and ``offset``; a bare array."""
    reject_unknown_params(params, LIST_PARAMS)
    limit = int_param(params, "limit", contract.PURCHASES_DEFAULT_LIMIT, 1, contract.PURCHASES_MAX_LIMIT)
    offset = int_param(params, "offset", 0, 0, 10**9)
    where, args = [], []
    if params.get(contract.FILTER_TYPE):
        types = [t.strip() for t in params[contract.FILTER_TYPE].split(",") if t.strip()]
        if not types or any(t not in contract.PURCHASE_TYPES for t in types):
            raise bad_request("invalid-choice", f"type must be one of {', '.join(contract.PURCHASE_TYPES)}",
                              contract.FILTER_TYPE)
        where.append(f"type IN ({','.join('?' * len(types))})")
        args += types
    for param, column, op in ((contract.FILTER_UPDATED_GTE, "last_updated", ">="),
                              (contract.FILTER_UPDATED_LTE, "last_updated", "<="),
                              (contract.FILTER_PLACED_GTE, "placed", ">="),
                              (contract.FILTER_PLACED_LTE, "placed", "<=")):
        if param in params:
            stamp = parse_instant(params[param])
            if stamp is None:
                raise bad_request("invalid-format", f"{param} must be an ISO 8601 date-time", param)
            where.append(f"{column} IS NOT NULL AND {column} {op} ?")
            args.append(stamp)
    if contract.FILTER_CUSTOMER in params:
        customer = parse_uuid(params[contract.FILTER_CUSTOMER])
        if customer is None:
            raise bad_request("resource-id-invalid", "the customer id is a UUID", contract.FILTER_CUSTOMER)
        where.append("customer_id = ?")
        args.append(customer)
    order = "seq DESC"
    if params.get("order_by"):
        field, _, direction = params["order_by"].partition(":")
        if field not in ORDER_COLUMNS or direction not in ("asc", "desc"):
            raise bad_request("invalid-choice", "order_by must be last_updated or placed with :asc or :desc",
                              "order_by")
        order = f"{ORDER_COLUMNS[field]} {direction.upper()}, seq {direction.upper()}"
    sql = "SELECT doc FROM purchases"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY {order} LIMIT ? OFFSET ?"
    with db.tx() as conn:
        rows = conn.execute(sql, [*args, limit, offset]).fetchall()
    return [loads(r["doc"]) for r in rows]


# -- history ---------------------------------------------------------------------------------------------------

def add_history(db: Database, lookup_by: str, identifier: str, body: Any) -> dict[str, Any]:
    check = Checker()
    data = check.root_object(body)
    event = check.text(data, "event_type", required=True, choices=("message", "note", "email"))
    author_key = "sent_by" if event == "email" else "created_by"
    check.only_keys(data, ("event_type", "body", author_key))
    entry = {"event_type": event, "body": check.text(data, "body", required=True, max_len=20_000)}
    author = check.text(data, author_key, max_len=255, required=event in ("note", "email"))
    if author is not None:
        entry[author_key] = author
    check.raise_if_any("the history entry is invalid")
    with db.tx() as conn:
        row = row_or_404(conn, lookup_by, identifier)
        entry["created_at"] = db.now()
        cursor = conn.execute("INSERT INTO purchase_history (purchase_seq, doc) VALUES (?, ?)",
                              (row["seq"], dumps(entry)))
        entry = {"id": int(cursor.lastrowid or 0), **entry}
        touch(conn, db, row["seq"])
    return entry


def list_history(db: Database, lookup_by: str, identifier: str) -> list[dict[str, Any]]:
    with db.tx() as conn:
        row = row_or_404(conn, lookup_by, identifier)
        rows = conn.execute("SELECT seq, doc FROM purchase_history WHERE purchase_seq = ? ORDER BY seq",
                            (row["seq"],)).fetchall()
    return [{"id": r["seq"], **loads(r["doc"])} for r in rows]


# -- transactions --------------------------------------------------------------------------------------------

def _validate_transaction(body: Any, currency: str) -> dict[str, Any]:
    check = Checker()
    data = check.root_object(body)
    check.only_keys(data, ("platform_id", "type", "total", "apply_to_balance", "created_at", "full_transaction"))
    tx = {
        "platform_id": check.text(data, "platform_id", required=True, max_len=255),
        "type": check.text(data, "type", required=True, choices=("payment", "refund")),
        "total": check.money(data, "total", required=True),
        "apply_to_balance": bool(check.boolean(data, "apply_to_balance")),
        "created_at": check.instant(data, "created_at"),
        "full_transaction": check.obj(data, "full_transaction"),
    }
    if tx["total"] is not None:
        value = amount(tx["total"])
        if tx["type"] == "payment" and value < 0:
            check.fail("total.number", "a payment total is positive (refunds are negative)", "invalid")
        if tx["type"] == "refund" and value > 0:
            check.fail("total.number", "a refund total is negative", "invalid")
        if tx["total"]["currency"].lower() != currency.lower():
            check.fail("total.currency", f"the purchase is in {currency}", "invalid")
    check.raise_if_any("the transaction is invalid")
    return tx


def record_transaction(conn: sqlite3.Connection, db: Database, seq: int, tx: dict[str, Any]
                       ) -> tuple[dict[str, Any], bool]:
    """Upsert by ``platform_id``; the balance and ``total_paid`` move by the change in what is applied."""
    purchase = loads(conn.execute("SELECT doc FROM purchases WHERE seq = ?", (seq,)).fetchone()["doc"])
    existing = conn.execute("SELECT applied FROM purchase_transactions WHERE purchase_seq = ? AND platform_id = ?",
                            (seq, tx["platform_id"])).fetchone()
    tx["created_at"] = tx.get("created_at") or db.now()
    applied = amount(tx["total"]) if tx["apply_to_balance"] else ZERO
    delta = applied - (Decimal(existing["applied"]) if existing else ZERO)
    conn.execute("INSERT INTO purchase_transactions (purchase_seq, platform_id, applied, doc) VALUES (?,?,?,?) "
                 "ON CONFLICT (purchase_seq, platform_id) DO UPDATE SET applied = excluded.applied, "
                 "doc = excluded.doc", (seq, tx["platform_id"], str(applied), dumps(tx)))
    customers.adjust_balance(conn, purchase["customer_identifiers"].get("sparklayer"), -delta)
    touch(conn, db, seq)
    return loads(dumps(tx)), existing is None


def put_transaction(db: Database, lookup_by: str, identifier: str, body: Any) -> tuple[dict[str, Any], bool]:
    with db.tx() as conn:
        row = row_or_404(conn, lookup_by, identifier)
        currency = loads(row["doc"]).get("currency_code") or "GBP"
        tx = _validate_transaction(body, currency)
        return record_transaction(conn, db, row["seq"], tx)


def list_transactions(db: Database, lookup_by: str, identifier: str) -> list[dict[str, Any]]:
    with db.tx() as conn:
        row = row_or_404(conn, lookup_by, identifier)
        rows = conn.execute("SELECT doc FROM purchase_transactions WHERE purchase_seq = ? ORDER BY seq",
                            (row["seq"],)).fetchall()
    return [loads(r["doc"]) for r in rows]
