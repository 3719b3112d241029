"""Tryton rows -> domain values: the adapter's pure mappings (no server; unit-tested on plain dicts).

Also the fields each mapping reads, so a read and the mapping of its rows cannot drift apart.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from sparklayer_erp.domain.models import (
    ErpOrderLine,
    ErpOrderRef,
    ErpOrderState,
    ErpOrderStatus,
    Invoice,
    Payment,
    Shipment,
    ShipmentLine,
)
from sparklayer_erp.erp.port import ErpTechnicalError
from sparklayer_erp.erp.tryton import conventions as conv

PONR_SHIPMENT_STATES = frozenset({"assigned", "picked", "packed", "shipped", "done"})
ALLOCATED_MOVE_STATES = frozenset({"assigned", "done"})
DESCRIPTION_MAX = 250  # characters of sale.description: enough for a reference and a few notes

# Enough to map the state (a "done" sale may be a cancellation), cheap enough for every create.
REF_FIELDS = (
    "number", "state", conv.PURCHASE_ID_FIELD, "lines.type", "lines.actual_quantity", "invoices.state",
)
# ... plus what the point of no return needs; and everything order_status needs, in one nested read.
STATE_FIELDS = (
    "number", "state", conv.PURCHASE_ID_FIELD, "party", "party.code",
    "lines.type", "lines.actual_quantity", "lines.moves.state", "invoices.state",
    "shipments.state",
)
STATUS_FIELDS = STATE_FIELDS + (
    conv.PO_NUMBER_FIELD, "sale_date", "warehouse.code", "untaxed_amount", "tax_amount", "total_amount",
    "lines.product.code", "lines.quantity", "lines.unit.name", "lines.unit_price", "lines.description",
    "shipments.number", f"shipments.{conv.TRACKING_FIELD}", "shipments.effective_date",
    # partial shipments: what each shipment carries, and what the ERP cancelled of each line
    "shipments.outgoing_moves.product.code", "shipments.outgoing_moves.quantity",
    "shipments.outgoing_moves.unit.name", "shipments.outgoing_moves.state",
    "lines.moves.quantity", "lines.moves_recreated",
    "invoices.number", "invoices.total_amount", "invoices.amount_to_pay", "invoices.invoice_date",
    "invoices.lines_to_pay.maturity_date",
    "invoices.payment_lines.date", "invoices.payment_lines.debit", "invoices.payment_lines.credit",
    "invoices.payment_lines.move_description_used",
)


def rel(row: Mapping[str, Any] | None, name: str) -> dict[str, Any]:
    """The nested record Tryton returns for a dotted Many2One read (``{}`` when empty)."""
    if not row:
        return {}
    return row.get(f"{name}.") or {}


def rels(row: Mapping[str, Any] | None, name: str) -> list[dict[str, Any]]:
    """The nested records Tryton returns for a dotted x2Many read."""
    if not row:
        return []
    return list(row.get(f"{name}.") or [])


def to_decimal(value: Any) -> Decimal:
    """Tryton Float fields arrive as JSON floats: go through ``str`` so 12.0 stays 12, never 12.0000001."""
    if value is None:
        return Decimal(0)
    if isinstance(value, Decimal):
        return value
    result = Decimal(str(value))
    return result.quantize(Decimal(1)) if result == result.to_integral_value() else result


def order_state(row: Mapping[str, Any]) -> ErpOrderState:
    """Tryton sale state -> integration state (recipe §6).

    ``done`` with every product line's actual quantity 0 and no live invoice is how Tryton ends a sale
    cancelled after confirmation (shipments + invoice cancelled, exceptions ignored): that is CANCELLED.
    """
    state = row.get("state")
    if state == "draft":
        return ErpOrderState.DRAFT
    if state == "quotation":
        return ErpOrderState.PENDING_APPROVAL
    if state in {"confirmed", "processing"}:
        return ErpOrderState.COMMITTED
    if state == "cancelled":
        return ErpOrderState.CANCELLED
    if state == "done":
        lines = [line for line in rels(row, "lines") if line.get("type") == "line"]
        nothing_delivered = all(to_decimal(line.get("actual_quantity")) == 0 for line in lines)
        no_live_invoice = all(inv.get("state") == "cancelled" for inv in rels(row, "invoices"))
        return ErpOrderState.CANCELLED if nothing_delivered and no_live_invoice else ErpOrderState.DONE
    raise ErpTechnicalError(f"unknown Tryton sale state {state!r}")


def point_of_no_return(row: Mapping[str, Any]) -> bool:
    """Stock allocated to the order: a shipment past waiting, or any line move assigned/done."""
    if any(sh.get("state") in PONR_SHIPMENT_STATES for sh in rels(row, "shipments")):
        return True
    return any(
        move.get("state") in ALLOCATED_MOVE_STATES
        for line in rels(row, "lines")
        for move in rels(line, "moves")
    )


def order_ref(row: Mapping[str, Any]) -> ErpOrderRef:
    return ErpOrderRef(
        erp_id=int(row["id"]),
        number=row.get("number") or None,
        purchase_id=row.get(conv.PURCHASE_ID_FIELD) or "",
        state=order_state(row),
        total=to_decimal(row["total_amount"]) if row.get("total_amount") is not None else None,
    )


def invoice_from_row(inv: Mapping[str, Any]) -> Invoice:
    """``amount_due``: posted/paid -> Tryton's amount_to_pay; a draft invoice is not a receivable yet, but
    its whole total will be, so it reports the total; a cancelled one is due nothing."""
    state = inv.get("state") or ""
    total = to_decimal(inv.get("total_amount"))
    if state == "cancelled":
        due = Decimal(0)
    elif state in {"posted", "paid"}:
        due = to_decimal(inv.get("amount_to_pay"))
    else:
        due = total
    maturities = [ln.get("maturity_date") for ln in rels(inv, "lines_to_pay") if ln.get("maturity_date")]
    return Invoice(
        number=inv.get("number") or None,
        state=state,
        total=total,
        amount_due=due,
        invoice_date=inv.get("invoice_date"),
        due_date=min(maturities) if maturities else None,
    )


def payments_from_invoice(inv: Mapping[str, Any]) -> list[Payment]:
    """Payments = the invoice's payment lines (what the pay wizard and bank reconciliation add)."""
    out = []
    for line in rels(inv, "payment_lines"):
        amount = to_decimal(line.get("credit")) - to_decimal(line.get("debit"))
        out.append(Payment(
            invoice_number=inv.get("number") or None,
            amount=amount,
            paid_on=line.get("date"),
            reference=line.get("move_description_used") or None,
        ))
    return out


def shipment_lines(shipment: Mapping[str, Any]) -> tuple[ShipmentLine, ...]:
    """A shipment's outgoing moves per (SKU, unit), summed: what left (done) or is planned to leave.

    Cancelled moves and moves whose quantity the warehouse set to 0 carry nothing. Tryton creates a new
    shipment for what a part shipment left behind (its backorder), so every unit is on one shipment only."""
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for move in rels(shipment, "outgoing_moves"):
        code = rel(move, "product").get("code")
        quantity = to_decimal(move.get("quantity"))
        if not code or move.get("state") == "cancelled" or quantity <= 0:
            continue
        totals[(code, rel(move, "unit").get("name") or "")] += quantity
    return tuple(ShipmentLine(sku, qty, unit) for (sku, unit), qty in sorted(totals.items()))


def cancelled_quantity(line: Mapping[str, Any]) -> Decimal:
    """What the ERP cancelled of a sale line: its cancelled moves that were not re-created.

    Tryton keeps a cancelled move on the line either as an exception still to handle or as ignored (the
    sale will not ship it); both mean the warehouse is not sending it now. A re-created move is replaced by a
    new one, which counts instead. Sale moves are in the line's unit."""
    recreated = {int(i) for i in line.get("moves_recreated") or []}
    return sum(
        (to_decimal(move.get("quantity")) for move in rels(line, "moves")
         if move.get("state") == "cancelled" and int(move.get("id", 0)) not in recreated),
        Decimal(0),
    )


def status_from_row(row: Mapping[str, Any]) -> ErpOrderStatus:
    lines = []
    for line in rels(row, "lines"):
        product = rel(line, "product")
        if line.get("type") != "line" or not product.get("code"):
            continue  # comments, titles and product-less lines (shipping) count in totals only
        lines.append(ErpOrderLine(
            sku=product["code"],
            quantity=to_decimal(line.get("quantity")),
            unit=rel(line, "unit").get("name") or "",
            unit_price=to_decimal(line.get("unit_price")),
            description=line.get("description") or "",
            cancelled_quantity=cancelled_quantity(line),
        ))
    shipments = tuple(
        Shipment(
            number=sh.get("number") or None,
            state=sh.get("state") or "",
            tracking_number=sh.get(conv.TRACKING_FIELD) or None,
            shipped_on=sh.get("effective_date") if sh.get("state") == "done" else None,
            lines=shipment_lines(sh),
            shipment_id=str(sh["id"]) if sh.get("id") is not None else None,
        )
        for sh in rels(row, "shipments")
    )
    invoice_rows = rels(row, "invoices")
    return ErpOrderStatus(
        erp_id=int(row["id"]),
        number=row.get("number") or None,
        purchase_id=row.get(conv.PURCHASE_ID_FIELD) or None,
        account_code=rel(row, "party").get("code") or "",
        po_number=row.get(conv.PO_NUMBER_FIELD) or None,
        state=order_state(row),
        point_of_no_return=point_of_no_return(row),
        total_untaxed=to_decimal(row.get("untaxed_amount")),
        total_tax=to_decimal(row.get("tax_amount")),
        total=to_decimal(row.get("total_amount")),
        order_date=row.get("sale_date"),
        lines=tuple(lines),
        shipments=shipments,
        invoices=tuple(invoice_from_row(inv) for inv in invoice_rows),
        payments=tuple(p for inv in invoice_rows for p in payments_from_invoice(inv)),
        warehouse_code=rel(row, "warehouse").get("code") or None,
    )


def payment_term_days(term: Mapping[str, Any]) -> int | None:
    """The longest delay among the term's lines (days + 7*weeks + 30*months); 0 for "remainder now"."""
    if not term:
        return None
    longest = 0
    for line in rels(term, "lines"):
        for delta in rels(line, "relativedeltas"):
            days = int(delta.get("days") or 0) + 7 * int(delta.get("weeks") or 0)
            days += 30 * int(delta.get("months") or 0)
            longest = max(longest, days)
    return longest


def quantity_is_whole(quantity: Decimal, rounding: Decimal) -> bool:
    """A line quantity must be a multiple of the unit's rounding (1 for units and cases)."""
    if rounding <= 0:
        return True
    return quantity % rounding == 0


def order_description(text: str | None) -> str | None:
    """``sale.description`` is a Char: Tryton refuses line breaks and tabs in it, and it is shown in one-line
    lists. Lines become " / "-separated parts (blank ones dropped), runs of spaces and tabs one space, and
    the text is cut to ``DESCRIPTION_MAX`` characters with an ellipsis, so callers may pass any text.
    Empty -> ``None``."""
    parts = (" ".join(line.split()) for line in (text or "").splitlines())
    joined = " / ".join(part for part in parts if part)
    if len(joined) > DESCRIPTION_MAX:
        joined = joined[:DESCRIPTION_MAX - 1].rstrip(" /") + "…"
    return joined or None


def level_signature(lines: Iterable[Mapping[str, Any]]) -> tuple:
    """What makes a price list's generic (product- and category-less) lines equal to another's."""
    return tuple(
        (float(line.get("quantity") or 0), (line.get("formula") or "").replace(" ", ""))
        for line in lines
        if not line.get("product") and not line.get("category")
    )


def plan_confirm(sale_ids: Sequence[int], rows: Mapping[int, Mapping[str, Any]]) -> tuple[list[int], list[int]]:
    """Split orders to confirm into (safe: one batched call, risky: one call each, in order).

    Tryton's ``confirm`` checks the credit of every sale in the call *before* confirming any, so orders of
    one customer that fit the limit one by one but not together would all pass in a single call. An order
    is safe when its customer has no limit, or when the customer's credit amount plus ALL of this call's
    orders for them still fits. Risky ones are confirmed one at a time, so each sees the ones before it,
    and an expected refusal (e.g. a customer on hold) cannot make the batched call fail for everyone.
    """
    by_party: dict[Any, list[int]] = defaultdict(list)
    for sid in sale_ids:
        by_party[(rows.get(sid) or {}).get("party")].append(sid)
    risky_parties = set()
    for party_id, sids in by_party.items():
        party = rel(rows.get(sids[0]), "party")
        limit = party.get("credit_limit_amount")
        if limit is None:
            continue
        total = sum((to_decimal((rows.get(s) or {}).get("untaxed_amount")) for s in sids), Decimal(0))
        if to_decimal(party.get("credit_amount")) + total > to_decimal(limit):
            risky_parties.add(party_id)
    safe = [s for s in sale_ids if (rows.get(s) or {}).get("party") not in risky_parties]
    risky = [s for s in sale_ids if (rows.get(s) or {}).get("party") in risky_parties]
    return safe, risky


def credit_related(message: str) -> bool:
    """The refusal text mentions credit: the fallback when the party's figures alone do not explain it."""
    return "credit" in message.lower()
