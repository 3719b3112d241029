"""Serving the emulator with uvicorn: in a background thread for tests and the demo, or in the foreground.

The socket is bound before the server thread starts, so ``port=0`` yields a free port that is already
listening when ``run_emulator`` hands out the handle.
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

from sparklayer_erp.demo.netsuite.app import EmulatorApp, create_app
from sparklayer_erp.demo.netsuite.credentials import adapter_settings
from sparklayer_erp.demo.netsuite.service import Emulator

HOST = "127.0.0.1"
DEFAULT_PORT = 8800


@dataclass
class EmulatorHandle:
    base_url: str
    app: EmulatorApp
    _server: uvicorn.Server
    _thread: threading.Thread

    @property
    def emulator(self) -> Emulator:
        """In-process access to the same instance (faults, preferences, clock) without HTTP."""
        return self.app.emulator

    @property
    def account_id(self) -> str:
        return self.emulator.credentials.account_id

    def adapter_settings(self, auth: str = "oauth2") -> dict[str, str]:
        """``NETSUITE_*`` settings that point an adapter at this emulator."""
        return adapter_settings(self.base_url, self.emulator.credentials, auth)

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self.emulator.close()


def _config(app: EmulatorApp, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="off",
                          timeout_graceful_shutdown=2)


@contextmanager
def run_emulator(db_path: Path, port: int = 0, **app_options: Any) -> Iterator[EmulatorHandle]:
    """Serve an emulator on 127.0.0.1 in a background thread for the duration of the ``with`` block."""
    app = create_app(Path(db_path), **app_options)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    server = uvicorn.Server(_config(app, HOST, port))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="netsuite-emulator", daemon=True)
    thread.start()
    handle = EmulatorHandle(f"http://{HOST}:{sock.getsockname()[1]}", app, server, thread)
    try:
        while not server.started and thread.is_alive():
            thread.join(timeout=0.01)
        if not server.started:
            raise RuntimeError("the NetSuite emulator did not start")
        yield handle
    finally:
        handle.stop()
        sock.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sparklayer_erp.demo.netsuite",
                                     description="Serve the NetSuite emulator (built from documentation).")
    parser.add_argument("--host", default=HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--db", help="SQLite file, created and seeded if new (default: <data dir>/netsuite.sqlite)")
    parser.add_argument("--concurrency-limit", type=int, default=None, help="in-flight requests before 429")
    parser.add_argument("--print-env", action="store_true",
                        help="print the NETSUITE_* settings an adapter needs for this emulator and exit")
    args = parser.parse_args(argv)
    if args.print_env:
        settings = adapter_settings(f"http://{args.host}:{args.port}")
        for key, value in settings.items():
            print(f"{key}={value}".replace("\n", "\\n"))
        return 0
    if not args.db:
        from sparklayer_erp import settings

        args.db = str(settings.data_dir() / "netsuite.sqlite")
    app = create_app(Path(args.db))
    if args.concurrency_limit:
        app.emulator.faults.set(concurrency_limit=args.concurrency_limit)
    print(f"NetSuite emulator on http://{args.host}:{args.port}/services/rest "
          f"(account {app.emulator.credentials.account_id}, db {args.db})")
    uvicorn.Server(_config(app, args.host, args.port)).run()
    return 0
