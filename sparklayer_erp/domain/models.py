"""Plain data shapes shared by the ERP port, the SparkLayer client and the business rules.

Money is always ``Decimal``; quantities of whole units are ``int``; ERP quantities may be ``Decimal``
because ERPs store them that way (a case count is still checked to be whole before it is sent).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


class PaymentMethod(StrEnum):
    """SparkLayer purchase ``payment_method`` values (documented enum)."""

    ON_ACCOUNT = "on_account"
    INVOICE = "invoice"
    UPFRONT = "platform_upfront"


class OwnerTeam(StrEnum):
    FINANCE = "finance"
    SALES_OPERATIONS = "sales_operations"
    OPERATIONS = "operations"
    ECOMMERCE = "ecommerce"


class PriceListKind(StrEnum):
    LEVEL = "level"
    CONTRACT = "contract"


@dataclass(frozen=True)
class Address:
    name: str
    street: str
    city: str
    postal_code: str
    country_code: str


@dataclass(frozen=True)
class ErpCustomer:
    """A customer as the ERP (system of record) holds it."""

    account_code: str
    name: str
    email: str | None
    payment_terms: str | None  # e.g. "Net 30"
    payment_terms_days: int | None
    credit_limit: Decimal | None  # None = no limit configured
    open_balance: Decimal
    on_credit_hold: bool
    price_level: str | None  # code of a LEVEL price list
    contract_price_list: str | None  # code of a CONTRACT price list
    currency: str = "GBP"
    addresses: tuple[Address, ...] = ()
    active: bool = True


@dataclass(frozen=True)
class ErpPriceList:
    code: str
    name: str
    currency: str
    kind: PriceListKind
    customer_account_code: str | None = None  # set for contract lists


@dataclass(frozen=True)
class PriceEntry:
    """One price point: ``unit_price`` per *base* unit from ``min_quantity`` base units upwards."""

    price_list_code: str
    sku: str
    min_quantity: int
    unit_price: Decimal
    currency: str


@dataclass(frozen=True)
class SaleUnit:
    name: str
    factor: int  # base units per sale unit: a "case of 12" has factor 12


@dataclass(frozen=True)
class ErpItem:
    sku: str
    name: str
    base_unit: str
    sale_unit: SaleUnit  # the unit the ERP sells (and order lines are converted to)
    list_price: Decimal  # per base unit
    active: bool = True

    @property
    def pack_size(self) -> int:
        return self.sale_unit.factor


@dataclass(frozen=True)
class StockLevel:
    sku: str
    warehouse_code: str
    on_hand: Decimal
    reserved: Decimal  # committed to customer shipments (committed orders), not yet picked

    @property
    def free(self) -> Decimal:
        return self.on_hand - self.reserved


class ErpOrderState(StrEnum):
    PENDING_APPROVAL = "pending_approval"  # no ledger impact (Tryton: quotation)
    COMMITTED = "committed"  # confirmed / processing
    DONE = "done"  # shipped and invoiced/paid
    CANCELLED = "cancelled"
    DRAFT = "draft"


@dataclass(frozen=True)
class ErpOrderLine:
    sku: str
    quantity: Decimal  # in ``unit``
    unit: str  # ERP unit name, e.g. "Case of 12"
    unit_price: Decimal  # per ``unit``, before tax
    description: str = ""
    # Of ``quantity``, how much the ERP cancelled after the point of no return (the warehouse will not ship
    # it): the line stays on the ERP order, SparkLayer shows that part as cancelled.
    cancelled_quantity: Decimal = Decimal(0)


@dataclass(frozen=True)
class ErpOrderDraft:
    """What the integration asks the ERP to create for one SparkLayer purchase."""

    purchase_id: str  # SparkLayer purchase id (stored on the ERP order for lookup-before-create)
    account_code: str
    po_number: str | None
    payment_method: PaymentMethod
    lines: tuple[ErpOrderLine, ...]
    commit: bool  # False: pending approval (quotation); True: committed
    shipping_amount: Decimal = Decimal("0")
    currency: str = "GBP"
    description: str = ""


@dataclass(frozen=True)
class ErpOrderRef:
    erp_id: int
    number: str | None
    purchase_id: str
    state: ErpOrderState
    # The ERP's gross total, when the adapter read it together with the reference (a fresh create): the order
    # sync checks it against checkout without a second, full status read of every new order.
    total: Decimal | None = None


@dataclass(frozen=True)
class ShipmentLine:
    """What one shipment carries (or, before it leaves, is planned to carry) of one SKU, in the ERP's unit."""

    sku: str
    quantity: Decimal  # in ``unit``
    unit: str  # ERP unit name, e.g. "Case of 12"


@dataclass(frozen=True)
class Shipment:
    """One ERP delivery of an order; an order shipped in parts has several. ``shipment_id`` is the ERP's
    stable key for it (``number`` is what people read; either identifies its SparkLayer package)."""

    number: str | None
    state: str  # ERP's own word (waiting, assigned, picked, packed, done, cancelled)
    tracking_number: str | None = None
    carrier: str | None = None
    shipped_on: dt.date | None = None
    lines: tuple[ShipmentLine, ...] = ()
    shipment_id: str | None = None


@dataclass(frozen=True)
class Invoice:
    number: str | None
    state: str  # draft, posted, paid, cancelled
    total: Decimal
    amount_due: Decimal
    invoice_date: dt.date | None = None
    due_date: dt.date | None = None


@dataclass(frozen=True)
class Payment:
    invoice_number: str | None
    amount: Decimal
    paid_on: dt.date | None
    reference: str | None = None


@dataclass(frozen=True)
class CreditNote:
    """A credit note the ERP holds against an order's invoice (price dispute, return, refund, cancellation).

    ``total`` is positive: the amount credited to the customer. ``reference`` is the integration's key when
    it raised the note (a SparkLayer refund's id), or the ERP's own number otherwise. ``goods_returned``:
    the note is for goods that came back (operations), not only money (finance)."""

    number: str | None
    total: Decimal
    state: str  # draft, posted, paid, cancelled
    credit_date: dt.date | None = None
    reference: str | None = None
    reason: str = ""
    goods_returned: bool = False
    invoice_number: str | None = None  # the invoice it credits, when the ERP says
    lines: tuple[ErpOrderLine, ...] = ()  # what was credited, when by line (empty: an amount only)
    credit_note_id: str | None = None


@dataclass(frozen=True)
class CreditNoteRequest:
    """What the integration asks the ERP to credit on an order's invoice.

    Either ``lines`` (SKU and quantity in the ERP unit, credited at the invoiced price: goods) or ``amount``
    (gross, tax included, at the invoice's tax rate: money only). ``reference`` makes it idempotent: the ERP
    keeps it on the note, and a second request with it returns the first note."""

    reference: str
    reason: str
    amount: Decimal | None = None
    lines: tuple[ErpOrderLine, ...] = ()
    goods_returned: bool = False
    credit_date: dt.date | None = None


@dataclass(frozen=True)
class ErpOrderStatus:
    erp_id: int
    number: str | None
    purchase_id: str | None
    account_code: str
    po_number: str | None
    state: ErpOrderState
    point_of_no_return: bool  # stock allocated to a shipment (or beyond)
    total_untaxed: Decimal
    total_tax: Decimal
    total: Decimal
    order_date: dt.date | None = None
    lines: tuple[ErpOrderLine, ...] = ()
    shipments: tuple[Shipment, ...] = ()
    invoices: tuple[Invoice, ...] = ()
    payments: tuple[Payment, ...] = ()
    warehouse_code: str | None = None  # the ERP warehouse it ships from; None when the ERP does not say
    currency: str = "GBP"  # ISO code of the order's currency (its amounts above are in it)
    # The ERP's rate on the order date: company-currency units per one unit of ``currency`` (amount x rate =
    # company-currency amount; 1 when the order is in the company currency); None when the ERP has none.
    company_rate: Decimal | None = None
    credit_notes: tuple[CreditNote, ...] = ()  # against this order's invoices (not part of ``invoices``)


class RefusalReason(StrEnum):
    """Why the ERP said no, in business terms (a technical failure raises instead)."""

    CREDIT_LIMIT = "credit_limit"
    CREDIT_HOLD = "credit_hold"
    POINT_OF_NO_RETURN = "point_of_no_return"
    ALREADY_CANCELLED = "already_cancelled"
    UNKNOWN_SKU = "unknown_sku"
    UNKNOWN_CUSTOMER = "unknown_customer"
    UNKNOWN_CURRENCY = "unknown_currency"  # the ERP has no such currency, or no rate for it on the order date
    FRACTIONAL_QUANTITY = "fractional_quantity"
    INVALID_STATE = "invalid_state"
    OTHER = "other"


@dataclass(frozen=True)
class Refusal:
    reason: RefusalReason
    message: str


@dataclass(frozen=True)
class CreateResult:
    purchase_id: str
    order: ErpOrderRef | None = None
    refusal: Refusal | None = None
    already_existed: bool = False


@dataclass(frozen=True)
class ActionResult:
    """Outcome of approve / cancel / amend / record-payment: done, or refused with a typed reason."""

    ok: bool
    refusal: Refusal | None = None
    detail: dict = field(default_factory=dict)
