"""The storefront's checkout rules, pure (no I/O): what SparkLayer enforces before an order exists.

Pack sizes are whole multiples in base units; a price comes from the first of the customer's price lists
that prices the SKU (customer lists before group lists), at the highest quantity break not above the ordered
quantity; VAT is per line on the rounded net (domain.money rules); pay on account needs credit headroom.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sparklayer_erp.demo.sandbox.monetary import round_in
from sparklayer_erp.domain.money import HUNDRED, ZERO, round_unit_price

VAT_PERCENT = Decimal("20")  # UK standard rate, as the demo company charges


@dataclass(frozen=True)
class PricedLine:
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    net: Decimal
    tax: Decimal
    tax_percent: Decimal
    price_list: str | None  # None when the unit price was overridden

    @property
    def gross(self) -> Decimal:
        return self.net + self.tax


def quantity_problem(quantity: int, rule: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(code, reason)`` when ``quantity`` cannot be ordered under the variant's rule for the customer's
    group, else None."""
    if quantity < 1:
        return "invalid-quantity", "the quantity must be at least 1"
    if rule.get("sell") is False:
        return "not-for-sale", "this product is not for sale to the customer's group"
    pack = int(rule.get("pack_size") or 1)
    if quantity % pack:
        return "pack-size", f"sold in packs of {pack}: {quantity} is not a multiple of {pack}"
    if rule.get("min_order_quantity") and quantity < rule["min_order_quantity"]:
        return "min-order-quantity", f"the minimum order quantity is {rule['min_order_quantity']}"
    if rule.get("max_order_quantity") and quantity > rule["max_order_quantity"]:
        return "max-order-quantity", f"the maximum order quantity is {rule['max_order_quantity']}"
    return None


def break_price(breaks: Sequence[tuple[int, Decimal]], quantity: int) -> Decimal | None:
    """The price at the highest break ``<= quantity``; None when every break needs more units."""
    price = None
    for min_quantity, unit in sorted(breaks):
        if min_quantity <= quantity:
            price = unit
    return price


def discounted(unit: Decimal, discount_percent: Decimal | None) -> Decimal:
    """A customer's ``discount_percentage`` comes off the list price; unit prices keep 4 decimals."""
    if not discount_percent:
        return unit
    return round_unit_price(unit * (HUNDRED - discount_percent) / HUNDRED)


def price_line(sku: str, name: str, quantity: int, unit: Decimal, tax_percent: Decimal,
               price_list: str | None, currency: str | None = None) -> PricedLine:
    """Net and VAT each rounded half-up to the currency's minor unit (the cent without a currency)."""
    net = round_in(unit * quantity, currency)
    tax = round_in(net * tax_percent / HUNDRED, currency)
    return PricedLine(sku, name, quantity, unit, net, tax, tax_percent, price_list)


def credit_headroom(credit_limit: Decimal, balance: Decimal) -> Decimal:
    """What can still be ordered on account: limit − what is owed (never below zero)."""
    return max(ZERO, credit_limit - balance)


def on_account_problem(payment_on_account: Mapping[str, Any] | None, amount: Decimal) -> str | None:
    """Pay on account needs an account with a credit limit, and ``amount`` within the headroom."""
    if not payment_on_account or payment_on_account.get("credit_limit") is None:
        return "the customer has no credit limit, so pay on account is not available"
    limit = Decimal(payment_on_account["credit_limit"])
    balance = Decimal(payment_on_account.get("balance") or 0)
    headroom = credit_headroom(limit, balance)
    if amount > headroom:
        return f"the order ({amount}) exceeds the credit headroom ({headroom} = {limit} − {balance})"
    return None
