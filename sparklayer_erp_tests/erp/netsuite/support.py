"""Keys, configs and a recording fake transport for the NetSuite adapter's unit tests (the HTTP edge)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from sparklayer_erp.erp.netsuite.client import NetSuiteHttp
from sparklayer_erp.erp.netsuite.config import NetSuiteConfig

ACCOUNT = "1234567_SB1"
CONSUMER_SECRET = "cs-7f3a9e1d2c4b5a6978"  # test values, scanned for in logs and errors
TOKEN_SECRET = "ts-0a1b2c3d4e5f6a7b8c9d"
ACCESS_TOKEN = "at-eyJraWQiOiJzLlNZU1RFTS4yMDIwXzEi-test-token"


@lru_cache(maxsize=1)
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@lru_cache(maxsize=1)
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def oauth_config(**overrides: Any) -> NetSuiteConfig:
    values: dict[str, Any] = {
        "account_id": ACCOUNT, "auth": "oauth2", "client_id": "client-123", "certificate_id": "cert-456",
        "private_key_pem": pem(rsa_key()), "max_retries": 4,
    }
    values.update(overrides)
    return NetSuiteConfig(**values)


def tba_config(**overrides: Any) -> NetSuiteConfig:
    values: dict[str, Any] = {
        "account_id": ACCOUNT, "auth": "tba", "consumer_key": "ck-111", "consumer_secret": CONSUMER_SECRET,
        "token_id": "tok-222", "token_secret": TOKEN_SECRET, "max_retries": 4,
    }
    values.update(overrides)
    return NetSuiteConfig(**values)


def error_body(status: int, code: str, detail: str, top: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html", "title": "Bad Request", "status": status,
        "o:errorDetails": [{"detail": detail, "o:errorCode": code, **extra}],
    }
    if top:
        body["o:errorCode"] = top
    return body


def concurrency_429() -> httpx.Response:
    """Oracle's documented 429 body."""
    return httpx.Response(429, json=error_body(
        429, "CONCURRENCY_LIMIT_EXCEEDED", "Concurrent request limit exceeded. Request blocked.", top="USER_ERROR"))


class FakeNetSuite:
    """A recording ``httpx.MockTransport`` handler: the token endpoint answers a token, everything else is
    answered by ``handler`` (default 204)."""

    def __init__(self, handler: Callable[[httpx.Request], httpx.Response] | None = None) -> None:
        self.handler = handler or (lambda request: httpx.Response(204))
        self.requests: list[httpx.Request] = []
        self.token_requests: list[dict[str, str]] = []
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/auth/oauth2/v1/token"):
            form = dict(httpx.QueryParams(request.content.decode()))
            with self.lock:
                self.token_requests.append(form)
            return httpx.Response(200, json={"access_token": ACCESS_TOKEN, "expires_in": 3600,
                                             "token_type": "Bearer"})
        with self.lock:
            self.requests.append(request)
        return self.handler(request)

    def client(self, config: NetSuiteConfig, sleeps: list[float] | None = None, **kwargs: Any) -> NetSuiteHttp:
        recorded = sleeps if sleeps is not None else []
        return NetSuiteHttp(config, transport=httpx.MockTransport(self), sleep=recorded.append, **kwargs)


def json_of(request: httpx.Request) -> Any:
    return json.loads(request.content.decode()) if request.content else None


def config_from_settings(settings: dict[str, str], **overrides: Any) -> NetSuiteConfig:
    """A config from ``NETSUITE_*`` settings (what the emulator hands out), as the deployment wires it."""
    return NetSuiteConfig.from_settings(settings, **{"timeout": 10.0, **overrides})
