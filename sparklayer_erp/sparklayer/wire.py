"""JSON, money and date formats on the wire, exact both ways.

``json`` would turn ``Decimal("10.40")`` into a float (or refuse it). Here a ``Decimal`` is written as the
JSON number literal it already is (``10.40``) — the pricing payloads use numbers — and MonetaryObjects carry
their amounts as decimal strings (``{"number": "15.99", ...}``), as the API shows. Answers are parsed with
``parse_float=Decimal`` so a price never passes through binary floating point.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

_encode_str = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]


def dumps(value: Any) -> bytes:
    """Compact JSON with Decimals as exact number literals."""
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts).encode("ascii")


def _write(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(_encode_str(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, Decimal):
        out.append(decimal_literal(value))
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(json.dumps(value, allow_nan=False))
    elif isinstance(value, Mapping):
        out.append("{")
        first = True
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be str, got {type(key).__name__}")
            if not first:
                out.append(",")
            first = False
            out.append(_encode_str(key))
            out.append(":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    elif isinstance(value, dt.datetime):
        out.append(_encode_str(format_datetime(value)))
    elif isinstance(value, dt.date):
        out.append(_encode_str(value.isoformat()))
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def decimal_literal(value: Decimal) -> str:
    """``Decimal`` → a JSON number literal with every digit kept (no exponent, no float)."""
    if not value.is_finite():
        raise ValueError(f"{value} is not a JSON number")
    return format(value, "f")


def loads(body: bytes | str) -> Any:
    return json.loads(body, parse_float=Decimal)


def to_decimal(value: Any) -> Decimal | None:
    """A money/rate field from the API (decimal string, JSON number or MonetaryObject) → Decimal."""
    if value is None or value == "":
        return None
    if isinstance(value, Mapping):
        return to_decimal(value.get("number", value.get("amount")))
    if isinstance(value, bool):
        raise ValueError("a boolean is not an amount")
    if isinstance(value, float):  # only reachable for data not parsed by ``loads``
        return Decimal(repr(value))
    try:
        return Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal amount: {value!r}") from exc


def money(amount: Decimal | None, currency: str) -> dict[str, str] | None:
    """A MonetaryObject as the API shows it: decimal string amount, lower-case currency code."""
    if amount is None:
        return None
    return {"number": decimal_literal(amount), "currency": currency.lower()}


def parse_datetime(value: Any) -> dt.datetime | None:
    """ISO 8601 → aware datetime (a naive value is taken as UTC, which is what the API sends)."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        parsed = dt.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def format_datetime(value: dt.datetime) -> str:
    """Aware datetime → fixed-width ISO 8601 UTC, ``2025-01-31T09:00:00.000000Z``.

    Always with microseconds: fixed width sorts as text in time order, so a server comparing stamps as
    strings still filters ``dates[last_updated][gte]`` correctly."""
    if value.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware (UTC) datetime")
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
