"""NetSuite's error bodies as typed exceptions.

SuiteTalk REST answers errors as ``{type, title, status, "o:errorDetails": [{detail, "o:errorCode",
"o:errorPath", ...}]}`` (a 429 also carries a top-level ``o:errorCode``). Every error the client raises is an
``ErpTechnicalError`` to the port; the adapter catches the few it expects (not found, duplicate external id,
credit refusals) and turns them into results or typed refusals.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import httpx

from sparklayer_erp.erp.netsuite import conventions as conv
from sparklayer_erp.erp.port import ErpTechnicalError

_MAX_DETAIL = 400


@dataclass(frozen=True)
class ErrorDetail:
    detail: str
    code: str | None
    path: str | None = None
    query_param: str | None = None


class NetSuiteApiError(ErpTechnicalError):
    """NetSuite answered an HTTP error. ``codes`` holds every ``o:errorCode`` (details first, then the
    top-level one); ``detail`` the details' text (secrets scrubbed, shortened)."""

    def __init__(self, method: str, path: str, status: int, title: str, details: tuple[ErrorDetail, ...],
                 top_code: str | None = None) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.title = title
        self.details = details
        self.codes: tuple[str, ...] = tuple(
            dict.fromkeys([d.code for d in details if d.code] + ([top_code] if top_code else []))
        )
        self.detail = "; ".join(d.detail for d in details if d.detail) or title
        code = f" {self.codes[0]}" if self.codes else ""
        super().__init__(f"NetSuite {method} {path}: HTTP {status}{code}: {self.detail}")

    @property
    def code(self) -> str | None:
        return self.codes[0] if self.codes else None

    def has_code(self, codes: Iterable[str]) -> bool:
        wanted = set(codes)
        return any(c in wanted for c in self.codes)

    def mentions(self, texts: Iterable[str]) -> bool:
        low = self.detail.lower()
        return any(t in low for t in texts)


class NetSuiteNotFound(NetSuiteApiError):
    """404 ``NONEXISTENT_ID`` (for an ``eid:`` lookup: not created yet)."""


class NetSuiteAuthError(NetSuiteApiError):
    """401 ``INVALID_LOGIN`` after a fresh token, or the token endpoint refused our assertion."""


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Remove every secret value (and anything that long and identical) from a text."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def parse_error(response: httpx.Response, method: str, path: str, secrets: Iterable[str] = ()) -> NetSuiteApiError:
    """The typed error for a non-2xx response (unreadable bodies keep the status and a short text)."""
    secrets = tuple(secrets)
    title = response.reason_phrase or "error"
    details: list[ErrorDetail] = []
    top_code: str | None = None
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        body = None
    if isinstance(body, dict):
        title = str(body.get("title") or title)
        top_code = body.get("o:errorCode") if isinstance(body.get("o:errorCode"), str) else None
        for item in body.get("o:errorDetails") or []:
            if not isinstance(item, dict):
                continue
            details.append(ErrorDetail(
                detail=scrub(str(item.get("detail") or ""), secrets)[:_MAX_DETAIL],
                code=item.get("o:errorCode") if isinstance(item.get("o:errorCode"), str) else None,
                path=item.get("o:errorPath"),
                query_param=item.get("o:errorQueryParam"),
            ))
        # OAuth token endpoint errors: {"error": "invalid_grant", "error_description": ...}
        if not details and isinstance(body.get("error"), str):
            details.append(ErrorDetail(
                detail=scrub(str(body.get("error_description") or body["error"]), secrets)[:_MAX_DETAIL],
                code=body["error"],
            ))
    elif response.content:
        details.append(ErrorDetail(detail=scrub(response.text, secrets)[:_MAX_DETAIL], code=None))
    title = scrub(title, secrets)[:_MAX_DETAIL]
    cls: type[NetSuiteApiError] = NetSuiteApiError
    codes = {d.code for d in details} | {top_code}
    if response.status_code == 404:
        cls = NetSuiteNotFound
    elif response.status_code == 401 or conv.INVALID_LOGIN_CODE in codes:
        cls = NetSuiteAuthError
    return cls(method, path, response.status_code, title, tuple(details), top_code)


def is_retryable(error: NetSuiteApiError) -> bool:
    """429, concurrency-limit and unexpected errors, and every 5xx: retry with back-off."""
    return error.status == 429 or error.status >= 500 or error.has_code(conv.RETRYABLE_CODES)


def is_duplicate(error: NetSuiteApiError) -> bool:
    """A create refused because the external id is already used (code or text; see conventions)."""
    return error.status in (400, 409) and (
        error.has_code(conv.DUPLICATE_CODES) or error.mentions(conv.DUPLICATE_TEXTS)
    )


def credit_refusal_kind(error: NetSuiteApiError) -> str | None:
    """``"hold"``, ``"limit"`` or None: is this 400 a credit refusal (code and text; see conventions)?"""
    if error.status != 400 or not error.has_code(conv.CREDIT_CODES):
        return None
    if error.has_code({"CREDIT_LIMIT_EXCEEDED"}) or error.mentions(conv.CREDIT_LIMIT_TEXTS):
        return "limit"
    if error.has_code({"CREDIT_HOLD"}) or error.mentions(conv.CREDIT_HOLD_TEXTS):
        return "hold"
    return None
