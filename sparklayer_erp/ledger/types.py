"""Column types that keep the ledger's promises on both SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, DateTime, Dialect, Numeric
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

UTC = dt.UTC


def utc_now() -> dt.datetime:
    return dt.datetime.now(UTC)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime in and out.

    SQLite has no time zones (it would silently drop the offset), so values are converted to UTC before
    they are stored and UTC is re-attached when they are read. A naive datetime is refused: guessing its
    zone is how month-end cut-offs end up an hour wrong.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("ledger timestamps must be timezone-aware (UTC); got a naive datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# JSON documents: SQL NULL (not JSON 'null') for None; JSONB on PostgreSQL so it can be indexed later.
JsonDoc = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")

MONEY_PLACES = Decimal("0.01")
# SQLite keeps NUMERIC as a double: exact to 15 significant digits, so amounts are refused above this.
SQLITE_MONEY_LIMIT = Decimal("9999999999999.99")


class Money(TypeDecorator[Decimal]):
    """An amount of money: ``Decimal`` in and out, at most two decimal places, never a float.

    Rounding is the caller's decision (ROUND_HALF_UP to 0.01 in this project), so a value with more
    places is refused rather than rounded here, and a float is refused because it is already inexact.
    """

    impl = Numeric(18, 2, asdecimal=True)
    cache_ok = True

    def process_bind_param(self, value: Decimal | int | None, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, float) or not isinstance(value, Decimal | int):
            raise TypeError(f"money must be Decimal, not {type(value).__name__}")
        amount = Decimal(value)
        if amount != amount.quantize(MONEY_PLACES):
            raise ValueError(f"money {amount} has more than two decimal places; round it first")
        if dialect.name == "sqlite" and abs(amount) > SQLITE_MONEY_LIMIT:
            raise ValueError(f"money {amount} is too large to store exactly in SQLite")
        return amount

    def process_result_value(self, value: Decimal | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value).quantize(MONEY_PLACES)
