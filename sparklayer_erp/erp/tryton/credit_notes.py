"""Credit notes in Tryton: read them with an order's status, and raise one against an order's invoice.

A Tryton credit note is an ``account.invoice`` of type ``out`` with negative quantities. Which order a note
belongs to: its lines' ``origin`` is a line of one of the order's invoices — what Tryton's own "Credit"
wizard sets, and what this adapter sets on the notes it raises (an amount-only note points at the first
line of the invoice it credits). Conventions, because Tryton has no field for them:

* ``reference`` (the invoice's Char field) carries the integration's idempotency key; a note raised by a
  person keeps whatever they typed, or nothing.
* **Goods came back** = the note's comment says so (``GOODS_RETURNED_MARK``, any case). The integration
  writes it on notes for returned goods; finance or operations write it on notes they raise for a return.
* ``description`` is the reason.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any

from sparklayer_erp.domain.models import (
    ActionResult,
    CreditNote,
    CreditNoteRequest,
    ErpOrderLine,
    ErpOrderStatus,
    Refusal,
    RefusalReason,
)
from sparklayer_erp.erp.tryton.errors import port_method
from sparklayer_erp.erp.tryton.mapping import rel, rels, to_decimal
from sparklayer_erp.erp.tryton.records import TrytonRecords
from sparklayer_erp.erp.tryton.rpc import TrytonRpc, TrytonUserError, TrytonUserWarning

GOODS_RETURNED_MARK = "goods returned"
_CENT = Decimal("0.01")
_LINE_ORIGIN = "account.invoice.line"
_NOTE_FIELDS = (
    "number", "state", "total_amount", "invoice_date", "reference", "description", "comment",
    "lines.origin", "lines.product.code", "lines.quantity", "lines.unit.name", "lines.unit_price",
)


def _origin_id(origin: Any) -> int | None:
    """``"account.invoice.line,12"`` → 12 (other origins: None)."""
    if isinstance(origin, str) and origin.startswith(_LINE_ORIGIN + ","):
        try:
            return int(origin.split(",", 1)[1])
        except ValueError:
            return None
    return None


def credit_note_from_row(row: Mapping[str, Any], invoice_numbers: Mapping[int, str | None]) -> CreditNote:
    """A Tryton credit note as the domain's ``CreditNote`` (totals and quantities positive)."""
    lines = []
    credited: str | None = None
    for line in rels(row, "lines"):
        line_id = _origin_id(line.get("origin"))
        if credited is None and line_id is not None:
            credited = invoice_numbers.get(line_id)
        code = rel(line, "product").get("code")
        if code:
            lines.append(ErpOrderLine(sku=code, quantity=abs(to_decimal(line.get("quantity"))),
                                      unit=rel(line, "unit").get("name") or "",
                                      unit_price=to_decimal(line.get("unit_price"))))
    comment = str(row.get("comment") or "")
    return CreditNote(
        number=row.get("number") or None,
        total=-to_decimal(row.get("total_amount")),
        state=row.get("state") or "",
        credit_date=row.get("invoice_date"),
        reference=row.get("reference") or None,
        reason=str(row.get("description") or ""),
        goods_returned=GOODS_RETURNED_MARK in comment.lower(),
        invoice_number=credited,
        lines=tuple(lines),
        credit_note_id=str(row["id"]),
    )


class CreditNotes(TrytonRecords):
    """``ErpCreditNotes`` for Tryton, and the credit notes of many orders in one read."""

    # ================================================================ reads

    def _credit_notes_by_sale(self, sale_ids: Iterable[int]) -> dict[int, tuple[CreditNote, ...]]:
        """Sale id → its credit notes (posted, paid or draft; cancelled ones are left out), in two reads."""
        rows = self._rows_by_id(list(sale_ids), ["invoices.number", "invoices.lines", "invoices.total_amount"])
        line_sale: dict[int, int] = {}
        line_invoice: dict[int, str | None] = {}
        for sale_id, row in rows.items():
            for invoice in rels(row, "invoices"):
                if to_decimal(invoice.get("total_amount")) < 0:
                    continue  # a credit note Tryton put on the sale itself (a return sale): not an invoice
                for line_id in invoice.get("lines") or []:
                    line_sale[int(line_id)] = sale_id
                    line_invoice[int(line_id)] = invoice.get("number") or None
        if not line_sale:
            return {}
        notes: dict[int, dict[int, CreditNote]] = defaultdict(dict)
        origins = [f"{_LINE_ORIGIN},{i}" for i in sorted(line_sale)]
        for start in range(0, len(origins), 500):
            found = self.rpc.search_read(
                "account.invoice",
                [("type", "=", "out"), ("state", "!=", "cancelled"),
                 ("lines.origin", "in", origins[start:start + 500])],
                list(_NOTE_FIELDS), order=[("id", "ASC")],
            )
            for row in found:
                sale = next((line_sale[i] for ln in rels(row, "lines")
                             if (i := _origin_id(ln.get("origin"))) in line_sale), None)
                if sale is not None:
                    notes[sale][int(row["id"])] = credit_note_from_row(row, line_invoice)
        return {sale: tuple(by_id[k] for k in sorted(by_id)) for sale, by_id in notes.items()}

    def _with_credit_notes(self, statuses: list[ErpOrderStatus]) -> list[ErpOrderStatus]:
        """The statuses with their orders' credit notes filled in (one extra pair of reads)."""
        if not statuses:
            return statuses
        return with_credit_notes(statuses, self._credit_notes_by_sale(s.erp_id for s in statuses))

    @port_method
    def orders_with_credit_notes_since(self, since: dt.date) -> list[int]:
        """Notes dated from ``since`` → the invoice lines they credit → those lines' sale lines → sales."""
        notes = self.rpc.search_read(
            "account.invoice",
            [("type", "=", "out"), ("state", "in", ["posted", "paid"]), ("invoice_date", ">=", since),
             ("lines.origin", "like", f"{_LINE_ORIGIN},%")],
            ["lines.origin"])
        credited = sorted({i for n in notes for ln in rels(n, "lines") if (i := _origin_id(ln.get("origin")))})
        sale_lines: set[int] = set()
        for start in range(0, len(credited), 500):
            for row in self.rpc.search_read("account.invoice.line", [("id", "in", credited[start:start + 500])],
                                            ["origin"]):
                origin = row.get("origin")
                if isinstance(origin, str) and origin.startswith("sale.line,"):
                    sale_lines.add(int(origin.split(",", 1)[1]))
        ordered = sorted(sale_lines)
        sales: set[int] = set()
        for start in range(0, len(ordered), 500):
            sales.update(int(r["sale"]) for r in self.rpc.search_read(
                "sale.line", [("id", "in", ordered[start:start + 500])], ["sale"]) if r.get("sale"))
        return sorted(sales)

    # ================================================================ writes

    def _credit_to_cancel(self, erp_id: int, invoice_ids: Sequence[int]) -> Refusal | None:
        """Cancel an invoiced order's booked invoices the way Tryton does it: its Credit wizard "with refund"
        posts a credit note for each and cancels the invoice against it. An invoice with a payment on it
        cannot be undone that way (the money must be refunded first): refused, for finance."""
        rows = self.rpc.search_read("account.invoice", [("id", "in", list(invoice_ids))],
                                    ["state", "number", "payment_lines"])
        paid = [r.get("number") for r in rows if r.get("state") == "paid" or r.get("payment_lines")]
        if paid:
            return Refusal(RefusalReason.INVALID_STATE, f"invoice {', '.join(map(str, paid))} has a payment on it: "
                                                        "refund the payment first, then cancel (finance)")
        try:
            with self.rpc.wizard("account.invoice.credit", "account.invoice", list(invoice_ids)) as session:
                start = TrytonRpc.view_defaults(session.execute("start", {}))
                if not start.get("with_refund_allowed"):
                    return Refusal(RefusalReason.INVALID_STATE, "the ERP does not allow crediting this invoice "
                                                                "with a refund: cancel it by hand (finance)")
                start["with_refund"] = True
                session.execute("credit", {"start": start})
        except (TrytonUserError, TrytonUserWarning) as err:
            return Refusal(RefusalReason.OTHER, f"the invoice could not be credited: {err.message}")
        return None

    def _existing_note(self, reference: str) -> dict[str, Any] | None:
        rows = self.rpc.search_read(
            "account.invoice", [("type", "=", "out"), ("reference", "=", reference), ("state", "!=", "cancelled")],
            ["number", "state", "total_amount"], limit=1)
        return rows[0] if rows else None

    @port_method
    def create_credit_note(self, erp_id: int, request: CreditNoteRequest) -> ActionResult:
        """Credit the order's posted (or paid) invoice and post the note; see ``ErpCreditNotes``.

        Lines are credited at the invoiced unit price and taxes; an amount is credited as one line without a
        product at the invoice's tax rate, its net chosen so that net + tax is the amount to the cent. A
        draft note left by a crash is posted, not duplicated."""
        if not request.reference:
            return ActionResult(ok=False, refusal=Refusal(RefusalReason.OTHER, "a credit note needs a reference"))
        existing = self._existing_note(request.reference)
        if existing is not None:
            if existing.get("state") == "draft":
                self.rpc.model("account.invoice", "post", [int(existing["id"])])
                existing = self._existing_note(request.reference) or existing
            return ActionResult(ok=True, detail={"already": True, "number": existing.get("number"),
                                                 "total": str(-to_decimal(existing.get("total_amount")))})
        invoice = self._invoice_to_credit(erp_id)
        if invoice is None:
            return ActionResult(ok=False, refusal=Refusal(
                RefusalReason.INVALID_STATE, "the order has no posted invoice to credit"))
        credited = sum((n.total for n in self._credit_notes_by_sale([erp_id]).get(int(erp_id), ())), Decimal(0))
        if request.amount is not None and credited + request.amount > to_decimal(invoice.get("total_amount")):
            return ActionResult(ok=False, refusal=Refusal(RefusalReason.OTHER, (
                f"credit {request.amount} on top of {credited} already credited is more than invoice "
                f"{invoice.get('number')} ({to_decimal(invoice.get('total_amount'))})")))
        try:
            lines = (self._credit_lines(invoice, request.lines) if request.lines
                     else self._amount_line(invoice, request.amount))
        except ValueError as err:
            return ActionResult(ok=False, refusal=Refusal(RefusalReason.OTHER, str(err)))
        values: dict[str, Any] = {
            "type": "out", "company": self.rpc.company_id,
            "party": invoice["party"], "invoice_address": invoice["invoice_address"],
            "currency": invoice["currency"], "journal": invoice["journal"], "account": invoice["account"],
            "payment_term": invoice.get("payment_term"),
            "invoice_date": request.credit_date or dt.date.today(),
            "reference": request.reference, "description": request.reason[:250] or "Credit note",
            "comment": (GOODS_RETURNED_MARK.capitalize() + ". " if request.goods_returned else "") + request.reason,
            "lines": [["create", lines]],
        }
        try:
            (note_id,) = self.rpc.model("account.invoice", "create", [values])
            self.rpc.model("account.invoice", "post", [int(note_id)])
        except (TrytonUserError, TrytonUserWarning) as err:
            return ActionResult(ok=False, refusal=Refusal(RefusalReason.OTHER, err.message))
        row = self.rpc.search_read("account.invoice", [("id", "=", int(note_id))], ["number", "total_amount"])[0]
        return ActionResult(ok=True, detail={"number": row.get("number"),
                                             "total": str(-to_decimal(row.get("total_amount"))),
                                             "invoice": invoice.get("number")})

    def _invoice_to_credit(self, erp_id: int) -> dict[str, Any] | None:
        row = self._one(erp_id, ["invoices.state", "invoices.total_amount"])
        posted = [int(i["id"]) for i in rels(row, "invoices")
                  if i.get("state") in ("posted", "paid") and to_decimal(i.get("total_amount")) > 0]
        if not posted:
            return None
        invoices = self.rpc.search_read(
            "account.invoice", [("id", "=", posted[0])],
            ["number", "party", "invoice_address", "currency", "journal", "account", "payment_term",
             "total_amount", "lines.product.code", "lines.quantity", "lines.unit", "lines.unit.name",
             "lines.unit_price", "lines.account", "lines.taxes", "lines.description", "lines.type"])
        return invoices[0] if invoices else None

    def _credit_lines(self, invoice: Mapping[str, Any], wanted: Sequence[ErpOrderLine]) -> list[dict[str, Any]]:
        """Negative lines copied from the invoice's lines of those SKUs (price, unit, taxes, account)."""
        by_sku: dict[str, dict[str, Any]] = {}
        for line in rels(invoice, "lines"):
            code = rel(line, "product").get("code")
            if code and line.get("type") == "line":
                by_sku.setdefault(code, line)
        out = []
        for want in wanted:
            line = by_sku.get(want.sku)
            if line is None:
                raise ValueError(f"{want.sku} is not on invoice {invoice.get('number')}")
            if rel(line, "unit").get("name") != want.unit:
                raise ValueError(f"{want.sku}: credit in {rel(line, 'unit').get('name')!r}, not {want.unit!r}")
            if Decimal(want.quantity) <= 0 or Decimal(want.quantity) > to_decimal(line.get("quantity")):
                raise ValueError(f"{want.sku}: cannot credit {want.quantity} of {line.get('quantity')} invoiced")
            out.append({
                "type": "line", "product": rel(line, "product")["id"], "quantity": -float(want.quantity),
                "unit": line["unit"], "unit_price": to_decimal(line.get("unit_price")),
                "account": line["account"], "description": line.get("description") or want.sku,
                "taxes": [["add", list(line.get("taxes") or [])]], "origin": f"{_LINE_ORIGIN},{line['id']}",
            })
        return out

    def _amount_line(self, invoice: Mapping[str, Any], amount: Decimal | None) -> list[dict[str, Any]]:
        """One line of ``amount`` gross at the invoice's first product line's taxes."""
        if amount is None or amount <= 0:
            raise ValueError(f"credit amount must be positive, not {amount}")
        if amount > to_decimal(invoice.get("total_amount")):
            raise ValueError(f"credit {amount} is more than invoice {invoice.get('number')} "
                             f"({to_decimal(invoice.get('total_amount'))})")
        first = next((ln for ln in rels(invoice, "lines") if ln.get("type") == "line"), None)
        if first is None:
            raise ValueError(f"invoice {invoice.get('number')} has no line to credit against")
        taxes = [int(t) for t in first.get("taxes") or []]
        rate = sum((to_decimal(t.get("rate")) for t in self.rpc.search_read(
            "account.tax", [("id", "in", taxes)], ["rate", "type"]) if t.get("type") == "percentage"), Decimal(0))
        net = _net_for_gross(Decimal(amount), rate)
        return [{
            "type": "line", "quantity": -1.0, "unit_price": net, "account": first["account"],
            "description": "Credit", "taxes": [["add", taxes]], "origin": f"{_LINE_ORIGIN},{first['id']}",
        }]


def _net_for_gross(gross: Decimal, rate: Decimal) -> Decimal:
    """The net amount whose tax (rounded half-up to the cent) brings it to ``gross``; the nearest if none."""
    guess = (gross / (1 + rate)).quantize(_CENT, rounding=ROUND_HALF_UP)
    for net in (guess, guess - _CENT, guess + _CENT):
        if net + (net * rate).quantize(_CENT, rounding=ROUND_HALF_EVEN) == gross:  # Tryton rounds half-even
            return net
    return guess


def with_credit_notes(statuses: list[ErpOrderStatus], notes: Mapping[int, tuple[CreditNote, ...]]
                      ) -> list[ErpOrderStatus]:
    return [dataclasses.replace(s, credit_notes=notes[s.erp_id]) if s.erp_id in notes else s for s in statuses]
