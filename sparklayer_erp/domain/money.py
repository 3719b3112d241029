"""Money as ``Decimal``, with every rounding rule written down once.

Why a module for this: an integration that moves invoices must never let a float in (``0.1 + 0.2``), and
must round the way the ERP does, or the month will not close. The rules here:

- amounts of money round **half-up to 0.01** (``round_money``); ``ROUND_HALF_UP`` rounds ties away from
  zero, so ``-0.005`` becomes ``-0.01`` (accountants' symmetric rounding);
- unit prices keep **4 decimals** (``round_unit_price``), like ERP price lists do;
- tax is computed **per line** on the rounded line amount and rounded half-up to 0.01 (``tax_amount``);
- nothing is rounded implicitly: ``to_money`` converts exactly, the caller decides where to round.

``to_plain`` is here because it is how money leaves Python: as an exact decimal string, never a float.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
UNIT_PRICE_STEP = Decimal("0.0001")
ZERO = Decimal("0")
HUNDRED = Decimal("100")


class MoneyError(ValueError):
    """A value that cannot be an amount of money (a float, NaN, infinity, or not a number at all)."""


def to_money(value: str | int | Decimal) -> Decimal:
    """The exact ``Decimal`` for ``value``; never rounds (rounding is a decision made explicitly elsewhere).

    Floats are refused because they already lost the cents (``0.1`` is not one tenth); convert from the
    original string instead. ``bool`` is refused although Python treats it as an int.
    """
    if isinstance(value, (bool, float)):
        raise MoneyError(f"money must be a decimal string, int or Decimal, not {type(value).__name__} "
                         f"({value!r}): convert from the original text to keep the exact cents")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise MoneyError(f"not a decimal number: {value!r}") from None
    else:
        raise MoneyError(f"money must be a decimal string, int or Decimal, not {type(value).__name__}")
    if not result.is_finite():
        raise MoneyError(f"money must be a finite number, not {value!r}")
    return result


# ISO 4217 minor-unit exponents (digits after the decimal point) for the currencies a B2B shop meets. A currency
# missing here is refused (``UnknownCurrency``) rather than assumed to have cents: rounding a yen amount to 0.01
# or a dinar amount to 0.01 is exactly the error this table exists to prevent.
CURRENCY_EXPONENTS: Mapping[str, int] = {
    # 0 decimals
    "JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0, "XOF": 0, "XAF": 0, "PYG": 0, "UGX": 0,
    # 3 decimals
    "KWD": 3, "BHD": 3, "OMR": 3, "JOD": 3, "TND": 3, "LYD": 3, "IQD": 3,
    # 2 decimals
    **{code: 2 for code in (
        "GBP", "EUR", "USD", "CAD", "AUD", "NZD", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK", "RON", "BGN",
        "TRY", "ZAR", "HUF", "SGD", "HKD", "CNY", "INR", "MXN", "BRL", "AED", "SAR", "ILS", "THB", "MYR", "PHP",
        "IDR", "TWD")},
}


class UnknownCurrency(MoneyError):
    """A currency code this product has no minor-unit rule for (not ISO 4217, or not in the table yet)."""


def currency_exponent(currency: str) -> int:
    """Digits after the decimal point for ``currency`` (ISO 4217): GBP 2, JPY 0, KWD 3."""
    try:
        return CURRENCY_EXPONENTS[currency.upper()]
    except (KeyError, AttributeError):
        raise UnknownCurrency(f"unknown currency {currency!r}: no ISO 4217 minor unit known for it") from None


def minor_unit(currency: str) -> Decimal:
    """The smallest amount of ``currency``: ``0.01`` for GBP, ``1`` for JPY, ``0.001`` for KWD."""
    return Decimal(1).scaleb(-currency_exponent(currency))


def round_money(amount: str | int | Decimal, currency: str | None = None) -> Decimal:
    """Round to the currency's minor unit, half-up (ties away from zero): 0.005 → 0.01, 0.015 → 0.02,
    -0.005 → -0.01. Without ``currency`` the minor unit is the cent (0.01); with one it is ISO 4217's
    (JPY 1, KWD 0.001). A negative amount that rounds to nothing is plain zero, never ``-0.00``."""
    step = CENT if currency is None else minor_unit(currency)
    return _no_negative_zero(to_money(amount).quantize(step, rounding=ROUND_HALF_UP))


def to_minor_units(amount: str | int | Decimal, currency: str) -> int:
    """An amount as an integer count of the currency's minor unit (``12.34`` GBP → ``1234``), for bulk frames.
    Refuses an amount with more precision than the currency has: round first, explicitly."""
    value = to_money(amount).scaleb(currency_exponent(currency))
    if value != value.to_integral_value():
        raise MoneyError(f"{amount!r} has more decimals than {currency} allows; round_money(..., {currency!r}) first")
    return int(value)


def from_minor_units(units: int, currency: str) -> Decimal:
    """The exact ``Decimal`` for an integer count of minor units (``1234`` GBP → ``Decimal('12.34')``)."""
    if isinstance(units, bool) or not isinstance(units, int):
        raise MoneyError(f"minor units must be an int, not {type(units).__name__}")
    return Decimal(units).scaleb(-currency_exponent(currency))


def round_unit_price(price: str | int | Decimal) -> Decimal:
    """Round a unit price to 4 decimals, half-up: ERP price lists store unit prices at this precision."""
    return _no_negative_zero(to_money(price).quantize(UNIT_PRICE_STEP, rounding=ROUND_HALF_UP))


def _no_negative_zero(value: Decimal) -> Decimal:
    return value.copy_abs() if value.is_zero() else value


def tax_amount(net: str | int | Decimal, rate_percent: str | int | Decimal) -> Decimal:
    """Tax on one line: ``net × rate / 100`` rounded half-up to the cent.

    Rule: tax is computed per line (on the line's already-rounded net amount) and rounded per line; an
    order's tax is the sum of its line taxes. ``rate_percent`` is a percentage (``20`` for 20 % VAT).
    """
    rate = to_money(rate_percent)
    if rate < 0:
        raise MoneyError(f"a tax rate cannot be negative: {rate_percent!r}")
    return round_money(to_money(net) * rate / HUNDRED)


def percent_from_fraction(fraction: str | int | Decimal) -> Decimal:
    """``0.20`` → ``20``: ERPs often store a rate as a fraction, the business rules use percent."""
    return to_money(fraction) * HUNDRED


def sum_money(amounts: Iterable[str | int | Decimal]) -> Decimal:
    """Exact sum (no rounding); starts from ``Decimal(0)`` so an empty sum is still a Decimal."""
    total = ZERO
    for amount in amounts:
        total += to_money(amount)
    return total


def sum_rounded(amounts: Iterable[str | int | Decimal]) -> Decimal:
    """Sum of amounts each rounded to the cent first: how an invoice totals its lines."""
    return sum_money(round_money(amount) for amount in amounts)


def format_amount(amount: Decimal) -> str:
    """For people: ``1234.5`` → ``'1,234.50'``, ``8.6400`` → ``'8.64'``, ``9.9996`` → ``'9.9996'`` (at least
    2 decimals; more only where they are not zero, as unit prices can have)."""
    value = to_money(amount).normalize()
    if value.as_tuple().exponent > -2:  # type: ignore[operator]  # finite, so the exponent is an int
        value = value.quantize(CENT)
    return f"{value:,}"


def decimal_text(value: Decimal, *, by_value: bool = False) -> str:
    """A Decimal as text without exponent. ``by_value``: one spelling per value ("12.50" → "12.5", "-0" → "0"),
    for hashes that must not change when only the number of trailing zeros does."""
    value = to_money(value)
    if not by_value:
        return f"{value:f}"
    if value == 0:
        return "0"
    return f"{value.normalize():f}"


def to_plain(value: object, *, decimals_by_value: bool = False) -> object:
    """Nested plain data that ``json.dumps`` accepts, with every Decimal as an exact string.

    Handles None, bool, int, str, Decimal, enums (their value), dates and datetimes (ISO 8601), dataclasses,
    mappings (str/enum/int keys), lists, tuples and sets (sorted). A float raises ``MoneyError``: a float in
    data we store or send means an amount already lost its exactness somewhere upstream.
    ``decimals_by_value`` spells equal Decimals the same way (see ``decimal_text``).
    """
    def plain(v: object) -> object:
        return to_plain(v, decimals_by_value=decimals_by_value)

    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        raise MoneyError(f"a float reached plain data ({value!r}); amounts must be Decimal")
    if isinstance(value, Decimal):
        return decimal_text(value, by_value=decimals_by_value)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {_plain_key(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((plain(v) for v in value), key=repr)
    raise TypeError(f"cannot turn {type(value).__name__} into plain data")


def _plain_key(key: object) -> str:
    if isinstance(key, enum.Enum):
        key = key.value
    if isinstance(key, str):
        return key
    if isinstance(key, int) and not isinstance(key, bool):
        return str(key)
    raise TypeError(f"mapping keys must be str, int or enum for plain data, not {type(key).__name__}")
