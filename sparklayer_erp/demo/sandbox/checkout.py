"""The buyer: places, cancels and amends orders the way SparkLayer checkout would (sandbox admin, not API).

An order is refused with a 400 for the same reasons the storefront refuses it: a quantity off the pack size,
a SKU with no price for the customer, a payment method the customer's group does not offer, or an on-account
order beyond the credit headroom. An accepted order becomes a purchase of type ``order`` with one
``incoming`` package; a card order also gets its payment transaction; the order total is added to what the
customer owes and a card payment takes it off again (the same ledger SparkLayer keeps behind My Account).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sparklayer_erp.demo.sandbox import customers, pricing, purchases, storefront, variants
from sparklayer_erp.demo.sandbox.db import Database, loads
from sparklayer_erp.demo.sandbox.monetary import money, unit_money
from sparklayer_erp.demo.sandbox.problems import ApiError, FieldError, bad_request, not_found
from sparklayer_erp.demo.sandbox.validate import Checker, prop_of
from sparklayer_erp.domain.money import ZERO, decimal_text
from sparklayer_erp.sparklayer import contract

CARD = "platform_upfront"
ON_ACCOUNT = "on_account"
FIRST_VISIBLE_NUMBER = 1001
FIRST_PLATFORM_ORDER_ID = 5_500_000_001


def _parse_lines(lines: Any) -> list[tuple[str, int]]:
    check = Checker()
    items = check.array({"lines": lines}, "lines", required=True, max_items=500) or []
    if not items and not check.errors:
        check.fail("lines", "an order needs at least one line", "required")
    parsed = []
    for i, item in enumerate(items):
        prop = prop_of("lines", i)
        if not isinstance(item, dict):
            check.fail(prop, "must be an object", "invalid-type")
            continue
        check.only_keys(item, ("sku", "quantity"), prop)
        sku = check.text(item, "sku", prop, required=True, max_len=255)
        quantity = check.integer(item, "quantity", prop, required=True, maximum=10**6)
        if sku is not None and quantity is not None:
            parsed.append((sku, quantity))
    check.raise_if_any("the order lines are invalid")
    return parsed


def _parse_overrides(overrides: Mapping[str, Any] | None) -> dict[str, Decimal]:
    if not overrides:
        return {}
    check = Checker()
    if not isinstance(overrides, Mapping):
        raise bad_request("invalid-type", "unit_price_overrides must map SKU to a unit price",
                          "unit_price_overrides")
    out = {}
    for sku in overrides:
        value = check.decimal_text(dict(overrides), sku, "unit_price_overrides", minimum=ZERO)
        if value is not None:
            out[str(sku)] = value
    check.raise_if_any("the unit price overrides are invalid")
    return out


def _price_lines(conn: sqlite3.Connection, customer: dict[str, Any], lines: list[tuple[str, int]],
                 overrides: Mapping[str, Decimal]) -> tuple[list[storefront.PricedLine], str]:
    chain = [g["slug"] for g in customers.group_chain(conn, customer.get("group"))]
    settings = customers.effective_settings(conn, customer.get("group"))
    lists = list(customer.get("price_lists") or []) + [s for s in settings["price_lists"]
                                                       if s not in (customer.get("price_lists") or [])]
    tax_percent = ZERO if customer.get("tax_exempt") else storefront.VAT_PERCENT
    discount = customer.get("discount_percentage")
    errors: list[FieldError] = []
    found: list[tuple[str, str, int, Decimal, str | None]] = []  # priced once the order's currency is known
    currencies: list[str] = []
    for i, (sku, quantity) in enumerate(lines):
        prop = prop_of("lines", i)
        variant = variants.find_by_sku(conn, sku)
        if variant is None or variant.get("status") != "live":
            errors.append(FieldError("unknown-sku", f"{sku!r} is not a product for sale", prop_of(prop, "sku")))
            continue
        problem = storefront.quantity_problem(quantity, variants.rule_for(variant, chain))
        if problem:
            code, reason = problem
            errors.append(FieldError(code, f"{sku}: {reason}", prop_of(prop, "quantity")))
            continue
        unit, source = overrides.get(sku), None
        if unit is None:
            for slug in lists:
                unit = storefront.break_price(pricing.breaks_for(conn, slug, sku), quantity)
                if unit is not None:
                    source = slug
                    currencies.append(pricing.currency_of(conn, slug) or "GBP")
                    break
            if unit is None:
                errors.append(FieldError("no-price", f"{sku} has no price for this customer", prop_of(prop, "sku")))
                continue
            unit = storefront.discounted(unit, Decimal(discount) if discount is not None else None)
        found.append((sku, variant.get("title") or sku, quantity, unit, source))
    if errors:
        raise ApiError(400, "the storefront refuses this order", errors)
    poa = customer.get("payment_on_account") or {}
    currency = (currencies[0] if currencies else None) or poa.get(contract.POA_CURRENCY) \
        or customer.get("currency_code") or "GBP"
    priced = [storefront.price_line(sku, name, quantity, unit, tax_percent, source, currency)
              for sku, name, quantity, unit, source in found]
    return priced, currency


def _line_item(line: storefront.PricedLine, currency: str) -> dict[str, Any]:
    rate = decimal_text(line.tax_percent)
    return {
        "identifiers": {"sku": line.sku},
        "name_parent": line.name,
        "quantity": line.quantity,
        "unit_total": unit_money(line.unit_price, currency),
        "line_total": {"total_net": money(line.net, currency), "total_tax": money(line.tax, currency),
                       "total_gross": money(line.gross, currency), "discount_net": money(ZERO, currency),
                       "discount_gross": money(ZERO, currency)},
        "tax_rate": rate,
        "tax_lines": [{"title": "VAT", "amount": money(line.tax, currency), "rate": rate}],
    }


def _order_taxes(lines: list[storefront.PricedLine], currency: str) -> list[dict[str, Any]]:
    rate = decimal_text(lines[0].tax_percent) if lines else "0"
    return [{"title": "VAT", "amount": money(sum((ln.tax for ln in lines), ZERO), currency), "rate": rate}]


def _check_payment(conn: sqlite3.Connection, customer: dict[str, Any], method: str, amount: Decimal) -> None:
    if method not in contract.PAYMENT_METHODS:
        raise bad_request("invalid-choice", f"payment_method must be one of {', '.join(contract.PAYMENT_METHODS)}",
                          "payment_method")
    allowed = customers.effective_settings(conn, customer.get("group"))["payment_methods"]
    if method not in allowed:
        raise bad_request("payment-method-not-allowed",
                          f"{method} is not offered to group {customer.get('group') or contract.BASE_GROUP!r} "
                          f"(allowed: {', '.join(allowed)})", "payment_method")
    if method == ON_ACCOUNT:
        problem = storefront.on_account_problem(customer.get("payment_on_account"), amount)
        if problem:
            raise bad_request("credit-limit-exceeded", problem, "payment_method")


def _default_address(customer: dict[str, Any], flag: str) -> dict[str, Any] | None:
    addresses = customer.get("addresses") or []
    chosen = next((a for a in addresses if a.get(flag)), addresses[0] if addresses else None)
    return {k: v for k, v in chosen.items() if isinstance(v, str)} if chosen else None


def _card_payment(conn: sqlite3.Connection, db: Database, seq: int, platform_id: str, total: Decimal,
                  currency: str, stamp: str) -> None:
    kind = "payment" if total >= 0 else "refund"
    purchases.record_transaction(conn, db, seq, {
        "platform_id": platform_id, "type": kind, "total": money(total, currency), "apply_to_balance": True,
        "created_at": stamp, "full_transaction": {"gateway": "sandbox-card", "status": "success"}})


def place_order(db: Database, *, customer: str, lines: Any, payment_method: str, po_number: str | None = None,
                unit_price_overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Check out as the buyer ``customer`` (SparkLayer id, e-mail or platform id); the new purchase."""
    parsed = _parse_lines(lines)
    overrides = _parse_overrides(unit_price_overrides)
    if po_number is not None and (not isinstance(po_number, str) or len(po_number) > 255):
        raise bad_request("invalid-type", "po_number must be a string of at most 255 characters", "po_number")
    with db.tx() as conn:
        buyer = customers.find_any(conn, str(customer))
        if buyer is None:
            raise not_found("customer", str(customer), "customer")
        priced, currency = _price_lines(conn, buyer, parsed, overrides)
        gross = sum((ln.gross for ln in priced), ZERO)
        _check_payment(conn, buyer, payment_method, gross)
        number = db.next_number("visible", FIRST_VISIBLE_NUMBER)
        platform_id = str(db.next_number("platform_order", FIRST_PLATFORM_ORDER_ID))
        placed = db.now()
        doc = {
            "type": "order",
            "purchase_identifiers": {"sparklayer": str(uuid.uuid4()), "platform": platform_id, "internal": None,
                                     "visible": f"#{number}"},
            "customer_identifiers": {"sparklayer": buyer["id"], "platform": buyer.get("external_id")},
            "payment_method": payment_method,
            "status": "incoming",
            "dates": {"placed": placed, "cancelled": None},
            "customer_reference": po_number,
            "currency_code": currency,
            "billing_address": _default_address(buyer, "is_default_billing"),
            "shipping_address": _default_address(buyer, "is_default_shipping"),
            "tax_lines": _order_taxes(priced, currency),
            "total_shipping": money(ZERO, currency),
            "shipping_tax": money(ZERO, currency),
            "packages": [{"identifiers": {"sparklayer_package_id": str(uuid.uuid4())}, "type": "incoming",
                          "line_items": [_line_item(ln, currency) for ln in priced],
                          "shipping_method": {"name": "Standard delivery", "line_total": money(ZERO, currency)}}],
            "accounting_files": [],
            "custom_fields": [],
            "metadata": [],
        }
        seq, stored = purchases.write(conn, db, doc, balance_charge=gross)
        customers.adjust_balance(conn, buyer["id"], gross)
        if payment_method == CARD:
            _card_payment(conn, db, seq, f"card-{platform_id}", gross, currency, placed)
            stored = loads(conn.execute("SELECT doc FROM purchases WHERE seq = ?", (seq,)).fetchone()["doc"])
    return stored


def cancel_order(db: Database, purchase_id: str) -> dict[str, Any]:
    """The buyer (or the store) cancels: status ``cancelled``, ``dates.cancelled``, the charge comes off."""
    with db.tx() as conn:
        row = purchases.row_or_404(conn, "sparklayer", purchase_id)
        doc = loads(row["doc"])
        if doc.get("status") == "cancelled":
            raise bad_request("already-cancelled", "the order is already cancelled", "status")
        doc["status"] = "cancelled"
        doc["dates"]["cancelled"] = db.now()
        customers.adjust_balance(conn, doc["customer_identifiers"].get("sparklayer"), -Decimal(row["balance_charge"]))
        _, stored = purchases.write(conn, db, doc, row["seq"], balance_charge=ZERO)
    return stored


def amend_order(db: Database, purchase_id: str, lines: Any,
                unit_price_overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Replace the order's lines (same checkout rules); the balance, and a card payment, follow the new total."""
    parsed = _parse_lines(lines)
    overrides = _parse_overrides(unit_price_overrides)
    with db.tx() as conn:
        row = purchases.row_or_404(conn, "sparklayer", purchase_id)
        doc = loads(row["doc"])
        if doc.get("status") == "cancelled":
            raise bad_request("already-cancelled", "a cancelled order cannot be amended", "status")
        buyer = customers.find(conn, "sparklayer", doc["customer_identifiers"]["sparklayer"])
        if buyer is None:
            raise not_found("customer", doc["customer_identifiers"]["sparklayer"], "customer")
        priced, _ = _price_lines(conn, buyer, parsed, overrides)
        currency = doc.get("currency_code") or "GBP"
        gross = sum((ln.gross for ln in priced), ZERO)
        old_charge = Decimal(row["balance_charge"])
        if doc.get("payment_method") == ON_ACCOUNT and gross > old_charge:
            problem = storefront.on_account_problem(buyer.get("payment_on_account"), gross - old_charge)
            if problem:
                raise bad_request("credit-limit-exceeded", problem, "lines")
        incoming = next((p for p in doc["packages"] if p["type"] == "incoming"), None)
        if incoming is None:
            incoming = {"identifiers": {"sparklayer_package_id": str(uuid.uuid4())}, "type": "incoming"}
            doc["packages"].append(incoming)
        incoming["line_items"] = [_line_item(ln, currency) for ln in priced]
        doc["tax_lines"] = _order_taxes(priced, currency)
        customers.adjust_balance(conn, buyer["id"], gross - old_charge)
        _, stored = purchases.write(conn, db, doc, row["seq"], balance_charge=gross)
        if doc.get("payment_method") == CARD and gross != old_charge:
            count = conn.execute("SELECT COUNT(*) FROM purchase_transactions WHERE purchase_seq = ?",
                                 (row["seq"],)).fetchone()[0]
            _card_payment(conn, db, row["seq"], f"card-{doc['purchase_identifiers']['platform']}-amend-{count}",
                          gross - old_charge, currency, db.now())
            stored = loads(conn.execute("SELECT doc FROM purchases WHERE seq = ?", (row["seq"],)).fetchone()["doc"])
    return stored
