"""Record documents → SuiteQL rows (NetSuite's analytics tables), rewritten on every save.

Quantities in ``transactionline`` are in base units and negative on sales lines, rates per base unit
(see ``not_confirmed``); flags are ``'T'``/``'F'``; dates are text.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import Any

from sparklayer_erp.demo.netsuite import not_confirmed as nc
from sparklayer_erp.demo.netsuite.record_types import TYPES
from sparklayer_erp.demo.netsuite.store import Doc, ref_id

ZERO = Decimal(0)


def flag(value: Any) -> str:
    return "T" if value is True or value == "T" else "F"


def num(value: Any) -> str | None:
    return None if value is None else str(value)


def lines(doc: Doc, sublist: str) -> list[Doc]:
    return list((doc.get(sublist) or {}).get("items") or [])


def unit_factor(conn: sqlite3.Connection, units: Any) -> Decimal:
    unit_id = ref_id(units)
    if unit_id is None:
        return Decimal(1)
    row = conn.execute("SELECT conversionrate FROM unitstypeuom WHERE internalid = ?", (unit_id,)).fetchone()
    return Decimal(str(row[0])) if row else Decimal(1)


def _insert(conn: sqlite3.Connection, table: str, row: dict[str, Any]) -> None:
    columns = ", ".join(f'"{c}"' for c in row)
    conn.execute(f'INSERT INTO "{table}" ({columns}) VALUES ({", ".join("?" * len(row))})',  # noqa: S608
                 tuple(str(v) if isinstance(v, Decimal) else v for v in row.values()))


def unproject(conn: sqlite3.Connection, type_name: str, record_id: int) -> None:
    rtype = TYPES[type_name]
    if rtype.suiteql_type:
        for row in conn.execute("SELECT trackingnumber FROM TrackingNumberMap WHERE \"transaction\" = ?",
                                (record_id,)).fetchall():
            conn.execute("DELETE FROM TrackingNumber WHERE id = ?", (row[0],))
        conn.execute('DELETE FROM TrackingNumberMap WHERE "transaction" = ?', (record_id,))
        conn.execute('DELETE FROM "transaction" WHERE id = ?', (record_id,))
        conn.execute('DELETE FROM transactionline WHERE "transaction" = ?', (record_id,))
        conn.execute("DELETE FROM NextTransactionLink WHERE nextdoc = ?", (record_id,))
        return
    table = {"customer": "customer", "inventoryItem": "item", "priceLevel": "pricelevel", "location": "location",
             "currency": "currency", "term": "term", "subsidiary": "subsidiary", "unitsType": "unitstype"}[type_name]
    conn.execute(f'DELETE FROM "{table}" WHERE id = ?', (record_id,))  # noqa: S608
    if type_name == "inventoryItem":
        conn.execute("DELETE FROM pricing WHERE item = ?", (record_id,))
        conn.execute("DELETE FROM inventoryitemlocations WHERE item = ?", (record_id,))
    elif type_name == "customer":
        conn.execute("DELETE FROM customeritempricing WHERE customer = ?", (record_id,))
    elif type_name == "unitsType":
        conn.execute("DELETE FROM unitstypeuom WHERE unitstype = ?", (record_id,))


def project(conn: sqlite3.Connection, type_name: str, doc: Doc) -> None:
    record_id = int(doc["id"])
    unproject(conn, type_name, record_id)
    if TYPES[type_name].suiteql_type:
        _transaction(conn, type_name, doc)
    else:
        _MASTER[type_name](conn, doc)


def _common(doc: Doc) -> dict[str, Any]:
    return {"id": int(doc["id"]), "externalid": doc.get("externalId"), "isinactive": flag(doc.get("isInactive")),
            "lastmodifieddate": doc.get("lastModifiedDate")}


def _customer(conn: sqlite3.Connection, doc: Doc) -> None:
    _insert(conn, "customer", {
        **_common(doc), "entityid": doc.get("entityId"), "companyname": doc.get("companyName"),
        "email": doc.get("email"), "isperson": flag(doc.get("isPerson")), "subsidiary": ref_id(doc.get("subsidiary")),
        "currency": ref_id(doc.get("currency")), "terms": ref_id(doc.get("terms")),
        "pricelevel": ref_id(doc.get("priceLevel")), "creditlimit": num(doc.get("creditLimit")),
        "creditholdoverride": doc.get("creditHoldOverride") or "AUTO",
        "oncredithold": flag(doc.get("_onCreditHold")), "balancesearch": num(doc.get("balance", ZERO)),
        "overduebalancesearch": num(doc.get("overdueBalance", ZERO)),
        "unbilledorderssearch": num(doc.get("unbilledOrders", ZERO)), "datecreated": doc.get("dateCreated")})
    for line in lines(doc, "itemPricing"):
        _insert(conn, "customeritempricing", {
            "customer": int(doc["id"]), "item": ref_id(line.get("item")), "level": ref_id(line.get("level")),
            "price": num(line.get("price")), "currency": ref_id(line.get("currency")) or ref_id(doc.get("currency"))})


def _item(conn: sqlite3.Connection, doc: Doc) -> None:
    item_id = int(doc["id"])
    stock = lines(doc, "locations")
    total = {k: sum((Decimal(line.get(k) or 0) for line in stock), ZERO)
             for k in ("quantityOnHand", "quantityAvailable", "quantityCommitted")}
    _insert(conn, "item", {
        **_common(doc), "itemid": doc.get("itemId"), "displayname": doc.get("displayName"),
        "fullname": doc.get("itemId"), "description": doc.get("description"), "itemtype": "InvtPart",
        "unitstype": ref_id(doc.get("unitsType")), "baseunit": ref_id(doc.get("baseUnit")),
        "saleunit": ref_id(doc.get("saleUnit")), "stockunit": ref_id(doc.get("stockUnit")),
        "purchaseunit": ref_id(doc.get("purchaseUnit")), "quantityavailable": num(total["quantityAvailable"]),
        "quantityonhand": num(total["quantityOnHand"]), "quantitycommitted": num(total["quantityCommitted"]),
        "createddate": doc.get("createdDate")})
    for line in lines(doc, "price"):
        quantity = line.get("quantity")
        if isinstance(quantity, dict):
            quantity = quantity.get("value")
        _insert(conn, "pricing", {
            "item": item_id, "pricelevel": ref_id(line.get("priceLevel")),
            "currency": ref_id(line.get("currencyPage")), "quantity": num(quantity or nc.FIRST_PRICE_BREAK),
            "saleunit": ref_id(doc.get("baseUnit")), "unitprice": num(line.get("price"))})
    for line in stock:
        _insert(conn, "inventoryitemlocations", {
            "item": item_id, "location": ref_id(line.get("location")),
            **{k.lower(): num(line.get(k) or 0) for k in (
                "quantityOnHand", "quantityAvailable", "quantityCommitted", "quantityBackOrdered",
                "quantityOnOrder", "quantityInTransit")},
            "averagecostmli": num(line.get("averageCostMli")), "lastmodifieddate": doc.get("lastModifiedDate")})


def _units_type(conn: sqlite3.Connection, doc: Doc) -> None:
    _insert(conn, "unitstype", {"id": int(doc["id"]), "name": doc.get("name"), "externalid": doc.get("externalId"),
                                "isinactive": flag(doc.get("isInactive"))})
    for uom in lines(doc, "uom"):
        _insert(conn, "unitstypeuom", {
            "internalid": ref_id(uom.get("internalId")), "unitstype": int(doc["id"]), "unitname": uom.get("unitName"),
            "pluralname": uom.get("pluralName"), "abbreviation": uom.get("abbreviation"),
            "pluralabbreviation": uom.get("pluralAbbreviation"), "conversionrate": num(uom.get("conversionRate")),
            "baseunit": flag(uom.get("baseUnit")), "inuse": flag(uom.get("inUse", True))})


_MASTER = {
    "customer": _customer, "inventoryItem": _item, "unitsType": _units_type,
    "priceLevel": lambda conn, doc: _insert(conn, "pricelevel", {
        **_common(doc), "name": doc.get("name"), "discountpct": num(doc.get("discountPct")),
        "isonline": flag(doc.get("isOnline"))}),
    "location": lambda conn, doc: _insert(conn, "location", {
        **_common(doc), "name": doc.get("name"), "fullname": doc.get("name"),
        "subsidiary": ref_id(doc.get("subsidiary"))}),
    "currency": lambda conn, doc: _insert(conn, "currency", {
        "id": int(doc["id"]), "name": doc.get("name"), "symbol": doc.get("symbol"),
        "isbasecurrency": flag(doc.get("isBaseCurrency")), "exchangerate": num(doc.get("exchangeRate")),
        "isinactive": flag(doc.get("isInactive"))}),
    "term": lambda conn, doc: _insert(conn, "term", {
        "id": int(doc["id"]), "name": doc.get("name"), "daysuntilnetdue": doc.get("daysUntilNetDue"),
        "isinactive": flag(doc.get("isInactive"))}),
    "subsidiary": lambda conn, doc: _insert(conn, "subsidiary", {
        "id": int(doc["id"]), "name": doc.get("name"), "currency": ref_id(doc.get("currency")),
        "isinactive": flag(doc.get("isInactive"))}),
}

_SALES_SIGN = {"salesOrder": -1, "invoice": -1, "itemFulfillment": -1, "creditMemo": 1, "customerPayment": 1}


def _transaction(conn: sqlite3.Connection, type_name: str, doc: Doc) -> None:
    rtype = TYPES[type_name]
    txn_id = int(doc["id"])
    entity = ref_id(doc.get("entity")) or ref_id(doc.get("customer"))
    total = doc.get("total", doc.get("payment"))
    unpaid = doc.get("amountRemaining", doc.get("unapplied"))
    paid = doc.get("amountPaid", doc.get("applied"))
    status = doc.get("status")
    modified = doc.get("lastModifiedDate")
    _insert(conn, "transaction", {
        "id": txn_id, "tranid": doc.get("tranId"), "type": rtype.suiteql_type, "recordtype": type_name.lower(),
        "externalid": doc.get("externalId"), "entity": entity, "status": status, "trandate": doc.get("tranDate"),
        "duedate": doc.get("dueDate"), "otherrefnum": doc.get("otherRefNum"), "memo": doc.get("memo"),
        "currency": ref_id(doc.get("currency")), "terms": ref_id(doc.get("terms")), "foreigntotal": num(total),
        "foreignamountpaid": num(paid), "foreignamountunpaid": num(unpaid),
        "exchangerate": num(doc.get("exchangeRate")), "void": "F",
        "createddate": doc.get("createdDate"), "lastmodifieddate": modified})
    created_from = ref_id(doc.get("createdFrom"))
    _insert(conn, "transactionline", {
        "id": 0, "transaction": txn_id, "linesequencenumber": 0, "mainline": "T", "taxline": "F",
        "createdfrom": created_from, "entity": entity, "foreignamount": num(total), "isclosed": "F",
        "location": ref_id(doc.get("location")) or ref_id(doc.get("inventoryLocation")),
        "linelastmodifieddate": modified})
    sign = _SALES_SIGN[type_name]
    for n, line in enumerate(lines(doc, "item"), start=1):
        factor = unit_factor(conn, line.get("units"))
        quantity = Decimal(line.get("quantity") or 0)
        rate = line.get("rate")

        def base(key: str, line: Doc = line, factor: Decimal = factor) -> str | None:
            return num(Decimal(line[key]) * factor) if line.get(key) is not None else None

        _insert(conn, "transactionline", {
            "id": int(line.get("line") or n), "transaction": txn_id, "linesequencenumber": n, "mainline": "F",
            "taxline": "F", "item": ref_id(line.get("item")), "quantity": num(sign * quantity * factor),
            "rate": num((Decimal(rate) / factor).normalize()) if rate is not None else None,
            "foreignamount": num(sign * Decimal(line["amount"])) if line.get("amount") is not None else None,
            "units": ref_id(line.get("units")), "location": ref_id(line.get("location")),
            "memo": line.get("description"), "isclosed": flag(line.get("isClosed")), "createdfrom": created_from,
            "entity": entity, "quantitycommitted": base("quantityCommitted"),
            "quantitybackordered": base("quantityBackOrdered"), "quantitypicked": base("quantityPicked"),
            "quantitypacked": base("quantityPacked"), "quantityshiprecv": base("quantityFulfilled"),
            "quantitybilled": base("quantityBilled"),
            "isfullyshipped": flag(type_name == "salesOrder"
                                   and Decimal(line.get("quantityFulfilled") or 0) >= quantity),
            "linelastmodifieddate": modified})
    link = nc.LINK_TYPES.get(type_name)
    previous = {created_from} if created_from else set()
    previous |= {ref_id(a.get("doc")) for a in lines(doc, "apply") if a.get("apply", True)}
    for prev in sorted(p for p in previous if p):
        row = conn.execute('SELECT type FROM "transaction" WHERE id = ?', (prev,)).fetchone()
        _insert(conn, "NextTransactionLink", {
            "previousdoc": prev, "nextdoc": txn_id, "linktype": link, "previoustype": row[0] if row else None,
            "nexttype": rtype.suiteql_type, "linkcreateddate": doc.get("createdDate")})
    for package in lines(doc, "package"):
        number = package.get("packageTrackingNumber")
        if not number:
            continue
        cursor = conn.execute("INSERT INTO TrackingNumber (trackingnumber) VALUES (?)", (str(number),))
        conn.execute('INSERT INTO TrackingNumberMap ("transaction", trackingnumber) VALUES (?, ?)',
                     (txn_id, cursor.lastrowid))
