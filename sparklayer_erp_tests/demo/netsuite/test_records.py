"""Record service mechanics: create, read shapes, PATCH, PUT eid: upsert, external ids, sublists."""

from __future__ import annotations

from sparklayer_erp_tests.demo.netsuite.helpers import (
    create_order,
    error_code,
    error_detail,
    order_body,
    unique,
)
from sparklayer_erp_tests.netsuite_fixtures import NetSuiteEmulator


def test_create_answers_204_with_the_location_of_the_new_record(netsuite: NetSuiteEmulator) -> None:
    body = order_body(netsuite)
    response = netsuite.staff.request("POST", "/record/v1/salesOrder", json_body=body)
    assert response.status_code == 204 and response.content == b""
    location = response.headers["Location"]
    assert location.startswith(f"{netsuite.base_url}/services/rest/record/v1/salesOrder/")
    order = netsuite.staff.get("salesOrder", location.rsplit("/", 1)[1])
    assert order["externalId"] == body["externalId"] and order["otherRefNum"] == "PO-1"
    assert order["orderStatus"] == {"id": "A", "refName": "Pending Approval"}
    assert order["entity"]["refName"].startswith("C1002") and isinstance(order["id"], str)
    assert [line["line"] for line in order["item"]["items"]] == [1, 2]
    assert order["total"] == round((21.6 + 4.5) * 1.2, 2)
    assert order["lastModifiedDate"].endswith("Z")


def test_read_shapes_sublists_fields_and_simple_enums(netsuite: NetSuiteEmulator) -> None:
    order_id = create_order(netsuite)
    plain = netsuite.staff.request("GET", f"/record/v1/salesorder/{order_id}").json()  # type is case-insensitive
    assert set(plain["item"]) == {"links"}
    some = netsuite.staff.request("GET", f"/record/v1/salesOrder/{order_id}",
                                  params={"fields": "otherRefNum,status", "simpleEnumFormat": "true"}).json()
    assert some["status"] == "A" and some["otherRefNum"] == "PO-1" and "entity" not in some
    lines = netsuite.staff.request("GET", f"/record/v1/salesOrder/{order_id}/item").json()
    assert lines["count"] == 2 and lines["items"][0]["units"] == "3"


def test_unknown_ids_and_types(netsuite: NetSuiteEmulator) -> None:
    missing = netsuite.staff.request("GET", "/record/v1/salesOrder/999999")
    assert missing.status_code == 404 and error_code(missing) == "NONEXISTENT_ID"
    assert netsuite.staff.request("GET", "/record/v1/salesOrder/eid:never-created").status_code == 404
    bad_type = netsuite.staff.request("GET", "/record/v1/widget/1")
    assert bad_type.status_code == 404 and "Record type 'widget' does not exist" in error_detail(bad_type)


def test_duplicate_external_id_is_refused_across_the_transaction_group(netsuite: NetSuiteEmulator) -> None:
    body = order_body(netsuite)
    netsuite.staff.create("salesOrder", body)
    again = netsuite.staff.request("POST", "/record/v1/salesOrder",
                                   json_body={**body, "externalId": body["externalId"].lower()})
    assert again.status_code == 400 and "already exists" in error_detail(again)
    order_id = create_order(netsuite, status="B")
    netsuite.ship(order_id)
    clash = netsuite.staff.request("POST", f"/record/v1/salesOrder/{order_id}/!transform/invoice",
                                   json_body={"externalId": body["externalId"]})
    assert clash.status_code == 400 and "already exists" in error_detail(clash)


def test_put_eid_upserts(netsuite: NetSuiteEmulator) -> None:
    eid = unique("CUST")
    first = netsuite.staff.request("PUT", f"/record/v1/customer/eid:{eid}",
                                   json_body={"entityId": eid, "companyName": "New Co", "creditLimit": 100})
    assert first.status_code == 204
    created = netsuite.staff.get("customer", f"eid:{eid}")
    assert created["companyName"] == "New Co" and created["creditHoldOverride"]["id"] == "AUTO"
    second = netsuite.staff.request("PUT", f"/record/v1/customer/eid:{eid}", json_body={"companyName": "Renamed"})
    assert second.status_code == 204
    updated = netsuite.staff.get("customer", f"eid:{eid}")
    assert updated["id"] == created["id"] and updated["companyName"] == "Renamed" and updated["creditLimit"] == 100
    assert netsuite.staff.request("PUT", f"/record/v1/customer/{created['id']}", json_body={}).status_code == 400


def test_patch_null_clears_and_unknown_fields_follow_the_validation_header(netsuite: NetSuiteEmulator) -> None:
    order_id = create_order(netsuite)
    netsuite.staff.patch("salesOrder", order_id, {"memo": "hello", "OTHERREFNUM": "PO-2"})
    order = netsuite.staff.get("salesOrder", order_id)
    assert order["memo"] == "hello" and order["otherRefNum"] == "PO-2"
    netsuite.staff.patch("salesOrder", order_id, {"memo": None})
    assert "memo" not in netsuite.staff.get("salesOrder", order_id)
    assert netsuite.staff.request("PATCH", f"/record/v1/salesOrder/{order_id}",
                                  json_body={"nonsenseField": 1}).status_code == 204
    strict = netsuite.staff.request("PATCH", f"/record/v1/salesOrder/{order_id}", json_body={"nonsenseField": 1},
                                    headers={"X-NetSuite-PropertyNameValidation": "Error"})
    assert strict.status_code == 400


def test_invalid_line_item_points_at_the_line(netsuite: NetSuiteEmulator) -> None:
    body = order_body(netsuite, lines=[{"item": {"id": "999999"}, "quantity": 1, "rate": 1}])
    response = netsuite.staff.request("POST", "/record/v1/salesOrder", json_body=body)
    assert response.status_code == 400 and error_code(response) == "INVALID_CONTENT"
    assert response.json()["o:errorDetails"][0]["o:errorPath"] == "item.items[0].item"
    body = order_body(netsuite, lines=[{"item": {"id": "301"}, "quantity": 1, "units": "3", "rate": 1}])
    netsuite.staff.patch("inventoryItem", 301, {})  # a no-op PATCH is allowed
    assert netsuite.staff.request("POST", "/record/v1/salesOrder", json_body=body).status_code == 204


def test_item_sublist_merges_by_line_and_replaces_with_replace(netsuite: NetSuiteEmulator) -> None:
    order_id = create_order(netsuite)
    netsuite.staff.patch("salesOrder", order_id, {"item": {"items": [
        {"line": 1, "quantity": 3}, {"item": {"id": "303"}, "quantity": 1, "rate": 5}]}})
    lines = netsuite.staff.get("salesOrder", order_id)["item"]["items"]
    assert [(line["line"], line["quantity"]) for line in lines] == [(1, 3), (2, 5), (3, 1)]
    assert lines[0]["amount"] == 32.4
    netsuite.staff.patch("salesOrder", order_id, {"item": {"items": [{"line": 2}]}}, replace="item")
    lines = netsuite.staff.get("salesOrder", order_id)["item"]["items"]
    assert [line["line"] for line in lines] == [2]
    emptied = netsuite.staff.request("PATCH", f"/record/v1/salesOrder/{order_id}", json_body={"item": {"items": []}},
                                     params={"replace": "item"})
    assert emptied.status_code == 400  # a sales order needs at least one line
    rows = netsuite.staff.suiteql("SELECT id FROM transactionline WHERE transaction = ? AND mainline = 'F'",
                                  [order_id])
    assert [row["id"] for row in rows] == ["2"]


def test_non_keyed_sublist_appends_and_replace_swaps(netsuite: NetSuiteEmulator) -> None:
    order_id = create_order(netsuite, status="B")
    fulfilment = netsuite.ship(order_id, tracking=["T-1"])
    netsuite.staff.patch("itemFulfillment", fulfilment, {"package": {"items": [{"packageTrackingNumber": "T-2"}]}})
    numbers = [p["packageTrackingNumber"] for p in netsuite.staff.get("itemFulfillment", fulfilment)["package"]["items"]]
    assert numbers == ["T-1", "T-2"]
    netsuite.staff.patch("itemFulfillment", fulfilment, {"package": {"items": [{"packageTrackingNumber": "T-3"}]}},
                         replace="package")
    rows = netsuite.staff.suiteql("SELECT tn.trackingnumber FROM TrackingNumberMap tnm JOIN TrackingNumber tn "
                                  "ON tn.id = tnm.trackingnumber WHERE tnm.transaction = ?", [fulfilment])
    assert [row["trackingnumber"] for row in rows] == ["T-3"]


def test_listing_filters_by_external_id(netsuite: NetSuiteEmulator) -> None:
    body = order_body(netsuite)
    order_id = netsuite.staff.create("salesOrder", body)
    found = netsuite.staff.request("GET", "/record/v1/salesOrder", params={"q": f'externalId IS "{body["externalId"]}"'})
    assert [item["id"] for item in found.json()["items"]] == [str(order_id)]


def test_put_eid_creates_a_sales_order_and_replays_merge_lines(netsuite: NetSuiteEmulator) -> None:
    body = order_body(netsuite)
    eid = body.pop("externalId")
    assert netsuite.staff.request("PUT", f"/record/v1/salesOrder/eid:{eid}", json_body=body).status_code == 204
    order = netsuite.staff.get("salesOrder", f"eid:{eid}")
    assert order["externalId"] == eid and len(order["item"]["items"]) == 2
    netsuite.staff.request("PUT", f"/record/v1/salesOrder/eid:{eid}", json_body=body, params={"replace": "item"})
    assert len(netsuite.staff.get("salesOrder", f"eid:{eid}")["item"]["items"]) == 2  # replaced, not doubled
    netsuite.staff.request("PUT", f"/record/v1/salesOrder/eid:{eid}", json_body=body)
    assert len(netsuite.staff.get("salesOrder", f"eid:{eid}")["item"]["items"]) == 4  # lines without a key append
