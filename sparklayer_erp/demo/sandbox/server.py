"""Serving the sandbox with uvicorn: in a background thread for tests and the demo, or in the foreground.

The socket is bound before the server thread starts, so ``port=0`` yields a free port that is already
listening when ``run_sandbox`` hands out the handle (no wait-and-poll, no port races).
"""

from __future__ import annotations

import argparse
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from sparklayer_erp.demo.sandbox.admin import SandboxAdmin
from sparklayer_erp.demo.sandbox.app import SandboxApp, create_app
from sparklayer_erp.demo.sandbox.service import Sandbox

HOST = "127.0.0.1"
DEFAULT_PORT = 8700


@dataclass
class SandboxHandle:
    base_url: str
    admin: SandboxAdmin
    app: SandboxApp
    _server: uvicorn.Server
    _thread: threading.Thread

    @property
    def sandbox(self) -> Sandbox:
        """In-process access to the same instance (faults, buyer functions) without HTTP."""
        return self.app.sandbox

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self.admin.close()
        self.app.sandbox.close()


def _config(app: SandboxApp, port: int) -> uvicorn.Config:
    return uvicorn.Config(app, host=HOST, port=port, log_level="warning", access_log=False, lifespan="off",
                          timeout_graceful_shutdown=2)


@contextmanager
def run_sandbox(db_path: Path, port: int = 0, **app_options: Any) -> Iterator[SandboxHandle]:
    """Serve a sandbox on 127.0.0.1 in a background thread for the duration of the ``with`` block."""
    app = create_app(Path(db_path), **app_options)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    server = uvicorn.Server(_config(app, port))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="sparklayer-sandbox",
                              daemon=True)
    thread.start()
    base_url = f"http://{HOST}:{sock.getsockname()[1]}"
    handle = SandboxHandle(base_url, SandboxAdmin(base_url), app, server, thread)
    try:
        while not server.started and thread.is_alive():
            thread.join(timeout=0.01)
        if not server.started:
            raise RuntimeError("the sandbox server did not start")
        yield handle
    finally:
        handle.stop()
        sock.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sparklayer-erp sandbox", description="Serve the SparkLayer sandbox.")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--db", help="SQLite file, created and seeded if new (default: <data dir>/sandbox.sqlite)")
    args = parser.parse_args(argv)
    if not args.db:
        from sparklayer_erp import settings

        args.db = str(settings.data_dir() / "sandbox.sqlite")
    app = create_app(Path(args.db))
    print(f"SparkLayer sandbox on http://{HOST}:{args.port} (site {app.sandbox.tokens.site_id}, db {args.db})")
    uvicorn.Server(_config(app, args.port)).run()
    return 0
