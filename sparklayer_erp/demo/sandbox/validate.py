"""Request bodies: parse JSON strictly, check each field, report every bad field at once.

Why strict: the sandbox exists to catch integration bugs before the real SparkLayer does. A malformed body,
a wrong type or a missing field is a 400 naming the field (``errors[].property``), never a 500; an unknown
field is a 400 too, because a misspelt key silently dropped by a lenient server is exactly the bug that
would otherwise reach production unnoticed.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sparklayer_erp.demo.sandbox.db import format_stamp
from sparklayer_erp.demo.sandbox.problems import ApiError, FieldError, bad_request

MAX_INT = 2**31 - 1
MAX_TEXT = 1000
MAX_SIGNIFICANT_DIGITS = 15  # what a JSON number survives as a double without changing (see db.json_number)
MAX_NUMBER = Decimal("1e12")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
_MISSING = object()


def prop_of(prefix: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else key


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def parse_json(raw: bytes, content_type: str | None) -> Any:
    """The body as Python data (floats as ``Decimal``); 415 unless it is declared ``application/json``."""
    if media_type(content_type) != "application/json":
        raise ApiError(415, "send the body as application/json",
                       [FieldError("unsupported-media-type",
                                   f"Content-Type {content_type or '(none)'} is not accepted", "")])
    try:
        data = json.loads(raw.decode("utf-8"), parse_float=Decimal, parse_constant=_no_constants)
        json.dumps(data, ensure_ascii=False, default=str).encode("utf-8")
    except (UnicodeError, ValueError, RecursionError) as exc:
        raise bad_request("invalid-json", f"the body is not valid JSON: {type(exc).__name__}") from None
    return data


def parse_uuid(text: str) -> str | None:
    """Canonical lower-case UUID text, or None when ``text`` is not a UUID."""
    try:
        return str(uuid.UUID(text))
    except (ValueError, AttributeError, TypeError):
        return None


def parse_instant(text: str) -> str | None:
    """ISO 8601 date-time (``Z`` or offset; naive = UTC) → the store's fixed stamp format, else None."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except (ValueError, TypeError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    try:
        return format_stamp(moment)
    except (OverflowError, ValueError):
        return None


def parse_date(text: str) -> str | None:
    """ISO 8601 date (``2025-01-31``) or date-time; returned as given when it parses."""
    try:
        dt.date.fromisoformat(text)
        return text
    except (ValueError, TypeError):
        return text if parse_instant(text) else None


class Checker:
    """Collects per-field errors; ``raise_if_any`` turns them into one 400 problem."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def fail(self, prop: str, message: str, code: str = "invalid") -> None:
        self.errors.append(FieldError(code, message, prop))

    def raise_if_any(self, detail: str = "the request is invalid") -> None:
        if self.errors:
            raise ApiError(400, f"{detail}: {len(self.errors)} field error(s)", self.errors)

    # -- containers ---------------------------------------------------------------------------------------
    def root_object(self, data: Any) -> dict:
        if not isinstance(data, dict):
            raise bad_request("invalid-type", "the body must be a JSON object")
        return data

    def root_array(self, data: Any, *, min_items: int = 0, max_items: int | None = None) -> list:
        if not isinstance(data, list):
            raise bad_request("invalid-type", "the body must be a JSON array")
        if len(data) < min_items:
            raise bad_request("too-few-items", f"the body must hold at least {min_items} item(s)")
        if max_items is not None and len(data) > max_items:
            raise bad_request("too-many-items", f"the body may hold at most {max_items} items")
        return data

    def only_keys(self, data: dict, allowed: Iterable[str], prefix: str = "") -> None:
        allowed_set = set(allowed)
        for key in data:
            if key not in allowed_set:
                self.fail(prop_of(prefix, str(key)), f"unknown field {key!r}", "unknown-field")

    def _value(self, data: dict, key: str, prefix: str, required: bool, nullable: bool) -> Any:
        """The raw value, or ``_MISSING`` when absent/null (recording an error where that is not allowed)."""
        prop = prop_of(prefix, key)
        if key not in data:
            if required:
                self.fail(prop, f"{prop} is required", "required")
            return _MISSING
        value = data[key]
        if value is None:
            if required or not nullable:
                self.fail(prop, f"{prop} must not be null", "required")
            return _MISSING
        return value

    def obj(self, data: dict, key: str, prefix: str = "", *, required: bool = False,
            nullable: bool = True) -> dict | None:
        value = self._value(data, key, prefix, required, nullable)
        if value is _MISSING:
            return None
        if not isinstance(value, dict):
            self.fail(prop_of(prefix, key), "must be an object", "invalid-type")
            return None
        return value

    def array(self, data: dict, key: str, prefix: str = "", *, required: bool = False,
              nullable: bool = True, max_items: int = 10_000) -> list | None:
        value = self._value(data, key, prefix, required, nullable)
        if value is _MISSING:
            return None
        if not isinstance(value, list):
            self.fail(prop_of(prefix, key), "must be an array", "invalid-type")
            return None
        if len(value) > max_items:
            self.fail(prop_of(prefix, key), f"may hold at most {max_items} items", "too-many-items")
            return None
        return value

    def objects(self, data: dict, key: str, prefix: str = "", **kwargs: Any) -> list[tuple[str, dict]]:
        """An array of objects as ``(property, object)`` pairs; non-objects are reported and skipped."""
        items = self.array(data, key, prefix, **kwargs) or []
        out = []
        for i, item in enumerate(items):
            prop = prop_of(prop_of(prefix, key), i)
            if isinstance(item, dict):
                out.append((prop, item))
            else:
                self.fail(prop, "must be an object", "invalid-type")
        return out

    # -- scalars ------------------------------------------------------------------------------------------
    def text(self, data: dict, key: str, prefix: str = "", *, required: bool = False, nullable: bool = True,
             max_len: int = MAX_TEXT, pattern: re.Pattern[str] | None = None,
             choices: Iterable[str] | None = None, blank: bool = False) -> str | None:
        value = self._value(data, key, prefix, required, nullable)
        if value is _MISSING:
            return None
        prop = prop_of(prefix, key)
        if not isinstance(value, str):
            self.fail(prop, "must be a string", "invalid-type")
            return None
        if not blank and not value.strip():
            self.fail(prop, "must not be blank", "required")
            return None
        if len(value) > max_len:
            self.fail(prop, f"may be at most {max_len} characters", "too-long")
            return None
        if choices is not None and value not in set(choices):
            self.fail(prop, f"must be one of {', '.join(choices)}", "invalid-choice")
            return None
        if pattern is not None and not pattern.match(value):
            self.fail(prop, f"does not match {pattern.pattern}", "invalid-format")
            return None
        return value

    def currency(self, data: dict, key: str, prefix: str = "", *, required: bool = False) -> str | None:
        return self.text(data, key, prefix, required=required, max_len=3, pattern=CURRENCY_RE)

    def uuid(self, data: dict, key: str, prefix: str = "", *, required: bool = False) -> str | None:
        value = self.text(data, key, prefix, required=required, max_len=64)
        if value is None:
            return None
        canonical = parse_uuid(value)
        if canonical is None:
            self.fail(prop_of(prefix, key), "must be a UUID", "resource-id-invalid")
        return canonical

    def integer(self, data: dict, key: str, prefix: str = "", *, required: bool = False,
                nullable: bool = True, minimum: int | None = None, maximum: int = MAX_INT) -> int | None:
        value = self._value(data, key, prefix, required, nullable)
        if value is _MISSING:
            return None
        prop = prop_of(prefix, key)
        if type(value) is not int:
            self.fail(prop, "must be an integer", "invalid-type")
            return None
        if minimum is not None and value < minimum:
            self.fail(prop, f"must be at least {minimum}", "out-of-range")
            return None
        if value > maximum or value < -MAX_INT:
            self.fail(prop, f"must be between {-MAX_INT} and {maximum}", "out-of-range")
            return None
        return value

    def number(self, data: dict, key: str, prefix: str = "", *, required: bool = False,
               nullable: bool = True, minimum: Decimal | None = None,
               maximum: Decimal | None = None) -> Decimal | None:
        """A JSON number (not a string, not a bool), as an exact ``Decimal``."""
        value = self._value(data, key, prefix, required, nullable)
        if value is _MISSING:
            return None
        prop = prop_of(prefix, key)
        if type(value) is not int and not isinstance(value, Decimal):
            self.fail(prop, "must be a number", "invalid-type")
            return None
        return self._check_decimal(Decimal(value), prop, minimum, maximum)

    def decimal_text(self, data: dict, key: str, prefix: str = "", *, required: bool = False,
                     minimum: Decimal | None = None) -> Decimal | None:
        """A decimal given as a string (money objects, tax rates) or as a JSON number."""
        value = self._value(data, key, prefix, required, True)
        if value is _MISSING:
            return None
        prop = prop_of(prefix, key)
        if isinstance(value, str) and len(value) <= 40:
            try:
                number = Decimal(value.strip())
            except ArithmeticError:
                self.fail(prop, "must be a decimal number", "invalid-format")
                return None
        elif type(value) is int or isinstance(value, Decimal):
            number = Decimal(value)
        else:
            self.fail(prop, "must be a decimal number", "invalid-type")
            return None
        return self._check_decimal(number, prop, minimum, None)

    def _check_decimal(self, number: Decimal, prop: str, minimum: Decimal | None,
                       maximum: Decimal | None) -> Decimal | None:
        if not number.is_finite():
            self.fail(prop, "must be a finite number", "invalid-format")
            return None
        if abs(number) >= MAX_NUMBER or len(number.normalize().as_tuple().digits) > MAX_SIGNIFICANT_DIGITS:
            self.fail(prop, f"must be below {MAX_NUMBER} with at most {MAX_SIGNIFICANT_DIGITS} digits",
                      "out-of-range")
            return None
        if minimum is not None and number < minimum:
            self.fail(prop, f"must be at least {minimum}", "out-of-range")
            return None
        if maximum is not None and number > maximum:
            self.fail(prop, f"must be at most {maximum}", "out-of-range")
            return None
        return number

    def boolean(self, data: dict, key: str, prefix: str = "", *, required: bool = False,
                nullable: bool = True) -> bool | None:
        value = self._value(data, key, prefix, required, nullable)
        if value is _MISSING:
            return None
        if not isinstance(value, bool):
            self.fail(prop_of(prefix, key), "must be true or false", "invalid-type")
            return None
        return value

    def instant(self, data: dict, key: str, prefix: str = "", *, required: bool = False) -> str | None:
        """An ISO 8601 date-time, normalised to UTC with microseconds."""
        value = self.text(data, key, prefix, required=required, max_len=64)
        if value is None:
            return None
        stamp = parse_instant(value)
        if stamp is None:
            self.fail(prop_of(prefix, key), "must be an ISO 8601 date-time", "invalid-format")
        return stamp

    def date(self, data: dict, key: str, prefix: str = "", *, required: bool = False) -> str | None:
        value = self.text(data, key, prefix, required=required, max_len=64)
        if value is None:
            return None
        if parse_date(value) is None:
            self.fail(prop_of(prefix, key), "must be an ISO 8601 date", "invalid-format")
            return None
        return value

    def strings(self, data: dict, key: str, prefix: str = "", *, max_items: int = 1000,
                max_len: int = 255) -> list[str] | None:
        items = self.array(data, key, prefix, max_items=max_items)
        if items is None:
            return None
        out = []
        for i, item in enumerate(items):
            if isinstance(item, str) and item.strip() and len(item) <= max_len:
                out.append(item)
            else:
                self.fail(prop_of(prop_of(prefix, key), i), f"must be a non-blank string of at most "
                          f"{max_len} characters", "invalid-type")
        return out

    def money(self, data: dict, key: str, prefix: str = "", *, required: bool = False) -> dict | None:
        """A MonetaryObject ``{number: "15.99", currency: "gbp"}`` (amounts are decimal strings)."""
        value = self.obj(data, key, prefix, required=required)
        if value is None:
            return None
        prop = prop_of(prefix, key)
        self.only_keys(value, ("number", "currency"), prop)
        number = self.text(value, "number", prop, required=True, max_len=40)
        currency = self.text(value, "currency", prop, required=True, max_len=3)
        if number is None or currency is None:
            return None
        amount = self.decimal_text(value, "number", prop)
        if amount is None:
            return None
        if not re.fullmatch(r"[A-Za-z]{3}", currency):
            self.fail(prop_of(prop, "currency"), "must be a 3-letter currency code", "invalid-format")
            return None
        return {"number": number.strip(), "currency": currency}
