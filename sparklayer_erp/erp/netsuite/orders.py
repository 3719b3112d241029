"""Sales orders in NetSuite: create once by external id, approve, cancel, amend, status, payments.

* **Exactly once**: each purchase id is looked up (SuiteQL on ``externalid``) before anything is written;
  a new order is written with ``POST /salesOrder`` carrying ``externalId`` = purchase id. NetSuite keeps
  external ids unique, so a retry after a lost answer, or a second run racing the first, is refused as a
  duplicate and answered with the existing order (``already_existed``). Not ``PUT eid:`` (upsert): a late
  replay would overwrite an order approved or amended in the meantime.
* **Routing**: ``orderStatus`` A (Pending Approval, no ledger impact) unless the draft is committed (B,
  Pending Fulfillment). A committed create refused by NetSuite's credit check is written again as A, so the
  order exists pending approval and the refusal travels with it (as on Tryton); if NetSuite refuses that
  too, the result is the refusal alone.
* **Point of no return** = any item fulfilment (picked, packed or shipped) or any picked/shipped quantity
  on a line. Before it, cancel closes every line (status H) and amend replaces the item sublist
  (``?replace=item``); after it both are refused with ``POINT_OF_NO_RETURN``.
* **Card payments**: a ``customerPayment`` transformed from the order's open invoice, with external id
  ``SLPAY-<reference>`` so a retry finds it. NetSuite bills fulfilled quantities, so a fresh committed order
  has no invoice yet: ``record_payment`` answers ``INVALID_STATE`` until it has one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sparklayer_erp.domain.models import (
    ActionResult,
    CreateResult,
    ErpOrderDraft,
    ErpOrderLine,
    ErpOrderRef,
    ErpOrderState,
    ErpOrderStatus,
    Invoice,
    Payment,
    Refusal,
    RefusalReason,
    Shipment,
    ShipmentLine,
)
from sparklayer_erp.erp.netsuite import conventions as conv
from sparklayer_erp.erp.netsuite import queries as q
from sparklayer_erp.erp.netsuite.errors import NetSuiteApiError, credit_refusal_kind, is_duplicate
from sparklayer_erp.erp.netsuite.mapping import (
    company_rate,
    credit_note_from_row,
    dec,
    fulfilment_state,
    invoice_state,
    is_amount_only_line,
    line_amount,
    num,
    opt_dec,
    order_state,
    parse_date,
    payment_external_id,
    ref_id,
    reference_from_payment_external_id,
    status_letter,
    sublist,
    truthy,
    valid_external_id,
)
from sparklayer_erp.erp.netsuite.masterdata import MasterDataReads
from sparklayer_erp.erp.netsuite.records import ItemInfo
from sparklayer_erp.erp.port import ErpTechnicalError

_OPEN_INVOICE = "posted"


def _refused(reason: RefusalReason, message: str, **detail: Any) -> ActionResult:
    return ActionResult(ok=False, refusal=Refusal(reason, message), detail=dict(detail))


def _group(rows: Sequence[Mapping[str, Any]], key: str) -> dict[str, list[Mapping[str, Any]]]:
    out: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        if row.get(key) is not None:
            out[str(row[key])].append(row)
    return out


class OrderOps(MasterDataReads):
    """The port's order reads and writes."""

    # ================================================================ reads

    def _order_headers(self, erp_ids: Sequence[int]) -> list[dict[str, Any]]:
        ids = list(dict.fromkeys(int(i) for i in erp_ids))
        return self._chunked(q.orders_by_id, ids) if ids else []

    def _line(self, row: Mapping[str, Any], items: Mapping[str, ItemInfo]) -> tuple[ErpOrderLine, Decimal]:
        """A transaction line in its own unit (SuiteQL quantities and rates are per base unit), and what
        of it has shipped, in that unit."""
        info = items.get(str(row.get("sku") or ""))
        unit = info.unit_by_id(ref_id(row.get("units"))) if info else None
        factor = unit.rate if unit is not None and unit.rate else Decimal(1)
        quantity = dec(row.get("quantity"))
        shipped = abs(dec(row.get("quantityshiprecv")))
        if conv.LINE_QUANTITY_IN_BASE_UNITS:
            quantity, shipped = quantity / factor, shipped / factor
        rate = dec(row.get("rate"))
        if conv.LINE_RATE_PER_BASE_UNIT:
            rate = (rate * factor).quantize(Decimal(1).scaleb(-conv.PRICE_DECIMALS)).normalize()
        closed = truthy(row.get("isclosed"))
        line = ErpOrderLine(
            sku=str(row.get("sku") or ""), quantity=quantity,
            unit=unit.name if unit else (info.sale.name if info else ""), unit_price=rate,
            cancelled_quantity=max(quantity - shipped, Decimal(0)) if closed else Decimal(0),
        )
        return line, shipped

    def _order_currencies(self, headers: Sequence[Mapping[str, Any]]) -> dict[str, str]:
        """Order id -> currency: the order's own (SuiteQL ``currency`` column), else the customer's, or
        (customers with several currencies) the order record's."""
        out: dict[str, str] = {}
        for h in headers:
            code = self._currency_code({"id": str(h["currency"])}) if h.get("currency") is not None else None
            if code:
                out[str(h["id"])] = code
        headers = [h for h in headers if str(h["id"]) not in out]
        if not headers:
            return out
        details = self._customer_details_for(str(h["entity"]) for h in headers if h.get("entity") is not None)
        ask: list[str] = []
        for h in headers:
            detail = details.get(str(h.get("entity")), {})
            if len(sublist(detail, "currencyList")) > 1:
                ask.append(str(h["id"]))
            else:
                out[str(h["id"])] = self._currency_code(detail.get("currency")) or self.currency
        if ask:
            records = self._parallel(lambda oid: self.http.get("salesOrder", oid, fields="currency") or {}, ask)
            for oid, record in records.items():
                out[oid] = self._currency_code(record.get("currency")) or self.currency
        return out

    def _statuses(self, headers: Sequence[Mapping[str, Any]]) -> list[ErpOrderStatus]:
        """Status of each header row: lines, fulfilments with lines and tracking, invoices with amount due,
        payments and credit memos."""
        if not headers:
            return []
        ids = [int(h["id"]) for h in headers]
        lines = _group(self._chunked(q.order_lines, ids), "transaction")
        fulfilments: dict[str, dict[str, Mapping[str, Any]]] = defaultdict(dict)
        for row in self._chunked(q.fulfilments, ids):
            fulfilments[str(row["salesorder"])].setdefault(str(row["fulfillment"]), row)
        fulfil_ids = sorted({int(f) for fs in fulfilments.values() for f in fs})
        tracking = _group(self._chunked(q.tracking_numbers, fulfil_ids), "transaction") if fulfil_ids else {}
        fulfil_lines = _group(self._chunked(q.order_lines, fulfil_ids), "transaction") if fulfil_ids else {}
        invoice_rows = self._chunked(q.invoices, ids)
        invoices = _group(invoice_rows, "salesorder")
        open_ids = [str(r["id"]) for r in invoice_rows if invoice_state(status_letter(r)) == _OPEN_INVOICE]
        remaining: dict[str, Decimal | None] = {}
        if conv.INVOICE_AMOUNT_REMAINING_VIA_REST and open_ids:
            remaining = self._parallel(self._amount_remaining, open_ids)
        invoice_ids = sorted({int(r["id"]) for r in invoice_rows})
        payments = _group(self._chunked(q.payments, invoice_ids), "invoice") if invoice_ids else {}
        credit_rows = self._chunked(q.credit_memos, invoice_ids) if invoice_ids else []
        credits = _group(credit_rows, "invoice")
        credit_ids = sorted({int(r["id"]) for r in credit_rows})
        credit_lines = _group(self._chunked(q.order_lines, credit_ids), "transaction") if credit_ids else {}
        currencies = self._order_currencies(headers)
        skus = {str(r["sku"]) for group in (lines, fulfil_lines, credit_lines) for rows in group.values()
                for r in rows if r.get("sku")}
        items = self._items(skus)

        out = []
        for header in headers:
            oid = str(header["id"])
            order_lines = []
            untaxed = Decimal(0)
            fulfilled = bool(fulfilments.get(oid))
            location: str | None = None
            for row in lines.get(oid, []):
                line, shipped = self._line(row, items)
                untaxed += line_amount(row, currencies.get(oid, self.currency))
                if shipped > 0 or dec(row.get("quantitypicked")) > 0:
                    fulfilled = True
                location = location or ref_id(row.get("location"))
                order_lines.append(line)
            shipments = []
            for fid, frow in fulfilments.get(oid, {}).items():
                state = fulfilment_state(status_letter(frow))
                numbers = [str(t["trackingnumber"]) for t in tracking.get(fid, []) if t.get("trackingnumber")]
                carried = [self._line(r, items)[0] for r in fulfil_lines.get(fid, [])]
                shipments.append(Shipment(
                    number=frow.get("tranid") or None, state=state,
                    tracking_number=", ".join(numbers) or None,
                    shipped_on=parse_date(frow.get("trandate")) if state == "done" else None,
                    lines=tuple(ShipmentLine(ln.sku, ln.quantity, ln.unit) for ln in carried if ln.quantity > 0),
                    shipment_id=fid,
                ))
            order_invoices = []
            order_payments = []
            order_credits = []
            for irow in invoices.get(oid, []):
                state = invoice_state(status_letter(irow))
                total = dec(irow.get("foreigntotal"))
                if state in ("paid", "cancelled"):
                    due = Decimal(0)
                elif state == _OPEN_INVOICE:
                    rest = remaining.get(str(irow["id"]))
                    due = rest if rest is not None else opt_dec(irow.get("foreignamountunpaid")) or total
                else:
                    due = total
                number = irow.get("tranid") or None
                order_invoices.append(Invoice(
                    number=number, state=state, total=total, amount_due=due,
                    invoice_date=parse_date(irow.get("trandate")), due_date=parse_date(irow.get("duedate")),
                ))
                for prow in payments.get(str(irow["id"]), []):
                    order_payments.append(Payment(
                        invoice_number=number, amount=abs(dec(prow.get("foreigntotal"))),
                        paid_on=parse_date(prow.get("trandate")),
                        reference=reference_from_payment_external_id(prow.get("externalid")),
                    ))
                for crow in credits.get(str(irow["id"]), []):
                    note = credit_note_from_row(crow, number, [
                        self._line(r, items)[0] for r in credit_lines.get(str(crow["id"]), [])
                        if not is_amount_only_line(r)])
                    if note.state != "cancelled":
                        order_credits.append(note)
            total = dec(header.get("foreigntotal"))
            out.append(ErpOrderStatus(
                erp_id=int(header["id"]),
                number=header.get("tranid") or None,
                purchase_id=header.get("externalid") or None,
                account_code=str(header.get("customer") or ""),
                po_number=header.get("otherrefnum") or None,
                state=order_state(status_letter(header), fulfilled, order_invoices),
                point_of_no_return=fulfilled,
                total_untaxed=untaxed,
                total_tax=total - untaxed,
                total=total,
                order_date=parse_date(header.get("trandate")),
                lines=tuple(order_lines),
                shipments=tuple(shipments),
                invoices=tuple(order_invoices),
                payments=tuple(order_payments),
                warehouse_code=self._warehouse_of(location),
                currency=currencies.get(oid, self.currency),
                company_rate=company_rate(header, currencies.get(oid, self.currency), self.currency),
                credit_notes=tuple(order_credits),
            ))
        return out

    def _amount_remaining(self, invoice_id: str) -> Decimal | None:
        record = self.http.get("invoice", invoice_id, fields="amountRemaining")
        if record is None or record.get("amountRemaining") is None:
            return None
        return dec(record["amountRemaining"])

    def order_status(self, erp_ids: Sequence[int]) -> list[ErpOrderStatus]:
        """Orders NetSuite does not know (or that are not sales orders) are left out."""
        return self._statuses(self._order_headers(erp_ids))

    def list_orders_between(self, start: dt.date, end: dt.date) -> list[ErpOrderStatus]:
        """Sales orders carrying a purchase id, dated (``trandate``) in [start, end)."""
        return self._statuses(self.http.suiteql(q.orders_between(start, end)))

    def find_orders(self, purchase_ids: Sequence[str]) -> dict[str, ErpOrderRef]:
        """One SuiteQL query per 500 purchase ids; Billed/Closed orders get their full status (their state
        depends on fulfilments and invoices)."""
        pids = [p for p in dict.fromkeys(purchase_ids) if p and valid_external_id(p)]
        if not pids:
            return {}
        rows = self._chunked(q.orders_by_external_id, pids)
        wanted = {p.lower(): p for p in pids}
        out: dict[str, ErpOrderRef] = {}
        settled = [int(r["id"]) for r in rows if status_letter(r) in (conv.SO_BILLED, conv.SO_CLOSED)]
        states = {s.erp_id: s.state for s in self.order_status(settled)} if settled else {}
        for row in rows:
            pid = wanted.get(str(row.get("externalid") or "").lower())
            if pid is None or pid in out:
                continue
            erp_id = int(row["id"])
            out[pid] = ErpOrderRef(
                erp_id=erp_id, number=row.get("tranid") or None, purchase_id=pid,
                state=states.get(erp_id) or order_state(status_letter(row), False),
            )
        return out

    # ================================================================ create

    def _check_lines(self, lines: Sequence[ErpOrderLine], items: Mapping[str, ItemInfo]) -> Refusal | None:
        """Refuse before any write: no lines, unknown/inactive SKUs, units outside the item's units type,
        non-positive or non-whole quantities."""
        if not lines:
            return Refusal(RefusalReason.OTHER, "the order has no lines")
        unknown = sorted({ln.sku for ln in lines if ln.sku not in items or not items[ln.sku].active})
        if unknown:
            return Refusal(RefusalReason.UNKNOWN_SKU, f"SKU(s) not sold in NetSuite: {', '.join(unknown)}")
        for ln in lines:
            if items[ln.sku].unit_named(ln.unit) is None:
                return Refusal(RefusalReason.OTHER, f"{ln.sku} cannot be sold in {ln.unit!r} in NetSuite")
            quantity = Decimal(ln.quantity)
            if quantity <= 0:
                return Refusal(RefusalReason.OTHER, f"{ln.sku}: quantity must be positive, not {ln.quantity}")
            if quantity != quantity.to_integral_value():
                return Refusal(RefusalReason.FRACTIONAL_QUANTITY,
                               f"{ln.sku}: {ln.quantity} {ln.unit} is not a whole number of {ln.unit}")
        return None

    def _line_body(self, ln: ErpOrderLine, info: ItemInfo, location: str | None) -> dict[str, Any]:
        unit = info.unit_named(ln.unit)
        body: dict[str, Any] = {
            "item": {"id": info.id},
            "quantity": num(Decimal(ln.quantity)),
            "price": {"id": conv.CUSTOM_PRICE_LEVEL_ID},
            "rate": num(Decimal(ln.unit_price)),
        }
        if info.units and unit is not None and unit.id:
            body["units"] = unit.id
        if location:
            body["location"] = {"id": location}
        if ln.description:
            body["description"] = ln.description[:conv.MEMO_MAX]
        return body

    def _order_body(self, draft: ErpOrderDraft, customer: Mapping[str, Any], detail: Mapping[str, Any],
                    items: Mapping[str, ItemInfo], commit: bool) -> dict[str, Any] | Refusal:
        refusal = self._check_lines(draft.lines, items)
        if refusal is not None:
            return refusal
        location = self._default_location()
        body: dict[str, Any] = {
            "externalId": draft.purchase_id,
            "entity": {"id": str(customer["id"])},
            "tranDate": dt.date.today().isoformat(),
            "orderStatus": {"id": conv.ORDER_STATUS_PENDING_FULFILLMENT if commit
                            else conv.ORDER_STATUS_PENDING_APPROVAL},
            "location": {"id": location},
            "item": {"items": [self._line_body(ln, items[ln.sku], location) for ln in draft.lines]},
        }
        if draft.po_number:
            body["otherRefNum"] = draft.po_number
        if draft.description:
            body["memo"] = draft.description[:conv.MEMO_MAX]
        if customer.get("terms"):
            body["terms"] = {"id": str(customer["terms"])}
        if self.config.subsidiary:
            body["subsidiary"] = {"id": str(self.config.subsidiary)}
        if draft.shipping_amount:
            body[conv.SHIPPING_COST_FIELD] = num(Decimal(draft.shipping_amount))
        customer_currency = self._currency_code(detail.get("currency")) or self.currency
        if draft.currency.upper() != customer_currency.upper():
            currency_id = next(
                (ref_id(row.get("currency")) for row in sublist(detail, "currencyList")
                 if (self._currency_code(row.get("currency")) or "").upper() == draft.currency.upper()), None)
            if currency_id is None:
                return Refusal(RefusalReason.UNKNOWN_CURRENCY, f"order currency {draft.currency} is not set up for customer "
                                                    f"{draft.account_code} in NetSuite (customer currency "
                                                    f"{customer_currency})")
            body["currency"] = {"id": currency_id}
        return body

    def _ref_by_external_id(self, purchase_id: str) -> ErpOrderRef:
        record = self.http.get("salesOrder", f"eid:{purchase_id}", fields="tranId,status,orderStatus,externalId")
        if record is None or record.get("id") is None:
            raise ErpTechnicalError(f"NetSuite sales order eid:{purchase_id} is not readable right after writing it")
        letter = ref_id(record.get("status")) or ref_id(record.get("orderStatus")) or ""
        return ErpOrderRef(erp_id=int(record["id"]), number=record.get("tranId") or None, purchase_id=purchase_id,
                           state=order_state(letter.rsplit(":", 1)[-1], False))

    def _credit_refusal(self, err: NetSuiteApiError, customer: Mapping[str, Any] | None,
                        amount: Decimal) -> Refusal | None:
        """A credit refusal (recognised by code and text, see conventions), typed from the customer's own
        figures read fresh: NetSuite words a manual hold and an exceeded limit alike ("on credit hold").

        Manual hold (``creditHoldOverride`` ON) -> CREDIT_HOLD; else a credit limit this order reaches, or no
        overdue balance to blame -> CREDIT_LIMIT; else (overdue invoices past the grace days) -> CREDIT_HOLD."""
        kind = credit_refusal_kind(err)
        if kind is None:
            return None
        if customer is not None:
            detail = self.http.get("customer", str(customer["id"]), fields="creditHoldOverride") or {}
            limit = opt_dec(customer.get("creditlimit"))
            if (ref_id(detail.get("creditHoldOverride")) or "").upper() == conv.CREDIT_HOLD_OVERRIDE_ON:
                kind = "hold"
            elif limit is not None and (self._open_balance(customer) + amount >= limit
                                        or dec(customer.get("overduebalancesearch")) <= 0):
                kind = "limit"
            elif limit is None and kind == "limit":
                kind = "hold"
        if kind == "hold":
            return Refusal(RefusalReason.CREDIT_HOLD, f"customer is on credit hold: {err.detail}")
        return Refusal(RefusalReason.CREDIT_LIMIT, f"over the customer's credit limit: {err.detail}")

    def _put_order(self, draft: ErpOrderDraft, body: dict[str, Any], customer: Mapping[str, Any]) -> CreateResult:
        pid = draft.purchase_id
        amount = sum((Decimal(ln.quantity) * Decimal(ln.unit_price) for ln in draft.lines), Decimal(0))
        try:
            self.http.create("salesOrder", body)
        except NetSuiteApiError as err:
            if err.status >= 500 or err.status in (401, 403, 429):
                raise
            if is_duplicate(err):
                return CreateResult(purchase_id=pid, order=self._ref_by_external_id(pid), already_existed=True)
            refusal = self._credit_refusal(err, customer, amount)
            if refusal is None:
                return CreateResult(purchase_id=pid, refusal=Refusal(
                    RefusalReason.OTHER, f"NetSuite refused the order: {err.detail}"))
            if body["orderStatus"]["id"] == conv.ORDER_STATUS_PENDING_FULFILLMENT:
                pending = {**body, "orderStatus": {"id": conv.ORDER_STATUS_PENDING_APPROVAL}}
                try:
                    self.http.create("salesOrder", pending)
                except NetSuiteApiError as again:
                    if again.status >= 500 or again.status in (401, 403, 429):
                        raise
                    return CreateResult(purchase_id=pid, refusal=refusal)
                return CreateResult(purchase_id=pid, order=self._ref_by_external_id(pid), refusal=refusal)
            return CreateResult(purchase_id=pid, refusal=refusal)
        return CreateResult(purchase_id=pid, order=self._ref_by_external_id(pid))

    def _finish_existing(self, draft: ErpOrderDraft, ref: ErpOrderRef) -> CreateResult:
        """An order found for the purchase id. If it should be committed but is still pending (NetSuite's
        credit check kept it there), approval is tried again, so a re-run answers as the first run did."""
        if not (draft.commit and ref.state is ErpOrderState.PENDING_APPROVAL):
            return CreateResult(purchase_id=draft.purchase_id, order=ref, already_existed=True)
        approval = self.approve_order(ref.erp_id)
        if approval.ok:
            ref = dataclasses.replace(ref, state=ErpOrderState.COMMITTED)
        return CreateResult(purchase_id=draft.purchase_id, order=ref, refusal=approval.refusal, already_existed=True)

    def create_orders(self, drafts: Sequence[ErpOrderDraft]) -> list[CreateResult]:
        """Lookup-before-create, typed refusals without a write, then one ``POST`` (with ``externalId``) per new order on the
        worker pool. A purchase id repeated within the call gets the first occurrence's order."""
        first_of: dict[str, int] = {}
        for index, draft in enumerate(drafts):
            first_of.setdefault(draft.purchase_id, index)
        results: dict[int, CreateResult] = {}
        valid = [pid for pid in first_of if valid_external_id(pid)]
        for pid in first_of:
            if pid not in valid:
                results[first_of[pid]] = CreateResult(purchase_id=pid, refusal=Refusal(
                    RefusalReason.OTHER, f"purchase id {pid!r} cannot be a NetSuite external id"))
        existing = self.find_orders(valid)
        new = [first_of[pid] for pid in valid if pid not in existing]
        for pid in valid:
            if pid in existing:
                results[first_of[pid]] = self._finish_existing(drafts[first_of[pid]], existing[pid])
        customers = self._customer_rows(drafts[i].account_code for i in new) if new else {}
        items = self._items(ln.sku for i in new for ln in drafts[i].lines) if new else {}
        details = self._customer_details_for(str(c["id"]) for c in customers.values())
        bodies: dict[int, tuple[dict[str, Any], Mapping[str, Any]]] = {}
        for index in new:
            draft = drafts[index]
            customer = customers.get(draft.account_code)
            if customer is None or truthy(customer.get("isinactive")):
                results[index] = CreateResult(purchase_id=draft.purchase_id, refusal=Refusal(
                    RefusalReason.UNKNOWN_CUSTOMER, f"no active NetSuite customer {draft.account_code!r}"))
                continue
            body = self._order_body(draft, customer, details.get(str(customer["id"]), {}), items, draft.commit)
            if isinstance(body, Refusal):
                results[index] = CreateResult(purchase_id=draft.purchase_id, refusal=body)
            else:
                bodies[index] = (body, customer)
        # one customer's orders are written one after the other, in draft order, so NetSuite's credit check
        # sees each order the previous ones left (a batch cannot slip past a limit); customers in parallel
        by_customer: dict[str, list[int]] = defaultdict(list)
        for index in sorted(bodies):
            by_customer[drafts[index].account_code].append(index)
        written = self._parallel(
            lambda code: [(i, self._put_order(drafts[i], *bodies[i])) for i in by_customer[code]], by_customer)
        for pairs in written.values():
            results.update(pairs)
        out = []
        for index, draft in enumerate(drafts):
            first = first_of[draft.purchase_id]
            r = results[first]
            out.append(r if index == first else CreateResult(
                purchase_id=r.purchase_id, order=r.order, refusal=r.refusal, already_existed=r.order is not None))
        return out

    # ================================================================ approve, cancel, amend

    def _one_status(self, erp_id: int) -> ErpOrderStatus | None:
        found = self.order_status([int(erp_id)])
        return found[0] if found else None

    def approve_order(self, erp_id: int) -> ActionResult:
        """Pending Approval -> Pending Fulfillment (PATCH ``orderStatus`` B). Already committed or done: ok."""
        status = self._one_status(erp_id)
        if status is None:
            return _refused(RefusalReason.OTHER, f"no NetSuite sales order {erp_id}")
        if status.state in (ErpOrderState.COMMITTED, ErpOrderState.DONE):
            return ActionResult(ok=True, detail={"state": status.state.value, "already": True})
        if status.state is ErpOrderState.CANCELLED:
            return _refused(RefusalReason.ALREADY_CANCELLED, "the order is closed or cancelled in NetSuite")
        try:
            self.http.patch("salesOrder", int(erp_id),
                            {"orderStatus": {"id": conv.ORDER_STATUS_PENDING_FULFILLMENT}})
        except NetSuiteApiError as err:
            if err.status >= 500 or err.status in (401, 403, 429):
                raise
            customers = self._customer_rows([status.account_code]) if status.account_code else {}
            refusal = self._credit_refusal(err, customers.get(status.account_code), status.total)
            return ActionResult(ok=False, refusal=refusal or Refusal(
                RefusalReason.OTHER, f"NetSuite would not approve the order: {err.detail}"),
                detail={"state": ErpOrderState.PENDING_APPROVAL.value})
        return ActionResult(ok=True, detail={"state": ErpOrderState.COMMITTED.value})

    def _past_point_of_no_return(self, status: ErpOrderStatus) -> ActionResult | None:
        if status.point_of_no_return or status.state is ErpOrderState.DONE:
            return _refused(RefusalReason.POINT_OF_NO_RETURN,
                            "NetSuite has started fulfilling the order: the warehouse owns it now")
        return None

    def cancel_order(self, erp_id: int) -> ActionResult:
        """Close every open line (NetSuite then shows the order Closed) before the point of no return."""
        status = self._one_status(erp_id)
        if status is None:
            return _refused(RefusalReason.OTHER, f"no NetSuite sales order {erp_id}")
        if status.state is ErpOrderState.CANCELLED:
            return ActionResult(ok=True, detail={"already": True})
        past = self._past_point_of_no_return(status)
        if past is not None:
            return past
        if any(inv.state != "cancelled" for inv in status.invoices):
            return _refused(RefusalReason.INVALID_STATE, "the order is invoiced: cancelling needs a credit memo")
        record = self.http.get("salesOrder", int(erp_id), expandSubResources="true")
        if record is None:
            return _refused(RefusalReason.OTHER, f"no NetSuite sales order {erp_id}")
        lines = sublist(record, "item")
        if any(dec(ln.get("quantityFulfilled")) > 0 or dec(ln.get("quantityPicked")) > 0 for ln in lines):
            return _refused(RefusalReason.POINT_OF_NO_RETURN, "NetSuite has picked or shipped part of the order")
        open_lines = [{"line": ln["line"], "isClosed": True} for ln in lines
                      if ln.get("line") is not None and not truthy(ln.get("isClosed"))]
        if open_lines:
            try:
                self.http.patch("salesOrder", int(erp_id), {"item": {"items": open_lines}})
            except NetSuiteApiError as err:
                if err.status >= 500 or err.status in (401, 403, 429):
                    raise
                return _refused(RefusalReason.OTHER, f"NetSuite would not close the order: {err.detail}")
        after = self._one_status(erp_id)
        if after is None or after.state is not ErpOrderState.CANCELLED:
            raise ErpTechnicalError(f"sales order {erp_id}: every line was closed but it is not closed")
        return ActionResult(ok=True, detail={"procedure": "close_lines", "lines": len(open_lines)})

    def amend_order(self, erp_id: int, lines: Sequence[ErpOrderLine]) -> ActionResult:
        """Replace the item sublist (``PATCH ?replace=item``) before the point of no return; an approved
        order stays approved unless the account re-approves edits."""
        status = self._one_status(erp_id)
        if status is None:
            return _refused(RefusalReason.OTHER, f"no NetSuite sales order {erp_id}")
        if status.state is ErpOrderState.CANCELLED:
            return _refused(RefusalReason.ALREADY_CANCELLED, "the order is closed or cancelled in NetSuite")
        past = self._past_point_of_no_return(status)
        if past is not None:
            return past
        if any(inv.state != "cancelled" for inv in status.invoices):
            return _refused(RefusalReason.INVALID_STATE, "the order is invoiced: it cannot change")
        items = self._items(ln.sku for ln in lines)
        refusal = self._check_lines(lines, items)
        if refusal is not None:
            return ActionResult(ok=False, refusal=refusal)
        location = (self._location_of(status.warehouse_code) if status.warehouse_code else None) \
            or self._default_location()
        body = {"item": {"items": [self._line_body(ln, items[ln.sku], location) for ln in lines]}}
        try:
            self.http.patch("salesOrder", int(erp_id), body, replace="item")
        except NetSuiteApiError as err:
            if err.status >= 500 or err.status in (401, 403, 429):
                raise
            return _refused(RefusalReason.OTHER, f"NetSuite would not change the order: {err.detail}")
        return ActionResult(ok=True, detail={"lines": len(lines)})

    # ================================================================ payments

    def record_payment(self, erp_id: int, amount: Decimal, paid_on: dt.date, reference: str) -> ActionResult:
        """Settle the order's open invoice(s) with a payment taken at checkout, once.

        Each payment is ``POST invoice/{id}/!transform/customerPayment`` with ``externalId``
        ``SLPAY-<reference>`` (``-2``, ``-3`` … for a second and third invoice). Idempotent: a payment with
        that external id, or invoices paid in full, mean done. More than what is due is refused (no silent
        overpayment); less is a partial payment.
        """
        amount = Decimal(amount)
        external_id = payment_external_id(reference or f"order-{erp_id}")
        if self.http.get("customerPayment", f"eid:{external_id}", fields="tranId") is not None:
            return ActionResult(ok=True, detail={"already": True})
        status = self._one_status(erp_id)
        if status is None:
            return _refused(RefusalReason.OTHER, f"no NetSuite sales order {erp_id}")
        invoice_rows = self._chunked(q.invoices, [int(erp_id)])
        live = [r for r in invoice_rows if invoice_state(status_letter(r)) != "cancelled"]
        if not live:
            return _refused(RefusalReason.INVALID_STATE, "the order has no invoice yet (NetSuite bills on fulfilment)")
        open_rows = [r for r in live if invoice_state(status_letter(r)) == _OPEN_INVOICE]
        if not open_rows:
            return ActionResult(ok=True, detail={"already": True})
        if amount <= 0:
            return _refused(RefusalReason.OTHER, f"payment amount {amount}")
        dues = {str(r["id"]): self._amount_remaining(str(r["id"])) for r in open_rows}
        due = sum((d if d is not None else dec(r.get("foreignamountunpaid") or r.get("foreigntotal")))
                  for r, d in zip(open_rows, dues.values(), strict=True))
        if amount > due:
            return _refused(RefusalReason.OTHER, f"payment {amount} is more than the {due} due on the order")
        remaining = amount
        paid: list[str] = []
        for n, row in enumerate(open_rows):
            to_pay = min(remaining, dues[str(row["id"])] or dec(row.get("foreignamountunpaid")))
            if to_pay <= 0:
                continue
            xid = external_id if n == 0 else f"{external_id}-{n + 1}"[:300]
            body = {"externalId": xid, "payment": num(to_pay), "tranDate": paid_on.isoformat()}
            try:
                self.http.transform("invoice", str(row["id"]), "customerPayment", body)
            except NetSuiteApiError as err:
                if err.status >= 500 or err.status in (401, 403, 429):
                    raise
                if not is_duplicate(err):
                    return _refused(RefusalReason.OTHER, f"NetSuite refused the payment: {err.detail}")
            paid.append(str(row.get("tranid") or row["id"]))
            remaining -= to_pay
            if remaining <= 0:
                break
        return ActionResult(ok=True, detail={"invoices": paid, "unapplied": str(remaining)})
