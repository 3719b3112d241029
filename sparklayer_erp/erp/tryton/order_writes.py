"""Order writes in Tryton: create, quote and confirm in chunks (credit-safe batching), approve, cancel
(also after commit, through Tryton's exception wizards) and amend.

The choices behind batch confirm, amending and cancelling are listed in ``adapter``'s module doc.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from sparklayer_erp.domain.models import (
    ActionResult,
    CreateResult,
    ErpOrderDraft,
    ErpOrderLine,
    ErpOrderState,
    Refusal,
    RefusalReason,
)
from sparklayer_erp.erp.port import ErpTechnicalError
from sparklayer_erp.erp.tryton import conventions as conv
from sparklayer_erp.erp.tryton.currencies import CurrencyReads
from sparklayer_erp.erp.tryton.errors import port_method
from sparklayer_erp.erp.tryton.mapping import (
    REF_FIELDS,
    STATE_FIELDS,
    credit_related,
    order_description,
    order_ref,
    order_state,
    plan_confirm,
    point_of_no_return,
    quantity_is_whole,
    rel,
    rels,
    to_decimal,
)
from sparklayer_erp.erp.tryton.rpc import TrytonRpc, TrytonUserError, TrytonUserWarning

# Orders per sale.sale create/quote/confirm call. Tryton on SQLite builds one SQL statement over every record
# of a call, and above ~100 sales SQLite fails with "parser stack overflow" (HTTP 503, nothing written).
CREATE_CHUNK = 50
_CANCELLABLE_SHIPMENT_STATES = frozenset({"draft", "waiting"})


class OrderWrites(CurrencyReads):
    """The port's order writes. A refusal Tryton gives for one order lands on that order, never on its batch."""

    # ================================================================ create, quote, confirm

    def _parties(self, codes: Iterable[str]) -> dict[str, dict[str, Any]]:
        codes = sorted({c for c in codes if c})
        if not codes:
            return {}
        rows = self.rpc.search_read(
            "party.party",
            [("code", "in", codes)],
            ["code", "customer_payment_term", "sale_price_list", "customer_currency", "addresses.invoice",
             "addresses.delivery"],
        )
        return {row["code"]: row for row in rows}

    def _products(self, skus: Iterable[str]) -> dict[str, dict[str, Any]]:
        skus = sorted({s for s in skus if s})
        if not skus:
            return {}
        rows = self.rpc.search_read(
            "product.product",
            [("code", "in", skus), ("salable", "=", True)],
            ["code", "name", "default_uom", "account_category.customer_taxes_used"],
        )
        return {row["code"]: row for row in rows}

    def _check_lines(
        self, lines: Sequence[ErpOrderLine], products: Mapping[str, dict[str, Any]]
    ) -> Refusal | None:
        """Refuse before any write: unknown SKUs, unknown or foreign units, non-whole quantities."""
        if not lines:
            return Refusal(RefusalReason.OTHER, "the order has no lines")
        unknown = sorted({ln.sku for ln in lines if ln.sku not in products})
        if unknown:
            return Refusal(RefusalReason.UNKNOWN_SKU, f"SKU(s) not sold in the ERP: {', '.join(unknown)}")
        uoms = self._uoms()
        for ln in lines:
            uom = uoms.get(ln.unit)
            if uom is None:
                return Refusal(RefusalReason.OTHER, f"unit {ln.unit!r} of {ln.sku} does not exist in the ERP")
            base = self._uom_by_id(products[ln.sku]["default_uom"])
            if uom["category"] != base["category"]:
                return Refusal(RefusalReason.OTHER, f"{ln.sku} cannot be sold in {ln.unit!r}")
            if ln.quantity <= 0:
                return Refusal(RefusalReason.OTHER, f"{ln.sku}: quantity must be positive, not {ln.quantity}")
            if not quantity_is_whole(Decimal(ln.quantity), to_decimal(uom.get("rounding"))):
                return Refusal(
                    RefusalReason.FRACTIONAL_QUANTITY,
                    f"{ln.sku}: {ln.quantity} {ln.unit} is not a whole number of {ln.unit}",
                )
        return None

    def _line_values(self, ln: ErpOrderLine, product: Mapping[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {
            "type": "line",
            "product": product["id"],
            "quantity": float(ln.quantity),
            "unit": self._uoms()[ln.unit]["id"],
            "unit_price": Decimal(ln.unit_price),
            "description": ln.description or product.get("name") or ln.sku,
        }
        # create does not fill taxes; the product's are its accounting category's
        taxes = list(rel(product, "account_category").get("customer_taxes_used") or [])
        if taxes:
            values["taxes"] = [["add", taxes]]
        return values

    def _sale_values(self, draft: ErpOrderDraft, party: Mapping[str, Any], products: Mapping) -> dict:
        addresses = rels(party, "addresses")
        invoice_address = next((a for a in addresses if a.get("invoice")), addresses[0])
        delivery_address = next((a for a in addresses if a.get("delivery")), addresses[0])
        lines = [self._line_values(ln, products[ln.sku]) for ln in draft.lines]
        if draft.shipping_amount:
            shipping: dict[str, Any] = {
                "type": "line", "quantity": 1.0, "unit_price": Decimal(draft.shipping_amount),
                "description": "Shipping",
            }
            if self._shipping_tax_ids():
                shipping["taxes"] = [["add", self._shipping_tax_ids()]]
            lines.append(shipping)
        values: dict[str, Any] = {
            "party": party["id"],
            "invoice_address": invoice_address["id"],
            "shipment_address": delivery_address["id"],
            "payment_term": party.get("customer_payment_term"),
            "price_list": party.get("sale_price_list"),
            # the order's currency; Tryton converts to the company currency at its rate of the sale date
            "currency": self._currency_id(draft.currency),
            conv.PO_NUMBER_FIELD: draft.po_number or None,
            "description": order_description(draft.description),
            conv.WEB_SHOP_FIELD: self._shop(),
            conv.PURCHASE_ID_FIELD: draft.purchase_id,
            "sale_date": dt.date.today(),
            "lines": [["create", lines]],
        }
        warehouse = self._warehouses().get(conv.DEFAULT_WAREHOUSE_CODE)
        if warehouse:
            values["warehouse"] = warehouse["id"]
        return values

    def _refuse_draft(
        self, draft: ErpOrderDraft, parties: Mapping[str, dict], products: Mapping[str, dict]
    ) -> Refusal | None:
        party = parties.get(draft.account_code)
        if party is None:
            return Refusal(RefusalReason.UNKNOWN_CUSTOMER, f"no active ERP customer {draft.account_code!r}")
        if not rels(party, "addresses"):
            return Refusal(RefusalReason.OTHER, f"customer {draft.account_code} has no address in the ERP")
        refusal = self._currency_refusal(draft.currency)
        if refusal is not None:
            return refusal
        buys_in = self._code_of(party["customer_currency"]) if party.get("customer_currency") else self.currency
        if draft.currency.upper() != buys_in:  # its ERP prices are in ``buys_in``: the price check compared those
            return Refusal(RefusalReason.OTHER, f"the order is in {draft.currency.upper()} but customer "
                                                f"{draft.account_code} buys in {buys_in} in the ERP")
        return self._check_lines(draft.lines, products)

    @port_method
    def create_orders(self, drafts: Sequence[ErpOrderDraft]) -> list[CreateResult]:
        """Lookup-before-create, typed refusals without an ERP write, then create, quote and confirm in
        batched calls of ``CREATE_CHUNK`` orders (any batch size is accepted).

        An existing order is returned with ``already_existed=True``; if it was left half-done by a crash it
        is finished (draft -> quote; commit requested and still a quotation -> confirm). A credit refusal on
        confirm leaves a quotation: the result carries the order (pending approval) AND the refusal.
        """
        results: dict[int, CreateResult] = {}
        first_of: dict[str, int] = {}
        for index, draft in enumerate(drafts):
            first_of.setdefault(draft.purchase_id, index)
        existing = self._rows_by_purchase_id(first_of, REF_FIELDS)

        parties = self._parties(d.account_code for d in drafts if d.purchase_id not in existing)
        products = self._products(ln.sku for d in drafts if d.purchase_id not in existing for ln in d.lines)

        sale_of: dict[int, int] = {}  # draft index -> sale id
        known: dict[int, dict[str, Any]] = {}  # sale id -> its state before we finish it
        reused: set[int] = set()
        to_create: list[tuple[int, dict[str, Any]]] = []
        for pid, index in first_of.items():
            draft = drafts[index]
            if pid in existing:
                sale_of[index] = int(existing[pid]["id"])
                known[sale_of[index]] = existing[pid]
                reused.add(index)
                continue
            refusal = self._refuse_draft(draft, parties, products)
            if refusal is not None:
                results[index] = CreateResult(purchase_id=pid, refusal=refusal)
            else:
                to_create.append((index, self._sale_values(draft, parties[draft.account_code], products)))

        created, create_refusals, raced = self._create(to_create, drafts)
        for sid in created.values():
            known[sid] = {"state": "draft"}
        sale_of.update(created)
        sale_of.update(raced)
        reused.update(raced)
        if raced:
            known.update(self._rows_by_id(list(raced.values()), REF_FIELDS))
        for index, refusal in create_refusals.items():
            results[index] = CreateResult(purchase_id=drafts[index].purchase_id, refusal=refusal)

        # finish: quote what is still a draft, confirm what must be committed
        to_quote = [sid for sid in sale_of.values() if known.get(sid, {}).get("state") == "draft"]
        failures: dict[int, Refusal] = {}
        for sid, err in self._each("quote", to_quote).items():
            failures[sid] = Refusal(RefusalReason.OTHER, f"the ERP would not quote the order: {err.message}")
        to_confirm = [
            sale_of[i] for i in sale_of
            if drafts[i].commit and sale_of[i] not in failures
            and known.get(sale_of[i], {}).get("state") in {"draft", "quotation"}
        ]
        failures.update(self._confirm(to_confirm))

        final = self._rows_by_id(list(sale_of.values()), (*REF_FIELDS, "total_amount"))
        for index, sid in sale_of.items():
            row = final.get(sid)
            if row is None:
                raise ErpTechnicalError(f"sale {sid} vanished right after it was created")
            results[index] = CreateResult(
                purchase_id=drafts[index].purchase_id,
                order=order_ref(row),
                refusal=failures.get(sid),
                already_existed=index in reused,
            )
        # a purchase id repeated within one call gets the first occurrence's order
        out = []
        for index, draft in enumerate(drafts):
            first = first_of[draft.purchase_id]
            if index == first:
                out.append(results[index])
            else:
                r = results[first]
                out.append(CreateResult(purchase_id=r.purchase_id, order=r.order, refusal=r.refusal,
                                        already_existed=r.order is not None))
        return out

    def _create(
        self, to_create: Sequence[tuple[int, dict[str, Any]]], drafts: Sequence[ErpOrderDraft]
    ) -> tuple[dict[int, int], dict[int, Refusal], dict[int, int]]:
        """``_create_chunk`` per ``CREATE_CHUNK`` orders (the constant says why), results merged."""
        created: dict[int, int] = {}
        refusals: dict[int, Refusal] = {}
        raced: dict[int, int] = {}
        for start in range(0, len(to_create), CREATE_CHUNK):
            chunk_created, chunk_refusals, chunk_raced = self._create_chunk(
                to_create[start:start + CREATE_CHUNK], drafts
            )
            created.update(chunk_created)
            refusals.update(chunk_refusals)
            raced.update(chunk_raced)
        return created, refusals, raced

    def _create_chunk(
        self, to_create: Sequence[tuple[int, dict[str, Any]]], drafts: Sequence[ErpOrderDraft]
    ) -> tuple[dict[int, int], dict[int, Refusal], dict[int, int]]:
        """One batched create; on a business error (typically another writer created one of these purchase
        ids meanwhile: the unique constraint fires and nothing was written) re-look-up, then create the
        rest one by one so a single bad order cannot block the others.

        Returns (created: index -> id, refusals: index -> Refusal, raced: index -> existing id).
        """
        if not to_create:
            return {}, {}, {}
        try:
            ids = self.rpc.model("sale.sale", "create", [values for _, values in to_create])
            return {index: int(sid) for (index, _), sid in zip(to_create, ids, strict=True)}, {}, {}
        except (TrytonUserError, TrytonUserWarning):
            pass
        created: dict[int, int] = {}
        refusals: dict[int, Refusal] = {}
        raced: dict[int, int] = {}
        found = self._rows_by_purchase_id((drafts[i].purchase_id for i, _ in to_create), ["id"])
        for index, values in to_create:
            pid = drafts[index].purchase_id
            if pid in found:
                raced[index] = int(found[pid]["id"])
                continue
            try:
                created[index] = int(self.rpc.model("sale.sale", "create", [values])[0])
            except (TrytonUserError, TrytonUserWarning) as err:
                again = self._rows_by_purchase_id([pid], ["id"])
                if pid in again:
                    raced[index] = int(again[pid]["id"])
                else:
                    refusals[index] = Refusal(RefusalReason.OTHER, f"the ERP refused the order: {err.message}")
        return created, refusals, raced

    def _each(self, method: str, ids: Sequence[int]) -> dict[int, TrytonUserError | TrytonUserWarning]:
        """``sale.sale.<method>`` on the ids, ``CREATE_CHUNK`` per call; if Tryton refuses a chunk (nothing
        of it is written), one call per id of that chunk so the refusal lands on the order that caused it."""
        errors: dict[int, TrytonUserError | TrytonUserWarning] = {}
        for start in range(0, len(ids), CREATE_CHUNK):
            errors.update(self._each_chunk(method, ids[start:start + CREATE_CHUNK]))
        return errors

    def _each_chunk(self, method: str, ids: Sequence[int]) -> dict[int, TrytonUserError | TrytonUserWarning]:
        if not ids:
            return {}
        try:
            self.rpc.model("sale.sale", method, list(ids))
            return {}
        except (TrytonUserError, TrytonUserWarning) as err:
            if len(ids) == 1:
                return {ids[0]: err}
        errors: dict[int, TrytonUserError | TrytonUserWarning] = {}
        for sid in ids:
            try:
                self.rpc.model("sale.sale", method, [sid])
            except (TrytonUserError, TrytonUserWarning) as err:
                errors[sid] = err
        return errors

    def _confirm(self, sale_ids: Sequence[int]) -> dict[int, Refusal]:
        """Confirm the orders that cannot breach a credit limit in one call, the others one by one."""
        if not sale_ids:
            return {}
        if len(sale_ids) == 1:  # nothing to plan: one order is one call either way
            safe, risky = [int(sale_ids[0])], []
        else:
            info = self._rows_by_id(
                sale_ids, ["party", "untaxed_amount", "party.credit_limit_amount", "party.credit_amount"]
            )
            safe, risky = plan_confirm([int(s) for s in sale_ids], info)
        errors = self._each("confirm", safe)
        for sid in risky:
            errors.update(self._each("confirm", [sid]))
        return self._classify_confirm_failures(errors)

    def _classify_confirm_failures(
        self, errors: Mapping[int, TrytonUserError | TrytonUserWarning]
    ) -> dict[int, Refusal]:
        """Credit refusals are recognised from the party's figures, not only the (translatable) text."""
        if not errors:
            return {}
        rows = self._rows_by_id(
            list(errors),
            ["untaxed_amount", "party.credit_limit_amount", "party.credit_amount", "party.categories.name"],
        )
        out = {}
        for sid, err in errors.items():
            party = rel(rows.get(sid), "party")
            limit = party.get("credit_limit_amount")
            on_hold = conv.CREDIT_HOLD_CATEGORY in {c.get("name") for c in rels(party, "categories")} or (
                limit is not None and limit == 0
            )
            exceeded = limit is not None and (
                to_decimal(party.get("credit_amount")) + to_decimal(rows.get(sid, {}).get("untaxed_amount"))
                > to_decimal(limit)
            )
            credit = exceeded or credit_related(err.message)
            if credit and on_hold:
                out[sid] = Refusal(RefusalReason.CREDIT_HOLD, f"customer is on credit hold: {err.message}")
            elif credit:
                out[sid] = Refusal(RefusalReason.CREDIT_LIMIT, err.message)
            else:
                out[sid] = Refusal(RefusalReason.OTHER, f"the ERP would not confirm the order: {err.message}")
        return out

    # ================================================================ approve, cancel, amend

    @port_method
    def approve_order(self, erp_id: int) -> ActionResult:
        """Confirm a pending-approval order. Already committed/done -> ok (idempotent)."""
        row = self._one(erp_id, STATE_FIELDS)
        if row is None:
            return ActionResult(ok=False, refusal=Refusal(RefusalReason.OTHER, f"no ERP order {erp_id}"))
        state = order_state(row)
        if state in {ErpOrderState.COMMITTED, ErpOrderState.DONE}:
            return ActionResult(ok=True, detail={"state": state.value, "already": True})
        if state == ErpOrderState.CANCELLED:
            return ActionResult(ok=False, refusal=Refusal(RefusalReason.ALREADY_CANCELLED, "the order is cancelled"))
        if state == ErpOrderState.DRAFT:
            error = self._each("quote", [int(erp_id)]).get(int(erp_id))
            if error is not None:
                return ActionResult(ok=False, refusal=Refusal(RefusalReason.OTHER, error.message))
        refusal = self._confirm([int(erp_id)]).get(int(erp_id))
        if refusal is not None:
            return ActionResult(ok=False, refusal=refusal, detail={"state": ErpOrderState.PENDING_APPROVAL.value})
        return ActionResult(ok=True, detail={"state": ErpOrderState.COMMITTED.value})

    @port_method
    def cancel_order(self, erp_id: int) -> ActionResult:
        """Draft/quotation -> ``sale.cancel``. Committed with nothing allocated -> cancel the draft/waiting
        shipments and the draft invoices, then ignore both in the exception wizards (Tryton ends the sale in
        ``done`` with nothing delivered, which this adapter reports as cancelled). Refuses, touching nothing,
        once stock is allocated or an invoice is posted."""
        row = self._one(erp_id, STATE_FIELDS)
        if row is None:
            return ActionResult(ok=False, refusal=Refusal(RefusalReason.OTHER, f"no ERP order {erp_id}"))
        state = order_state(row)
        if state == ErpOrderState.CANCELLED:
            return ActionResult(ok=True, detail={"already": True})
        if point_of_no_return(row):
            return ActionResult(ok=False, refusal=Refusal(
                RefusalReason.POINT_OF_NO_RETURN,
                "stock is already allocated to a shipment: the warehouse owns this order now",
            ))
        if state in {ErpOrderState.DRAFT, ErpOrderState.PENDING_APPROVAL}:
            error = self._each("cancel", [int(erp_id)]).get(int(erp_id))
            if error is not None:
                return ActionResult(ok=False, refusal=Refusal(RefusalReason.OTHER, error.message))
            return ActionResult(ok=True, detail={"procedure": "cancel"})
        if state == ErpOrderState.DONE:
            return ActionResult(ok=False, refusal=Refusal(RefusalReason.POINT_OF_NO_RETURN, "the order is done"))
        return self._cancel_committed(int(erp_id))

    def _cancel_committed(self, erp_id: int) -> ActionResult:
        detail = self._one(erp_id, ["shipments.state", "invoices.state"]) or {}
        shipments = [sh for sh in rels(detail, "shipments") if sh.get("state") != "cancelled"]
        invoices = [inv for inv in rels(detail, "invoices") if inv.get("state") != "cancelled"]
        if any(sh.get("state") not in _CANCELLABLE_SHIPMENT_STATES for sh in shipments):
            return ActionResult(ok=False, refusal=Refusal(
                RefusalReason.POINT_OF_NO_RETURN, "a shipment is already being fulfilled"
            ))
        booked = [int(inv["id"]) for inv in invoices if inv.get("state") != "draft"]
        if booked:  # invoiced: the invoice is cancelled through a credit note (or refused, saying why)
            refusal = self._credit_to_cancel(erp_id, booked)
            if refusal is not None:
                return ActionResult(ok=False, refusal=refusal)
            invoices = [inv for inv in invoices if inv.get("state") == "draft"]
        try:
            if shipments:
                self.rpc.model("stock.shipment.out", "cancel", [int(sh["id"]) for sh in shipments])
            if invoices:
                self.rpc.model("account.invoice", "cancel", [int(inv["id"]) for inv in invoices])
            self._ignore_exceptions(erp_id, "sale.handle.invoice.exception", "invoices")
            self._ignore_exceptions(erp_id, "sale.handle.shipment.exception", "moves")
        except (TrytonUserError, TrytonUserWarning) as err:
            return ActionResult(ok=False, refusal=Refusal(RefusalReason.OTHER, err.message))
        row = self._one(erp_id, STATE_FIELDS)
        if row is None or order_state(row) != ErpOrderState.CANCELLED:
            raise ErpTechnicalError(f"sale {erp_id}: cancel procedure ran but the order is not cancelled")
        return ActionResult(ok=True, detail={"procedure": "cancel_after_commit"})

    def _credit_to_cancel(self, erp_id: int, invoice_ids: Sequence[int]) -> Refusal | None:
        """Cancel booked invoices with a credit note (``credit_notes.CreditNotes``); without that part the
        order cannot be cancelled here."""
        return Refusal(RefusalReason.INVALID_STATE, "the invoice is already posted: cancelling needs a credit "
                                                    "note (finance)")

    def _ignore_exceptions(self, erp_id: int, wizard: str, kind: str) -> None:
        """Run a sale exception wizard telling Tryton to ignore (not recreate) every cancelled record."""
        with self.rpc.wizard(wizard, "sale.sale", [erp_id]) as session:
            ask = session.execute("ask", {})
            domain = TrytonRpc.view_defaults(ask).get(f"domain_{kind}") or []
            if not domain:
                return
            session.execute("handle", {"ask": {
                f"recreate_{kind}": [], f"ignore_{kind}": list(domain), f"domain_{kind}": list(domain),
            }})

    @port_method
    def amend_order(self, erp_id: int, lines: Sequence[ErpOrderLine]) -> ActionResult:
        """Replace the lines of a draft or quotation (quotation -> draft -> write -> quote).

        Committed orders are refused with INVALID_STATE (Tryton cannot reopen a processing sale; see
        ``adapter``'s module doc), allocated ones with POINT_OF_NO_RETURN.
        """
        row = self._one(erp_id, STATE_FIELDS + ("lines",))
        if row is None:
            return ActionResult(ok=False, refusal=Refusal(RefusalReason.OTHER, f"no ERP order {erp_id}"))
        state = order_state(row)
        if point_of_no_return(row) or state == ErpOrderState.DONE:
            return ActionResult(ok=False, refusal=Refusal(
                RefusalReason.POINT_OF_NO_RETURN, "stock is already allocated: the order cannot change"
            ))
        if state == ErpOrderState.CANCELLED:
            return ActionResult(ok=False, refusal=Refusal(RefusalReason.ALREADY_CANCELLED, "the order is cancelled"))
        if state == ErpOrderState.COMMITTED:
            return ActionResult(ok=False, refusal=Refusal(
                RefusalReason.INVALID_STATE,
                "the order is committed: Tryton cannot reopen it; cancel and re-order instead",
            ))
        products = self._products(ln.sku for ln in lines)
        refusal = self._check_lines(lines, products)
        if refusal is not None:
            return ActionResult(ok=False, refusal=refusal)
        new_lines = [self._line_values(ln, products[ln.sku]) for ln in lines]
        old_lines = [int(i) for i in row.get("lines") or []]
        try:
            if state == ErpOrderState.PENDING_APPROVAL:
                self.rpc.model("sale.sale", "draft", [int(erp_id)])
            self.rpc.model("sale.sale", "write", [int(erp_id)], {
                "lines": [["delete", old_lines], ["create", new_lines]],
            })
            if state == ErpOrderState.PENDING_APPROVAL:
                self.rpc.model("sale.sale", "quote", [int(erp_id)])
        except (TrytonUserError, TrytonUserWarning) as err:
            return ActionResult(ok=False, refusal=Refusal(RefusalReason.OTHER, err.message))
        return ActionResult(ok=True, detail={"lines": len(new_lines)})

