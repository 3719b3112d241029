"""Price lists and the prices inside them (replace-per-SKU), as the Pricing API documents them.

``PATCH .../pricing`` is replace-per-SKU: for every SKU sent, that list's prices for the SKU are deleted and
the supplied ones inserted; SKUs not sent are untouched; a SKU sent with a blank quantity/price (or an empty
``pricing``) loses all its prices on that list. Validation errors come back as ``[{line, field, message}]``.
"""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sparklayer_erp.demo.sandbox.db import Database, dumps, loads
from sparklayer_erp.demo.sandbox.paging import page_envelope
from sparklayer_erp.demo.sandbox.problems import (
    ApiError,
    FieldError,
    LineError,
    PricingLineErrors,
    bad_request,
    not_found,
)
from sparklayer_erp.demo.sandbox.validate import Checker, prop_of

SOURCES = ("custom", "platform", "integration")
SLUG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
ORDER_BY = {"name": "json_extract(doc, '$.name')", "updated_at": "json_extract(doc, '$.updated_at')",
            "created_at": "seq", "slug": "slug"}
MAX_PRICING_ROWS = 10_000


# -- price lists ------------------------------------------------------------------------------------------

def _validate_rules(check: Checker, conn: sqlite3.Connection, data: dict) -> list[dict] | None:
    if "rules" not in data:
        return None
    rules = []
    for prop, item in check.objects(data, "rules", nullable=False, max_items=50):
        check.only_keys(item, ("source_price_list_slug", "adjustment_percentage", "adjustment_direction",
                               "currency_exchange_rate"), prop)
        source = check.text(item, "source_price_list_slug", prop, required=True, max_len=100)
        rule = {
            "source_price_list_slug": source,
            "adjustment_percentage": check.number(item, "adjustment_percentage", prop, minimum=Decimal(0),
                                                  maximum=Decimal(1)),
            "adjustment_direction": check.text(item, "adjustment_direction", prop, choices=("plus", "minus")),
            "currency_exchange_rate": check.number(item, "currency_exchange_rate", prop, minimum=Decimal(0)),
        }
        if source and not conn.execute("SELECT 1 FROM price_lists WHERE slug = ?", (source,)).fetchone():
            check.fail(prop_of(prop, "source_price_list_slug"), f"price list {source!r} does not exist",
                       "resource-id-not-found")
        rules.append(rule)
    return rules


def _row_to_list(row: sqlite3.Row) -> dict[str, Any]:
    return loads(row["doc"])


def create_list(db: Database, body: Any) -> dict[str, Any]:
    """``POST /api/v1/price-lists``: not an upsert; an existing slug is a 400."""
    check = Checker()
    data = check.root_object(body)
    check.only_keys(data, ("slug", "name", "currency_code", "source", "tax_inclusive_display", "rules"))
    with db.tx() as conn:
        doc = {
            "slug": check.text(data, "slug", required=True, max_len=100, pattern=SLUG_RE),
            "name": check.text(data, "name", required=True, max_len=255),
            "currency_code": check.currency(data, "currency_code", required=True),
            "source": check.text(data, "source", choices=SOURCES) or "custom",
            "tax_inclusive_display": bool(check.boolean(data, "tax_inclusive_display")),
            "rules": _validate_rules(check, conn, data) or [],
        }
        check.raise_if_any("the price list is invalid")
        if conn.execute("SELECT 1 FROM price_lists WHERE slug = ?", (doc["slug"],)).fetchone():
            raise bad_request("resource-already-exists", f"price list {doc['slug']!r} already exists", "slug")
        doc["created_at"] = doc["updated_at"] = db.now()
        conn.execute("INSERT INTO price_lists (slug, doc) VALUES (?, ?)", (doc["slug"], dumps(doc)))
    return loads(dumps(doc))


def update_list(db: Database, slug: str, body: Any) -> dict[str, Any]:
    """``PATCH``: partial; ``rules`` replaces all rules; slug and source cannot change."""
    check = Checker()
    data = check.root_object(body)
    check.only_keys(data, ("slug", "name", "currency_code", "source", "tax_inclusive_display", "rules"))
    with db.tx() as conn:
        doc = get_list_in(conn, slug)
        for key in ("slug", "source"):
            if key in data and data[key] != doc[key]:
                check.fail(key, f"{key} cannot change after creation", "immutable")
        changes = {
            "name": check.text(data, "name", nullable=False, max_len=255),
            "currency_code": check.currency(data, "currency_code"),
            "tax_inclusive_display": check.boolean(data, "tax_inclusive_display", nullable=False),
            "rules": _validate_rules(check, conn, data),
        }
        if any(r["source_price_list_slug"] == slug for r in changes["rules"] or []):
            check.fail("rules", "a price list cannot derive from itself", "invalid")
        check.raise_if_any("the price list change is invalid")
        doc.update({k: v for k, v in changes.items() if k in data})
        doc["updated_at"] = db.now()
        conn.execute("UPDATE price_lists SET doc = ? WHERE slug = ?", (dumps(doc), slug))
    return loads(dumps(doc))


def get_list_in(conn: sqlite3.Connection, slug: str) -> dict[str, Any]:
    row = conn.execute("SELECT doc FROM price_lists WHERE slug = ?", (slug,)).fetchone()
    if row is None:
        raise not_found("price list", slug, "slug")
    return _row_to_list(row)


def get_list(db: Database, slug: str) -> dict[str, Any]:
    with db.tx() as conn:
        return get_list_in(conn, slug)


def all_lists(db: Database) -> list[dict[str, Any]]:
    with db.tx() as conn:
        return [_row_to_list(r) for r in conn.execute("SELECT doc FROM price_lists ORDER BY seq")]


def list_page(db: Database, params: Mapping[str, str], page: int, per_page: int) -> dict[str, Any]:
    """``GET /api/v2/price-lists``: ``order_by`` (``name:asc``, ``updated_at:desc``...), ``source`` filter."""
    where, args = "", []
    if params.get("source"):
        sources = [s.strip() for s in params["source"].split(",") if s.strip()]
        bad = [s for s in sources if s not in SOURCES]
        if bad or not sources:
            raise bad_request("invalid-choice", f"source must be a comma-separated list of {', '.join(SOURCES)}",
                              "source")
        where = f"WHERE json_extract(doc, '$.source') IN ({','.join('?' * len(sources))})"
        args = sources
    order = "seq ASC"
    if params.get("order_by"):
        field, _, direction = params["order_by"].partition(":")
        direction = (direction or "asc").lower()
        if field not in ORDER_BY or direction not in ("asc", "desc"):
            raise bad_request("invalid-choice", f"order_by must be one of {', '.join(ORDER_BY)} with :asc or :desc",
                              "order_by")
        order = f"{ORDER_BY[field]} {direction.upper()}, seq {direction.upper()}"
    with db.tx() as conn:
        total = conn.execute(f"SELECT COUNT(*) FROM price_lists {where}", args).fetchone()[0]  # noqa: S608
        rows = conn.execute(f"SELECT doc FROM price_lists {where} ORDER BY {order} LIMIT ? OFFSET ?",  # noqa: S608
                            [*args, per_page, (page - 1) * per_page]).fetchall()
    return page_envelope([_row_to_list(r) for r in rows], total, page, per_page)


# -- prices ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PriceRow:
    quantity: int
    price: Decimal
    unit_of_measure: str | None = None
    tax_type: str | None = None


@dataclass(frozen=True)
class SkuPricing:
    """One SKU's new prices on one list; ``rows == ()`` removes all of them."""

    line: int
    slug: str
    sku: str
    rows: tuple[PriceRow, ...]
    display_tax_rate: Decimal | None = None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _parse_rows(errors: list[LineError], line: int, items: Any, field: str) -> tuple[PriceRow, ...]:
    if not isinstance(items, list):
        errors.append(LineError(line, field, "must be an array"))
        return ()
    rows: list[PriceRow] = []
    quantities: set[int] = set()
    blanks = 0
    for i, item in enumerate(items):
        prop = f"{field}[{i}]"
        if not isinstance(item, dict):
            errors.append(LineError(line, prop, "must be an object"))
            continue
        check = Checker()
        check.only_keys(item, ("quantity", "price", "unit_of_measure", "tax_type"), prop)
        if _blank(item.get("quantity")) and _blank(item.get("price")):
            blanks += 1
        else:
            quantity = check.integer(item, "quantity", prop, required=True, minimum=1, maximum=10**9)
            price = check.number(item, "price", prop, required=True, minimum=Decimal(0))
            uom = check.text(item, "unit_of_measure", prop, max_len=64)
            tax_type = check.text(item, "tax_type", prop, max_len=32)
            if quantity is not None and quantity in quantities:
                check.fail(prop_of(prop, "quantity"), f"quantity {quantity} appears twice for this SKU")
            if not check.errors and quantity is not None and price is not None:
                quantities.add(quantity)
                rows.append(PriceRow(quantity, price, uom, tax_type))
        errors.extend(LineError(line, e.property, e.message) for e in check.errors)
    if blanks and rows:
        errors.append(LineError(line, field, "a blank row removes the SKU's prices; it cannot be mixed with prices"))
    return tuple(rows)


def parse_list_entries(body: Any, slug: str) -> list[SkuPricing]:
    """The per-list JSON body ``[{sku, display_tax_rate?, pricing: [{quantity, price}]}]``; line = index + 1."""
    return _parse_entries(body, fixed_slug=slug)


def parse_batch_entries(body: Any) -> list[SkuPricing]:
    """The batch body ``[{sku, price_list_slug, pricing: [...]}]``."""
    return _parse_entries(body, fixed_slug=None)


def _parse_entries(body: Any, fixed_slug: str | None) -> list[SkuPricing]:
    if not isinstance(body, list):
        raise PricingLineErrors([LineError(0, "", "the body must be a JSON array")])
    if len(body) > MAX_PRICING_ROWS:
        raise PricingLineErrors([LineError(0, "", f"at most {MAX_PRICING_ROWS} entries per request")])
    errors: list[LineError] = []
    out: list[SkuPricing] = []
    seen: set[tuple[str, str]] = set()
    allowed = ("sku", "display_tax_rate", "pricing") + (() if fixed_slug else ("price_list_slug",))
    for index, entry in enumerate(body):
        line = index + 1
        if not isinstance(entry, dict):
            errors.append(LineError(line, "", "must be an object"))
            continue
        check = Checker()
        check.only_keys(entry, allowed)
        sku = check.text(entry, "sku", required=True, max_len=255)
        slug = fixed_slug or check.text(entry, "price_list_slug", required=True, max_len=100)
        tax_rate = check.number(entry, "display_tax_rate", minimum=Decimal(0), maximum=Decimal(100))
        if "pricing" not in entry or entry["pricing"] is None:
            check.fail("pricing", "pricing is required", "required")
        errors.extend(LineError(line, e.property, e.message) for e in check.errors)
        pricing = entry.get("pricing")
        rows = _parse_rows(errors, line, pricing, "pricing") if pricing is not None else ()
        if sku is None or slug is None:
            continue
        if (slug, sku) in seen:
            errors.append(LineError(line, "sku", f"SKU {sku!r} appears twice for price list {slug!r}"))
        seen.add((slug, sku))
        out.append(SkuPricing(line, slug, sku, rows, tax_rate))
    if errors:
        raise PricingLineErrors(errors)
    return out


def parse_csv(raw: bytes, slug: str) -> list[SkuPricing]:
    """``text/csv`` with a header ``sku,quantity,price[,unit_of_measure][,tax_type][,display_tax_rate]``.

    One row per price break; rows of one SKU are gathered; a row with blank quantity and price removes the
    SKU's prices. ``line`` is the physical line number (the header is line 1).
    """
    try:
        text = raw.decode("utf-8-sig")
        records = list(csv.reader(io.StringIO(text)))
    except (UnicodeError, csv.Error) as exc:
        raise PricingLineErrors([LineError(0, "", f"the CSV cannot be read: {type(exc).__name__}")]) from None
    if not records:
        raise PricingLineErrors([LineError(1, "", "the CSV is empty")])
    header = [h.strip() for h in records[0]]
    missing = [c for c in ("sku", "quantity", "price") if c not in header]
    unknown = [c for c in header if c not in ("sku", "quantity", "price", "unit_of_measure", "tax_type",
                                               "display_tax_rate")]
    if missing or unknown:
        raise PricingLineErrors([LineError(1, ",".join(missing + unknown), "the header needs sku, quantity, price "
                                           "and may add unit_of_measure, tax_type, display_tax_rate")])
    errors: list[LineError] = []
    by_sku: dict[str, dict[str, Any]] = {}
    for number, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(header):
            errors.append(LineError(number, "", f"expected {len(header)} columns, found {len(record)}"))
            continue
        cells = dict(zip(header, (c.strip() for c in record), strict=True))
        sku = cells["sku"]
        if not sku:
            errors.append(LineError(number, "sku", "sku is required"))
            continue
        entry = by_sku.setdefault(sku, {"line": number, "pricing": []})
        item: dict[str, Any] = {"quantity": _csv_int(cells["quantity"]), "price": _csv_decimal(cells["price"])}
        for key in ("unit_of_measure", "tax_type"):
            if cells.get(key):
                item[key] = cells[key]
        if cells.get("display_tax_rate"):
            entry["display_tax_rate"] = _csv_decimal(cells["display_tax_rate"])
        entry["pricing"].append((number, item))
    out = []
    for sku, entry in by_sku.items():
        rows: list[PriceRow] = []
        for number, item in entry["pricing"]:
            rows.extend(_parse_rows(errors, number, [item], "pricing"))
        blank = any(_blank(i["quantity"]) and _blank(i["price"]) for _, i in entry["pricing"])
        if blank and rows:
            errors.append(LineError(entry["line"], "sku", "a blank row cannot be mixed with prices for one SKU"))
        quantities = [r.quantity for r in rows]
        if len(set(quantities)) != len(quantities):
            errors.append(LineError(entry["line"], "quantity", f"a quantity repeats for SKU {sku!r}"))
        out.append(SkuPricing(entry["line"], slug, sku, tuple(rows), entry.get("display_tax_rate")))
    if errors:
        raise PricingLineErrors(errors)
    return out


def _csv_int(text: str) -> Any:
    """Blank stays blank (it means "remove"); a non-integer is passed on as text so validation names it."""
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return text


def _csv_decimal(text: str) -> Any:
    if not text:
        return None
    try:
        value = Decimal(text)
    except ArithmeticError:
        return text
    return value if value.is_finite() else text


def apply(db: Database, entries: list[SkuPricing]) -> None:
    """Replace-per-SKU in one transaction; 404 (nothing written) if any named price list is missing."""
    with db.tx() as conn:
        slugs = sorted({e.slug for e in entries})
        missing = [s for s in slugs if not conn.execute("SELECT 1 FROM price_lists WHERE slug = ?",
                                                        (s,)).fetchone()]
        if missing:
            raise ApiError(404, f"price list(s) not found: {', '.join(missing)}",
                           [FieldError("resource-id-not-found", f"price list {s!r} was not found", "price_list_slug")
                            for s in missing])
        for entry in entries:
            conn.execute("DELETE FROM prices WHERE slug = ? AND sku = ?", (entry.slug, entry.sku))
            rate = None if entry.display_tax_rate is None else str(entry.display_tax_rate)
            conn.executemany(
                "INSERT INTO prices (slug, sku, quantity, price, unit_of_measure, tax_type, display_tax_rate) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(entry.slug, entry.sku, r.quantity, str(r.price), r.unit_of_measure, r.tax_type, rate)
                 for r in entry.rows])
        stamp = db.now()
        for slug in slugs:
            doc = get_list_in(conn, slug)
            doc["updated_at"] = stamp
            conn.execute("UPDATE price_lists SET doc = ? WHERE slug = ?", (dumps(doc), slug))


def _price_out(row: sqlite3.Row) -> dict[str, Any]:
    out: dict[str, Any] = {"quantity": row["quantity"], "price": Decimal(row["price"]),
                           "unit_of_measure": row["unit_of_measure"]}
    if row["tax_type"] is not None:
        out["tax_type"] = row["tax_type"]
    return out


def list_pricing(db: Database, slug: str) -> list[dict[str, Any]]:
    """Flat rows ``{sku, quantity, price, unit_of_measure}`` (contract.py item 9)."""
    with db.tx() as conn:
        get_list_in(conn, slug)
        rows = conn.execute("SELECT * FROM prices WHERE slug = ? ORDER BY sku, quantity", (slug,)).fetchall()
    out = []
    for row in rows:
        item = {"sku": row["sku"], **_price_out(row)}
        if row["display_tax_rate"] is not None:
            item["display_tax_rate"] = Decimal(row["display_tax_rate"])
        out.append(item)
    return out


def sku_pricing(db: Database, sku: str) -> list[dict[str, Any]]:
    """``GET /api/v1/pricing/{sku}``: ``[{price_list_slug, pricing[]}]``, empty if the SKU has none."""
    with db.tx() as conn:
        rows = conn.execute("SELECT p.* FROM prices p JOIN price_lists l ON l.slug = p.slug WHERE p.sku = ? "
                            "ORDER BY l.seq, p.quantity", (sku,)).fetchall()
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row["slug"], []).append(_price_out(row))
    return [{"price_list_slug": slug, "pricing": pricing} for slug, pricing in grouped.items()]


def breaks_for(conn: sqlite3.Connection, slug: str, sku: str) -> list[tuple[int, Decimal]]:
    """The quantity breaks of one SKU on one list, lowest quantity first (buyer side)."""
    rows = conn.execute("SELECT quantity, price FROM prices WHERE slug = ? AND sku = ? ORDER BY quantity",
                        (slug, sku)).fetchall()
    return [(r["quantity"], Decimal(r["price"])) for r in rows]


def currency_of(conn: sqlite3.Connection, slug: str) -> str | None:
    row = conn.execute("SELECT json_extract(doc, '$.currency_code') AS c FROM price_lists WHERE slug = ?",
                       (slug,)).fetchone()
    return row["c"] if row else None
