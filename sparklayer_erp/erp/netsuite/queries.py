"""Every SuiteQL query the NetSuite adapter sends, in one place.

Only tables and columns that NetSuite's SuiteQL is documented or widely observed to have are used
(``transaction``, ``transactionline``, ``NextTransactionLink``, ``TrackingNumberMap``/``TrackingNumber``,
``customer``, ``item``, ``pricing``, ``inventoryitemlocations``). Facts SuiteQL does not expose (customer
``creditHoldOverride``/``priceLevel``/``itemPricing``/``currency``, an item's units type and sale unit,
the units type's ``uom`` rows, an open invoice's ``amountRemaining``) are read through the record service.

Conventions:

* values are bound with ``?`` and ``params`` wherever SuiteQL accepts them; dates inside ``TO_DATE`` are
  inlined from validated ``datetime.date`` values (binding there is not confirmed);
* every query has a stable ``ORDER BY`` ending on a unique column, so ``limit``/``offset`` pages are stable;
* ``IN`` lists are built by ``in_list`` for at most ``IN_CHUNK`` values (one query per chunk);
* column names come back lower-case, values as strings, booleans as ``'T'``/``'F'``.

A query is a ``Query(q, params)``; ``client.suiteql`` pages it (limit 1000, ``offset += limit`` while
``hasMore``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sparklayer_erp.erp.netsuite import conventions as conv

IN_CHUNK = 500  # values per IN (...) list: keeps queries short and well under any statement limit
SALES_ORDER_TYPE = "SalesOrd"
INVOICE_TYPE = "CustInvc"
PAYMENT_TYPE = "CustPymt"
CREDIT_MEMO_TYPE = "CustCred"
INVENTORY_ITEM_TYPE = "InvtPart"
FULFILMENT_LINK_TYPES = ("PickPack", "ShipRcpt")


@dataclass(frozen=True)
class Query:
    """One SuiteQL statement with its bound parameters."""

    q: str
    params: tuple[object, ...] = ()


def in_list(values: Sequence[object]) -> str:
    """``?, ?, ?`` for an ``IN (...)`` list of bound values (never empty: callers skip empty lists)."""
    if not values:
        raise ValueError("an IN list needs at least one value")
    if len(values) > IN_CHUNK:
        raise ValueError(f"at most {IN_CHUNK} values per IN list")
    return ", ".join("?" for _ in values)


def _date_literal(value: dt.date) -> str:
    """A validated ``YYYY-MM-DD`` literal (only ``datetime.date`` values get here)."""
    if not isinstance(value, dt.date):
        raise TypeError(f"expected a date, got {type(value).__name__}")
    return value.isoformat()


# ============================================================== sales orders

_ORDER_COLUMNS = (
    "t.id, t.tranid, t.externalid, t.otherrefnum, t.entity, c.entityid AS customer, t.status, "
    "BUILTIN.CF(t.status) AS statuscode, TO_CHAR(t.trandate, 'YYYY-MM-DD') AS trandate, t.foreigntotal"
    + (", t.currency, t.exchangerate" if conv.ORDER_EXCHANGE_RATE_COLUMN else "")
)


def orders_by_external_id(external_ids: Sequence[str]) -> Query:
    """Sales orders carrying these external ids (= SparkLayer purchase ids): lookup-before-create."""
    return Query(
        "SELECT t.id, t.tranid, t.externalid, t.status, BUILTIN.CF(t.status) AS statuscode "
        "FROM transaction t "
        f"WHERE t.type = ? AND t.externalid IN ({in_list(external_ids)}) "
        "ORDER BY t.id",
        (SALES_ORDER_TYPE, *external_ids),
    )


def orders_by_id(order_ids: Sequence[int]) -> Query:
    """Sales order headers by internal id, with the customer's account code."""
    return Query(
        f"SELECT {_ORDER_COLUMNS} "
        "FROM transaction t JOIN customer c ON c.id = t.entity "
        f"WHERE t.type = ? AND t.id IN ({in_list(order_ids)}) "
        "ORDER BY t.id",
        (SALES_ORDER_TYPE, *order_ids),
    )


def orders_between(start: dt.date, end: dt.date) -> Query:
    """Sales orders with an external id (ours) dated in [start, end), for the month-end reconciliation."""
    return Query(
        f"SELECT {_ORDER_COLUMNS} "
        "FROM transaction t JOIN customer c ON c.id = t.entity "
        "WHERE t.type = ? AND t.externalid IS NOT NULL "
        f"AND t.trandate >= TO_DATE('{_date_literal(start)}', 'YYYY-MM-DD') "
        f"AND t.trandate < TO_DATE('{_date_literal(end)}', 'YYYY-MM-DD') "
        "ORDER BY t.trandate, t.id",
        (SALES_ORDER_TYPE,),
    )


def order_lines(order_ids: Sequence[int]) -> Query:
    """Item lines of sales orders, item fulfilments or credit memos (``quantity`` is negative on sales
    lines, hence ``ABS``; ``foreignamount`` is the line amount NetSuite rounded, in the transaction's
    currency, negative on sales lines; ``memo`` is the line description)."""
    return Query(
        "SELECT tl.transaction, tl.id, tl.linesequencenumber, tl.item, i.itemid AS sku, "
        "ABS(tl.quantity) AS quantity, tl.rate, tl.foreignamount, tl.memo, tl.units, tl.location, tl.isclosed, "
        "tl.quantityshiprecv, tl.quantitypicked, tl.quantitypacked, tl.quantitybilled "
        "FROM transactionline tl JOIN item i ON i.id = tl.item "
        f"WHERE tl.transaction IN ({in_list(order_ids)}) AND tl.mainline = 'F' AND tl.taxline = 'F' "
        "ORDER BY tl.transaction, tl.linesequencenumber, tl.id",
        tuple(order_ids),
    )


def fulfilments(order_ids: Sequence[int]) -> Query:
    """Item fulfilments (pick, pack, ship) created from these sales orders."""
    return Query(
        "SELECT DISTINCT ntl.previousdoc AS salesorder, f.id AS fulfillment, f.tranid, "
        "BUILTIN.CF(f.status) AS statuscode, TO_CHAR(f.trandate, 'YYYY-MM-DD') AS trandate "
        "FROM NextTransactionLink ntl JOIN transaction f ON f.id = ntl.nextdoc "
        f"WHERE ntl.linktype IN (?, ?) AND ntl.previousdoc IN ({in_list(order_ids)}) "
        "ORDER BY ntl.previousdoc, f.id",
        (*FULFILMENT_LINK_TYPES, *order_ids),
    )


def tracking_numbers(fulfilment_ids: Sequence[int]) -> Query:
    """Carrier tracking numbers of item fulfilments."""
    return Query(
        "SELECT tnm.transaction, tn.id, tn.trackingnumber "
        "FROM TrackingNumberMap tnm JOIN TrackingNumber tn ON tn.id = tnm.trackingnumber "
        f"WHERE tnm.transaction IN ({in_list(fulfilment_ids)}) "
        "ORDER BY tnm.transaction, tn.id",
        tuple(fulfilment_ids),
    )


def invoices(order_ids: Sequence[int]) -> Query:
    """Invoices created from these sales orders (linked through ``createdfrom`` on the invoice's main line)."""
    return Query(
        "SELECT ml.createdfrom AS salesorder, t.id, t.tranid, BUILTIN.CF(t.status) AS statuscode, "
        "TO_CHAR(t.trandate, 'YYYY-MM-DD') AS trandate, TO_CHAR(t.duedate, 'YYYY-MM-DD') AS duedate, "
        "t.foreigntotal, t.foreignamountunpaid "
        "FROM transaction t JOIN transactionline ml ON ml.transaction = t.id AND ml.mainline = 'T' "
        f"WHERE t.type = ? AND ml.createdfrom IN ({in_list(order_ids)}) "
        "ORDER BY ml.createdfrom, t.id",
        (INVOICE_TYPE, *order_ids),
    )


def payments(invoice_ids: Sequence[int]) -> Query:
    """Customer payments made from these invoices (``!transform/customerPayment`` sets ``createdfrom``)."""
    return Query(
        "SELECT ml.createdfrom AS invoice, t.id, t.tranid, t.externalid, "
        "TO_CHAR(t.trandate, 'YYYY-MM-DD') AS trandate, t.foreigntotal "
        "FROM transaction t JOIN transactionline ml ON ml.transaction = t.id AND ml.mainline = 'T' "
        f"WHERE t.type = ? AND ml.createdfrom IN ({in_list(invoice_ids)}) "
        "ORDER BY ml.createdfrom, t.id",
        (PAYMENT_TYPE, *invoice_ids),
    )


def credit_memos(invoice_ids: Sequence[int]) -> Query:
    """Credit memos created from these invoices (``!transform/creditMemo`` sets ``createdfrom``)."""
    return Query(
        "SELECT ml.createdfrom AS invoice, t.id, t.tranid, t.externalid, BUILTIN.CF(t.status) AS statuscode, "
        "TO_CHAR(t.trandate, 'YYYY-MM-DD') AS trandate, t.foreigntotal, t.memo "
        "FROM transaction t JOIN transactionline ml ON ml.transaction = t.id AND ml.mainline = 'T' "
        f"WHERE t.type = ? AND ml.createdfrom IN ({in_list(invoice_ids)}) "
        "ORDER BY ml.createdfrom, t.id",
        (CREDIT_MEMO_TYPE, *invoice_ids),
    )


def orders_credited_since(since: dt.date) -> Query:
    """Sales orders (ours: with an external id) whose invoices have a credit memo dated ``since`` or later
    (credit memo -> ``createdfrom`` invoice -> ``createdfrom`` sales order, on the main lines)."""
    return Query(
        "SELECT DISTINCT so.id AS salesorder "
        "FROM transaction cm JOIN transactionline cml ON cml.transaction = cm.id AND cml.mainline = 'T' "
        "JOIN transactionline il ON il.transaction = cml.createdfrom AND il.mainline = 'T' "
        "JOIN transaction so ON so.id = il.createdfrom "
        "WHERE cm.type = ? AND so.type = ? AND so.externalid IS NOT NULL "
        f"AND cm.trandate >= TO_DATE('{_date_literal(since)}', 'YYYY-MM-DD') "
        "ORDER BY so.id",
        (CREDIT_MEMO_TYPE, SALES_ORDER_TYPE),
    )


# ============================================================== customers

_CUSTOMER_COLUMNS = (
    "c.id, c.entityid, c.companyname, c.email, c.externalid, c.creditlimit, c.oncredithold, "
    "c.balancesearch, c.overduebalancesearch, c.unbilledorderssearch, c.terms, "
    "BUILTIN.DF(c.terms) AS termsname, c.isinactive"
)

CUSTOMERS = Query(f"SELECT {_CUSTOMER_COLUMNS} FROM customer c ORDER BY c.entityid, c.id")


def customers_by_code(account_codes: Sequence[str]) -> Query:
    """Customers by account code (``entityid``)."""
    return Query(
        f"SELECT {_CUSTOMER_COLUMNS} FROM customer c WHERE c.entityid IN ({in_list(account_codes)}) "
        "ORDER BY c.entityid, c.id",
        tuple(account_codes),
    )


def customers_by_id(customer_ids: Sequence[int]) -> Query:
    """Customers by internal id (credit figures after a refusal)."""
    return Query(
        f"SELECT {_CUSTOMER_COLUMNS} FROM customer c WHERE c.id IN ({in_list(customer_ids)}) ORDER BY c.id",
        tuple(customer_ids),
    )


# ============================================================== items, prices, stock

_ITEM_COLUMNS = "i.id, i.itemid, i.displayname, i.isinactive"

ITEMS = Query(
    f"SELECT {_ITEM_COLUMNS} FROM item i WHERE i.itemtype = ? ORDER BY i.itemid, i.id",
    (INVENTORY_ITEM_TYPE,),
)


def items_by_sku(skus: Sequence[str]) -> Query:
    """Inventory items by SKU (``itemid``)."""
    return Query(
        f"SELECT {_ITEM_COLUMNS} FROM item i WHERE i.itemtype = ? AND i.itemid IN ({in_list(skus)}) "
        "ORDER BY i.itemid, i.id",
        (INVENTORY_ITEM_TYPE, *skus),
    )


PRICE_LEVELS = Query(
    "SELECT DISTINCT p.pricelevel, BUILTIN.DF(p.pricelevel) AS levelname"
    + (", p.currency FROM pricing p ORDER BY p.pricelevel, p.currency" if conv.PRICING_CURRENCY_COLUMN
       else " FROM pricing p ORDER BY p.pricelevel")
)

_PRICE_COLUMNS = (
    "p.item, i.itemid AS sku, p.pricelevel, BUILTIN.DF(p.pricelevel) AS levelname, p.quantity, p.unitprice"
    + (", p.currency" if conv.PRICING_CURRENCY_COLUMN else "")
)

PRICES = Query(
    f"SELECT {_PRICE_COLUMNS} FROM pricing p JOIN item i ON i.id = p.item WHERE i.itemtype = ? "
    "ORDER BY p.pricelevel, p.item, p.quantity",
    (INVENTORY_ITEM_TYPE,),
)


def prices_for(item_ids: Sequence[int], level_ids: Sequence[int]) -> Query:
    """Price rows of some items at some price levels (the order sync's price checks)."""
    return Query(
        f"SELECT {_PRICE_COLUMNS} FROM pricing p JOIN item i ON i.id = p.item "
        f"WHERE p.item IN ({in_list(item_ids)}) AND p.pricelevel IN ({in_list(level_ids)}) "
        "ORDER BY p.pricelevel, p.item, p.quantity",
        (*item_ids, *level_ids),
    )


STOCK = Query(
    "SELECT iil.item, i.itemid AS sku, iil.location, BUILTIN.DF(iil.location) AS locationname, "
    "iil.quantityonhand, iil.quantityavailable, iil.quantitycommitted "
    "FROM inventoryitemlocations iil JOIN item i ON i.id = iil.item "
    "WHERE i.itemtype = ? AND i.isinactive = 'F' "
    "ORDER BY iil.item, iil.location",
    (INVENTORY_ITEM_TYPE,),
)

LOCATIONS = Query(
    "SELECT DISTINCT iil.location, BUILTIN.DF(iil.location) AS locationname "
    "FROM inventoryitemlocations iil ORDER BY iil.location"
)


def all_queries() -> dict[str, Query]:
    """One example of every query, for the emulator's and the tests' coverage checks."""
    day = dt.date(2026, 1, 1)
    return {
        "orders_by_external_id": orders_by_external_id(["P-1", "P-2"]),
        "orders_by_id": orders_by_id([1, 2]),
        "orders_between": orders_between(day, dt.date(2026, 2, 1)),
        "order_lines": order_lines([1, 2]),
        "fulfilments": fulfilments([1, 2]),
        "tracking_numbers": tracking_numbers([1, 2]),
        "invoices": invoices([1, 2]),
        "payments": payments([1, 2]),
        "credit_memos": credit_memos([1, 2]),
        "orders_credited_since": orders_credited_since(day),
        "customers": CUSTOMERS,
        "customers_by_code": customers_by_code(["C1001", "C1002"]),
        "customers_by_id": customers_by_id([1, 2]),
        "items": ITEMS,
        "items_by_sku": items_by_sku(["SKU-A", "SKU-B"]),
        "price_levels": PRICE_LEVELS,
        "prices": PRICES,
        "prices_for": prices_for([1, 2], [1, 2]),
        "stock": STOCK,
        "locations": LOCATIONS,
    }
