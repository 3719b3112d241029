"""Purchasing API: list filters and paging, PUT upsert/full replace/403, history, transactions."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx

from sparklayer_erp.demo import demo_data
from sparklayer_erp_tests.demo.sandbox.helpers import ACME, money, purchase_body

POA = {"credit_limit": 2000, "balance": 100, "currency_code": "GBP"}


def _put(api: httpx.Client, internal: str, **fields: object) -> httpx.Response:
    return api.put(f"/api/v1/purchases/internal/{internal}", json=purchase_body(**fields))


def test_put_creates_then_replaces_fully_and_recomputes_calculated_fields(api: httpx.Client) -> None:
    created = _put(api, "SO-1", calculated_total=money("99999.00"), total_paid=money("5.00"))
    assert created.status_code == 201
    doc = created.json()
    assert doc["purchase_identifiers"]["internal"] == "SO-1"
    assert uuid.UUID(doc["purchase_identifiers"]["sparklayer"])
    assert doc["calculated_total"] == money("11.52") and doc["total_paid"] == money("0.00")
    assert doc["customer_identifiers"] == {"sparklayer": ACME.sparklayer_id, "platform": ACME.platform_id}
    body = purchase_body()
    del body["customer_reference"]
    body["purchase_identifiers"] = {"sparklayer": doc["purchase_identifiers"]["sparklayer"]}
    replaced = api.put("/api/v1/purchases/internal/SO-1", json=body)
    assert replaced.status_code == 200
    got = api.get(f"/api/v1/purchases/sparklayer/{doc['purchase_identifiers']['sparklayer']}").json()
    assert "customer_reference" not in got  # omitted on the replace → gone
    assert got["dates"]["last_updated"] > doc["dates"]["last_updated"]
    assert api.get("/api/v1/purchases/internal/SO-1").json() == got


def test_changing_the_sparklayer_id_is_403(api: httpx.Client) -> None:
    _put(api, "SO-1")
    body = purchase_body(purchase_identifiers={"sparklayer": str(uuid.uuid4())})
    response = api.put("/api/v1/purchases/internal/SO-1", json=body)
    assert response.status_code == 403


def test_missing_required_fields_and_bad_lookups_are_400(api: httpx.Client) -> None:
    body = purchase_body()
    for key in ("type", "packages", "accounting_files"):
        del body[key]
    response = api.put("/api/v1/purchases/internal/SO-1", json=body)
    assert response.status_code == 400
    assert {e["property"] for e in response.json()["errors"]} == {"type", "packages", "accounting_files"}
    assert api.put("/api/v1/purchases/visible/X", json=purchase_body(
        purchase_identifiers={"visible": "Y"})).json()["errors"][0]["code"] == "idMismatch"
    assert api.get("/api/v1/purchases/sparklayer/not-a-uuid").status_code == 400
    assert api.get("/api/v1/purchases/colour/1").status_code == 400
    assert api.get("/api/v1/purchases/internal/NOPE").status_code == 404
    unknown_customer = purchase_body(customer_identifiers={"sparklayer": str(uuid.uuid4())})
    assert api.put("/api/v1/purchases/internal/SO-2", json=unknown_customer).status_code == 400


def test_identifiers_are_unique_across_purchases(api: httpx.Client) -> None:
    _put(api, "SO-1", purchase_identifiers={"visible": "#9001"})
    clash = _put(api, "SO-2", purchase_identifiers={"visible": "#9001"})
    assert clash.status_code == 409 and clash.json()["errors"][0]["code"] == "resource-already-exists"
    assert api.get("/api/v1/purchases/visible/%239001").json()["purchase_identifiers"]["internal"] == "SO-1"


def test_list_filters_limit_offset_and_stable_ascending_order(api: httpx.Client) -> None:
    other = demo_data.CUSTOMERS[1]
    for i in range(5):
        _put(api, f"SO-{i}", dates={"placed": f"2025-03-0{i + 1}T10:00:00Z"})
    _put(api, "Q-1", type="quote", customer_identifiers={"sparklayer": other.sparklayer_id})
    everything = api.get("/api/v1/purchases").json()
    assert [p["purchase_identifiers"]["internal"] for p in everything][:2] == ["Q-1", "SO-4"]  # newest first
    asc = api.get("/api/v1/purchases", params={"order_by": "last_updated:asc", "type": "order"}).json()
    assert [p["purchase_identifiers"]["internal"] for p in asc] == [f"SO-{i}" for i in range(5)]
    stamps = [p["dates"]["last_updated"] for p in asc]
    assert stamps == sorted(stamps) and len(set(stamps)) == 5 and all("." in s for s in stamps)
    page = api.get("/api/v1/purchases", params={"order_by": "last_updated:asc", "limit": 2, "offset": 2}).json()
    assert [p["purchase_identifiers"]["internal"] for p in page] == ["SO-2", "SO-3"]
    since = api.get("/api/v1/purchases", params={"dates[last_updated][gte]": stamps[3],
                                                "order_by": "last_updated:asc"}).json()
    assert [p["purchase_identifiers"]["internal"] for p in since] == ["SO-3", "SO-4", "Q-1"]
    placed = api.get("/api/v1/purchases", params={"dates[placed][gte]": "2025-03-02T00:00:00Z",
                                                 "dates[placed][lte]": "2025-03-03T23:59:59Z"}).json()
    assert {p["purchase_identifiers"]["internal"] for p in placed} == {"SO-1", "SO-2"}
    by_customer = api.get("/api/v1/purchases", params={"customer_identifiers[sparklayer]": other.sparklayer_id})
    assert [p["purchase_identifiers"]["internal"] for p in by_customer.json()] == ["Q-1"]


def test_list_parameter_errors(api: httpx.Client) -> None:
    for params in ({"limit": 0}, {"limit": 501}, {"offset": -1}, {"order_by": "price:asc"},
                   {"dates[last_updated[gte]": "2025-01-01"}, {"dates[placed][gte]": "yesterday"},
                   {"type": "basket"}):
        assert api.get("/api/v1/purchases", params=params).status_code == 400, params
    assert api.get("/api/v1/purchases", params={"limit": 500}).status_code == 200


def test_history_entries_bump_last_updated(api: httpx.Client) -> None:
    before = _put(api, "SO-1").json()["dates"]["last_updated"]
    note = api.post("/api/v1/purchases/internal/SO-1/history",
                    json={"event_type": "note", "created_by": "ERP", "body": "Allocated"})
    assert note.status_code == 201
    assert api.post("/api/v1/purchases/internal/SO-1/history", json={"event_type": "note", "body": "x"}
                    ).status_code == 400  # a note needs created_by
    assert [h["body"] for h in api.get("/api/v1/purchases/internal/SO-1/history").json()] == ["Allocated"]
    assert api.get("/api/v1/purchases/internal/SO-1").json()["dates"]["last_updated"] > before


def test_transactions_upsert_by_platform_id_and_move_balance_and_total_paid(api: httpx.Client) -> None:
    api.put(f"/api/v2/customers/platform/{ACME.platform_id}",
            json={"external_id": ACME.platform_id, "email": ACME.email, "payment_on_account": POA})
    _put(api, "SO-1")

    def balance() -> Decimal:
        poa = api.get(f"/api/v2/customers/platform/{ACME.platform_id}").json()["payment_on_account"]
        return Decimal(str(poa["balance"]))

    payment = {"platform_id": "pay-1", "type": "payment", "total": money("11.52"), "apply_to_balance": True}
    first = api.put("/api/v1/purchases/internal/SO-1/transactions", json=payment)
    assert first.status_code == 201
    assert balance() == Decimal("88.48")
    assert api.get("/api/v1/purchases/internal/SO-1").json()["total_paid"] == money("11.52")
    again = api.put("/api/v1/purchases/internal/SO-1/transactions", json=payment)
    assert again.status_code == 200 and balance() == Decimal("88.48")  # same transaction: no double count
    flipped = api.put("/api/v1/purchases/internal/SO-1/transactions", json={**payment, "apply_to_balance": False})
    assert flipped.status_code == 200 and balance() == Decimal("100")
    assert api.get("/api/v1/purchases/internal/SO-1").json()["total_paid"] == money("0.00")
    assert len(api.get("/api/v1/purchases/internal/SO-1/transactions").json()) == 1
    wrong_sign = {"platform_id": "r-1", "type": "refund", "total": money("5.00"), "apply_to_balance": True}
    assert api.put("/api/v1/purchases/internal/SO-1/transactions", json=wrong_sign).status_code == 400


def test_delete_purchase(api: httpx.Client) -> None:
    _put(api, "SO-1")
    assert api.delete("/api/v1/purchases/internal/SO-1").status_code == 204
    assert api.get("/api/v1/purchases/internal/SO-1").status_code == 404
    assert api.delete("/api/v1/purchases/internal/SO-1").status_code == 404
