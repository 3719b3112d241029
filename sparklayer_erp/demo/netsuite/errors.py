"""NetSuite's REST error body: ``{type, title, status, "o:errorDetails": [{detail, "o:errorCode", ...}]}``."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

TYPE_URLS = {
    400: "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.1",
    401: "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.2",
    404: "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.5",
    405: "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.6",
    429: "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html",
    500: "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.5.1",
}
TITLES = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed",
          429: "Bad Request", 500: "Internal Server Error"}
INVALID_LOGIN_DETAIL = ("Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at "
                        "Setup > Users/Roles > User Management > View Login Audit Trail.")
NONEXISTENT_DETAIL = "The record instance does not exist. Provide a valid record instance ID."
CONCURRENCY_DETAIL = "Concurrent request limit exceeded. Request blocked."
ERROR_MEDIA_TYPE = "application/vnd.oracle.resource+json; type=error"


class NsError(Exception):
    """A documented error answer; raised anywhere in a handler, rendered by the app's exception handler."""

    def __init__(self, status: int, code: str, detail: str, *, top_code: str | None = None,
                 **extra: str) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status, self.code, self.detail, self.top_code, self.extra = status, code, detail, top_code, extra

    def body(self) -> dict[str, Any]:
        detail: dict[str, Any] = {"detail": self.detail, "o:errorCode": self.code}
        detail.update({f"o:{k}": v for k, v in self.extra.items()})
        body: dict[str, Any] = {"type": TYPE_URLS.get(self.status, TYPE_URLS[400]),
                                "title": TITLES.get(self.status, "Error"), "status": self.status}
        if self.top_code:
            body["o:errorCode"] = self.top_code
        body["o:errorDetails"] = [detail]
        return body

    def response(self) -> Response:
        return Response(json.dumps(self.body()), status_code=self.status, media_type=ERROR_MEDIA_TYPE)


def invalid_login() -> NsError:
    return NsError(401, "INVALID_LOGIN", INVALID_LOGIN_DETAIL)


def nonexistent() -> NsError:
    return NsError(404, "NONEXISTENT_ID", NONEXISTENT_DETAIL)


def concurrency_exceeded() -> NsError:
    return NsError(429, "CONCURRENCY_LIMIT_EXCEEDED", CONCURRENCY_DETAIL, top_code="USER_ERROR")


def unexpected(error_id: str) -> NsError:
    return NsError(500, "UNEXPECTED_ERROR", f"An unexpected error occurred. Error ID: {error_id}")


def invalid_content(detail: str, path: str | None = None) -> NsError:
    extra = {"errorPath": path} if path else {}
    return NsError(400, "INVALID_CONTENT", detail, **extra)


def invalid_field_value(value: Any, field: str, path: str | None = None) -> NsError:
    return invalid_content("Error while accessing resource: You have entered an Invalid Field Value "
                           f"{value} for the following field: {field}", path)
