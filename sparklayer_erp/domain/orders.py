"""Translate one SparkLayer purchase into an ERP sales-order draft, or say exactly why not.

The mapper of the connector: pure, given everything it needs. The rules:

- the ERP account code comes from the customer link and is never guessed (no link → hold);
- every SKU must be an active ERP item; quantities (SparkLayer counts units) are converted to the ERP sale
  unit and must be whole packs: 12 units at pack size 12 → 1 case, 30 units → held;
- prices are compared per sale unit with the ERP's price for this customer and quantity. Within the
  tolerance the buyer's price is kept, so the invoice matches the checkout to the cent; beyond it the
  ``PricePolicy`` decides;
- the ERP's totals (per-line amounts and per-line tax, rounded half-up, plus shipping) must equal the
  buyer's totals to the minor unit of the order's currency (ISO 4217: GBP 0.01, JPY 1, KWD 0.001), unless
  the difference is exactly an ERP_WINS price decision. Prices are compared in the order's currency: the ERP
  prices the customer in the currency it sells to them in, converted at its own rate;
- an order in a currency with no known minor unit is held for finance (``unknown_currency``), like one the
  ERP refuses for its currency: no amount of it can be rounded or booked;
- routing by payment method: on account → pending approval, by invoice → committed, paid upfront by card →
  committed with the payment to record against the invoice.

One bad line holds the whole order (a partial order would be worse than a late one). Bad data never raises:
it becomes a ``Problem`` with an owner. Only a failing ``erp_price`` callable (a technical error: retry
later) propagates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from sparklayer_erp.domain.exception_kinds import Entity, Problem, problem
from sparklayer_erp.domain.models import ErpItem, ErpOrderDraft, ErpOrderLine, PaymentMethod
from sparklayer_erp.domain.money import (
    HUNDRED,
    ZERO,
    MoneyError,
    UnknownCurrency,
    currency_exponent,
    format_amount,
    round_money,
    round_unit_price,
    sum_money,
    to_money,
)

CANCELLED_STATUS = "cancelled"


# --- input: a SparkLayer purchase, already mapped from the client's model ---------------------------------
@dataclass(frozen=True)
class OrderLineIn:
    sku: str
    quantity: int  # base units, as SparkLayer counts them
    unit_net: Decimal  # net price per base unit
    line_net: Decimal  # SparkLayer's net line total
    tax_rate: Decimal  # percent, e.g. Decimal("20")


@dataclass(frozen=True)
class OrderIn:
    """A SparkLayer purchase of type ``order``. Totals are SparkLayer's, shipping included."""

    purchase_id: str
    customer_sparklayer_id: str | None
    payment_method: str  # one of contract.PAYMENT_METHODS, kept as text so a new value can be reported
    po_number: str | None
    currency: str
    lines: tuple[OrderLineIn, ...]
    shipping_net: Decimal
    shipping_tax: Decimal
    total_net: Decimal
    total_tax: Decimal
    total_gross: Decimal
    status: str
    placed_at: dt.datetime | None = None


# --- context: what the ERP says ------------------------------------------------------------------------
@dataclass(frozen=True)
class ItemInfo:
    sku: str
    sale_unit: str  # ERP unit name, e.g. "Case of 12"
    pack_size: int  # base units per sale unit
    active: bool = True

    @classmethod
    def from_erp_item(cls, item: ErpItem) -> ItemInfo:
        return cls(sku=item.sku, sale_unit=item.sale_unit.name, pack_size=item.pack_size, active=item.active)


ErpPriceFn = Callable[[str, str, Decimal, str], "Decimal | None"]
"""``erp_price(account_code, sku, quantity_in_sale_unit, sale_unit) -> price per sale unit, or None``."""

ErpPriceLookup = ErpPriceFn | Mapping[str, Decimal]
"""A callable as above, or the prices already looked up for this order: SKU → price per sale unit."""


class PricePolicy(StrEnum):
    """What happens when the buyer's price differs from the ERP's by more than the tolerance."""

    ERP_WINS = "erp_wins"  # the ERP price goes on the order; the difference is noted
    SPARKLAYER_WINS = "sparklayer_wins"  # the buyer's price goes on the order; the difference is noted
    HOLD_FOR_FINANCE = "hold_for_finance"  # the order is held with a price_mismatch for finance


# --- output --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Totals:
    net: Decimal
    tax: Decimal
    gross: Decimal

    def differs_from(self, other: Totals, currency: str | None = None) -> bool:
        """Different in net, tax or gross by a minor unit of ``currency`` or more (the cent without one): an
        invoice must agree on all three."""
        return any(round_money(a, currency) != round_money(b, currency) for a, b in
                   ((self.net, other.net), (self.tax, other.tax), (self.gross, other.gross)))


@dataclass(frozen=True)
class PriceDecision:
    """A line whose buyer price and ERP price differ: which one was used, and what it does to the line."""

    sku: str
    sale_unit: str
    sparklayer_price: Decimal  # per sale unit
    erp_price: Decimal | None  # per sale unit
    used_price: Decimal | None  # None: held
    line_difference: Decimal  # (used - buyer's) line amount, rounded to the cent; 0 when held or kept
    within_tolerance: bool

    @property
    def text(self) -> str:
        erp = "no ERP price" if self.erp_price is None else f"ERP {format_amount(self.erp_price)}"
        head = (f"{self.sku}: shop {format_amount(self.sparklayer_price)}, {erp} per {self.sale_unit}")
        if self.used_price is None:
            return head
        which = "ERP" if self.used_price == self.erp_price and self.used_price != self.sparklayer_price else "shop"
        change = f", line changes by {format_amount(self.line_difference)}" if self.line_difference else ""
        return f"{head}; {which} price used{change}"


@dataclass(frozen=True)
class Translation:
    """The draft to create, or ``None`` with the problems that hold the order (never both)."""

    purchase_id: str
    draft: ErpOrderDraft | None
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = ()
    price_decisions: tuple[PriceDecision, ...] = ()
    erp_totals: Totals | None = None  # what the ERP will total for the draft
    sparklayer_totals: Totals | None = None
    record_payment: bool = False  # paid upfront: record ``payment_amount`` against the ERP invoice
    payment_amount: Decimal | None = None
    skipped: bool = False  # nothing to do (cancelled before it reached the ERP); not a problem

    @property
    def price_adjustment(self) -> Decimal:
        """ERP gross minus SparkLayer gross, explained by ERP_WINS price decisions (0 otherwise)."""
        if self.draft is None or self.erp_totals is None or self.sparklayer_totals is None:
            return ZERO
        return self.erp_totals.gross - self.sparklayer_totals.gross


# --- rules ---------------------------------------------------------------------------------------------
_COMMIT = {PaymentMethod.ON_ACCOUNT: False, PaymentMethod.INVOICE: True, PaymentMethod.UPFRONT: True}


def line_tax(net: Decimal, rate: Decimal, currency: str | None = None) -> Decimal:
    """Tax on one line: ``net × rate / 100`` rounded half-up to the minor unit of ``currency`` (the cent
    without one), as ``money.tax_amount`` does for the cent."""
    rate = to_money(rate)
    if rate < 0:
        raise MoneyError(f"a tax rate cannot be negative: {rate!r}")
    return round_money(to_money(net) * rate / HUNDRED, currency)


def expected_erp_totals(lines: Iterable[ErpOrderLine], shipping: Decimal, rate: Decimal,
                        currency: str | None = None) -> Totals:
    """What the ERP will total: each line ``quantity × unit_price`` rounded half-up to the currency's minor
    unit, taxed per line at ``rate`` percent (rounded the same way); shipping is one more taxed amount.
    Without ``currency`` the minor unit is the cent. Used by translation and reconciliation."""
    amounts = [round_money(line.quantity * line.unit_price, currency) for line in lines]
    amounts.append(round_money(shipping, currency))
    net = sum_money(amounts)
    tax = sum_money(line_tax(amount, rate, currency) for amount in amounts)
    return Totals(net=net, tax=tax, gross=net + tax)


def sparklayer_totals(order: OrderIn) -> Totals:
    return Totals(net=order.total_net, tax=order.total_tax, gross=order.total_gross)


def order_label(order: OrderIn) -> str:
    """How people recognise an order: its id, and the buyer's PO number when there is one."""
    return f"{order.purchase_id} (PO {order.po_number})" if order.po_number else order.purchase_id


def translate_order(
    order: OrderIn,
    *,
    account_code: str | None,
    items: Mapping[str, ItemInfo],
    erp_price: ErpPriceLookup,
    policy: PricePolicy,
    tolerance: Decimal,
    tax_rate_erp: Decimal,
    erp_currency: str | None = None,
) -> Translation:
    """The ERP order draft for ``order``, or the problems that hold it. Raises only for invalid settings
    (``tolerance``, ``tax_rate_erp``) and whatever ``erp_price`` raises.

    ``tolerance`` is per base unit (0.01 allows a cent per unit, so 0.12 per case of 12); ``tax_rate_erp`` is
    the ERP's tax rate in percent (see ``money.percent_from_fraction``). ``erp_currency``, when given, must
    match the order's currency.
    """
    if not (isinstance(tolerance, Decimal) and tolerance.is_finite() and tolerance >= 0):
        raise ValueError(f"price tolerance must be a Decimal of zero or more, not {tolerance!r}")
    if not (isinstance(tax_rate_erp, Decimal) and tax_rate_erp.is_finite() and tax_rate_erp >= 0):
        raise ValueError(f"the ERP tax rate must be a Decimal percentage, not {tax_rate_erp!r}")
    label = order_label(order)
    problems: list[Problem] = []

    def hold(kind: str, **facts: object) -> None:
        problems.append(problem(kind, Entity.ORDER, order.purchase_id, order=label, **facts))

    if order.status == CANCELLED_STATUS:
        return Translation(order.purchase_id, None, skipped=True,
                           notes=("Cancelled in SparkLayer before it reached the ERP: nothing to create.",))

    reasons = _invalid_reasons(order, erp_currency)
    method = _payment_method(order.payment_method)
    if method is None:
        reasons.append(f"payment method {order.payment_method!r} is not one the integration knows")
    if reasons:
        hold("invalid_order", reason="; ".join(reasons))
        return Translation(order.purchase_id, None, problems=tuple(problems))
    currency = order.currency.upper()
    try:
        currency_exponent(currency)
    except UnknownCurrency:
        hold("unknown_currency", currency=currency,
             reason="it is not an ISO 4217 currency the integration knows the minor unit of")
        return Translation(order.purchase_id, None, problems=tuple(problems))

    if not account_code:
        hold("missing_customer_link", customer=order.customer_sparklayer_id or "(no customer id)")

    lines = _convert_lines(order, items)
    if lines.unknown_skus:
        hold("unknown_sku", skus=", ".join(dict.fromkeys(lines.unknown_skus)))
    for sku in dict.fromkeys(lines.bad_items):
        problems.append(problem("item_invalid", Entity.ORDER, order.purchase_id, sku=sku,
                                reason=f"its pack size is {items[sku].pack_size!r}; order {label} is held"))
    if lines.not_whole:
        hold("not_whole_pack", lines=lines.not_whole)
    if problems or not account_code or method is None:
        return Translation(order.purchase_id, None, problems=tuple(problems))

    priced = _price_lines(lines.converted, account_code, erp_price, policy, tolerance, currency)
    decisions, chosen = priced.decisions, priced.chosen
    theirs = sparklayer_totals(order)
    adjustment = sum_money(d.line_difference for d in decisions)
    unpriced = [d for d in decisions if d.used_price is None]
    if unpriced:
        hold("price_mismatch", account_code=account_code, lines=[d.text for d in unpriced])
    elif adjustment and method is PaymentMethod.UPFRONT:
        # The card was charged the shop's total; an ERP invoice for another amount could never be settled.
        hold("price_mismatch", account_code=account_code,
             lines=[d.text for d in decisions if d.line_difference]
             + ["paid by card at checkout, so the order cannot be invoiced at a different price"])
    if problems:
        return Translation(order.purchase_id, None, problems=tuple(problems), price_decisions=tuple(decisions),
                           sparklayer_totals=theirs)

    ours = expected_erp_totals(chosen, order.shipping_net, tax_rate_erp, currency)
    at_buyer_prices = expected_erp_totals(priced.as_ordered, order.shipping_net, tax_rate_erp, currency)
    if at_buyer_prices.differs_from(theirs, currency):
        hold("total_mismatch", currency=currency, erp_total=at_buyer_prices.gross,
             sparklayer_total=theirs.gross, difference=at_buyer_prices.gross - theirs.gross,
             erp_totals=at_buyer_prices, sparklayer_totals=theirs,
             lines=_line_differences(order, lines.converted, tax_rate_erp, currency))
        return Translation(order.purchase_id, None, problems=tuple(problems), price_decisions=tuple(decisions),
                           erp_totals=at_buyer_prices, sparklayer_totals=theirs)

    notes = [f"Price: {d.text}" for d in decisions]
    if adjustment:
        notes.append(f"ERP prices change the order total by {currency} "
                     f"{format_amount(ours.gross - theirs.gross)} (net {format_amount(adjustment)}).")
    draft = ErpOrderDraft(
        purchase_id=order.purchase_id,
        account_code=account_code,
        po_number=order.po_number,
        payment_method=method,
        lines=tuple(chosen),
        commit=_COMMIT[method],
        shipping_amount=round_money(order.shipping_net, currency),
        currency=currency,
        description="\n".join([f"SparkLayer order {label}", *notes]),
    )
    upfront = method is PaymentMethod.UPFRONT
    return Translation(
        order.purchase_id, draft, notes=tuple(notes), price_decisions=tuple(decisions), erp_totals=ours,
        sparklayer_totals=theirs, record_payment=upfront, payment_amount=round_money(theirs.gross, currency) if upfront else None,
    )


@dataclass(frozen=True)
class _Converted:
    line: OrderLineIn
    item: ItemInfo
    quantity: Decimal  # in the sale unit, whole
    buyer_price: Decimal  # per sale unit


@dataclass
class _Lines:
    converted: list[_Converted] = field(default_factory=list)
    unknown_skus: list[str] = field(default_factory=list)
    bad_items: list[str] = field(default_factory=list)
    not_whole: list[str] = field(default_factory=list)


def _convert_lines(order: OrderIn, items: Mapping[str, ItemInfo]) -> _Lines:
    """Units → ERP sale units, one line at a time; every bad line is collected, not just the first."""
    out = _Lines()
    for line in order.lines:
        item = items.get(line.sku)
        if item is None or not item.active:
            out.unknown_skus.append(line.sku)
        elif not isinstance(item.pack_size, int) or isinstance(item.pack_size, bool) or item.pack_size < 1:
            out.bad_items.append(line.sku)
        elif line.quantity % item.pack_size:
            out.not_whole.append(f"{line.sku}: {line.quantity} units, sold in packs of {item.pack_size} "
                                 f"({item.sale_unit})")
        else:
            out.converted.append(_Converted(line, item, Decimal(line.quantity // item.pack_size),
                                            round_unit_price(line.unit_net * item.pack_size)))
    return out


@dataclass
class _Priced:
    decisions: list[PriceDecision] = field(default_factory=list)  # every line whose prices differ
    chosen: list[ErpOrderLine] = field(default_factory=list)  # the lines to send
    as_ordered: list[ErpOrderLine] = field(default_factory=list)  # the same lines at the buyer's prices


def _price_lines(
    converted: Iterable[_Converted], account_code: str, erp_price: ErpPriceLookup, policy: PricePolicy,
    tolerance: Decimal, currency: str | None = None,
) -> _Priced:
    """Compare each line's price with the ERP's per sale unit and pick the price to send (None: held).
    Both prices are in the order's currency; line differences round to its minor unit."""
    out = _Priced()
    for c in converted:
        sku, unit, buyer = c.line.sku, c.item.sale_unit, c.buyer_price
        erp = _lookup(erp_price, account_code, sku, c.quantity, unit)
        within = erp is not None and abs(buyer - erp) <= tolerance * c.item.pack_size
        used: Decimal | None = buyer
        if erp is None or (not within and policy is PricePolicy.HOLD_FOR_FINANCE):
            used = None
        elif not within and policy is PricePolicy.ERP_WINS:
            used = erp
        if erp != buyer:
            difference = ZERO if used is None else (
                round_money(c.quantity * used, currency) - round_money(c.quantity * buyer, currency))
            out.decisions.append(PriceDecision(sku, unit, buyer, erp, used, difference, within))
        if used is not None:
            out.chosen.append(ErpOrderLine(sku=sku, quantity=c.quantity, unit=unit, unit_price=used))
            out.as_ordered.append(ErpOrderLine(sku=sku, quantity=c.quantity, unit=unit, unit_price=buyer))
    return out


def _payment_method(value: str) -> PaymentMethod | None:
    try:
        return PaymentMethod(value)
    except ValueError:
        return None


def _lookup(prices: ErpPriceLookup, account_code: str, sku: str, quantity: Decimal, unit: str) -> Decimal | None:
    price = prices.get(sku) if isinstance(prices, Mapping) else prices(account_code, sku, quantity, unit)
    if price is None:
        return None
    try:
        return round_unit_price(price)
    except MoneyError:  # an ERP price we cannot read counts as no price: held, never guessed
        return None


def _invalid_reasons(order: OrderIn, erp_currency: str | None) -> list[str]:
    """Data that cannot be turned into an order at all, in words the ecommerce team can act on."""
    reasons: list[str] = []
    if not order.lines:
        reasons.append("it has no lines")
    if not order.currency:
        reasons.append("it has no currency")
    elif erp_currency and order.currency.upper() != erp_currency.upper():
        reasons.append(f"it is in {order.currency.upper()} but the ERP account is in {erp_currency.upper()}")
    for name, value in (("shipping", order.shipping_net), ("shipping tax", order.shipping_tax)):
        if not _is_amount(value) or value < 0:
            reasons.append(f"its {name} is not a valid amount ({value!r})")
    for name, value in (("net total", order.total_net), ("tax total", order.total_tax), ("total", order.total_gross)):
        if not _is_amount(value):
            reasons.append(f"its {name} is not a valid amount ({value!r})")
    for n, line in enumerate(order.lines, start=1):
        where = f"line {n} ({line.sku or 'no SKU'})"
        if not line.sku:
            reasons.append(f"{where} has no SKU")
        if not isinstance(line.quantity, int) or isinstance(line.quantity, bool) or line.quantity <= 0:
            reasons.append(f"{where} has quantity {line.quantity!r}; it must be a whole number above zero")
        for name, value in (("unit price", line.unit_net), ("line total", line.line_net), ("tax rate", line.tax_rate)):
            if not _is_amount(value) or value < 0:
                reasons.append(f"{where} has an invalid {name} ({value!r})")
    return reasons


def _line_differences(order: OrderIn, converted: Iterable[_Converted], rate: Decimal,
                      currency: str | None = None) -> list[str]:
    """Where the shop's own lines disagree with the ERP's arithmetic: the first place finance should look."""
    found = []
    for line in (c.line for c in converted):
        ours = round_money(line.quantity * line.unit_net, currency)
        if ours != round_money(line.line_net, currency):
            found.append(f"{line.sku}: shop line total {format_amount(line.line_net)}, "
                         f"{line.quantity} × {format_amount(line.unit_net)} = {format_amount(ours)}")
        if line.tax_rate != rate:
            found.append(f"{line.sku}: shop tax rate {line.tax_rate}%, ERP tax rate {rate}%")
    erp_shipping_tax = line_tax(order.shipping_net, rate, currency)
    if round_money(order.shipping_tax, currency) != erp_shipping_tax:
        found.append(f"shipping: shop tax {format_amount(order.shipping_tax)}, ERP tax "
                     f"{format_amount(erp_shipping_tax)}")
    return found


def _is_amount(value: object) -> bool:
    """A finite Decimal (a float here means the mapping from the client lost exactness)."""
    return isinstance(value, Decimal) and value.is_finite()
