"""Local receivers with real sockets: an SMTP sink and a webhook endpoint that record what they get."""

from __future__ import annotations

import json
import socketserver
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _SmtpHandler(socketserver.StreamRequestHandler):
    def _say(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())

    def handle(self) -> None:
        self._say("220 sink ready")
        envelope: dict = {"rcpt": []}
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            command = raw.decode(errors="replace").strip()
            verb = command[:4].upper()
            if verb in ("HELO", "EHLO"):
                self._say("250 sink")
            elif verb == "MAIL":
                envelope = {"from": command[10:].strip("<> "), "rcpt": []}
                self._say("250 ok")
            elif verb == "RCPT":
                envelope["rcpt"].append(command[8:].strip("<> "))
                self._say("250 ok")
            elif verb == "DATA":
                self._say("354 end with .")
                lines = []
                while True:
                    line = self.rfile.readline().decode(errors="replace")
                    if line in (".\r\n", ".\n", ""):
                        break
                    lines.append(line)
                envelope["data"] = "".join(lines)
                self.server.messages.append(envelope)  # type: ignore[attr-defined]
                self._say("250 queued")
            elif verb == "QUIT":
                self._say("221 bye")
                return
            else:
                self._say("250 ok")


class _ThreadingTCP(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextmanager
def _serving(server: socketserver.BaseServer):
    """Serve in a background thread for the ``with`` block, then shut down and free the port."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def smtp_sink():
    """An SMTP server on a free loopback port; ``.messages`` holds each envelope received."""
    server = _ThreadingTCP(("127.0.0.1", 0), _SmtpHandler)
    server.messages = []  # type: ignore[attr-defined]
    return _serving(server)


class _HookHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server API)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.received.append({"path": self.path, "json": json.loads(body or b"null")})  # type: ignore
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args) -> None:
        pass


def webhook_receiver():
    """An HTTP endpoint on a free loopback port; ``.received`` holds each JSON body POSTed to it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HookHandler)
    server.received = []  # type: ignore[attr-defined]
    return _serving(server)
