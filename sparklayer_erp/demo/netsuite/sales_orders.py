"""Sales orders: create, update (approve / un-approve, line merge and replace, close lines), delete, and
the status letter derived from the lines.

Credit is checked on create (also in Pending Approval, per the preferences) and on approval; approval
commits stock; closing lines releases it. Every write refreshes the customer's balances.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sparklayer_erp.demo.netsuite import customers, errors, inventory
from sparklayer_erp.demo.netsuite import not_confirmed as nc
from sparklayer_erp.demo.netsuite.context import Context, dec, money
from sparklayer_erp.demo.netsuite.projection import unit_factor
from sparklayer_erp.demo.netsuite.record_types import TYPES
from sparklayer_erp.demo.netsuite.store import Doc, ref, ref_id
from sparklayer_erp.demo.netsuite.sublists import merge

ZERO = Decimal(0)
RTYPE = TYPES["salesOrder"]


def rule_error(detail: str) -> errors.NsError:
    return errors.NsError(nc.RULE_ERROR_STATUS, nc.RULE_ERROR_CODE, f"Error while accessing a resource. {detail}")


def missing(label: str) -> errors.NsError:
    return errors.NsError(400, nc.MISSING_FIELD_CODE,
                          f"Error while accessing a resource. Please enter value(s) for: {label}.")


def item_lines(doc: Doc) -> list[Doc]:
    return (doc.get("item") or {}).get("items") or []


def price_for(ctx: Context, customer: Doc, item_id: int, units: Any, quantity: Decimal) -> Decimal | None:
    """What NetSuite would price a line at without a rate: customer item price, else the customer's price
    level at the quantity break (breaks and prices in base units)."""
    conn = ctx.conn()
    factor = unit_factor(conn, units)
    for line in (customer.get("itemPricing") or {}).get("items") or []:
        if ref_id(line.get("item")) == item_id and line.get("price") is not None:
            return dec(line["price"]) * factor
    level = ref_id(customer.get("priceLevel")) or nc.BASE_PRICE_LEVEL_ID
    currency = ref_id(customer.get("currency"))
    row = conn.execute(
        "SELECT unitprice FROM pricing WHERE item = ? AND pricelevel = ? AND (currency = ? OR ? IS NULL) "
        "AND quantity <= ? ORDER BY quantity DESC LIMIT 1",
        (item_id, level, currency, currency, str(quantity * factor))).fetchone()
    return dec(row[0]) * factor if row else None


def _prepare_line(ctx: Context, order: Doc, customer: Doc, line: Doc, index: int) -> None:
    """Validate a new or changed line and fill its defaults (unit = item's sale unit, rate, location)."""
    path = f"item.items[{index}]"
    item_id = ref_id(line.get("item"))
    item = ctx.store.load(ctx.conn(), "inventoryItem", item_id) if item_id is not None else None
    if item is None:
        if "item" not in line:
            raise missing("Item")
        raise errors.invalid_field_value(item_id, "item", f"{path}.item")
    if line.get("quantity") is None:
        line["quantity"] = Decimal(1)
    if dec(line["quantity"]) <= 0:
        raise errors.invalid_field_value(line["quantity"], "quantity", f"{path}.quantity")
    if line.get("units") in (None, ""):
        line["units"] = str(ref_id(item.get("saleUnit")) or ref_id(item.get("baseUnit")) or "")
    else:
        line["units"] = str(line["units"]["id"] if isinstance(line["units"], dict) else line["units"])
    uom = ctx.conn().execute("SELECT unitstype FROM unitstypeuom WHERE internalid = ?",
                             (ref_id(line["units"]),)).fetchone()
    if uom is None or uom[0] != ref_id(item.get("unitsType")):
        raise errors.invalid_field_value(line["units"], "units", f"{path}.units")
    if line.get("rate") is None:
        rate = price_for(ctx, customer, item_id, line["units"], dec(line["quantity"]))
        if rate is None:
            raise missing("Rate")
        line["rate"] = rate
    line["amount"] = money(dec(line["quantity"]) * dec(line["rate"]))
    line.setdefault("location", order.get("location") or ref(ctx.default_location()))
    line.setdefault("isClosed", False)
    line.setdefault("description", item.get("displayName"))
    for key in ("quantityCommitted", "quantityBackOrdered", "quantityPicked", "quantityPacked",
                "quantityFulfilled", "quantityBilled"):
        line.setdefault(key, ZERO)


def recompute(ctx: Context, order: Doc) -> None:
    """Totals (tax on the document subtotal) and the derived status."""
    subtotal = money(sum((dec(line.get("amount")) for line in item_lines(order)), ZERO))
    shipping = money(dec(order.get("shippingCost")))
    tax = money((subtotal + shipping) * ctx.tax_rate)  # shipping is taxed like the goods
    order.update(subtotal=subtotal, taxTotal=tax, total=subtotal + shipping + tax, discountTotal=ZERO)
    order["status"] = derive_status(order)
    fulfilled = any(dec(line.get("quantityPicked")) > 0 for line in item_lines(order))
    order["canBeUnapproved"] = order["orderStatus"] == "B" and not fulfilled
    order["needsPick"] = order["status"] in ("B", "D", "E")


def derive_status(order: Doc) -> str:
    """A, B, D–H from the approval state and the lines' fulfilled and billed quantities."""
    if order.get("status") == "C":
        return "C"
    lines = item_lines(order)
    if lines and all(line.get("isClosed") and dec(line.get("quantityFulfilled")) == 0 for line in lines):
        return "H"
    if order.get("orderStatus") == "A":
        return "A"
    target = sum((dec(line.get("quantityFulfilled")) if line.get("isClosed") else dec(line.get("quantity"))
                  for line in lines), ZERO)
    fulfilled = sum((dec(line.get("quantityFulfilled")) for line in lines), ZERO)
    billed = sum((dec(line.get("quantityBilled")) for line in lines), ZERO)
    if fulfilled == 0:
        return "B"
    if fulfilled < target:
        return "E" if billed < fulfilled else "D"
    return "G" if billed >= target else "F"


def create(ctx: Context, body: Doc) -> int:
    conn = ctx.conn()
    customer_id = ref_id(body.get("entity"))
    if customer_id is None:
        raise missing("Customer")
    customer = ctx.store.load(conn, "customer", customer_id)
    if customer is None:
        raise errors.invalid_field_value(customer_id, "entity", "entity")
    if not item_lines(body):
        raise rule_error("You must enter at least one line item for this transaction.")
    order: Doc = {k: v for k, v in body.items() if k != "item"}
    order.setdefault("orderStatus", ctx.prefs.default_order_status)
    order.setdefault("tranDate", ctx.db.today())
    for key in ("currency", "terms", "subsidiary"):
        if order.get(key) is None and customer.get(key) is not None:
            order[key] = customer[key]
    if order.get("exchangeRate") is None:
        currency = ctx.store.load(conn, "currency", ref_id(order.get("currency"))) if order.get("currency") else None
        order["exchangeRate"] = dec(currency.get("exchangeRate")) if currency else Decimal(1)
    order["entity"] = ref(customer_id)
    lines = []
    for i, line in enumerate(item_lines(body)):
        line = {k: v for k, v in line.items() if k != "line"}
        _prepare_line(ctx, order, customer, line, i)
        line["line"] = Decimal(i + 1)
        lines.append(line)
    order["item"] = {"items": lines}
    recompute(ctx, order)
    if order["orderStatus"] == "B" or ctx.prefs.credit_check_on_pending_create:
        customers.check_credit(ctx, customer_id, dec(order["total"]))
    order["tranId"] = f"SO{ctx.db.next_number('salesOrder', 1001)}"
    order_id = ctx.store.insert(conn, "salesOrder", order)
    if order["orderStatus"] == "B":
        inventory.commit_order(ctx, order)
    recompute(ctx, order)
    ctx.store.save(conn, "salesOrder", order)
    customers.refresh(ctx, customer_id)
    return order_id


def has_dependents(ctx: Context, order_id: int) -> bool:
    row = ctx.conn().execute("SELECT 1 FROM NextTransactionLink WHERE previousdoc = ?", (order_id,)).fetchone()
    return row is not None


def update(ctx: Context, order_id: int, changes: Doc, *, replace: set[str], nulls_only: set[str] | None) -> None:
    """PATCH (or PUT eid: on an existing order). ``nulls_only``: with replaceSelectedFields, the only body
    fields a ``null`` may clear."""
    conn = ctx.conn()
    order = ctx.load("salesOrder", order_id)
    if order.get("status") == "C":
        raise rule_error("This order has been cancelled and cannot be changed.")
    customer = ctx.load("customer", ref_id(order["entity"]))
    old_status = order["orderStatus"]
    new_status = changes.get("orderStatus", old_status) or old_status
    picked = any(dec(line.get("quantityPicked")) > 0 for line in item_lines(order))
    if old_status == "B" and new_status == "A" and (picked or has_dependents(ctx, order_id)):
        raise rule_error("The status of a partially fulfilled order cannot be changed back to Pending Approval.")
    if old_status == "B":
        inventory.release_order(ctx, order)
    for key, value in changes.items():
        if key == "item":
            continue
        if value is None:
            if nulls_only is None or key in nulls_only:
                order.pop(key, None)
        else:
            order[key] = value
    if "item" in changes or "item" in replace:
        _merge_lines(ctx, order, customer, changes.get("item", {"items": []}), replace="item" in replace)
    order["orderStatus"] = new_status
    recompute(ctx, order)
    if new_status == "B" and old_status == "A":
        customers.check_credit(ctx, int(customer["id"]), dec(order["total"]), order_id)
    if new_status == "B":
        inventory.commit_order(ctx, order)
    recompute(ctx, order)
    ctx.store.save(conn, "salesOrder", order)
    customers.refresh(ctx, int(customer["id"]))


def _merge_lines(ctx: Context, order: Doc, customer: Doc, request: Doc | None, *, replace: bool) -> None:
    existing = item_lines(order)
    before = {int(line["line"]): dict(line) for line in existing}
    merged, removed = merge(RTYPE.sublists["item"], existing, request, replace=replace)
    if not merged:
        raise rule_error("You must enter at least one line item for this transaction.")
    for line in removed:
        if dec(line.get("quantityPicked")) > 0 or dec(line.get("quantityBilled")) > 0:
            raise rule_error(f"Line {line['line']} has been fulfilled or billed and cannot be removed.")
    next_line = max((int(line["line"]) for line in existing), default=0) + 1
    for i, line in enumerate(merged):
        if line.get("line") is None or int(line["line"]) not in before:
            line.pop("line", None)
            _prepare_line(ctx, order, customer, line, i)
            line["line"] = Decimal(next_line)
            next_line += 1
            continue
        old = before[int(line["line"])]
        if old.get("isClosed") and line.get("isClosed") is False and dec(old.get("quantityBilled")) > 0 \
                and dec(old.get("quantityBilled")) >= dec(old.get("quantity")):
            raise rule_error("A fully billed line cannot be reopened.")
        if dec(line.get("quantity")) < dec(line.get("quantityPicked")):
            raise rule_error(f"Line {line['line']}: the quantity cannot be less than the quantity fulfilled.")
        changed = {k for k in ("item", "units", "quantity", "rate") if line.get(k) != old.get(k)}
        if changed:
            if "rate" not in changed and {"item", "units"} & changed:
                line["rate"] = None
            _prepare_line(ctx, order, customer, line, i)
    order["item"] = {"items": merged}


def delete(ctx: Context, order_id: int) -> None:
    order = ctx.load("salesOrder", order_id)
    if has_dependents(ctx, order_id):
        raise rule_error("This record cannot be deleted because it has dependent records.")
    inventory.release_order(ctx, order)
    ctx.store.delete(ctx.conn(), "salesOrder", order_id)
    customers.refresh(ctx, ref_id(order["entity"]))
