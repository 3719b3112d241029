"""Request bodies and credentials the sandbox tests share."""

from __future__ import annotations

from typing import Any

import httpx

from sparklayer_erp.demo import demo_data

SITE = "demo-site"
CREDENTIALS = {"grant_type": "client_credentials", "client_id": "demo-client", "client_secret": "demo-secret"}


def new_token(base_url: str) -> str:
    response = httpx.post(f"{base_url}/api/auth/token", headers={"Site-Id": SITE}, json=CREDENTIALS)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def money(number: str, currency: str = "gbp") -> dict[str, str]:
    return {"number": number, "currency": currency}


ACME = demo_data.CUSTOMERS[0]  # C1001, credit limit 2000
HOLD = demo_data.customer_by_code("C1007")


def customer_body(customer: demo_data.DemoCustomer = ACME, **fields: Any) -> dict[str, Any]:
    """What the integration would PUT by platform id (ERP-owned fields included)."""
    body: dict[str, Any] = {"external_id": customer.platform_id, "email": customer.email,
                            "company_name": customer.name, "group": "trade", "accounting_id": customer.account_code}
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


def purchase_body(customer_id: str = ACME.sparklayer_id, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "order",
        "purchase_identifiers": {},
        "customer_identifiers": {"sparklayer": customer_id},
        "payment_method": "invoice",
        "customer_reference": "PO-1",
        "currency_code": "GBP",
        "dates": {"placed": "2025-03-01T10:00:00Z"},
        "packages": [{"type": "incoming", "line_items": [{
            "identifiers": {"sku": "SKU-COLA-S"}, "quantity": 12, "unit_total": money("0.80"),
            "line_total": {"total_net": money("9.60"), "total_tax": money("1.92"), "total_gross": money("11.52")},
            "tax_rate": "20"}]}],
        "accounting_files": [],
        "custom_fields": [],
    }
    body.update(fields)
    return body
