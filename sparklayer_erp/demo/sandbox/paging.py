"""Query-string helpers shared by the list endpoints: v2 page/page_size envelopes and strict parameters."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sparklayer_erp.demo.sandbox.problems import ApiError, FieldError, bad_request
from sparklayer_erp.sparklayer import contract

DEFAULT_PAGE_SIZE = 100


def reject_unknown_params(params: Mapping[str, str], allowed: Iterable[str]) -> None:
    """A misspelt filter (``dates[last_updated[gte]``) must fail loudly, not silently return everything."""
    allowed_set = set(allowed)
    errors = [FieldError("unknown-parameter", f"unknown query parameter {key!r}", key)
              for key in params if key not in allowed_set]
    if errors:
        raise ApiError(400, "the query has unknown parameters", errors)


def int_param(params: Mapping[str, str], name: str, default: int, minimum: int, maximum: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request("invalid-type", f"{name} must be an integer", name) from None
    if not minimum <= value <= maximum:
        raise bad_request("out-of-range", f"{name} must be between {minimum} and {maximum}", name)
    return value


def page_params(params: Mapping[str, str]) -> tuple[int, int]:
    page = int_param(params, "page", 1, 1, 10**9)
    size = int_param(params, "page_size", DEFAULT_PAGE_SIZE, 1, contract.PRICE_LISTS_MAX_PAGE_SIZE)
    return page, size


def page_envelope(rows: list[Any], total: int, page: int, per_page: int) -> dict[str, Any]:
    """``{data, pagination}``; an empty collection still has one (empty) page, see contract.py item 13."""
    total_pages = max(contract.EMPTY_TOTAL_PAGES, -(-total // per_page))
    return {"data": rows, "pagination": {"total": total, "per_page": per_page, "current_page": page,
                                         "total_pages": total_pages}}
