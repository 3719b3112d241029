"""The catalogue of month-end reconciliation classes: what each means, who owns it, whether it blocks the close.

Why one table: the reconciliation, the close-ready check, the finance pack and the operating guide all read
it, so a class is declared once with its owner team (like ``exception_kinds``) and cannot drift between them.
An order gets the *first* class in this table whose condition holds (``reconciliation._classify``), so the
table's order is the precedence: specific causes before generic ones, problems before normal states.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from sparklayer_erp.domain.models import OwnerTeam


class ReconClass(StrEnum):
    CANCELLED_IN_BOTH = "cancelled_in_both"
    CANCELLED_BEFORE_ERP = "cancelled_before_erp"
    CANCELLED_BY_CREDIT_NOTE = "cancelled_by_credit_note"
    REFUNDED_IN_SHOP_NO_CREDIT_NOTE = "refunded_in_shop_no_credit_note"
    CREDIT_NOTE_NOT_IN_SHOP = "credit_note_not_in_shop"
    CANCELLED_IN_SPARKLAYER_ONLY = "cancelled_in_sparklayer_only"
    CURRENCY_UNKNOWN_TO_ERP = "currency_unknown_to_erp"
    MISSING_IN_ERP = "missing_in_erp"
    CANCELLED_IN_ERP_ONLY = "cancelled_in_erp_only"
    DUPLICATE_IN_ERP = "duplicate_in_erp"
    CURRENCY_MISMATCH = "currency_mismatch"
    SPARKLAYER_LINES_DISAGREE = "sparklayer_lines_disagree"
    CUSTOMER_MISMATCH = "customer_mismatch"
    AMOUNT_MISMATCH = "amount_mismatch"
    MISSING_CURRENCY_RATE = "missing_currency_rate"
    RATE_DIFFERENCE_OUTSIDE_TOLERANCE = "rate_difference_outside_tolerance"
    PENDING_APPROVAL = "pending_approval"
    PART_SHIPPED_INVOICE_DIFFERS = "part_shipped_invoice_differs"
    PAID_IN_SHOP_UNPAID_IN_ERP = "paid_in_shop_unpaid_in_erp"
    RATE_DIFFERENCE_WITHIN_TOLERANCE = "rate_difference_within_tolerance"
    PART_SHIPPED_INVOICED_SHIPPED_PART = "part_shipped_invoiced_shipped_part"
    COMMITTED_NOT_INVOICED = "committed_not_invoiced"
    SETTLED = "settled"
    OVERDUE = "overdue"
    INVOICED_OPEN_WITHIN_TERMS = "invoiced_open_within_terms"
    # Not a SparkLayer order: an ERP order of the month carrying a purchase id SparkLayer does not know.
    ERP_ORDER_CLAIMING_UNKNOWN_PURCHASE = "erp_order_claiming_unknown_purchase"


@dataclass(frozen=True)
class ClassRule:
    explained: bool  # True: normal state of business, does not block the close
    owner: OwnerTeam
    meaning: str
    action: str

    @property
    def blocks_close(self) -> bool:
        return not self.explained


_F, _SO, _OP, _EC = OwnerTeam.FINANCE, OwnerTeam.SALES_OPERATIONS, OwnerTeam.OPERATIONS, OwnerTeam.ECOMMERCE

# Order = precedence. "Explained" means both systems agree and the state is a normal one; overdue debt is
# explained on purpose: the books agree, chasing it is credit control's job, not a reason to hold the close.
RECON_CLASSES: Mapping[ReconClass, ClassRule] = MappingProxyType({
    ReconClass.CANCELLED_IN_BOTH: ClassRule(
        True, _F, "Cancelled in SparkLayer and in the ERP.", "Nothing."),
    ReconClass.CANCELLED_BEFORE_ERP: ClassRule(
        True, _F, "Cancelled in SparkLayer before it reached the ERP.", "Nothing."),
    ReconClass.CANCELLED_BY_CREDIT_NOTE: ClassRule(
        True, _F, "Cancelled in SparkLayer after it was invoiced; the ERP credited the whole invoice and the "
        "shop shows the same refund.", "Nothing."),
    ReconClass.REFUNDED_IN_SHOP_NO_CREDIT_NOTE: ClassRule(
        False, _F, "SparkLayer shows more refunded than the ERP has credited (no credit note, or a smaller one).",
        "Raise the credit note against the order's invoice in the ERP, or reverse the refund in the shop if it "
        "was recorded by mistake."),
    ReconClass.CREDIT_NOTE_NOT_IN_SHOP: ClassRule(
        False, _F, "The ERP credited more than SparkLayer shows refunded (a credit note that did not reach the "
        "shop).", "Check the credit note; the integration records it in the shop as a refund at its next run. "
        "If it stays, record the refund on the SparkLayer order."),
    ReconClass.CANCELLED_IN_SPARKLAYER_ONLY: ClassRule(
        False, _OP, "Cancelled in SparkLayer but still live in the ERP (usually past the point of no return).",
        "Cancel or return it in the ERP, or tell the customer it was shipped and reopen it in SparkLayer."),
    ReconClass.CURRENCY_UNKNOWN_TO_ERP: ClassRule(
        False, _F, "The order is in a currency the ERP does not know, so it cannot be booked there.",
        "Add the currency (and its rates) in the ERP, or agree another currency with the customer; the sync "
        "then creates the ERP order."),
    ReconClass.MISSING_IN_ERP: ClassRule(
        False, _OP, "A live SparkLayer order with no ERP order.",
        "Open the order's exception (missing customer code, unknown SKU, ...), fix the cause; the sync then "
        "creates the ERP order."),
    ReconClass.CANCELLED_IN_ERP_ONLY: ClassRule(
        False, _OP, "Cancelled in the ERP but still open in SparkLayer.",
        "Confirm the cancellation with the customer; the status sync then shows it cancelled in SparkLayer."),
    ReconClass.DUPLICATE_IN_ERP: ClassRule(
        False, _F, "More than one live ERP order carries this SparkLayer order.",
        "Cancel the duplicate ERP order (and credit its invoice if one was raised)."),
    ReconClass.CURRENCY_MISMATCH: ClassRule(
        False, _F, "The ERP order is in a different currency from the SparkLayer order.",
        "Correct the ERP order's currency (credit and re-invoice if it was invoiced)."),
    ReconClass.SPARKLAYER_LINES_DISAGREE: ClassRule(
        False, _EC, "SparkLayer's lines plus shipping do not add up to its own order total.",
        "Check the order in SparkLayer / the store; the ERP was given the lines."),
    ReconClass.CUSTOMER_MISMATCH: ClassRule(
        False, _SO, "The ERP order is booked to a different customer account than SparkLayer's mapping.",
        "Move the ERP order to the right account and correct the customer mapping."),
    ReconClass.AMOUNT_MISMATCH: ClassRule(
        False, _F, "SparkLayer and ERP totals differ by more than the tolerance (or the ERP invoiced more "
        "than its order).", "Compare lines and prices; correct the ERP order or raise a credit note."),
    ReconClass.MISSING_CURRENCY_RATE: ClassRule(
        False, _F, "A foreign-currency order without the ERP's exchange rate, so it has no value in the "
        "company's currency.", "Enter the currency's rate for the order date in the ERP."),
    ReconClass.RATE_DIFFERENCE_OUTSIDE_TOLERANCE: ClassRule(
        False, _F, "The ERP's exchange rate for the order differs from the rate the order was priced at by "
        "more than the tolerance.", "Check the rate in the ERP for the order date (a mistyped rate?) and the "
        "price list's rate; correct the wrong one."),
    ReconClass.PENDING_APPROVAL: ClassRule(
        True, _F, "Waiting for credit approval in the ERP; no ledger impact yet.",
        "Approve or refuse it in the ERP (credit control)."),
    ReconClass.PART_SHIPPED_INVOICE_DIFFERS: ClassRule(
        False, _F, "Part-shipped, and what the ERP invoiced is not the value of what has shipped.",
        "Compare the invoice with the shipped lines; credit the difference or invoice the shipped part."),
    ReconClass.PAID_IN_SHOP_UNPAID_IN_ERP: ClassRule(
        False, _F, "The customer paid in the shop but the ERP invoice is still open.",
        "Record the shop payment against the invoice in the ERP."),
    ReconClass.RATE_DIFFERENCE_WITHIN_TOLERANCE: ClassRule(
        True, _F, "The ERP's exchange rate differs slightly (within the tolerance) from the rate the order was "
        "priced at: an ordinary exchange difference.", "Nothing; it is booked as an exchange difference."),
    ReconClass.PART_SHIPPED_INVOICED_SHIPPED_PART: ClassRule(
        True, _OP, "Part-shipped and invoiced for exactly the shipped part; the rest follows when it ships.",
        "Nothing; the rest is invoiced when it ships."),
    ReconClass.COMMITTED_NOT_INVOICED: ClassRule(
        True, _OP, "Confirmed in the ERP, not (fully) invoiced yet: normal while it ships.",
        "Nothing; it is invoiced when it ships."),
    ReconClass.SETTLED: ClassRule(
        True, _F, "Invoiced in full and paid.", "Nothing."),
    ReconClass.OVERDUE: ClassRule(
        True, _F, "Invoiced, past its due date and not fully paid (both systems agree).",
        "Chase the customer (credit control)."),
    ReconClass.INVOICED_OPEN_WITHIN_TERMS: ClassRule(
        True, _F, "Invoiced, not yet due.", "Nothing until the due date."),
    ReconClass.ERP_ORDER_CLAIMING_UNKNOWN_PURCHASE: ClassRule(
        False, _OP, "A live ERP order of the month carries a SparkLayer purchase id SparkLayer does not know.",
        "Find where it came from (keyed by hand? copied?); correct the reference or cancel it."),
})

BLOCKING_CLASSES = frozenset(c for c, r in RECON_CLASSES.items() if not r.explained)
# Classes an order of the month can get (the last table row is about ERP orders, not SparkLayer orders).
CLASS_ORDER: tuple[ReconClass, ...] = tuple(c for c in RECON_CLASSES
                                            if c is not ReconClass.ERP_ORDER_CLAIMING_UNKNOWN_PURCHASE)
