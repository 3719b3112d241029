"""The sandbox as an ASGI app: ``create_app(db_path)`` → a Starlette app serving the documented API.

Credentials default to ``demo-site`` / ``demo-client`` / ``demo-secret`` and can be overridden with
``SANDBOX_SITE_ID``, ``SANDBOX_CLIENT_ID``, ``SANDBOX_CLIENT_SECRET`` (or the keyword arguments).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from sparklayer_erp.demo.sandbox import admin_routes, api_routes
from sparklayer_erp.demo.sandbox.auth import Credentials
from sparklayer_erp.demo.sandbox.middleware import AuthGate, FaultsAndWriteLog
from sparklayer_erp.demo.sandbox.problems import ApiError, FieldError, PricingLineErrors
from sparklayer_erp.demo.sandbox.service import Sandbox

log = logging.getLogger(__name__)
DEFAULT_SITE_ID = "demo-site"
DEFAULT_CLIENT_ID = "demo-client"
DEFAULT_CLIENT_SECRET = "demo-secret"  # noqa: S105 - the public demo credential of a local fake service
MAX_BODY_BYTES = 32 * 1024 * 1024


class SandboxApp(Starlette):
    """Starlette with the fault/write-log layer outside everything (it needs the server's raw ``send``)."""

    sandbox: Sandbox

    def build_middleware_stack(self) -> ASGIApp:
        return FaultsAndWriteLog(super().build_middleware_stack(), self.sandbox)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError | PricingLineErrors)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = exc.detail or "request failed"
    return ApiError(exc.status_code, message, [FieldError("http-error", message, "")],
                    headers=dict(exc.headers or {})).response()


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("sandbox bug while handling %s %s", request.method, request.url.path)
    return ApiError(500, "unexpected error in the sandbox").response()


def create_app(db_path: Path, *, site_id: str | None = None, client_id: str | None = None,
               client_secret: str | None = None, seed: bool = True) -> SandboxApp:
    credentials = Credentials(
        site_id=site_id or os.environ.get("SANDBOX_SITE_ID") or DEFAULT_SITE_ID,
        client_id=client_id or os.environ.get("SANDBOX_CLIENT_ID") or DEFAULT_CLIENT_ID,
        client_secret=client_secret or os.environ.get("SANDBOX_CLIENT_SECRET") or DEFAULT_CLIENT_SECRET,
    )
    sandbox = Sandbox(Path(db_path), credentials, seed_data=seed)
    handlers: dict[Any, Any] = {ApiError: _api_error, PricingLineErrors: _api_error, HTTPException: _http_error,
                                Exception: _unexpected}
    app = SandboxApp(routes=[*api_routes.ROUTES, *admin_routes.ROUTES],
                     middleware=[Middleware(AuthGate, tokens=sandbox.tokens)],
                     exception_handlers=handlers, max_body_size=MAX_BODY_BYTES)
    app.sandbox = sandbox
    app.state.sandbox = sandbox
    return app
