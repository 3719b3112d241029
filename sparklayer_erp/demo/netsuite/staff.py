"""A small client that acts as NetSuite staff through the documented REST API (never the database):
ship an order, invoice it, take a payment, put a customer on credit hold; plus the emulator's admin routes.

Tests and the demo use it to move orders along the way warehouse and accounts people would in NetSuite.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from sparklayer_erp.demo.netsuite.credentials import (
    DEMO_CERTIFICATE_ID,
    DEMO_CLIENT_ID,
    demo_private_key,
)

_HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_assertion(token_url: str, *, key: Any = None, kid: str = DEMO_CERTIFICATE_ID,
                   client_id: str = DEMO_CLIENT_ID, alg: str = "ES256", iat: int | None = None,
                   lifetime_s: int = 3600, scope: Sequence[str] = ("rest_webservices",),
                   extra_header: Mapping[str, Any] | None = None) -> str:
    """A signed JWT client assertion (ES256/384/512 with an EC key, PS256/384/512 with an RSA key)."""
    key = key or demo_private_key()
    now = int(time.time()) if iat is None else iat
    header = {"alg": alg, "typ": "JWT", "kid": kid, **(extra_header or {})}
    claims = {"iss": client_id, "scope": list(scope), "aud": token_url, "iat": now, "exp": now + lifetime_s,
              "jti": str(uuid.uuid4())}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}".encode()
    hash_cls = _HASHES[alg[2:]]
    if isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hash_cls())))
        size = (key.curve.key_size + 7) // 8
        signature = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    elif isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(signing_input, padding.PSS(mgf=padding.MGF1(hash_cls()),
                                                        salt_length=hash_cls.digest_size), hash_cls())
    else:
        raise TypeError("an EC or RSA private key is needed")
    return f"{signing_input.decode()}.{_b64(signature)}"


class NetSuiteStaff:
    """REST calls as an administrator of the emulated account (OAuth 2.0 client credentials)."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.rest = f"{self.base_url}/services/rest"
        self.http = httpx.Client(timeout=timeout)
        self._token: str | None = None

    def close(self) -> None:
        self.http.close()

    # --- plumbing -------------------------------------------------------------------------------------------
    def token(self) -> str:
        token_url = f"{self.rest}/auth/oauth2/v1/token"
        response = self.http.post(token_url, data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": make_assertion(token_url)})
        response.raise_for_status()
        self._token = response.json()["access_token"]
        return self._token

    def request(self, method: str, path: str, *, json_body: Any = None, params: Mapping[str, Any] | None = None,
                headers: Mapping[str, str] | None = None) -> httpx.Response:
        """One REST call (``path`` under ``/services/rest``), re-authenticating once on 401."""
        for attempt in range(2):
            token = self._token or self.token()
            response = self.http.request(method, f"{self.rest}{path}", json=json_body, params=params,
                                         headers={"Authorization": f"Bearer {token}", **(headers or {})})
            if response.status_code != 401 or attempt:
                return response
            self._token = None
        return response

    def _ok(self, response: httpx.Response) -> httpx.Response:
        if response.status_code >= 400:
            raise RuntimeError(f"NetSuite emulator said {response.status_code}: {response.text}")
        return response

    @staticmethod
    def new_id(response: httpx.Response) -> int:
        return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])

    # --- records ----------------------------------------------------------------------------------------------
    def get(self, record_type: str, record_id: int | str) -> dict[str, Any]:
        return self._ok(self.request("GET", f"/record/v1/{record_type}/{record_id}",
                                     params={"expandSubResources": "true"})).json()

    def create(self, record_type: str, body: Mapping[str, Any]) -> int:
        return self.new_id(self._ok(self.request("POST", f"/record/v1/{record_type}", json_body=body)))

    def patch(self, record_type: str, record_id: int | str, body: Mapping[str, Any], replace: str | None = None) -> None:
        self._ok(self.request("PATCH", f"/record/v1/{record_type}/{record_id}", json_body=body,
                              params={"replace": replace} if replace else None))

    def transform(self, record_type: str, record_id: int | str, target: str, body: Mapping[str, Any]) -> int:
        return self.new_id(self._ok(self.request("POST", f"/record/v1/{record_type}/{record_id}/!transform/{target}",
                                                 json_body=body)))

    def suiteql(self, q: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = self._ok(self.request("POST", "/query/v1/suiteql", json_body={"q": q, "params": list(params)},
                                         params={"limit": 1000, "offset": offset},
                                         headers={"Prefer": "transient"})).json()
            items.extend(page["items"])
            if not page["hasMore"]:
                return items
            offset += 1000

    def customer_id(self, account_code: str) -> int:
        rows = self.suiteql("SELECT id FROM customer WHERE entityid = ?", [account_code])
        if not rows:
            raise KeyError(account_code)
        return int(rows[0]["id"])

    def order_id(self, external_id: str) -> int:
        return int(self.get("salesOrder", f"eid:{external_id}")["id"])

    # --- back office --------------------------------------------------------------------------------------
    def ship(self, order_id: int, tracking: Sequence[str] = ("1Z999AA10123456784",),
             lines: Mapping[int, float] | None = None, ship_status: str = "C") -> int:
        """Fulfil an order (all open lines, or ``{orderLine: quantity}``) with packages carrying tracking."""
        body: dict[str, Any] = {"shipStatus": {"id": ship_status},
                                "package": {"items": [{"packageTrackingNumber": t} for t in tracking]}}
        if lines is not None:
            order_lines = self.get("salesOrder", order_id)["item"]["items"]
            body["item"] = {"items": [
                {"orderLine": line["line"], "quantity": lines[line["line"]]} if line["line"] in lines
                else {"orderLine": line["line"], "itemReceive": False} for line in order_lines]}
        return self.transform("salesOrder", order_id, "itemFulfillment", body)

    def invoice(self, order_id: int) -> int:
        """Bill everything fulfilled and not yet billed."""
        return self.transform("salesOrder", order_id, "invoice", {})

    def pay(self, invoice_id: int, amount: float | None = None) -> int:
        """Take a payment against one invoice (all that is due when ``amount`` is None)."""
        return self.transform("invoice", invoice_id, "customerPayment", {} if amount is None else {"payment": amount})

    def credit_memo(self, invoice_id: int) -> int:
        return self.transform("invoice", invoice_id, "creditMemo", {})

    def set_credit_hold(self, account_code: str, hold: str = "ON") -> None:
        """``ON`` (manual hold), ``AUTO`` (by credit limit) or ``OFF`` (never), as the UI's Hold field."""
        self.patch("customer", self.customer_id(account_code), {"creditHoldOverride": {"id": hold}})

    def set_credit_limit(self, account_code: str, limit: float | None) -> None:
        self.patch("customer", self.customer_id(account_code), {"creditLimit": limit})

    # --- emulator admin (not NetSuite) ------------------------------------------------------------------------
    def set_faults(self, **switches: Any) -> dict[str, Any]:
        response = self.http.put(f"{self.base_url}/_emulator/faults", json=switches)
        response.raise_for_status()
        return response.json()

    def clear_faults(self) -> dict[str, Any]:
        return self.http.delete(f"{self.base_url}/_emulator/faults").raise_for_status().json()

    def expire_tokens(self) -> None:
        self.http.post(f"{self.base_url}/_emulator/expire-tokens").raise_for_status()

    def set_preferences(self, **preferences: Any) -> dict[str, Any]:
        return self.http.put(f"{self.base_url}/_emulator/preferences", json=preferences).raise_for_status().json()

    def reset(self) -> None:
        self.http.post(f"{self.base_url}/_emulator/reset").raise_for_status()
