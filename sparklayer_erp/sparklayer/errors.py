"""Typed SparkLayer errors built from RFC 7807 problem bodies (or from no body at all).

Callers branch on the class (``SparkLayerNotFound`` → create it; ``SparkLayerValidationError`` → quarantine
the row and show ``errors``), never on message text. Messages carry the server's title/detail but are
scrubbed of the client secret and the access token by the client before they are raised.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sparklayer_erp.sparklayer import contract


@dataclass(frozen=True)
class ProblemItem:
    """One entry of a problem's ``errors[]``: RFC 7807 ``{code, message, property}`` or the pricing
    endpoints' ``{line, field, message}``; whichever keys the server sent are filled."""

    message: str
    code: str | None = None
    property: str | None = None
    line: int | None = None
    field: str | None = None

    @classmethod
    def from_api(cls, item: Any) -> ProblemItem:
        if not isinstance(item, Mapping):
            return cls(message=str(item))
        line = item.get("line")
        return cls(
            message=str(item.get("message") or item.get("detail") or ""),
            code=_opt_str(item.get("code")),
            property=_opt_str(item.get("property")),
            line=line if isinstance(line, int) and not isinstance(line, bool) else None,
            field=_opt_str(item.get("field")),
        )


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


class SparkLayerError(Exception):
    """Base of every error the client raises. ``status`` is None when no HTTP answer was received."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        title: str | None = None,
        detail: str | None = None,
        code: str | None = None,
        errors: tuple[ProblemItem, ...] = (),
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.title = title
        self.detail = detail
        self.code = code
        self.errors = errors
        self.method = method
        self.path = path

    @property
    def codes(self) -> tuple[str, ...]:
        """The problem's own code plus every ``errors[].code`` (for branching on documented codes)."""
        found = [self.code] if self.code else []
        found += [e.code for e in self.errors if e.code]
        return tuple(found)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, message={self.message!r})"


class SparkLayerValidationError(SparkLayerError):
    """400: the request is wrong; sending it again unchanged will fail again."""


class SparkLayerAuthError(SparkLayerError):
    """401/403: bad credentials, a token that a renewal did not fix, or a forbidden change."""


class SparkLayerNotFound(SparkLayerError):
    """404."""


class SparkLayerConflict(SparkLayerError):
    """409. ``retryable`` is True only for a concurrent-update clash (the contract's code)."""

    @property
    def retryable(self) -> bool:
        return contract.RETRYABLE_409_CODE in self.codes


def is_refusal(exc: SparkLayerError) -> bool:
    """A 4xx that sending again unchanged cannot fix (429 and a concurrent-update 409 are worth retrying)."""
    if isinstance(exc, SparkLayerConflict):
        return not exc.retryable
    return exc.status is not None and 400 <= exc.status < 500 and exc.status != 429


class SparkLayerRateLimited(SparkLayerError):
    """429. ``retry_after_s`` is the server's requested wait (None when it sent no usable header)."""

    def __init__(self, message: str, *, retry_after_s: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after_s = retry_after_s


class SparkLayerServerError(SparkLayerError):
    """5xx."""


class SparkLayerUnavailable(SparkLayerError):
    """No HTTP answer: connection refused/reset or timeout, after the retries ran out."""


_BY_STATUS: dict[int, type[SparkLayerError]] = {
    400: SparkLayerValidationError,
    401: SparkLayerAuthError,
    403: SparkLayerAuthError,
    404: SparkLayerNotFound,
    409: SparkLayerConflict,
    429: SparkLayerRateLimited,
}


def error_class_for(status: int) -> type[SparkLayerError]:
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return SparkLayerServerError
    return SparkLayerError


def parse_problem(body: bytes) -> tuple[str | None, str | None, str | None, tuple[ProblemItem, ...]]:
    """(title, detail, code, errors) from an RFC 7807 body, a bare pricing error array, or nothing."""
    if not body or not body.strip():
        return None, None, None, ()
    try:
        doc = json.loads(body, parse_float=Decimal)
    except ValueError:
        text = body.decode("utf-8", "replace").strip()
        return None, text[:500] or None, None, ()
    if isinstance(doc, list):  # pricing bulk endpoints: [{line, field, message}]
        return None, None, None, _items(doc)
    if not isinstance(doc, Mapping):
        return None, str(doc)[:500], None, ()
    raw_errors = doc.get("errors")
    return (
        _opt_str(doc.get("title")),
        _opt_str(doc.get("detail")),
        _opt_str(doc.get("code")),
        _items(raw_errors) if isinstance(raw_errors, list) else (),
    )


def _items(raw: Iterable[Any]) -> tuple[ProblemItem, ...]:
    return tuple(ProblemItem.from_api(item) for item in raw)


def error_from_response(
    status: int,
    body: bytes,
    *,
    method: str,
    path: str,
    retry_after_s: float | None = None,
) -> SparkLayerError:
    """Build the typed error for one non-2xx answer (the caller scrubs secrets from ``body`` first)."""
    title, detail, code, errors = parse_problem(body)
    summary = "; ".join(
        part
        for part in (
            title,
            detail,
            *(_describe(item) for item in errors[:5]),
            f"(+{len(errors) - 5} more)" if len(errors) > 5 else None,
        )
        if part
    )
    message = f"SparkLayer {method} {path} -> {status}" + (f": {summary}" if summary else "")
    cls = error_class_for(status)
    kw: dict[str, Any] = dict(
        status=status, title=title, detail=detail, code=code, errors=errors, method=method, path=path
    )
    if cls is SparkLayerRateLimited:
        return SparkLayerRateLimited(message, retry_after_s=retry_after_s, **kw)
    return cls(message, **kw)


def _describe(item: ProblemItem) -> str:
    where = []
    if item.line is not None:
        where.append(f"line {item.line}")
    if item.field:
        where.append(item.field)
    if item.property:
        where.append(item.property)
    prefix = f"[{item.code}] " if item.code else ""
    return prefix + (f"{', '.join(where)}: " if where else "") + item.message
