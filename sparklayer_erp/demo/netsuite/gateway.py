"""The ASGI layer in front of every ``/services/rest`` route: concurrency governance, injected faults and
authentication, in that order.

It wraps the whole Starlette stack (``app.EmulatorApp``) so it holds the server's own ``send``: that is
what lets a fault close the socket with no answer at all, before or after the write committed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sparklayer_erp.demo.netsuite import async_jobs, errors
from sparklayer_erp.demo.netsuite.auth import TOKEN_PATH
from sparklayer_erp.demo.netsuite.faults import REST_PREFIX

RECORD_PREFIX = "/services/rest/record/"

if TYPE_CHECKING:
    from sparklayer_erp.demo.netsuite.service import Emulator


async def drop_connection(send: Send) -> None:
    """Close the socket without a response (uvicorn's cycle holds the transport; see the sandbox's twin)."""
    cycle: Any = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is not None and hasattr(cycle, "disconnected"):
        transport.close()
        cycle.disconnected = True
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1048576")]})


def request_url(scope: Scope) -> str:
    """``scheme://host[:port]/path`` as the client addressed it (the TBA base-string URL)."""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    host = headers.get("host") or f"{scope['server'][0]}:{scope['server'][1]}"
    scheme = scope.get("scheme", "http")
    for default in (":80",) if scheme == "http" else (":443",):
        host = host.removesuffix(default)
    return f"{scheme}://{host.lower()}{scope['path']}"


class Gateway:
    def __init__(self, app: ASGIApp, emulator: Emulator) -> None:
        self.app = app
        self.emulator = emulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(REST_PREFIX):
            await self.app(scope, receive, send)
            return
        if path == TOKEN_PATH:
            await self.app(scope, receive, send)
            return
        faults = self.emulator.faults
        if not faults.enter():
            await errors.concurrency_exceeded().response()(scope, receive, send)
            return
        try:
            await self._handle(scope, receive, send, path)
        finally:
            faults.leave()

    async def _handle(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        faults = self.emulator.faults
        method = scope["method"]
        if faults.config.latency_ms:
            await asyncio.sleep(faults.config.latency_ms / 1000)
        fault = faults.decide(method, path)
        if fault == "drop":
            await drop_connection(send)
            return
        if fault in ("rate_limit", "server_error"):
            error = errors.concurrency_exceeded() if fault == "rate_limit" else errors.unexpected(
                secrets.token_hex(10))
            await error.response()(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        try:
            await asyncio.to_thread(self.emulator.auth.authenticate, method, request_url(scope), query,
                                    headers.get("authorization"))
        except errors.NsError as exc:
            await exc.response()(scope, receive, send)
            return
        if "respond-async" in headers.get("prefer", "").lower() and path.startswith(RECORD_PREFIX):
            await self._run_async(scope, receive, send, headers.get("x-netsuite-idempotency-key"))
            return
        delay = faults.config.delay_after_commit_ms if method != "GET" else 0
        if fault != "drop_after_commit" and not delay:
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        if fault == "drop_after_commit":
            await drop_connection(send)
            return
        await asyncio.sleep(delay / 1000)
        for message in held:
            await send(message)

    async def _run_async(self, scope: Scope, receive: Receive, send: Send, key: str | None) -> None:
        """Run the request now and answer 202 with its job (or refuse a repeated idempotency key)."""
        jobs = self.emulator.jobs
        first = jobs.job_for_key(key)
        if first is not None:
            await async_jobs.idempotency_error(first)(scope, receive, send)
            return
        started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        status: list[int] = []
        location: list[str] = []
        body: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
                location.extend(v.decode("latin-1") for k, v in message.get("headers", [])
                                if k.decode("latin-1").lower() == "location")
            elif message["type"] == "http.response.body":
                body.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        job_id = jobs.add(status[0] if status else 500, location[0] if location else None, b"".join(body),
                          started, key)
        await async_jobs.accepted(job_id)(scope, receive, send)
