"""The ERP port: everything the integration asks of any ERP, in business terms.

An adapter for another ERP (NetSuite, Business Central, Odoo, …) implements this Protocol and passes the
same contract tests; nothing else in the project changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol, runtime_checkable

from sparklayer_erp.domain.models import (
    ActionResult,
    CreateResult,
    CreditNoteRequest,
    ErpCustomer,
    ErpItem,
    ErpOrderDraft,
    ErpOrderLine,
    ErpOrderRef,
    ErpOrderStatus,
    ErpPriceList,
    PriceEntry,
    StockLevel,
)


class ErpTechnicalError(Exception):
    """The ERP could not be reached or answered something we do not understand; retry later."""


@runtime_checkable
class ErpPort(Protocol):
    # --- master data (ERP is the system of record) -------------------------------------------
    def list_customers(self) -> list[ErpCustomer]: ...

    def list_price_lists(self) -> list[ErpPriceList]: ...

    def list_prices(self, quantity_breaks: Sequence[int] = (1,)) -> list[PriceEntry]:
        """Price per base unit for every (list, SKU) at each break (in base units)."""
        ...

    def customer_price(self, account_code: str, sku: str, quantity: Decimal, unit: str) -> Decimal:
        """The ERP's price per ``unit`` for this customer at this quantity (in ``unit``)."""
        ...

    def customer_prices(
        self, requests: Sequence[tuple[str, str, Decimal, str]]
    ) -> dict[tuple[str, str, Decimal, str], Decimal | None]:
        """``customer_price`` for many (account code, SKU, quantity, unit) at once — the order sync checks a
        whole batch's prices in a few reads. Unknown customer, SKU or unit, or no price: ``None``."""
        ...

    def list_items(self, skus: Sequence[str] | None = None) -> list[ErpItem]:
        """Salable items; ``skus``: only these (the order sync reads its batch's), unknown ones left out."""
        ...

    def list_stock(self) -> list[StockLevel]: ...

    def default_warehouse_code(self) -> str:
        """The warehouse new orders ship from when nothing else says (stock held by a pending order counts
        there when the ERP order names no warehouse)."""
        ...

    # --- orders --------------------------------------------------------------------------------
    def find_orders(self, purchase_ids: Sequence[str]) -> dict[str, ErpOrderRef]:
        """ERP orders that carry these SparkLayer purchase ids (lookup-before-create)."""
        ...

    def create_orders(self, drafts: Sequence[ErpOrderDraft]) -> list[CreateResult]:
        """Create in batch; an order whose purchase id already exists is returned, not duplicated."""
        ...

    def approve_order(self, erp_id: int) -> ActionResult:
        """Commit a pending-approval order; a credit refusal is a typed ``Refusal``."""
        ...

    def cancel_order(self, erp_id: int) -> ActionResult:
        """Cancel; refused with ``POINT_OF_NO_RETURN`` once stock is allocated."""
        ...

    def amend_order(self, erp_id: int, lines: Sequence[ErpOrderLine]) -> ActionResult:
        """Replace the order lines; refused once the point of no return is reached."""
        ...

    def order_status(self, erp_ids: Sequence[int]) -> list[ErpOrderStatus]: ...

    def record_payment(self, erp_id: int, amount: Decimal, paid_on: dt.date, reference: str) -> ActionResult:
        """Settle the order's invoice with a payment taken elsewhere (card at checkout)."""
        ...

    def list_orders_between(self, start: dt.date, end: dt.date) -> list[ErpOrderStatus]:
        """Orders dated in [start, end) with shipments, invoices and payments, for reconciliation."""
        ...


@runtime_checkable
class ErpCreditNotes(Protocol):
    """Credit notes against an order's invoice — an adapter that supports them implements this beside
    ``ErpPort`` (the refund flow checks for it and reports an ERP without it instead of failing). Credit
    notes the ERP holds are read with the order: ``ErpOrderStatus.credit_notes``."""

    def create_credit_note(self, erp_id: int, request: CreditNoteRequest) -> ActionResult:
        """Credit the order's posted invoice by ``request.lines`` or ``request.amount``, and post the note.

        Idempotent by ``request.reference``: a note already carrying it is returned (``detail["already"]``),
        never a second one. ``detail["number"]`` is the note's number. No posted invoice, or more than the
        invoice still holds, is a ``Refusal`` (``INVALID_STATE`` / ``OTHER``)."""
        ...

    def orders_with_credit_notes_since(self, since: dt.date) -> list[int]:
        """ERP order ids with a credit note dated ``since`` or later (so a note raised after an order ended
        still reaches SparkLayer)."""
        ...
