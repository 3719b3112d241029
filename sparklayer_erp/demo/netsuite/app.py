"""The emulator as an ASGI app: ``create_app(db_path)`` → a Starlette app serving the documented API."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from sparklayer_erp.demo.netsuite import api, async_jobs, errors, records
from sparklayer_erp.demo.netsuite.credentials import EmulatorCredentials
from sparklayer_erp.demo.netsuite.gateway import Gateway
from sparklayer_erp.demo.netsuite.service import Emulator

log = logging.getLogger(__name__)


class EmulatorApp(Starlette):
    """Starlette with the gateway (governance, faults, auth) outside everything: it needs the raw ``send``."""

    emulator: Emulator

    def build_middleware_stack(self) -> ASGIApp:
        return Gateway(super().build_middleware_stack(), self.emulator)


async def _ns_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.NsError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return errors.NsError(404, "INVALID_PARAMETER", f"The resource {request.url.path} does not exist.").response()
    return errors.NsError(exc.status_code, "INVALID_REQUEST", "The request could not be understood by the server "
                          "due to malformed syntax.").response()


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("emulator bug while handling %s %s", request.method, request.url.path)
    return errors.unexpected(secrets.token_hex(10)).response()


def create_app(db_path: Path, *, credentials: EmulatorCredentials | None = None, seed: bool = True) -> EmulatorApp:
    emulator = Emulator(Path(db_path), credentials, seed_data=seed)
    handlers: dict[Any, Any] = {errors.NsError: _ns_error, HTTPException: _http_error, Exception: _unexpected}
    app = EmulatorApp(routes=[*api.ROUTES, *async_jobs.ROUTES, *records.ROUTES], exception_handlers=handlers)
    app.emulator = emulator
    app.state.emulator = emulator
    return app
