"""The Tryton adapter for the ERP port, over JSON-RPC (``rpc.TrytonRpc``).

``TrytonErp`` is assembled from parts, each in a module named for what it holds: ``records`` (connection,
cached reference data, chunked sale reads), ``mapping`` (pure Tryton row -> domain mappings),
``masterdata`` (customers, prices, items, stock), ``order_writes`` (create/quote/confirm in chunks,
approve, cancel, amend) and ``errors``; this module adds the order reads and payments.

Decisions the adapter makes, because Tryton leaves them open (details in each method's docstring):

* **Open balance** = ``party.credit_amount``, not ``receivable``: it is exactly the figure Tryton compares
  with the credit limit on confirm (posted receivable + the uninvoiced value of confirmed/processing sales),
  so the remaining credit SparkLayer shows is the one the ERP will enforce.
* **Credit hold** = the ``Credit hold`` party category, or a credit limit of 0 (the seed sets both).
* **Contract customers**: ``sale_price_list`` is the contract list; their level is recognised by the contract
  list's product-less fallback lines being identical to a level list's lines (``None`` if they match none).
* **Stock**: on hand = storage zone of the warehouse (done moves up to today); reserved = committed to
  customer shipments: open moves to a customer whose goods are still in that storage zone (shipment draft,
  waiting or assigned; once picked they have left on hand). A committed order counts before anyone assigns
  it, so the shop cannot sell its stock again. Not ``quantity - forecast_quantity``: that also nets
  incoming supplier moves.
* **Point of no return** = any shipment assigned/picked/packed/shipped/done, or any line move assigned/done
  (``assign_try`` can allocate part of a shipment and leave the shipment ``waiting``).
* **Batch confirm and credit**: Tryton checks every sale of a ``confirm`` call *before* it confirms any of
  them, so two orders of one customer in one call can both pass a limit that only one of them fits. The
  adapter confirms in one call only the orders whose customer can take all of them (``plan_confirm``) and
  the others one at a time.
* **Amending a committed order** is refused with ``INVALID_STATE``: Tryton cannot take a processing sale
  back to draft; the only path (cancel shipments + invoice, then re-create) would leave the purchase id on
  a dead order. Quotations and drafts are amended in place.
* **Currencies** (``currencies``): an order is created in its own currency when the ERP has that currency
  with a rate on the day and it is the customer's sale currency (else a typed refusal, nothing written);
  prices for a customer are in its sale currency, converted by Tryton at its rate; a price list is in the
  currency its name ends with (``TRADE-EUR``) or, for a contract, its customer's. ``ErpOrderStatus`` carries
  the order's currency and the ERP's rate on its sale date (company currency per unit).
* **Cancelling a committed order whose invoice is posted** goes through a credit note: Tryton's Credit
  wizard "with refund" credits the invoice and cancels it (``credit_notes``); an invoice with a payment on
  it is refused with ``INVALID_STATE`` (refund the money first: finance), as is anything past the point of
  no return (``POINT_OF_NO_RETURN``).
* **Credit notes** (``credit_notes``): read with each order through their lines' origin (the invoice lines
  they credit); raised idempotently by reference.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sparklayer_erp.domain.models import ActionResult, ErpOrderRef, ErpOrderStatus, Refusal, RefusalReason
from sparklayer_erp.erp.tryton import conventions as conv
from sparklayer_erp.erp.tryton.credit_notes import CreditNotes
from sparklayer_erp.erp.tryton.errors import UnknownErpReference, port_method
from sparklayer_erp.erp.tryton.mapping import (
    REF_FIELDS,
    STATUS_FIELDS,
    order_ref,
    rels,
    status_from_row,
    to_decimal,
)
from sparklayer_erp.erp.tryton.masterdata import MasterDataReads
from sparklayer_erp.erp.tryton.order_writes import CREATE_CHUNK, OrderWrites
from sparklayer_erp.erp.tryton.rpc import TrytonRpc, TrytonUserError, TrytonUserWarning

__all__ = ["CREATE_CHUNK", "TrytonErp", "UnknownErpReference"]


class TrytonErp(CreditNotes, MasterDataReads, OrderWrites):
    """``ErpPort`` on a Tryton 8.2 server. Reference data (units, shop, warehouses) is cached per instance."""

    def default_warehouse_code(self) -> str:
        """Orders created by this adapter ship from the integration's default warehouse."""
        return conv.DEFAULT_WAREHOUSE_CODE

    # ================================================================ orders: reads

    @port_method
    def find_orders(self, purchase_ids: Sequence[str]) -> dict[str, ErpOrderRef]:
        """One search on (web_shop, web_id) per 200 ids."""
        rows = self._rows_by_purchase_id(purchase_ids, REF_FIELDS)
        return {pid: order_ref(row) for pid, row in rows.items()}

    @port_method
    def order_status(self, erp_ids: Sequence[int]) -> list[ErpOrderStatus]:
        """One nested ``search_read`` per 200 orders; ids Tryton does not know are left out."""
        rows = self._rows_by_id(erp_ids, (*STATUS_FIELDS, "currency"))
        return self._with_credit_notes(
            [self._status(rows[i]) for i in dict.fromkeys(int(e) for e in erp_ids) if i in rows])

    def _status(self, row: dict[str, Any]) -> ErpOrderStatus:
        """The status with the order's currency and the ERP's rate on its sale date (for reconciliation)."""
        code, rate = self._rates_for([row])[int(row["id"])]
        return dataclasses.replace(status_from_row(row), currency=code, company_rate=rate)

    @port_method
    def list_orders_between(self, start: dt.date, end: dt.date) -> list[ErpOrderStatus]:
        """Orders of the SparkLayer shop dated in [start, end): by ``sale_date`` (set at creation by this
        adapter; Tryton sets it on confirm otherwise), else by creation time for undated quotations."""
        start_ts = dt.datetime.combine(start, dt.time.min)
        end_ts = dt.datetime.combine(end, dt.time.min)
        domain = [
            (conv.WEB_SHOP_FIELD, "=", self._shop()),
            (conv.PURCHASE_ID_FIELD, "!=", None),
            ["OR",
             [("sale_date", ">=", start), ("sale_date", "<", end)],
             [("sale_date", "=", None), ("create_date", ">=", start_ts), ("create_date", "<", end_ts)]],
        ]
        return self._with_credit_notes(
            [self._status(row) for row in self._sale_rows(domain, (*STATUS_FIELDS, "currency"))])

    # ================================================================ payments

    @port_method
    def record_payment(self, erp_id: int, amount: Decimal, paid_on: dt.date, reference: str) -> ActionResult:
        """Settle the order's invoice(s) with a payment taken at checkout.

        Posts a draft invoice first (that is when it becomes a receivable), then runs ``account.invoice.pay``
        with the card payment method, ``reference`` as the payment's description. Idempotent: a payment line
        with this reference, or a fully paid invoice, means done. A payment larger than what is due is
        refused (no silent overpayment); a smaller one is recorded as a partial payment.
        """
        amount = Decimal(amount)
        fields = [
            "invoices.state", "invoices.number", "invoices.total_amount", "invoices.amount_to_pay",
            "invoices.payment_lines.move_description_used",
        ]
        row = self._one(erp_id, fields)
        if row is None:
            return ActionResult(ok=False, refusal=Refusal(RefusalReason.OTHER, f"no ERP order {erp_id}"))
        invoices = [inv for inv in rels(row, "invoices") if inv.get("state") != "cancelled"]
        recorded = {
            ln.get("move_description_used") for inv in invoices for ln in rels(inv, "payment_lines")
        }
        if reference and reference in recorded:
            return ActionResult(ok=True, detail={"already": True})
        if not invoices:
            return ActionResult(ok=False, refusal=Refusal(
                RefusalReason.INVALID_STATE, "the order has no invoice yet (it is not committed)"
            ))
        if all(inv.get("state") == "paid" for inv in invoices):
            return ActionResult(ok=True, detail={"already": True})
        if amount <= 0:
            return ActionResult(ok=False, refusal=Refusal(RefusalReason.OTHER, f"payment amount {amount}"))
        due = sum(
            (to_decimal(inv.get("total_amount")) if inv.get("state") == "draft"
             else to_decimal(inv.get("amount_to_pay")))
            for inv in invoices if inv.get("state") in {"draft", "posted"}
        )
        if amount > due:
            return ActionResult(ok=False, refusal=Refusal(
                RefusalReason.OTHER, f"payment {amount} is more than the {due} due on the order"
            ))
        drafts = [int(inv["id"]) for inv in invoices if inv.get("state") == "draft"]
        try:
            if drafts:
                self.rpc.model("account.invoice", "post", drafts)
            posted = self.rpc.search_read(
                "account.invoice", [("id", "in", [int(inv["id"]) for inv in invoices]), ("state", "=", "posted")],
                ["amount_to_pay", "number"], order=[("id", "ASC")],
            )
            remaining = amount
            paid_numbers = []
            for inv in posted:
                to_pay = min(remaining, to_decimal(inv.get("amount_to_pay")))
                if to_pay <= 0:
                    continue
                self._pay_invoice(int(inv["id"]), to_pay, paid_on, reference)
                paid_numbers.append(inv.get("number"))
                remaining -= to_pay
                if remaining <= 0:
                    break
        except (TrytonUserError, TrytonUserWarning) as err:
            return ActionResult(ok=False, refusal=Refusal(RefusalReason.OTHER, err.message))
        return ActionResult(ok=True, detail={"invoices": paid_numbers, "unapplied": str(remaining)})

    def _pay_invoice(self, invoice_id: int, amount: Decimal, paid_on: dt.date, reference: str) -> None:
        """The ``account.invoice.pay`` wizard (its create needs a fresh session: the RPC client re-logs in
        on the 401 Tryton answers for a stale one)."""
        with self.rpc.wizard("account.invoice.pay", "account.invoice", [invoice_id]) as session:
            start = TrytonRpc.view_defaults(session.execute("start", {}))
            start.update({
                "payment_method": self._pay_method(), "date": paid_on, "description": reference,
                "amount": amount,
            })
            answer = session.execute("choice", {"start": start})
            if session.view_state(answer) == "ask":  # less than the whole amount: a partial payment
                ask = TrytonRpc.view_defaults(answer)
                ask["type"] = "partial"
                session.execute("pay", {"start": start, "ask": ask})
