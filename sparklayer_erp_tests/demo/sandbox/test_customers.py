"""Customers v2 (full-replace upsert), delete, groups and group settings."""

from __future__ import annotations

import uuid

import httpx

from sparklayer_erp.demo import demo_data
from sparklayer_erp_tests.demo.sandbox.helpers import ACME, customer_body

POA = {"credit_limit": 2000, "balance": 150.25, "currency_code": "GBP", "net_terms_days": 30}
ADDRESS = {"external_id": "addr-acme-1", "company_name": "Acme Retail", "address_line1": "1 Dock Road",
           "city": "London", "postal_code": "E1 1AA", "country_code": "GB", "is_default_billing": True}


def _put(api: httpx.Client, body: dict, lookup: str = "platform", identifier: str = ACME.platform_id):
    return api.put(f"/api/v2/customers/{lookup}/{identifier}", json=body)


def test_seeded_customer_has_shop_fields_but_no_erp_fields(api: httpx.Client) -> None:
    doc = api.get(f"/api/v2/customers/sparklayer/{ACME.sparklayer_id}").json()
    assert (doc["external_id"], doc["email"], doc["group"]) == (ACME.platform_id, ACME.email, "trade")
    assert doc["accounting_id"] is None and doc["price_lists"] == [] and doc["payment_on_account"] is None
    unlinked = demo_data.UNLINKED_SPARKLAYER_CUSTOMER
    assert api.get(f"/api/v2/customers/email/{unlinked['email']}").json()["id"] == unlinked["id"]


def test_put_replaces_the_whole_record_and_omitted_fields_are_cleared(api: httpx.Client) -> None:
    full = customer_body(price_lists=["TRADE", "CONTRACT-C1001"], payment_on_account=POA, addresses=[ADDRESS],
                         discount_percentage=5, tax_exempt=True)
    first = _put(api, full)
    assert first.status_code == 200  # the seeded customer exists: replaced, not created
    assert first.json()["payment_on_account"]["credit_limit"] == 2000
    assert first.json()["id"] == ACME.sparklayer_id

    minimal = _put(api, {"external_id": ACME.platform_id, "email": ACME.email})
    assert minimal.status_code == 200
    doc = api.get(f"/api/v2/customers/platform/{ACME.platform_id}").json()
    assert doc["accounting_id"] is None
    assert doc["price_lists"] == [] and doc["addresses"] == []
    assert doc["payment_on_account"] is None and doc["discount_percentage"] is None
    assert doc["group"] is None and doc["company_name"] is None
    assert doc["id"] == ACME.sparklayer_id  # identity survives a replace


def test_put_creates_with_201_and_the_given_sparklayer_uuid(api: httpx.Client) -> None:
    new_id = str(uuid.uuid4())
    response = _put(api, {"id": new_id, "email": "new@buyer.example", "group": "base"}, "sparklayer", new_id)
    assert response.status_code == 201 and response.json()["id"] == new_id
    again = _put(api, {"id": new_id, "email": "new@buyer.example", "company_name": "New"}, "sparklayer", new_id)
    assert again.status_code == 200 and again.json()["company_name"] == "New"


def test_body_identity_must_match_the_url(api: httpx.Client) -> None:
    response = _put(api, {"external_id": "999", "email": ACME.email})
    assert response.status_code == 400
    assert response.json()["errors"][0] == {"code": "idMismatch", "property": "external_id",
                                            "message": response.json()["errors"][0]["message"]}
    by_email = _put(api, {"email": "other@x.example"}, "email", ACME.email)
    assert by_email.status_code == 400 and by_email.json()["errors"][0]["code"] == "idMismatch"


def test_unknown_group_is_400_and_clashing_email_or_external_id_is_409(api: httpx.Client) -> None:
    bad_group = _put(api, customer_body(group="no-such-group"))
    assert bad_group.status_code == 400 and bad_group.json()["errors"][0]["property"] == "group"
    other = demo_data.CUSTOMERS[1]
    clash = _put(api, customer_body(email=other.email))
    assert clash.status_code == 409
    assert clash.json()["errors"][0] == {"code": "resource-already-exists", "property": "email",
                                         "message": clash.json()["errors"][0]["message"]}
    ext_clash = _put(api, {"email": "fresh@x.example", "external_id": other.platform_id}, "email", "fresh@x.example")
    assert ext_clash.status_code == 409 and ext_clash.json()["errors"][0]["property"] == "external_id"


def test_wrong_types_and_unknown_fields_are_400_naming_every_field(api: httpx.Client) -> None:
    response = _put(api, customer_body(price_lists="TRADE", tax_exempt="yes", creditLimit=5,
                                       payment_on_account={"credit_limit": "lots"}))
    assert response.status_code == 400
    props = {e["property"] for e in response.json()["errors"]}
    assert props == {"price_lists", "tax_exempt", "creditLimit", "payment_on_account.credit_limit"}


def test_get_list_and_delete(api: httpx.Client) -> None:
    page = api.get("/api/v2/customers", params={"page": 2, "page_size": 10}).json()
    seeded = len(demo_data.CUSTOMERS) + 1  # plus the unlinked newcomer
    assert page["pagination"] == {"total": seeded, "per_page": 10, "current_page": 2, "total_pages": 3}
    assert len(page["data"]) == 10
    assert api.delete(f"/api/v1/customers/email/{ACME.email}").status_code == 204
    assert api.get(f"/api/v2/customers/sparklayer/{ACME.sparklayer_id}").status_code == 404
    assert api.delete(f"/api/v1/customers/email/{ACME.email}").status_code == 404
    invalid = api.delete("/api/v1/customers/sparklayer/not-a-uuid")
    assert invalid.status_code == 400 and invalid.json()["errors"][0]["code"] == "resource-id-invalid"


def test_customer_groups_and_settings(api: httpx.Client) -> None:
    assert [g["slug"] for g in api.get("/api/v1/customer-groups").json()] == ["base", "trade", "credit-hold"]
    created = api.post("/api/v1/customer-groups", json={"slug": "eu-gbp", "name": "EU", "parent_slug": "trade"})
    assert created.status_code == 201 and created.json()[-1] == {"slug": "eu-gbp", "name": "EU",
                                                                 "parent_slug": "trade"}
    dup = api.post("/api/v1/customer-groups", json={"slug": "eu-gbp", "name": "EU again"})
    assert dup.status_code == 400 and dup.json()["errors"][0]["code"] == "resource-already-exists"
    orphan = api.post("/api/v1/customer-groups", json={"slug": "x", "name": "X", "parent_slug": "nope"})
    assert orphan.status_code == 400 and orphan.json()["errors"][0]["code"] == "resource-id-not-found"
    assert api.get("/api/v1/settings/credit-hold").json()["payment_methods"] == ["platform_upfront"]
    assert set(api.get("/api/v1/settings/trade").json()["payment_methods"]) == {
        "invoice", "on_account", "platform_upfront"}
    assert set(api.get("/api/v1/settings/eu-gbp").json()["payment_methods"]) == {  # inherited from trade
        "invoice", "on_account", "platform_upfront"}
    assert api.get("/api/v1/settings/nope").status_code == 404
