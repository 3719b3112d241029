"""Customer balances and the credit hold: recomputed from the transactions after every write that moves them.

``balance`` = open invoices' ``amountRemaining`` − unapplied payments and credits (+ an opening balance
from the seed); ``unbilledOrders`` = the unbilled, unclosed remainder of open sales orders, tax included.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sparklayer_erp.demo.netsuite import errors
from sparklayer_erp.demo.netsuite import not_confirmed as nc
from sparklayer_erp.demo.netsuite.context import Context, dec, money
from sparklayer_erp.demo.netsuite.store import Doc, ref_id


def order_unbilled(order: Doc) -> Decimal:
    """The part of a sales order not yet billed nor closed, with its share of tax."""
    if order.get("status") in ("C", "H"):
        return Decimal(0)
    net = Decimal(0)
    for line in (order.get("item") or {}).get("items") or []:
        remaining = dec(line.get("quantity")) - dec(line.get("quantityBilled"))
        if line.get("isClosed"):
            remaining = dec(line.get("quantityFulfilled")) - dec(line.get("quantityBilled"))
        net += max(remaining, Decimal(0)) * dec(line.get("rate"))
    if not order.get("_shippingBilled"):
        net += dec(order.get("shippingCost"))
    taxable = dec(order.get("subtotal")) + dec(order.get("shippingCost"))
    factor = dec(order.get("total")) / taxable if taxable else Decimal(1)
    return money(net * factor)


def _entity(doc: Doc) -> int | None:
    return ref_id(doc.get("entity")) or ref_id(doc.get("customer"))


def exposure(ctx: Context, customer_id: int, exclude_order: int | None = None) -> tuple[Decimal, Decimal, Decimal]:
    """(balance, overdue balance, unbilled orders) of one customer."""
    conn, store = ctx.conn(), ctx.store
    customer = store.require(conn, "customer", customer_id)
    balance = dec(customer.get("_openingBalance"))
    overdue = Decimal(0)
    today = ctx.db.today()
    rows = conn.execute('SELECT id, type FROM "transaction" WHERE entity = ?', (customer_id,)).fetchall()
    unbilled = Decimal(0)
    for row in rows:
        kind = {"CustInvc": "invoice", "CustPymt": "customerPayment", "CustCred": "creditMemo",
                "SalesOrd": "salesOrder"}.get(row["type"])
        if kind is None:
            continue
        doc = store.require(conn, kind, row["id"])
        if kind == "invoice":
            balance += dec(doc.get("amountRemaining"))
            if (doc.get("dueDate") or today) < today:
                overdue += dec(doc.get("amountRemaining"))
        elif kind in ("customerPayment", "creditMemo"):
            balance -= dec(doc.get("unapplied"))
        elif row["id"] != exclude_order:
            unbilled += order_unbilled(doc)
    return money(balance), money(overdue), money(unbilled)


def delinquent(ctx: Context, customer_id: int, grace_days: int) -> Decimal:
    """What is still due on invoices more than ``grace_days`` past their due date."""
    cutoff = (ctx.db.utcnow().date() - dt.timedelta(days=grace_days)).isoformat()
    row = ctx.conn().execute(
        "SELECT SUM(foreignamountunpaid) FROM \"transaction\" WHERE type = 'CustInvc' AND entity = ? "
        "AND duedate < ?", (customer_id, cutoff)).fetchone()
    return dec(row[0] or 0)


def on_hold(ctx: Context, customer: Doc, balance: Decimal, overdue: Decimal, unbilled: Decimal,
            extra: Decimal = Decimal(0)) -> bool:
    override = customer.get("creditHoldOverride") or "AUTO"
    if override == "ON":
        return True
    if override == "OFF" or ctx.prefs.credit_limit_handling != "ENFORCE":
        return False
    limit = customer.get("creditLimit")
    used = balance + (unbilled if ctx.prefs.credit_limit_includes_orders else Decimal(0)) + extra
    if limit is not None and used > 0 and used >= dec(limit):
        return True
    grace = ctx.prefs.days_overdue_for_hold
    return grace is not None and overdue > 0 and delinquent(ctx, int(customer["id"]), grace) > 0


def refresh(ctx: Context, customer_id: int | None) -> None:
    """Recompute and store balances and the hold flag (only rewritten when something changed)."""
    if customer_id is None:
        return
    conn = ctx.conn()
    customer = ctx.store.load(conn, "customer", customer_id)
    if customer is None:
        return
    balance, overdue, unbilled = exposure(ctx, customer_id)
    hold = on_hold(ctx, customer, balance, overdue, unbilled)
    new = {"balance": balance, "overdueBalance": overdue, "unbilledOrders": unbilled, "_onCreditHold": hold}
    if any(dec(customer.get(k)) != dec(v) if k != "_onCreditHold" else customer.get(k) != v
           for k, v in new.items()):
        customer.update(new)
        ctx.store.save(conn, "customer", customer)


def refresh_for(ctx: Context, doc: Doc) -> None:
    refresh(ctx, _entity(doc))


def check_credit(ctx: Context, customer_id: int, order_total: Decimal, order_id: int | None = None) -> None:
    """Refuse a sales order (create or approve) the way Enforce Holds does."""
    customer = ctx.load("customer", customer_id)
    balance, overdue, unbilled = exposure(ctx, customer_id, exclude_order=order_id)
    if on_hold(ctx, customer, balance, overdue, unbilled, extra=order_total):
        raise errors.NsError(nc.CREDIT_HOLD_STATUS, nc.CREDIT_HOLD_CODE, nc.CREDIT_HOLD_DETAIL)
