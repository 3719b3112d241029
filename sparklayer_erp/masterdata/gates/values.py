"""What one valid cell is, and how an ERP value becomes a cell without losing anything.

Representation (decided once, used by every frame):

- **Amounts and quantities are ``Decimal`` objects in object-dtype columns.** A float column would turn
  ``0.10`` into ``0.1000000000000000055…``; a text column would need re-parsing by every reader. Object
  columns cost some speed (checks run value by value: ~1 s per column per million rows), which the gates
  can afford, and every reader gets the ERP's exact value.
- **Whole numbers (quantity breaks, pack sizes, days) are Python ``int`` in object-dtype columns**, so a junk
  value ("abc", ``None``) can sit next to good ones and fail its own row instead of the whole column.
- **Text is pandas' ``str`` dtype**, stripped; blank means missing.

The ``as_*`` normalisers never raise: a value they cannot convert is kept as it came (a non-finite number
is kept as its text, so pandas does not mistake ``NaN`` for "empty"), and the frame's check quarantines that
row with a plain reason. Floats are *not* converted to Decimal: a float means the cents may already be
lost upstream (``sparklayer_erp.domain.money.to_money`` refuses them for the same reason).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

import numpy as np

from sparklayer_erp.domain.models import Address
from sparklayer_erp.domain.money import MoneyError, to_money

# Currencies a price list or customer may carry. ISO 4217 codes of the currencies B2B stores commonly trade
# in; a code outside this list is far more likely a typo ("GPB") than a new market. Extend it here.
CURRENCIES: frozenset[str] = frozenset({
    "GBP", "EUR", "USD", "CAD", "AUD", "NZD", "CHF", "SEK", "NOK", "DKK", "ISK", "PLN", "CZK", "HUF", "RON",
    "BGN", "TRY", "ZAR", "JPY", "CNY", "HKD", "SGD", "INR", "AED", "SAR", "ILS", "MXN", "BRL",
})
CURRENCY_ERROR = "is not a currency we trade in (an ISO code such as GBP or EUR)"

# Plausible, not RFC 5322: one @, something before it, a dot in the domain, no spaces.
EMAIL_PATTERN = r"[^@\s]+@[^@\s]+\.[^@\s.]+"
_EMAIL = re.compile(EMAIL_PATTERN)


# --- predicates used by the frame checks ------------------------------------------------------------

def is_amount(value: object, minimum: Decimal | None = None) -> bool:
    """A finite ``Decimal`` (not a float, not text), at least ``minimum`` when given."""
    if not isinstance(value, Decimal) or not value.is_finite():
        return False
    return minimum is None or value >= minimum


def is_whole_number(value: object, minimum: int | None = None) -> bool:
    """A Python/numpy integer (``True`` is not a number here), at least ``minimum`` when given."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        return False
    return minimum is None or int(value) >= minimum


def is_flag(value: object) -> bool:
    return isinstance(value, bool | np.bool_)


def is_plausible_email(value: object) -> bool:
    return isinstance(value, str) and _EMAIL.fullmatch(value) is not None


def is_address_list(value: object) -> bool:
    return isinstance(value, tuple | list) and all(isinstance(a, Address) for a in value)


# --- normalisers used by the frame builders ------------------------------------------------------------

def as_text(value: object) -> str | None:
    """Stripped text; ``None`` for missing or blank. Codes typed as numbers (``1001``) become ``"1001"``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = value.strip() if isinstance(value, str) else str(value).strip()
    return text or None


def _keep(value: object) -> object:
    """Keep unconvertible junk visible: ``NaN``/``inf`` as text so pandas does not read it as "missing"."""
    if isinstance(value, Decimal) and not value.is_finite():
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def as_amount(value: object) -> object:
    """``Decimal`` exactly as the ERP meant it (from Decimal, int or decimal text); junk kept as is."""
    if value is None:
        return None
    if isinstance(value, np.integer):
        value = int(value)
    try:
        return to_money(value)  # type: ignore[arg-type]
    except (MoneyError, TypeError):
        return _keep(value)


def as_whole_number(value: object) -> object:
    """``int`` from an int, a whole Decimal or whole-number text; junk (``"abc"``, ``2.5``) kept as is."""
    if value is None or isinstance(value, bool | np.bool_):
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, Decimal | str):
        try:
            number = to_money(value)
        except MoneyError:
            return _keep(value)
        if number == number.to_integral_value():
            return int(number)
    return _keep(value)


def as_flag(value: object) -> object:
    """``bool`` from a bool; anything else (``None``, ``"yes"``) kept, so the check holds the row back.

    A credit-hold flag the ERP did not clearly give must not be read as "not on hold".
    """
    return bool(value) if isinstance(value, bool | np.bool_) else value


def as_addresses(value: object) -> object:
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(value)
    return value
