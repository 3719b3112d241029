"""Serving: data survives a restart, the seed runs once, credentials come from arguments or the environment,
and the store stays consistent when the buyer and the API hit it from several threads at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from sparklayer_erp.demo import demo_data
from sparklayer_erp.demo.sandbox.server import SandboxHandle, run_sandbox
from sparklayer_erp_tests.demo.sandbox.helpers import ACME, customer_body


def _token(base_url: str, site: str, client: str, secret: str) -> httpx.Response:
    return httpx.post(f"{base_url}/api/auth/token", headers={"Site-Id": site},
                      json={"grant_type": "client_credentials", "client_id": client, "client_secret": secret})


def test_restart_keeps_data_and_does_not_seed_twice(tmp_path: Path) -> None:
    db = tmp_path / "restart.sqlite"
    with run_sandbox(db) as first:
        token = _token(first.base_url, "demo-site", "demo-client", "demo-secret").json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "Site-Id": "demo-site"}
        httpx.put(f"{first.base_url}/api/v2/customers/platform/{ACME.platform_id}", headers=headers,
                  json=customer_body(accounting_id="C1001"))
    with run_sandbox(db) as second:
        customer = second.admin.get_customer(ACME.platform_id)
        assert customer["accounting_id"] == "C1001"  # not wiped by a second seed
        listed = httpx.get(f"{second.base_url}/api/v2/customers", headers=headers).json()  # token survived too
        assert listed["pagination"]["total"] == len(demo_data.CUSTOMERS) + 1  # seeded once (+ the newcomer)


def test_credentials_from_arguments_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with run_sandbox(tmp_path / "a.sqlite", site_id="shop-a", client_id="id-a", client_secret="secret-a") as a:
        assert _token(a.base_url, "shop-a", "id-a", "secret-a").status_code == 200
        assert _token(a.base_url, "demo-site", "demo-client", "demo-secret").status_code == 401
    monkeypatch.setenv("SANDBOX_SITE_ID", "shop-b")
    monkeypatch.setenv("SANDBOX_CLIENT_SECRET", "secret-b")
    with run_sandbox(tmp_path / "b.sqlite") as b:
        assert _token(b.base_url, "shop-b", "demo-client", "secret-b").status_code == 200


def test_concurrent_buyers_and_api_calls_stay_consistent(sandbox: SandboxHandle, api: httpx.Client) -> None:
    api.post("/api/v1/price-lists", json={"slug": "TRADE", "name": "Trade", "currency_code": "GBP"})
    api.patch("/api/v1/price-lists/TRADE/pricing", json=[{"sku": "SKU-COLA-S", "pricing": [{"quantity": 1,
                                                                                             "price": 1}]}])
    api.put(f"/api/v2/customers/platform/{ACME.platform_id}", json=customer_body(price_lists=["TRADE"]))

    def buy(i: int) -> str:
        if i % 2:
            return sandbox.sandbox.place_order(ACME.email, [("SKU-COLA-S", 1)], "invoice")[
                "purchase_identifiers"]["visible"]
        return sandbox.admin.place_order(ACME.email, [("SKU-COLA-S", 1)], "invoice")["purchase_identifiers"]["visible"]

    with ThreadPoolExecutor(max_workers=4) as pool:
        numbers = list(pool.map(buy, range(20)))
    assert sorted(numbers) == sorted(f"#{n}" for n in range(1001, 1021))
    listed = api.get("/api/v1/purchases", params={"order_by": "last_updated:asc", "limit": 500}).json()
    stamps = [p["dates"]["last_updated"] for p in listed]
    assert len(listed) == 20 and len(set(stamps)) == 20 and stamps == sorted(stamps)
