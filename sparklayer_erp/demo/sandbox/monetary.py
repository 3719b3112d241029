"""MonetaryObjects: ``{"number": "15.99", "currency": "gbp"}`` — amounts as exact decimal strings.

The currency is lower case as in the documented example; readers should compare it case-insensitively.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sparklayer_erp.domain.money import ZERO, UnknownCurrency, decimal_text, round_money


def round_in(amount: Decimal, currency: str | None) -> Decimal:
    """Half-up to the currency's minor unit (JPY 1, GBP 0.01, KWD 0.001); the cent for a code with no known
    minor unit (the shop takes any 3-letter code; refusing it is the integration's business)."""
    try:
        return round_money(amount, (currency or "").upper() or None)
    except UnknownCurrency:
        return round_money(amount)


def money(amount: Decimal, currency: str) -> dict[str, str]:
    """An amount of money, rounded half-up to the currency's minor unit."""
    return {"number": decimal_text(round_in(amount, currency)), "currency": currency.lower()}


def unit_money(amount: Decimal, currency: str) -> dict[str, str]:
    """A unit price: kept at its own precision (price lists hold up to 4 decimals), at least 2 decimals."""
    text = decimal_text(amount)
    if amount.as_tuple().exponent > -2:  # type: ignore[operator]  # finite, so an int
        text = decimal_text(round_in(amount, currency))
    return {"number": text, "currency": currency.lower()}


def amount(obj: Any) -> Decimal:
    """The number of a (validated) MonetaryObject; absent → 0."""
    if not isinstance(obj, dict) or obj.get("number") is None:
        return ZERO
    return Decimal(str(obj["number"]))
