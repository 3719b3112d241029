"""The demo company from ``demo_data`` (the same one the local Tryton holds), as NetSuite records.

Customers: ``entityId`` = account code, terms, price level, credit limit, ``creditHoldOverride`` ON for the
customer on hold, contract prices as ``itemPricing`` (level -1), one ``addressBook`` line (its
``addressBookAddress``: addressee, city, country). Items: ``itemId`` = SKU in one units type
"Each/Case" (Each = base, "Case of N" = N) with the pack as sale unit; prices per base unit on the Base
Price level and one level per demo price level, with the levels' quantity breaks; stock per location.
Currencies are read generically (base currency, customer and price-level currencies if demo_data has them).
"""

from __future__ import annotations

import re
import sqlite3
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sparklayer_erp.demo import demo_data
from sparklayer_erp.demo.netsuite import not_confirmed as nc
from sparklayer_erp.demo.netsuite.store import Doc, Store, ref

CURRENCY_NAMES = {"GBP": "British pound", "EUR": "Euro", "USD": "US Dollar"}
UNITS_TYPE_ID = 1
BASE_UNIT_NAME = "Each"
SUBSIDIARY_ID = 1
PRICE = Decimal("0.0001")


def unit_id(pack_size: int) -> int:
    return demo_data.PACK_SIZES.index(pack_size) + 1


def unit_name(pack_size: int) -> str:
    return BASE_UNIT_NAME if pack_size == 1 else f"Case of {pack_size}"


def level_id(code: str) -> int:
    return 2 + [lv.code for lv in demo_data.PRICE_LEVELS].index(code)


def _currencies() -> list[str]:
    codes = [demo_data.CURRENCY, *(c.code for c in getattr(demo_data, "FOREIGN_CURRENCIES", ()))]
    for source in (*demo_data.CUSTOMERS, *demo_data.PRICE_LEVELS):
        code = getattr(source, "currency", None)
        if code and code not in codes:
            codes.append(code)
    return codes


def _terms_days(name: str) -> int:
    match = re.search(r"\d+", name)
    return int(match.group(0)) if match else 0


def _rate(code: str) -> Decimal:
    """Units of ``code`` per one unit of the base currency (``demo_data.FOREIGN_CURRENCIES``; 1 for base)."""
    found = next((c for c in getattr(demo_data, "FOREIGN_CURRENCIES", ()) if c.code == code), None)
    return Decimal(found.rate) if found else Decimal(1)


def _level_price(level: Any, list_price: Decimal, quantity: int) -> Decimal:
    """The level's price in the level's currency (base list price × factor, converted at the demo rate)."""
    factor = level.volume_factor if quantity >= level.volume_break_units else level.factor
    rate = _rate(getattr(level, "currency", None) or demo_data.CURRENCY)
    return (list_price * factor * rate).quantize(PRICE, rounding=ROUND_HALF_UP)


def _address(customer: Any) -> Doc:
    """The customer's one address-book line (default billing and shipping) from what ``demo_data`` holds:
    addressee, city and country, and street / postcode when the demo company has them."""
    address: Doc = {"addressee": customer.name, "city": customer.city,
                    "country": {"id": getattr(customer, "country_code", "GB")}}
    for field, attr in (("addr1", "street"), ("zip", "postal_code")):
        if getattr(customer, attr, None):
            address[field] = getattr(customer, attr)
    return {"label": customer.city, "defaultBilling": True, "defaultShipping": True, "addressBookAddress": address}


def seed(store: Store, conn: sqlite3.Connection) -> None:
    currencies = {code: i + 1 for i, code in enumerate(_currencies())}
    base = currencies[demo_data.CURRENCY]
    for code, cid in currencies.items():
        known = next((c for c in getattr(demo_data, "FOREIGN_CURRENCIES", ()) if c.code == code), None)
        store.insert(conn, "currency", {"name": known.name if known else CURRENCY_NAMES.get(code, code),
                                        "symbol": code, "isBaseCurrency": cid == base,
                                        "exchangeRate": (Decimal(1) / _rate(code)).quantize(Decimal("0.000001")),
                                        "isInactive": False}, cid)
    store.insert(conn, "subsidiary", {"name": "Demo Company Ltd", "currency": ref(base)}, SUBSIDIARY_ID)
    term_names = sorted({c.payment_terms for c in demo_data.CUSTOMERS}, key=_terms_days)
    terms = {name: i + 1 for i, name in enumerate(term_names)}
    for name, tid in terms.items():
        store.insert(conn, "term", {"name": name, "daysUntilNetDue": Decimal(_terms_days(name)),
                                    "isInactive": False}, tid)
    for i, (code, name) in enumerate(demo_data.WAREHOUSES, start=1):
        store.insert(conn, "location", {"name": name, "externalId": code, "isInactive": False,
                                        "subsidiary": ref(SUBSIDIARY_ID)}, i)
    store.insert(conn, "priceLevel", {"name": "Base Price", "discountPct": Decimal(0), "isOnline": True,
                                      "isInactive": False}, nc.BASE_PRICE_LEVEL_ID)
    for level in demo_data.PRICE_LEVELS:
        store.insert(conn, "priceLevel", {
            "name": level.name, "externalId": level.code, "isOnline": False, "isInactive": False,
            "discountPct": ((level.factor - 1) * 100).quantize(Decimal("0.01"))}, level_id(level.code))
    store.insert(conn, "unitsType", {"name": "Each/Case", "isInactive": False, "uom": {"items": [
        {"internalId": Decimal(unit_id(size)), "unitName": unit_name(size),
         "pluralName": "Each" if size == 1 else f"Cases of {size}", "abbreviation": "ea" if size == 1 else f"cs{size}",
         "pluralAbbreviation": "ea" if size == 1 else f"cs{size}", "conversionRate": Decimal(size),
         "baseUnit": size == 1, "inUse": True} for size in demo_data.PACK_SIZES]}}, UNITS_TYPE_ID)
    item_ids = {}
    breaks = sorted({nc.FIRST_PRICE_BREAK, *(lv.volume_break_units for lv in demo_data.PRICE_LEVELS)})
    for n, product in enumerate(demo_data.PRODUCTS):
        prices: list[Doc] = []
        for quantity in breaks:
            prices.append({"priceLevel": ref(nc.BASE_PRICE_LEVEL_ID), "currencyPage": ref(base),
                           "quantity": Decimal(quantity), "price": product.list_price})
            for level in demo_data.PRICE_LEVELS:
                currency = currencies.get(getattr(level, "currency", None) or demo_data.CURRENCY, base)
                prices.append({"priceLevel": ref(level_id(level.code)), "currencyPage": ref(currency),
                               "quantity": Decimal(quantity),
                               "price": _level_price(level, product.list_price, quantity)})
        stock = [{"location": ref(i), "locationId": Decimal(i), "quantityOnHand": Decimal(product.stock.get(code, 0)),
                  "quantityAvailable": Decimal(product.stock.get(code, 0)), "quantityCommitted": Decimal(0),
                  "quantityBackOrdered": Decimal(0), "quantityOnOrder": Decimal(0), "quantityInTransit": Decimal(0)}
                 for i, (code, _name) in enumerate(demo_data.WAREHOUSES, start=1)]
        unit = str(unit_id(product.pack_size))
        item_ids[product.sku] = store.insert(conn, "inventoryItem", {
            "itemId": product.sku, "displayName": product.name, "externalId": product.sku, "isInactive": False,
            "unitsType": ref(UNITS_TYPE_ID), "baseUnit": "1", "stockUnit": "1", "purchaseUnit": "1",
            "saleUnit": unit, "rate": product.list_price, "subsidiary": ref(SUBSIDIARY_ID),
            "price": {"items": prices}, "locations": {"items": stock}}, 301 + 2 * n)
    for n, customer in enumerate(demo_data.CUSTOMERS):
        currency = currencies.get(getattr(customer, "currency", None) or demo_data.CURRENCY, base)
        pricing = [{"item": ref(item_ids[sku]), "level": {"id": nc.CUSTOM_PRICE_LEVEL_ID}, "price": Decimal(price),
                    "currency": ref(currency)} for sku, price in sorted(customer.contract_prices.items())]
        store.insert(conn, "customer", {
            "entityId": customer.account_code, "companyName": customer.name, "email": customer.email,
            "externalId": customer.account_code, "isPerson": False, "subsidiary": ref(SUBSIDIARY_ID),
            "currency": ref(currency), "terms": ref(terms[customer.payment_terms]),
            "priceLevel": ref(level_id(customer.price_level)), "creditLimit": customer.credit_limit,
            "creditHoldOverride": "ON" if customer.on_credit_hold else "AUTO", "isInactive": False,
            "balance": Decimal(0), "overdueBalance": Decimal(0), "unbilledOrders": Decimal(0),
            "_onCreditHold": customer.on_credit_hold,
            "currencyList": {"items": [{"currency": ref(currency), "balance": Decimal(0),
                                        "overdueBalance": Decimal(0), "unbilledOrders": Decimal(0),
                                        "depositBalance": Decimal(0)}]},
            "_openingBalance": Decimal(str(getattr(customer, "balance", 0) or 0)),
            "itemPricing": {"items": pricing}, "addressBook": {"items": [_address(customer)]}}, 101 + 2 * n)
