"""The catalogue of exceptions: every problem the integration can raise, who owns it and what they should do.

Why a catalogue: a problem nobody owns is a problem nobody fixes. Each kind names one team, says in plain
words what happened (for finance and operations people, not engineers) and what to do about it, so the
Dagster UI, the SparkLayer sync log and alerts all show the same text. Code never writes free-form
messages: it calls ``problem(kind, entity_type, entity_id, **facts)`` and the template fills in the facts.

Most problems resolve themselves: the integration retries every run and closes the exception once the cause
is gone. The "what to do" text says so where it is true, because the most expensive mistake is a person
re-keying a held order into the ERP by hand and creating a duplicate.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from sparklayer_erp.domain.models import OwnerTeam
from sparklayer_erp.domain.money import MoneyError, format_amount, to_plain


class Entity(StrEnum):
    """What a problem is about; with the entity id and kind it identifies one open exception."""

    ORDER = "order"  # a SparkLayer purchase id
    ERP_ORDER = "erp_order"  # an ERP sales order number
    CUSTOMER = "customer"  # an ERP account code or SparkLayer customer id
    SKU = "sku"
    PRICE_LIST = "price_list"
    DATASET = "dataset"  # a whole sync: customers, prices, items, stock, orders


class Flow(StrEnum):
    """The flow that raises (and resolves) a kind of exception: where to look in the code and in Dagster."""

    ORDERS = "orders"
    MASTER_DATA = "masterdata"
    MONITORING = "monitoring"


@dataclass(frozen=True)
class ExceptionKind:
    code: str
    owner: OwnerTeam
    entity_type: Entity  # the usual entity; ``problem`` accepts another when it fits better
    title: str
    message: str  # str.format template over ``facts``
    action: str  # what to do, for the owner team; also a template
    flow: Flow  # the flow that raises it
    facts: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        names = [n for text in (self.message, self.action) for _, n, _, _ in string.Formatter().parse(text) if n]
        object.__setattr__(self, "facts", tuple(dict.fromkeys(names)))


@dataclass(frozen=True)
class Problem:
    """One occurrence of a kind, with its text filled in; ``detail`` is JSON-ready plain data."""

    kind: str
    owner_team: OwnerTeam
    entity_type: str
    entity_id: str
    message: str
    action: str
    detail: dict = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str]:
        """Identity of the open exception this occurrence counts towards."""
        return (self.kind, self.entity_type, self.entity_id)


_NO_DUPLICATE = "Do not enter the order in the ERP by hand: the integration would then create it a second time."

_KINDS: tuple[ExceptionKind, ...] = (
    # --- orders, SparkLayer → ERP -------------------------------------------------------------------
    ExceptionKind(
        "missing_customer_link", OwnerTeam.SALES_OPERATIONS, Entity.ORDER,
        "Order from a customer with no ERP account",
        "Order {order} was placed by SparkLayer customer {customer}, who is not linked to an ERP customer "
        "account. The order is held: nothing was sent to the ERP, and the integration never guesses an account.",
        "Find the customer's account in the ERP (or open one) and give it the buyer's SparkLayer login e-mail: "
        "the next customer sync links them (runbooks, 'Linking a customer'). The held order goes to the ERP by itself at the next sync. " + _NO_DUPLICATE,
        flow=Flow.ORDERS,
    ),
    ExceptionKind(
        "unknown_sku", OwnerTeam.ECOMMERCE, Entity.ORDER,
        "Order contains products the ERP does not sell",
        "Order {order} contains products that are unknown or inactive in the ERP: {skus}. The order is held.",
        "Check that the product code (SKU) in the shop is exactly the ERP item code, and ask operations whether "
        "the item should be active in the ERP. Once every product is known the order goes through by itself; if "
        "the product cannot be sold, agree a change with the buyer and amend or cancel the order in SparkLayer.",
        flow=Flow.ORDERS,
    ),
    ExceptionKind(
        "not_whole_pack", OwnerTeam.ECOMMERCE, Entity.ORDER,
        "Order quantity is not a whole number of packs",
        "Order {order} asks for quantities the ERP cannot sell, because the products are sold in packs: {lines}. "
        "The order is held.",
        "The shop's quantity rule (pack size) for these products is missing or differs from the ERP's. Set the "
        "pack size in SparkLayer to the ERP's, then agree the quantity with the buyer and amend or cancel the "
        "order in SparkLayer. The amended order goes through by itself.",
        flow=Flow.ORDERS,
    ),
    ExceptionKind(
        "price_mismatch", OwnerTeam.FINANCE, Entity.ORDER,
        "Order price differs from the ERP price",
        "Order {order} for account {account_code} has prices that differ from the ERP's price for that "
        "customer: {lines}. The order is held until finance decides.",
        "Decide which price is right. If the ERP price is wrong, correct it in the ERP; if the buyer's price must "
        "be honoured, record it in the ERP as a contract price for this customer. The order goes through by "
        "itself once the prices agree. " + _NO_DUPLICATE,
        flow=Flow.ORDERS,
    ),
    ExceptionKind(
        "unknown_currency", OwnerTeam.FINANCE, Entity.ORDER,
        "Order in a currency the ERP does not book",
        "Order {order} is in {currency}, which the ERP cannot book: {reason}. The order is held; nothing was "
        "sent to the ERP.",
        "Decide whether the business sells in {currency}. If it does, add the currency and its exchange rate to "
        "the ERP (and give the customer that sale currency): the order then goes through by itself at the next "
        "sync. If not, correct the customer's price list currency in SparkLayer and agree with the buyer to "
        "cancel and re-order in a currency the ERP books. " + _NO_DUPLICATE,
        flow=Flow.ORDERS,
    ),
    ExceptionKind(
        "credit_hold", OwnerTeam.FINANCE, Entity.ORDER,
        "Pay-on-account order waiting: account on credit hold",
        "Order {order} for account {account_code} cannot be approved because the account is on credit hold in "
        "the ERP. Nothing has been invoiced.",
        "Review the account. Either release the credit hold in the ERP (the order then goes through at the next "
        "check), or cancel the order in SparkLayer and tell the buyer. Where the ERP shows the order waiting for "
        "approval, you can also approve it yourself there; where it does not (an ERP that refuses such orders "
        "outright), the integration holds it and enters it once the hold is released.",
        flow=Flow.ORDERS,
    ),
    ExceptionKind(
        "over_credit_limit", OwnerTeam.FINANCE, Entity.ORDER,
        "Pay-on-account order waiting: credit limit exceeded",
        "Order {order} for account {account_code} cannot be approved: the open balance {open_balance} plus "
        "this order {order_total} is over the credit limit {credit_limit} by {excess}. Nothing has been "
        "invoiced.",
        "Either raise the credit limit in the ERP or wait for a payment to bring the balance down (the order then "
        "goes through at the next check), or cancel the order in SparkLayer and tell the buyer. Where the ERP "
        "shows the order waiting for approval, you can also approve it yourself there; where it does not (an ERP "
        "that refuses such orders outright), the integration holds it and enters it once there is room.",
        flow=Flow.ORDERS,
    ),
    ExceptionKind(
        "cancel_after_point_of_no_return", OwnerTeam.OPERATIONS, Entity.ORDER,
        "Buyer cancelled an order the warehouse is already fulfilling",
        "Order {order} was cancelled in SparkLayer, but ERP order {erp_order} already has stock allocated for "
        "shipping, so the integration did not cancel it. The buyer sees the ERP's status.",
        "Check with the warehouse whether the shipment can still be stopped. If so, cancel ERP order {erp_order} "
        "in the ERP; if not, contact the buyer (a return or credit note may follow). This closes by itself once "
        "the ERP order is cancelled or completed.",
        flow=Flow.ORDERS,
    ),
    ExceptionKind(
        "amend_after_point_of_no_return", OwnerTeam.OPERATIONS, Entity.ORDER,
        "Buyer changed an order the warehouse is already fulfilling",
        "Order {order} was changed in SparkLayer, but ERP order {erp_order} already has stock allocated for "
        "shipping, so the change was not applied. The ERP order ships as it stands.",
        "Agree with the buyer what happens: ship as is, change ERP order {erp_order} by hand in the ERP, or "
        "raise a separate order for the difference. This closes by itself once the ERP order is completed or "
        "cancelled.",
        flow=Flow.ORDERS,
    ),
    ExceptionKind(
        "total_mismatch", OwnerTeam.FINANCE, Entity.ORDER,
        "ERP total would differ from the shop total",
        "Order {order}: the ERP would total {currency} {erp_total} but the buyer's order in SparkLayer totals "
        "{currency} {sparklayer_total} (difference {difference}). The order is held so that the invoice cannot "
        "disagree with what the buyer agreed.",
        "Compare the order in SparkLayer with the ERP price, tax and shipping for this customer (the detail lists "
        "both sets of totals). Correct the ERP or agree an amended order with the buyer; the order goes through "
        "by itself once the totals agree. " + _NO_DUPLICATE,
        flow=Flow.ORDERS,
    ),
    ExceptionKind(
        "invalid_order", OwnerTeam.ECOMMERCE, Entity.ORDER,
        "Order data is incomplete or invalid",
        "Order {order} cannot be sent to the ERP: {reason}. The order is held.",
        "Check the order in SparkLayer and the shop settings that produced it. Fix the cause, then amend the order "
        "in SparkLayer (or cancel it and ask the buyer to order again).",
        flow=Flow.ORDERS,
    ),
    ExceptionKind(
        "erp_refused", OwnerTeam.OPERATIONS, Entity.ORDER,
        "The ERP refused the order",
        "The ERP refused order {order}: {reason}.",
        "Read the ERP's reason, correct the cause in the ERP (customer, item or order settings). The integration "
        "tries again at the next sync and closes this by itself once the ERP accepts. " + _NO_DUPLICATE,
        flow=Flow.ORDERS,
    ),
    # --- master data, ERP → SparkLayer (rows kept out of SparkLayer until fixed at the source) ---------------
    ExceptionKind(
        "customer_invalid", OwnerTeam.SALES_OPERATIONS, Entity.CUSTOMER,
        "Customer record cannot be sent to SparkLayer",
        "ERP customer {customer} was not sent to SparkLayer: {reason}.",
        "Correct the customer record in the ERP. It is sent to SparkLayer at the next sync and this closes by "
        "itself.",
        flow=Flow.MASTER_DATA,
    ),
    ExceptionKind(
        "price_invalid", OwnerTeam.FINANCE, Entity.PRICE_LIST,
        "Price cannot be sent to SparkLayer",
        "The price of {sku} in ERP price list {price_list} was not sent to SparkLayer: {reason}. Buyers keep "
        "seeing the last good price.",
        "Correct the price in the ERP price list. It is sent at the next sync and this closes by itself.",
        flow=Flow.MASTER_DATA,
    ),
    ExceptionKind(
        "item_invalid", OwnerTeam.OPERATIONS, Entity.SKU,
        "Item record is set up wrongly in the ERP",
        "ERP item {sku} is set up wrongly: {reason}.",
        "Correct the item (unit of measure, pack size, code) in the ERP. It is picked up at the next sync and "
        "this closes by itself.",
        flow=Flow.MASTER_DATA,
    ),
    ExceptionKind(
        "stock_invalid", OwnerTeam.OPERATIONS, Entity.SKU,
        "Stock figure cannot be sent to SparkLayer",
        "The stock of {sku} in warehouse {warehouse} was not sent to SparkLayer: {reason}. Buyers keep seeing "
        "the last good figure.",
        "Check the stock record in the ERP (for example a negative or fractional quantity) and correct it. It "
        "is sent at the next sync and this closes by itself.",
        flow=Flow.MASTER_DATA,
    ),
    ExceptionKind(
        "pack_size_gap", OwnerTeam.ECOMMERCE, Entity.SKU,
        "Shop does not enforce the ERP pack size",
        "{sku} is sold by the ERP in packs of {pack_size}, but the shop does not enforce that quantity rule, so "
        "buyers can order quantities the ERP cannot accept.",
        "Set the pack size of {sku} to {pack_size} in the shop's SparkLayer settings for the product. This "
        "closes by itself once the shop's rule matches.",
        flow=Flow.MASTER_DATA,
    ),
    ExceptionKind(
        "mass_quarantine", OwnerTeam.OPERATIONS, Entity.DATASET,
        "Sync stopped: too many records failed checks",
        "{failed} of {total} {dataset} records failed their checks in one run, which points to a wider problem "
        "(an import or a bulk change in the ERP). Nothing from this run was sent to SparkLayer, to protect what "
        "buyers see.",
        "Look at what changed in the ERP recently for {dataset}, and at the individual exceptions listed with "
        "this one. Once the records are corrected the next sync sends them and this closes by itself.",
        flow=Flow.MASTER_DATA,
    ),
    # --- monitoring ----------------------------------------------------------------------------------
    ExceptionKind(
        "order_stuck", OwnerTeam.OPERATIONS, Entity.ORDER,
        "Order has not reached the ERP",
        "Order {order} was placed {age} ago and there is still no ERP order for it.",
        "Look for another open exception on this order: it usually says why (for example a missing customer "
        "link). If there is none, ask the integration's administrator to check the order sync. "
        + _NO_DUPLICATE,
        flow=Flow.MONITORING,
    ),
    ExceptionKind(
        "erp_order_orphaned", OwnerTeam.OPERATIONS, Entity.ERP_ORDER,
        "ERP order with no live shop order",
        "ERP order {erp_order} belongs to SparkLayer order {order}, which is {reason}; the ERP order is still "
        "open.",
        "Confirm with the buyer whether the order stands. If it does not, cancel ERP order {erp_order} in the "
        "ERP; if it does, tell ecommerce so the SparkLayer order can be restored.",
        flow=Flow.MONITORING,
    ),
    ExceptionKind(
        "status_mismatch", OwnerTeam.OPERATIONS, Entity.ORDER,
        "Order status differs between the ERP and the shop",
        "Order {order} shows \"{sparklayer_status}\" in SparkLayer but ERP order {erp_order} is "
        "\"{erp_status}\".",
        "The ERP's status is the truth and is written back at the next sync; if this stays open, check whether "
        "someone changed the order in SparkLayer by hand.",
        flow=Flow.MONITORING,
    ),
    ExceptionKind(
        "amount_mismatch", OwnerTeam.FINANCE, Entity.ORDER,
        "Order amount differs between the ERP and the shop",
        "ERP order {erp_order} totals {currency} {erp_total} but SparkLayer order {order} totals {currency} "
        "{sparklayer_total} (difference {difference}).",
        "Find out which is right (a price decided by the ERP, a change made by hand, a discount). Correct the ERP "
        "order or agree a credit note or balance with the buyer, and note the reason for month-end.",
        flow=Flow.MONITORING,
    ),
    ExceptionKind(
        "draft_order_stock_not_held", OwnerTeam.OPERATIONS, Entity.ORDER,
        "Pay-later order has no stock reserved",
        "Pay-later order {order} arrived from the shop as a draft, which does not hold stock, and ERP order "
        "{erp_order} has no stock reserved for it yet: {skus}.",
        "Check stock for these products and reserve it in the ERP (or confirm the order so the ERP allocates "
        "it). If stock is short, tell the buyer the expected date.",
        flow=Flow.MONITORING,
    ),
    ExceptionKind(
        "customer_without_account_code", OwnerTeam.SALES_OPERATIONS, Entity.CUSTOMER,
        "Shop customer not linked to an ERP account",
        "SparkLayer customer {customer} is not linked to any ERP customer account; their orders will be held.",
        "Find or open the customer's account in the ERP and give it this customer's SparkLayer login e-mail: "
        "the next customer sync links them (runbooks, 'Linking a customer'). This closes by itself once the "
        "link exists.",
        flow=Flow.MONITORING,
    ),
    ExceptionKind(
        "sku_unknown_to_erp", OwnerTeam.ECOMMERCE, Entity.SKU,
        "Shop product the ERP does not know",
        "Product {sku} is sold in the shop but no active ERP item has that code; orders for it will be held.",
        "Correct the product code in the shop to the ERP item code, or ask operations to create or activate the "
        "item in the ERP. If the product should not be sold, take it off the shop.",
        flow=Flow.MONITORING,
    ),
    ExceptionKind(
        "item_without_price", OwnerTeam.FINANCE, Entity.SKU,
        "Item has no price in the ERP",
        "ERP item {sku} has no price in price list {price_list}; buyers on that list cannot be quoted "
        "correctly and their orders will be held.",
        "Add the price to the price list in the ERP. It is sent to SparkLayer at the next sync and this closes "
        "by itself.",
        flow=Flow.MONITORING,
    ),
    ExceptionKind(
        "stale_sync", OwnerTeam.OPERATIONS, Entity.DATASET,
        "Data in the shop is out of date",
        "The {dataset} sync has not succeeded since {last_success}; buyers may be seeing old {dataset}.",
        "Look at the other open exceptions for the reason. If there is none, ask the integration's administrator "
        "to check that the ERP and SparkLayer are reachable.",
        flow=Flow.MONITORING,
    ),
    ExceptionKind(
        "paid_in_shop_unpaid_in_erp", OwnerTeam.FINANCE, Entity.ORDER,
        "Paid by card in the shop, unpaid in the ERP",
        "Order {order} was paid by card at checkout, but ERP invoice {invoice} (order {erp_order}) still has "
        "{currency} {amount} due.",
        "Check the card payment in the payment provider, then record it against invoice {invoice} in the ERP. "
        "Do not chase the buyer: they have paid.",
        flow=Flow.MONITORING,
    ),
    # --- refunds and returns, SparkLayer → ERP --------------------------------------------------------
    ExceptionKind(
        "refund_not_credited", OwnerTeam.FINANCE, Entity.ORDER,
        "Refund in the shop with no credit note in the ERP",
        "Order {order} has a refund of {currency} {amount} in SparkLayer ({refund}), but the ERP would not "
        "raise a credit note for it against order {erp_order}: {reason}.",
        "Usually the invoice is not posted yet: post it, and the credit note is raised by itself at the next "
        "run. If the refund is more than the invoice still holds, agree the right amount with the buyer. Do not "
        "raise this credit note in the ERP by hand: the integration would raise it a second time.",
        flow=Flow.ORDERS,
    ),
    ExceptionKind(
        "return_not_credited", OwnerTeam.OPERATIONS, Entity.ORDER,
        "Goods returned in the shop with no credit note in the ERP",
        "Order {order} has goods returned in SparkLayer ({refund}: {goods}), but the ERP would not credit "
        "them on order {erp_order}: {reason}.",
        "Check what came back against the ERP invoice (item codes and quantities). Once the invoice is posted "
        "and the goods are on it, the credit note is raised by itself at the next run. Do not raise it in the "
        "ERP by hand: the integration would raise it a second time.",
        flow=Flow.ORDERS,
    ),
    ExceptionKind(
        "refund_needs_review", OwnerTeam.FINANCE, Entity.ORDER,
        "Refund that may already be credited",
        "Order {order} has a refund of {currency} {amount} in SparkLayer ({refund}) after returned goods on "
        "it were already credited in the ERP (credit note {credit_notes}); it was not credited again "
        "automatically in case it is the same money.",
        "Compare the refund with the credit notes on the order in the ERP. If it is extra money back, raise the "
        "credit note in the ERP with reference {reference}, then accept this exception; if it is the same money, "
        "just accept it.",
        flow=Flow.ORDERS,
    ),
)

KINDS: Mapping[str, ExceptionKind] = {k.code: k for k in _KINDS}

MISSING_FACT = "(not known)"


def problem(kind: str, entity_type: str, entity_id: str, **facts: object) -> Problem:
    """One problem of ``kind`` about one entity, with the kind's templates filled from ``facts``.

    An unknown ``kind`` is a programming error and raises ``KeyError``. A missing fact never raises: the
    message shows "(not known)" instead, because losing the exception would be worse than a gap in its text.
    Decimal facts are shown with thousands separators ("1,234.50"); ``detail`` keeps them exact.
    """
    spec = KINDS[kind]
    shown = _Facts({name: _shown(value) for name, value in facts.items()})
    return Problem(
        kind=spec.code,
        owner_team=spec.owner,
        entity_type=str(entity_type),
        entity_id=str(entity_id),
        message=spec.message.format_map(shown),
        action=spec.action.format_map(shown),
        detail=_detail(facts),
    )


class _Facts(dict):
    def __missing__(self, key: str) -> str:
        return MISSING_FACT


def _shown(value: object) -> str:
    if value is None:
        return MISSING_FACT
    if isinstance(value, Decimal):
        try:
            return format_amount(value)
        except MoneyError:
            return str(value)
    if isinstance(value, (list, tuple)):
        return "; ".join(_shown(v) for v in value) or "none"
    return str(value)


def _detail(facts: Mapping[str, object]) -> dict:
    try:
        return to_plain(facts)  # type: ignore[return-value]
    except (TypeError, MoneyError):  # keep the problem even if a fact is not plain data
        return {name: str(value) for name, value in facts.items()}
