"""ASGI layers in front of the routes: injected faults, the write log, and the Bearer/Site-Id gate.

``FaultsAndWriteLog`` wraps the *whole* Starlette stack (see ``app.SandboxApp``) so that it receives the
server's own ``send``: that is what lets a "dropped connection" fault close the socket with no response at
all, the failure a client sees when a load balancer or the network gives up mid-request.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sparklayer_erp.demo.sandbox.auth import TokenService
from sparklayer_erp.demo.sandbox.faults import TOKEN_PATH, WRITE_METHODS, Fault
from sparklayer_erp.demo.sandbox.problems import ApiError, FieldError
from sparklayer_erp.demo.sandbox.service import Sandbox
from sparklayer_erp.sparklayer import contract

log = logging.getLogger(__name__)
READ_ONLY_POSTS = frozenset({"/api/v1/batch-fetch-stock"})


def is_logged_write(method: str, path: str) -> bool:
    return (path.startswith("/api/") and method in WRITE_METHODS and path != TOKEN_PATH
            and path not in READ_ONLY_POSTS)


def fault_error(fault: Fault) -> ApiError:
    if fault.kind == "rate_limit":
        return ApiError(429, "too many requests; retry after the Retry-After delay",
                        [FieldError("rate-limited", "too many requests", "")],
                        headers={"Retry-After": str(fault.retry_after_s)})
    if fault.kind == "conflict":
        message = "another update to this resource is in progress; retry with backoff"
        return ApiError(409, message, [FieldError(contract.RETRYABLE_409_CODE, message, "")])
    return ApiError(fault.status, "the service is temporarily unavailable",
                    [FieldError("server-error", "injected server error", "")])


async def drop_connection(send: Send) -> None:
    """Close the socket without a response.

    uvicorn's ``send`` is a bound method of its request cycle, which holds the transport; closing it and
    marking the cycle disconnected makes the client see "server disconnected without a response". Under a
    server without that shape, a response is started and never finished, so the server closes it instead.
    """
    cycle: Any = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is not None and hasattr(cycle, "disconnected"):
        transport.close()
        cycle.disconnected = True
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1048576")]})


class FaultsAndWriteLog:
    def __init__(self, app: ASGIApp, sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        query = scope.get("query_string", b"").decode("latin-1")
        faults = self.sandbox.faults
        delay = faults.latency_s(method, path)
        if delay:
            await asyncio.sleep(delay)
        fault = faults.decide(method, path)
        logged = is_logged_write(method, path)
        if fault is not None:
            if logged:
                self.sandbox.log_write(method, path, query, fault.status or None, fault.kind, b"")
            if fault.kind == "drop":
                await drop_connection(send)
            else:
                await fault_error(fault).response()(scope, receive, send)
            return
        if not logged:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        status: list[int] = []

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
            return message

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        try:
            await self.app(scope, recording_receive, recording_send)
        finally:
            self.sandbox.log_write(method, path, query, status[0] if status else None, None, b"".join(chunks))


class AuthGate:
    """Every ``/api`` path except the token endpoint needs a valid Bearer token for this Site-Id."""

    def __init__(self, app: ASGIApp, tokens: TokenService) -> None:
        self.app = app
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path.startswith("/api/") and path != TOKEN_PATH:
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
            try:
                self.tokens.verify(headers.get("authorization"), headers.get("site-id"))
            except ApiError as exc:
                await exc.response()(scope, receive, send)
                return
        await self.app(scope, receive, send)
