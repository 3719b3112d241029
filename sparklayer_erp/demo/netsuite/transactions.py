"""Transforms and the documents after the order: item fulfilments (pick / pack / ship with tracking),
invoices (bill fulfilled quantities), customer payments (apply to invoices) and credit memos."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sparklayer_erp.demo.netsuite import customers, errors, inventory, sales_orders
from sparklayer_erp.demo.netsuite.context import Context, dec, money
from sparklayer_erp.demo.netsuite.record_types import TYPES
from sparklayer_erp.demo.netsuite.sales_orders import item_lines, rule_error
from sparklayer_erp.demo.netsuite.store import Doc, ref, ref_id
from sparklayer_erp.demo.netsuite.sublists import merge

ZERO = Decimal(0)
SHIP_ORDER = "ABC"
TRANSFORMS = {("salesOrder", "itemFulfillment"), ("salesOrder", "invoice"), ("invoice", "customerPayment"),
              ("invoice", "creditMemo")}
DEFAULT_SHIP_STATUS = "C"  # without Advanced Shipping a fulfilment is Shipped when saved


def transform(ctx: Context, source_type: str, source_id: int, target: str, body: Doc) -> int:
    if (source_type, target) not in TRANSFORMS:
        raise errors.NsError(400, "INVALID_PARAMETER",
                             f"The transformation from {source_type} to {target} is not supported.")
    source = ctx.load(source_type, source_id)
    if target == "itemFulfillment":
        return fulfil(ctx, source, body)
    if target == "invoice":
        return bill(ctx, source, body)
    if target == "customerPayment":
        return pay_invoice(ctx, source, body)
    return credit_invoice(ctx, source, body)


def _requested(body: Doc, key: str = "orderLine") -> dict[int, Doc]:
    return {int(line[key]): line for line in (body.get("item") or {}).get("items") or [] if line.get(key) is not None}


def _so_line(order: Doc, number: int) -> Doc:
    for line in item_lines(order):
        if int(line["line"]) == number:
            return line
    raise errors.invalid_field_value(number, "orderLine", "item.items.orderLine")


def fulfil(ctx: Context, order: Doc, body: Doc) -> int:
    if order.get("orderStatus") != "B" or order.get("status") in ("C", "H"):
        raise rule_error("You can not fulfill a sales order that is not approved or is closed.")
    requested = _requested(body)
    for number in requested:
        _so_line(order, number)
    ship_status = body.get("shipStatus") or DEFAULT_SHIP_STATUS
    lines = []
    for so_line in item_lines(order):
        number = int(so_line["line"])
        remaining = dec(so_line.get("quantity")) - dec(so_line.get("quantityPicked"))
        wanted = requested.get(number, {})
        if wanted.get("itemReceive") is False:
            continue
        if so_line.get("isClosed"):
            if number in requested:
                raise rule_error(f"Line {number} is closed and cannot be fulfilled.")
            continue
        quantity = dec(wanted["quantity"]) if wanted.get("quantity") is not None else remaining
        if quantity <= 0 or remaining <= 0:
            if number in requested and quantity > 0:
                raise rule_error(f"Line {number} has nothing left to fulfill.")
            continue
        if quantity > remaining:
            raise rule_error(f"Line {number}: you can not fulfill more than the remaining quantity {remaining}.")
        location = wanted.get("location") or so_line.get("location") or body.get("inventoryLocation")
        lines.append({"line": Decimal(len(lines) + 1), "orderLine": Decimal(number), "item": so_line["item"],
                      "itemReceive": True, "quantity": quantity, "quantityRemaining": remaining,
                      "location": location, "units": so_line.get("units"),
                      "description": so_line.get("description")})
    if not lines:
        raise rule_error("You have no items to fulfill.")
    now = ctx.db.now()
    doc: Doc = {k: v for k, v in body.items() if k not in ("item", "shipStatus")}
    doc.update(entity=order["entity"], createdFrom=ref(order["id"]), tranDate=body.get("tranDate") or ctx.db.today(),
               shipStatus="A", status="A", item={"items": lines}, pickedDate=now,
               tranId=f"IF{ctx.db.next_number('itemFulfillment', 1001)}")
    doc.setdefault("package", {"items": []})
    doc["package"] = doc["package"] or {"items": []}
    fulfilment_id = ctx.store.insert(ctx.conn(), "itemFulfillment", doc)
    for line in lines:
        so_line = _so_line(order, int(line["orderLine"]))
        so_line["quantityPicked"] = dec(so_line.get("quantityPicked")) + line["quantity"]
    _advance(ctx, doc, order, ship_status)
    return fulfilment_id


def _advance(ctx: Context, fulfilment: Doc, order: Doc, status: str) -> None:
    """Move a fulfilment forward (A Picked → B Packed → C Shipped) with the order's quantities and stock."""
    old = fulfilment.get("shipStatus") or "A"
    if SHIP_ORDER.index(status) < SHIP_ORDER.index(old):
        raise rule_error("The status of an item fulfillment cannot go back.")
    now = ctx.db.now()
    for line in fulfilment["item"]["items"]:
        so_line = _so_line(order, int(line["orderLine"]))
        quantity = dec(line["quantity"])
        if old == "A" and status in "BC":
            so_line["quantityPacked"] = dec(so_line.get("quantityPacked")) + quantity
        if old != "C" and status == "C":
            so_line["quantityFulfilled"] = dec(so_line.get("quantityFulfilled")) + quantity
            inventory.ship(ctx, order, so_line, quantity, ref_id(line.get("location")))
    if status in "BC" and not fulfilment.get("packedDate"):
        fulfilment["packedDate"] = now
    if status == "C" and not fulfilment.get("shippedDate"):
        fulfilment["shippedDate"] = now
    fulfilment["shipStatus"] = fulfilment["status"] = status
    ctx.store.save(ctx.conn(), "itemFulfillment", fulfilment)
    sales_orders.recompute(ctx, order)
    ctx.store.save(ctx.conn(), "salesOrder", order)
    customers.refresh_for(ctx, order)


def update_fulfilment(ctx: Context, fulfilment_id: int, changes: Doc, *, replace: set[str]) -> None:
    fulfilment = ctx.load("itemFulfillment", fulfilment_id)
    order = ctx.load("salesOrder", ref_id(fulfilment["createdFrom"]))
    if "package" in changes or "package" in replace:
        packages, _ = merge(TYPES["itemFulfillment"].sublists["package"],
                            (fulfilment.get("package") or {}).get("items") or [], changes.get("package"),
                            replace="package" in replace)
        fulfilment["package"] = {"items": packages}
    for key, value in changes.items():
        if key not in ("package", "item", "shipStatus") and value is not None:
            fulfilment[key] = value
    _advance(ctx, fulfilment, order, changes.get("shipStatus") or fulfilment["shipStatus"])


def _due_date(ctx: Context, tran_date: str, terms: object) -> str:
    days = 0
    term_id = ref_id(terms)
    if term_id is not None:
        term = ctx.store.load(ctx.conn(), "term", term_id)
        days = int(dec(term.get("daysUntilNetDue"))) if term else 0
    return (dt.date.fromisoformat(tran_date) + dt.timedelta(days=days)).isoformat()


def bill(ctx: Context, order: Doc, body: Doc) -> int:
    if order.get("orderStatus") != "B":
        raise rule_error("You can not bill a sales order that is pending approval.")
    requested = _requested(body)
    for number in requested:
        _so_line(order, number)
    lines = []
    for so_line in item_lines(order):
        number = int(so_line["line"])
        billable = dec(so_line.get("quantityFulfilled")) - dec(so_line.get("quantityBilled"))
        wanted = requested.get(number, {})
        quantity = dec(wanted["quantity"]) if wanted.get("quantity") is not None else billable
        if quantity > billable:
            raise rule_error(f"Line {number}: you can not bill more than the fulfilled quantity {billable}.")
        if quantity <= 0:
            continue
        rate = dec(so_line.get("rate"))
        lines.append({"line": Decimal(len(lines) + 1), "orderLine": Decimal(number), "item": so_line["item"],
                      "quantity": quantity, "units": so_line.get("units"), "rate": rate,
                      "amount": money(quantity * rate), "description": so_line.get("description"),
                      "location": so_line.get("location")})
        so_line["quantityBilled"] = dec(so_line.get("quantityBilled")) + quantity
    if not lines:
        raise rule_error("You have no items to bill.")
    subtotal = money(sum((line["amount"] for line in lines), ZERO))
    shipping = ZERO if order.get("_shippingBilled") else money(dec(order.get("shippingCost")))
    order["_shippingBilled"] = True  # the first invoice carries the whole shipping charge
    tax = money((subtotal + shipping) * ctx.tax_rate)
    total = subtotal + shipping + tax
    tran_date = body.get("tranDate") or ctx.db.today()
    doc: Doc = {k: v for k, v in body.items() if k != "item"}
    doc.update(entity=order["entity"], createdFrom=ref(order["id"]), tranDate=tran_date,
               dueDate=body.get("dueDate") or _due_date(ctx, tran_date, order.get("terms")),
               terms=order.get("terms"), currency=order.get("currency"), otherRefNum=order.get("otherRefNum"),
               exchangeRate=order.get("exchangeRate"),
               location=order.get("location"), subsidiary=order.get("subsidiary"), item={"items": lines},
               subtotal=subtotal, shippingCost=shipping, taxTotal=tax, total=total, amountRemaining=total,
               amountPaid=ZERO, status="A", tranId=f"INV{ctx.db.next_number('invoice', 1001)}")
    invoice_id = ctx.store.insert(ctx.conn(), "invoice", doc)
    sales_orders.recompute(ctx, order)
    ctx.store.save(ctx.conn(), "salesOrder", order)
    customers.refresh_for(ctx, order)
    return invoice_id


def _apply_to(ctx: Context, invoice: Doc, amount: Decimal) -> Decimal:
    applied = min(amount, dec(invoice.get("amountRemaining")))
    invoice["amountRemaining"] = dec(invoice["amountRemaining"]) - applied
    invoice["amountPaid"] = dec(invoice.get("amountPaid")) + applied
    invoice["status"] = "B" if invoice["amountRemaining"] == 0 else "A"
    ctx.store.save(ctx.conn(), "invoice", invoice)
    return applied


def _apply_line(invoice: Doc, amount: Decimal, due_before: Decimal, today: str) -> Doc:
    return {"doc": ref(invoice["id"]), "apply": True, "amount": amount, "due": due_before,
            "total": invoice.get("total"), "refNum": invoice.get("tranId"), "type": "Invoice", "applyDate": today}


def pay_invoice(ctx: Context, invoice: Doc, body: Doc) -> int:
    due = dec(invoice.get("amountRemaining"))
    if due <= 0:
        raise rule_error("This invoice has been paid in full.")
    payment = money(dec(body["payment"])) if body.get("payment") is not None else due
    if payment <= 0:
        raise errors.invalid_field_value(body.get("payment"), "payment", "payment")
    applied = _apply_to(ctx, invoice, payment)
    return _insert_payment(ctx, body, invoice["entity"], payment, [_apply_line(invoice, applied, due, ctx.db.today())],
                           created_from=invoice["id"], currency=invoice.get("currency"))


def _insert_payment(ctx: Context, body: Doc, customer: object, payment: Decimal, applies: list[Doc], *,
                    created_from: object = None, currency: object = None) -> int:
    applied = money(sum((dec(a["amount"]) for a in applies), ZERO))
    doc: Doc = {k: v for k, v in body.items() if k != "apply"}
    doc.update(customer=customer, entity=customer, payment=payment, total=payment, applied=applied,
               unapplied=payment - applied, apply={"items": applies}, status="B",
               tranDate=body.get("tranDate") or ctx.db.today(), currency=body.get("currency") or currency,
               tranId=f"PYMT{ctx.db.next_number('customerPayment', 1001)}")
    if created_from is not None:
        doc["createdFrom"] = ref(created_from)
    payment_id = ctx.store.insert(ctx.conn(), "customerPayment", doc)
    customers.refresh(ctx, ref_id(customer))
    return payment_id


def create_payment(ctx: Context, body: Doc) -> int:
    """``POST /customerPayment`` with an ``apply`` sublist (or ``autoApply`` to the oldest open invoices)."""
    customer_id = ref_id(body.get("customer"))
    if customer_id is None or ctx.store.load(ctx.conn(), "customer", customer_id) is None:
        raise sales_orders.missing("Customer")
    if body.get("payment") is None:
        raise sales_orders.missing("Payment Amount")
    payment = money(dec(body["payment"]))
    left = payment
    applies = []
    requests = [a for a in (body.get("apply") or {}).get("items") or [] if a.get("apply", True)]
    if not requests and body.get("autoApply"):
        rows = ctx.conn().execute(
            "SELECT id FROM \"transaction\" WHERE type = 'CustInvc' AND entity = ? AND foreignamountunpaid > 0 "
            "ORDER BY trandate, id", (customer_id,)).fetchall()
        requests = [{"doc": ref(r[0])} for r in rows]
    for i, request in enumerate(requests):
        invoice = ctx.store.load(ctx.conn(), "invoice", ref_id(request.get("doc")))
        if invoice is None or ref_id(invoice["entity"]) != customer_id:
            raise errors.invalid_field_value(ref_id(request.get("doc")), "doc", f"apply.items[{i}].doc")
        due = dec(invoice.get("amountRemaining"))
        amount = min(dec(request["amount"]) if request.get("amount") is not None else due, left, due)
        if amount <= 0:
            continue
        _apply_to(ctx, invoice, amount)
        left -= amount
        applies.append(_apply_line(invoice, amount, due, ctx.db.today()))
    return _insert_payment(ctx, body, ref(customer_id), payment, applies)


def credit_invoice(ctx: Context, invoice: Doc, body: Doc) -> int:
    requested = _requested(body, "line")  # invoice line numbers, or the sales-order lines they bill
    by_order_line = _requested(body, "orderLine")
    lines = []
    for line in invoice["item"]["items"]:
        wanted = requested.get(int(line["line"])) or by_order_line.get(int(line.get("orderLine") or 0))
        requested_any = requested or by_order_line
        if requested_any and wanted is None:
            continue
        quantity = dec(wanted["quantity"]) if wanted and wanted.get("quantity") is not None else dec(line["quantity"])
        rate = dec(wanted["rate"]) if wanted and wanted.get("rate") is not None else dec(line["rate"])
        description = wanted.get("description") if wanted and wanted.get("description") else line.get("description")
        lines.append({**line, "line": Decimal(len(lines) + 1), "quantity": quantity, "rate": rate,
                      "amount": money(quantity * rate), "description": description})
    subtotal = money(sum((line["amount"] for line in lines), ZERO))
    total = subtotal + money(subtotal * ctx.tax_rate)
    explicit = [a for a in (body.get("apply") or {}).get("items") or [] if a.get("apply", True)]
    amount = dec(explicit[0]["amount"]) if explicit and explicit[0].get("amount") is not None \
        else dec(invoice.get("amountRemaining"))
    due = dec(invoice.get("amountRemaining"))
    applied = _apply_to(ctx, invoice, min(amount, total)) if due > 0 else ZERO
    applies = [_apply_line(invoice, applied, due, ctx.db.today())] if applied else []
    doc: Doc = {k: v for k, v in body.items() if k not in ("item", "apply")}
    doc.update(entity=invoice["entity"], createdFrom=ref(invoice["id"]), tranDate=body.get("tranDate") or ctx.db.today(),
               currency=invoice.get("currency"), exchangeRate=invoice.get("exchangeRate"), item={"items": lines},
               apply={"items": applies}, subtotal=subtotal,
               taxTotal=total - subtotal, total=total, applied=applied, unapplied=total - applied,
               amountRemaining=total - applied, status="B" if total == applied else "A",
               tranId=f"CM{ctx.db.next_number('creditMemo', 1001)}")
    memo_id = ctx.store.insert(ctx.conn(), "creditMemo", doc)
    customers.refresh_for(ctx, invoice)
    return memo_id
