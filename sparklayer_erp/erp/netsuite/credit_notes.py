"""Credit notes in NetSuite (``ErpCreditNotes``): credit memos transformed from an order's invoice.

* **Exactly once**: the memo's external id is the request's reference (``SLCM-`` prefix, see conventions);
  before writing, ``GET creditMemo/eid:…`` answers a retry with the memo already made, and a transform
  refused as a duplicate (two runs at once) is read back the same way.
* **Goods** (``request.lines``): the invoice's lines of those SKUs, in the invoiced unit, at the invoiced
  rate — never more than was invoiced. **Money** (``request.amount``, gross): one line at the invoice's tax
  rate whose net + tax is the amount to the cent, never more than the invoice still holds uncredited.
* NetSuite posts a memo when it is saved and applies it to the invoice's amount remaining; what is left
  over is customer credit. Reading the notes back is part of ``order_status`` (``credit_notes``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sparklayer_erp.domain.models import ActionResult, CreditNoteRequest, ErpOrderLine, Refusal, RefusalReason
from sparklayer_erp.erp.netsuite import conventions as conv
from sparklayer_erp.erp.netsuite import queries as q
from sparklayer_erp.erp.netsuite.errors import NetSuiteApiError, is_duplicate
from sparklayer_erp.erp.netsuite.mapping import (
    credit_memo_external_id,
    credit_memo_text,
    dec,
    implied_tax_rate,
    invoice_state,
    money_step,
    net_for_gross,
    num,
    ref_id,
    status_letter,
    sublist,
)
from sparklayer_erp.erp.netsuite.orders import OrderOps

_CREDITABLE = ("posted", "paid")


def _refused(reason: RefusalReason, message: str) -> ActionResult:
    return ActionResult(ok=False, refusal=Refusal(reason, message))


def _technical(err: NetSuiteApiError) -> bool:
    return err.status >= 500 or err.status in (401, 403, 429)


class CreditNoteOps(OrderOps):
    """The port's credit notes (``ErpCreditNotes``) on top of the order operations."""

    def _existing_memo(self, external_id: str) -> dict[str, Any] | None:
        return self.http.get("creditMemo", f"eid:{external_id}", fields="tranId,total")

    @staticmethod
    def _already(record: Mapping[str, Any]) -> ActionResult:
        return ActionResult(ok=True, detail={"already": True, "number": record.get("tranId"),
                                             "total": str(abs(dec(record.get("total"))))})

    def create_credit_note(self, erp_id: int, request: CreditNoteRequest) -> ActionResult:
        """Credit the order's posted (or paid) invoice by lines or by a gross amount; see ``ErpCreditNotes``."""
        if not request.reference or not request.reference.strip():
            return _refused(RefusalReason.OTHER, "a credit note needs a reference")
        if not request.lines and request.amount is None:
            return _refused(RefusalReason.OTHER, "a credit note needs lines or an amount")
        external_id = credit_memo_external_id(request.reference)
        found = self._existing_memo(external_id)
        if found is not None:
            return self._already(found)
        invoices = [r for r in self._chunked(q.invoices, [int(erp_id)])
                    if invoice_state(status_letter(r)) in _CREDITABLE]
        if not invoices:
            return _refused(RefusalReason.INVALID_STATE, "the order has no posted invoice to credit")
        credited: dict[str, Decimal] = {}
        for row in self._chunked(q.credit_memos, [int(r["id"]) for r in invoices]):
            if conv.CREDIT_MEMO_STATE.get(status_letter(row)) != "cancelled":
                key = str(row["invoice"])
                credited[key] = credited.get(key, Decimal(0)) + abs(dec(row.get("foreigntotal")))
        chosen: tuple[Mapping[str, Any], list[dict[str, Any]]] | None = None
        problem = ""
        for row in invoices:
            room = dec(row.get("foreigntotal")) - credited.get(str(row["id"]), Decimal(0))
            record = self.http.get("invoice", str(row["id"]), expandSubResources="true") or {}
            try:
                if request.lines:
                    lines = self._goods_lines(record, request.lines)
                else:
                    lines = [self._amount_line(record, Decimal(request.amount or 0), room)]
            except ValueError as err:
                problem = problem or str(err)
                continue
            chosen = (row, lines)
            break
        if chosen is None:
            return _refused(RefusalReason.OTHER, problem or "no invoice of the order can take this credit")
        row, lines = chosen
        body: dict[str, Any] = {
            "externalId": external_id,
            "tranDate": (request.credit_date or dt.date.today()).isoformat(),
            "memo": credit_memo_text(request.reason or "Credit note", request.goods_returned),
            "item": {"items": lines},
        }
        try:
            self.http.transform("invoice", str(row["id"]), "creditMemo", body)
        except NetSuiteApiError as err:
            if _technical(err):
                raise
            if is_duplicate(err):
                again = self._existing_memo(external_id)
                if again is not None:
                    return self._already(again)
            return _refused(RefusalReason.OTHER, f"NetSuite refused the credit memo: {err.detail}")
        made = self._existing_memo(external_id) or {}
        return ActionResult(ok=True, detail={"number": made.get("tranId"), "total": str(abs(dec(made.get("total")))),
                                             "invoice": row.get("tranid")})

    def _goods_lines(self, invoice: Mapping[str, Any], wanted: Sequence[ErpOrderLine]) -> list[dict[str, Any]]:
        """The invoice's lines of the wanted SKUs in the wanted unit, with the quantity to credit."""
        items = self._items(ln.sku for ln in wanted)
        out = []
        for want in wanted:
            info = items.get(want.sku)
            unit = info.unit_named(want.unit) if info else None
            if info is None or unit is None:
                raise ValueError(f"{want.sku} in {want.unit!r} is not sold in NetSuite")
            lines = [ln for ln in sublist(invoice, "item") if ref_id(ln.get("item")) == info.id]
            if not lines:
                raise ValueError(f"{want.sku} is not on invoice {invoice.get('tranId')}")
            line = next((ln for ln in lines if not info.units or ref_id(ln.get("units")) in (None, unit.id)), None)
            if line is None:
                raise ValueError(f"{want.sku}: invoice {invoice.get('tranId')} has it in another unit, "
                                 f"not {want.unit!r}")
            quantity = Decimal(want.quantity)
            if quantity <= 0 or quantity > dec(line.get("quantity")):
                raise ValueError(f"{want.sku}: cannot credit {want.quantity} of {dec(line.get('quantity'))} "
                                 f"invoiced on {invoice.get('tranId')}")
            out.append({"line": line["line"], "quantity": num(quantity)})
        return out

    def _amount_line(self, invoice: Mapping[str, Any], gross: Decimal, room: Decimal) -> dict[str, Any]:
        """One line on the invoice's first item line: quantity 1, rate = the net whose tax makes ``gross``."""
        if gross <= 0:
            raise ValueError(f"credit amount must be positive, not {gross}")
        if gross > room:
            raise ValueError(f"credit {gross} is more than invoice {invoice.get('tranId')} still holds "
                             f"uncredited ({room})")
        first = next(iter(sublist(invoice, "item")), None)
        if first is None:
            raise ValueError(f"invoice {invoice.get('tranId')} has no line to credit against")
        step = money_step(self._currency_code(invoice.get("currency")) or self.currency)
        taxable = dec(invoice.get("subtotal")) + dec(invoice.get("shippingCost"))
        rate = implied_tax_rate(dec(invoice.get("taxTotal")), taxable, step)
        return {"line": first["line"], "quantity": 1, "rate": num(net_for_gross(gross, rate, step)),
                "description": conv.AMOUNT_CREDIT_DESCRIPTION}

    def orders_with_credit_notes_since(self, since: dt.date) -> list[int]:
        """Sales orders (ours) whose invoices have a credit memo dated ``since`` or later."""
        return sorted({int(r["salesorder"]) for r in self.http.suiteql(q.orders_credited_since(since))
                       if r.get("salesorder") is not None})
