"""Malformed and mutated bodies on every write endpoint: always a 4xx (or a legitimate 2xx), never a 5xx."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sparklayer_erp_tests.demo.sandbox.helpers import ACME, CREDENTIALS, customer_body, money, purchase_body

PRICING = [{"sku": "SKU-A", "pricing": [{"quantity": 1, "price": 1.25}]}]
WRITE_ENDPOINTS: list[tuple[str, str, Any]] = [
    ("POST", "/api/auth/token", CREDENTIALS),
    ("PUT", f"/api/v2/customers/platform/{ACME.platform_id}",
     customer_body(price_lists=["TRADE"], payment_on_account={"credit_limit": 10, "balance": 1},
                   addresses=[{"external_id": "a1", "city": "York", "is_default_billing": True}])),
    ("POST", "/api/v1/customer-groups", {"slug": "g1", "name": "G1", "parent_slug": "trade"}),
    ("POST", "/api/v1/price-lists", {"slug": "NEW", "name": "New", "currency_code": "GBP", "rules": [
        {"source_price_list_slug": "TRADE", "adjustment_percentage": 0.1, "adjustment_direction": "plus"}]}),
    ("PATCH", "/api/v1/price-lists/TRADE", {"name": "Trade", "tax_inclusive_display": True, "rules": []}),
    ("PATCH", "/api/v1/price-lists/TRADE/pricing", PRICING),
    ("PATCH", "/api/v1/batch-update-pricing", [{**PRICING[0], "price_list_slug": "TRADE"}]),
    ("POST", "/api/v1/stock-locations", {"name": "North", "external_id": "WH2"}),
    ("POST", "/api/v1/batch-update-stock", [{"sku": "SKU-A", "stock_location_external_id": "WH", "stock_level": 4,
                                             "restock_date": "2025-01-01", "min_stock_level": 0}]),
    ("POST", "/api/v1/batch-fetch-stock", {"skus": ["SKU-A"]}),
    ("POST", "/api/v1/batch-delete-stock", {"skus": ["SKU-A"]}),
    ("PATCH", "/api/v1/variants/SKU-COLA-L", {"status": "live", "settings": [{"customer_group": "base",
                                                                             "pack_size": 12, "sell": True}]}),
    ("PUT", "/api/v1/purchases/internal/SO-F", purchase_body(
        billing_address={"city": "York"}, tax_lines=[{"title": "VAT", "amount": money("1.92"), "rate": "20"}],
        metadata=[{"name": "k", "value": "v"}])),
    ("DELETE", "/api/v1/purchases/internal/SO-F", None),
    ("POST", "/api/v1/purchases/internal/SO-F/history", {"event_type": "email", "sent_by": "a", "body": "b"}),
    ("PUT", "/api/v1/purchases/internal/SO-F/transactions", {"platform_id": "p1", "type": "payment",
                                                              "total": money("1.00"), "apply_to_balance": True}),
    ("PUT", "/api/v1/sync-log/sparklayer-erp/orders", {"last_full_sync": "2025-01-01T00:00:00Z",
                                                       "errors": [{"external_id": "x", "message": "m"}]}),
    ("DELETE", "/api/v1/sync-log", None),
    ("POST", "/_sandbox/orders", {"customer": ACME.email, "lines": [{"sku": "SKU-COLA-S", "quantity": 2}],
                                  "payment_method": "invoice", "po_number": "PO",
                                  "unit_price_overrides": {"SKU-COLA-S": "0.5"}}),
    ("PUT", "/_sandbox/groups/trade/settings", {"payment_methods": ["invoice"], "price_lists": ["TRADE"]}),
    ("DELETE", f"/api/v1/customers/email/{ACME.email}", None),
]
BODY_ENDPOINTS = [e for e in WRITE_ENDPOINTS if e[2] is not None]
SYNTAX_ERRORS = [b"", b"{", b"nul", b"\xff\xfe\x00", b"[" * 50_000, b'{"a": NaN}', b"9" * 5000,
                 b'{"name": "\\ud800"}', b'{"a": 1e999999999}']
ODD_BUT_JSON = [b"null", b"true", b"[]", b"{}", b"[[]]", b"[{}]", b"[null]", b'"text"', b"-0", b"1e400",
                b'{"sku": {"$gt": 1}}', json.dumps({"slug": "x" * 100_000}).encode()]

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=8)


def _prepare(api: httpx.Client) -> None:
    """Resources the endpoints above address: a price list, a warehouse, a purchase."""
    api.post("/api/v1/price-lists", json={"slug": "TRADE", "name": "Trade", "currency_code": "GBP"})
    api.post("/api/v1/stock-locations", json={"name": "Main", "external_id": "WH"})
    assert api.put("/api/v1/purchases/internal/SO-F", json=purchase_body()).status_code == 201


def _send(api: httpx.Client, method: str, path: str, content: bytes,
          content_type: str = "application/json") -> httpx.Response:
    response = api.request(method, path, content=content, headers={"Content-Type": content_type})
    assert response.status_code < 500, (method, path, content[:200], response.status_code, response.text[:300])
    if response.status_code >= 400:
        assert isinstance(response.json(), (dict, list))  # problem details or pricing line errors
    return response


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            out += _paths(child, (*prefix, i))
    return out


def _replace(value: Any, path: tuple, new: Any, delete: bool) -> Any:
    if not path:
        return new
    copy = json.loads(json.dumps(value))
    target = copy
    for step in path[:-1]:
        target = target[step]
    if delete and isinstance(target, dict):
        del target[path[-1]]
    else:
        target[path[-1]] = new
    return copy


@pytest.mark.parametrize(("method", "path", "_valid"), BODY_ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in BODY_ENDPOINTS])
def test_syntax_errors_are_400_and_odd_json_never_500(api: httpx.Client, method: str, path: str, _valid: Any) -> None:
    _prepare(api)
    for raw in SYNTAX_ERRORS:
        response = _send(api, method, path, raw)
        assert response.status_code in (400, 404), (path, raw[:40], response.status_code)
    for raw in ODD_BUT_JSON:
        _send(api, method, path, raw)
    assert _send(api, method, path, b"{}", "text/plain").status_code in (404, 415)
    assert _send(api, method, path, b"a=1", "application/x-www-form-urlencoded").status_code in (404, 415)


def test_valid_sample_bodies_are_accepted(api: httpx.Client) -> None:
    """The fuzz seeds really are valid, so mutations explore the validators and not just the first check."""
    _prepare(api)
    for method, path, body in WRITE_ENDPOINTS:
        if path.endswith("/SO-F") and method == "DELETE":
            continue
        response = api.request(method, path, json=body) if body is not None else api.request(method, path)
        assert response.status_code < 300, (method, path, response.text[:300])


@pytest.mark.parametrize(("method", "path", "valid"), BODY_ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in BODY_ENDPOINTS])
@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_bodies_never_500(api: httpx.Client, method: str, path: str, valid: Any, data: st.DataObject) -> None:
    if not api.get("/api/v1/price-lists/TRADE").is_success:
        _prepare(api)
    target = data.draw(st.sampled_from(_paths(valid)))
    body = _replace(valid, target, data.draw(JSON_VALUES), delete=data.draw(st.booleans()))
    _send(api, method, path, json.dumps(body).encode())
