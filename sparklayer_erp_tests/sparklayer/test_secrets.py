"""The client secret and access tokens never reach logs, reprs or exception text."""

from __future__ import annotations

import logging
import socket

import pytest

from sparklayer_erp.demo.sandbox.server import SandboxHandle
from sparklayer_erp.sparklayer.errors import SparkLayerError
from sparklayer_erp.sparklayer.models import PriceList

from .conftest import SECRET, MakeClient


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in out:
        out.append(current)
        current = current.__cause__ or current.__context__
    return out


def test_no_secret_or_token_in_logs_or_errors(
    make_client: MakeClient, sandbox: SandboxHandle, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # root: includes httpx, httpcore and our own logger
    for name in ("httpx", "httpcore", "sparklayer_erp"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    client = make_client(max_attempts=2)
    errors: list[SparkLayerError] = []
    tokens = [client.get_token()]

    sandbox.admin.set_faults(revoke_tokens=True)  # 401 -> renewal
    client.list_stock_locations()
    tokens.append(client.get_token())
    sandbox.admin.set_faults(rate_limit_next=1, retry_after_s=1)  # warning-level retry log
    client.list_customer_groups()
    sandbox.admin.set_faults(server_error_next=5)  # retries run out
    for call in (
        client.list_stock_locations,
        lambda: client.get_price_list("nope"),
        lambda: client.create_price_list(PriceList("bad slug!", "x", "GBP")),
    ):
        try:
            call()
        except SparkLayerError as exc:
            errors.append(exc)
        sandbox.admin.clear_faults()
    sandbox.admin.set_faults(token_lifetime_s=0, revoke_tokens=True)  # a 401 that renewal cannot fix
    try:
        client.list_stock_locations()
    except SparkLayerError as exc:
        errors.append(exc)
    tokens.append(client.get_token())
    sandbox.admin.clear_faults()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    for broken in (make_client(client_secret="wrong-" + SECRET), make_client(base_url=dead, max_attempts=1)):
        try:
            broken.list_stock_locations()
        except SparkLayerError as exc:
            errors.append(exc)

    assert len(errors) == 6 and len(set(tokens)) == 3
    assert any(r.name.startswith("httpx") for r in caplog.records)  # the capture really saw httpx
    assert any(r.name.startswith("httpcore") for r in caplog.records)
    texts = [caplog.text, repr(client), repr(client.__dict__)]
    for exc in errors:
        texts += [str(e) for e in _chain(exc)] + [repr(e) for e in _chain(exc)]
        texts += [repr(vars(e)) for e in _chain(exc)]
    blob = "\n".join(texts)
    for secret in (SECRET, *tokens):
        assert secret not in blob
