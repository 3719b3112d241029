"""Errors as the SparkLayer API returns them: RFC 7807 problem details, or ``[{line, field, message}]``
for the pricing bulk endpoints.

Handlers raise ``ApiError``/``PricingLineErrors``; the app turns them into responses, so no handler
builds an error body by hand and every 4xx has the same shape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from sparklayer_erp.demo.sandbox.db import json_number

PROBLEM_JSON = "application/problem+json"

TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
          405: "Method Not Allowed", 409: "Conflict", 413: "Payload Too Large",
          415: "Unsupported Media Type", 429: "Too Many Requests", 500: "Internal Server Error",
          502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


def render_json(content: Any) -> bytes:
    return json.dumps(content, separators=(",", ":"), default=json_number).encode("utf-8")


class JsonResponse(Response):
    """JSON with ``Decimal`` rendered as a number (see ``db.json_number``)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return render_json(content)


@dataclass(frozen=True)
class FieldError:
    code: str
    message: str
    property: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "property": self.property}


class ApiError(Exception):
    """An RFC 7807 problem: ``title``, ``status``, ``detail`` and optional per-field ``errors``."""

    def __init__(self, status: int, detail: str, errors: list[FieldError] | tuple[FieldError, ...] = (),
                 *, title: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = list(errors)
        self.title = title or TITLES.get(status, "Error")
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"title": self.title, "status": self.status, "detail": self.detail}
        if self.errors:
            body["errors"] = [e.as_dict() for e in self.errors]
        return body

    def response(self) -> Response:
        return Response(render_json(self.body()), status_code=self.status, headers=self.headers,
                        media_type=PROBLEM_JSON)


def bad_request(code: str, message: str, prop: str = "") -> ApiError:
    return ApiError(400, message, [FieldError(code, message, prop)])


def not_found(what: str, identifier: str, prop: str = "") -> ApiError:
    message = f"{what} {identifier!r} was not found"
    return ApiError(404, message, [FieldError("resource-id-not-found", message, prop)])


def conflict(code: str, message: str, prop: str = "") -> ApiError:
    return ApiError(409, message, [FieldError(code, message, prop)])


@dataclass(frozen=True)
class LineError:
    line: int
    field: str
    message: str


class PricingLineErrors(Exception):
    """400 from the pricing bulk endpoints: a bare array of ``{line, field, message}``."""

    def __init__(self, errors: list[LineError]) -> None:
        super().__init__(f"{len(errors)} pricing line error(s)")
        self.errors = errors

    def response(self) -> Response:
        body = [{"line": e.line, "field": e.field, "message": e.message} for e in self.errors]
        return JsonResponse(body, status_code=400)
