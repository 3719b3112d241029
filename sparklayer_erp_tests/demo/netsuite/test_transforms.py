"""Transforms: fulfilment with tracking, invoice of fulfilled quantities, payment, credit memo."""

from __future__ import annotations

from sparklayer_erp_tests.demo.netsuite.helpers import create_order, error_code, order_body, stock
from sparklayer_erp_tests.netsuite_fixtures import NetSuiteEmulator


def test_fulfilment_is_refused_while_pending_approval(netsuite: NetSuiteEmulator) -> None:
    order_id = create_order(netsuite)
    response = netsuite.staff.request("POST", f"/record/v1/salesOrder/{order_id}/!transform/itemFulfillment",
                                      json_body={"shipStatus": {"id": "C"}})
    assert response.status_code == 400 and error_code(response) == "USER_ERROR"


def test_shipping_lowers_stock_and_publishes_tracking(netsuite: NetSuiteEmulator) -> None:
    order_id = create_order(netsuite, status="B")
    before = stock(netsuite, "SKU-COLA-L")
    fulfilment = netsuite.ship(order_id, tracking=["1ZTRACK1", "1ZTRACK2"], lines={1: 2})
    after = stock(netsuite, "SKU-COLA-L")
    assert before["quantityonhand"] - after["quantityonhand"] == 24
    assert before["quantitycommitted"] - after["quantitycommitted"] == 24
    record = netsuite.staff.get("itemFulfillment", fulfilment)
    assert record["createdFrom"]["id"] == str(order_id) and record["shipStatus"]["id"] == "C"
    rows = netsuite.staff.suiteql(
        "SELECT t.id, mainline.createdfrom AS salesorder, tn.trackingnumber FROM transaction t "
        "JOIN transactionline mainline ON mainline.transaction = t.id AND mainline.mainline = 'T' "
        "JOIN TrackingNumberMap tnm ON tnm.transaction = t.id JOIN TrackingNumber tn ON tn.id = tnm.trackingnumber "
        "WHERE t.type = 'ItemShip' AND BUILTIN.CF(t.status) = 'ItemShip:C' AND t.void = 'F' AND t.id = ? "
        "ORDER BY tn.trackingnumber", [fulfilment])
    assert [(r["salesorder"], r["trackingnumber"]) for r in rows] == [(str(order_id), "1ZTRACK1"),
                                                                        (str(order_id), "1ZTRACK2")]
    link = netsuite.staff.suiteql("SELECT linktype FROM NextTransactionLink WHERE previousdoc = ? AND nextdoc = ?",
                                  [order_id, fulfilment])
    assert link[0]["linktype"] == "ShipRcpt"


def test_picked_then_shipped_by_patch(netsuite: NetSuiteEmulator) -> None:
    order_id = create_order(netsuite, status="B")
    before = stock(netsuite, "SKU-COLA-S")
    fulfilment = netsuite.ship(order_id, tracking=[], ship_status="A")
    order = netsuite.staff.get("salesOrder", order_id)
    assert order["status"]["id"] == "B" and order["item"]["items"][1]["quantityPicked"] == 5
    assert stock(netsuite, "SKU-COLA-S") == before
    netsuite.staff.patch("itemFulfillment", fulfilment, {"shipStatus": {"id": "C"},
                                                         "package": {"items": [{"packageTrackingNumber": "1ZX"}]}})
    assert netsuite.staff.get("salesOrder", order_id)["status"]["id"] == "F"
    assert before["quantityonhand"] - stock(netsuite, "SKU-COLA-S")["quantityonhand"] == 5
    back = netsuite.staff.request("PATCH", f"/record/v1/itemFulfillment/{fulfilment}",
                                  json_body={"shipStatus": {"id": "A"}})
    assert back.status_code == 400


def test_cannot_fulfil_more_than_ordered_or_a_closed_line(netsuite: NetSuiteEmulator) -> None:
    order_id = create_order(netsuite, status="B")
    netsuite.staff.patch("salesOrder", order_id, {"item": {"items": [{"line": 2, "isClosed": True}]}})
    path = f"/record/v1/salesOrder/{order_id}/!transform/itemFulfillment"
    too_many = netsuite.staff.request("POST", path, json_body={"item": {"items": [{"orderLine": 1, "quantity": 3}]}})
    closed = netsuite.staff.request("POST", path, json_body={"item": {"items": [{"orderLine": 2, "quantity": 1}]}})
    assert too_many.status_code == 400 and closed.status_code == 400
    netsuite.ship(order_id)
    assert netsuite.staff.get("salesOrder", order_id)["status"]["id"] == "F"  # closed line not counted


def test_invoice_bills_fulfilled_quantities_and_payment_settles_it(netsuite: NetSuiteEmulator) -> None:
    order_id = create_order(netsuite, status="B")
    nothing = netsuite.staff.request("POST", f"/record/v1/salesOrder/{order_id}/!transform/invoice", json_body={})
    assert nothing.status_code == 400
    netsuite.ship(order_id, lines={2: 5})
    invoice_id = netsuite.invoice(order_id)
    invoice = netsuite.staff.get("invoice", invoice_id)
    assert [(line["orderLine"], line["quantity"]) for line in invoice["item"]["items"]] == [(2, 5)]
    assert invoice["total"] == 5.4 and invoice["amountRemaining"] == 5.4 and invoice["status"]["id"] == "A"
    assert invoice["otherRefNum"] == "PO-1" and invoice["createdFrom"]["id"] == str(order_id)
    partial = netsuite.pay(invoice_id, 2.0)
    assert netsuite.staff.get("invoice", invoice_id)["amountRemaining"] == 3.4
    netsuite.pay(invoice_id)
    paid = netsuite.staff.get("invoice", invoice_id)
    assert paid["status"]["id"] == "B" and paid["amountRemaining"] == 0
    rows = netsuite.staff.suiteql("SELECT foreignamountunpaid, BUILTIN.CF(status) AS code FROM transaction "
                                  "WHERE id = ?", [invoice_id])
    assert rows[0] == {"links": [], "foreignamountunpaid": "0", "code": "CustInvc:B"}
    assert netsuite.staff.get("customerPayment", partial)["apply"]["items"][0]["doc"]["id"] == str(invoice_id)


def test_payment_record_with_apply_and_credit_memo(netsuite: NetSuiteEmulator) -> None:
    order_id = create_order(netsuite, status="B")
    netsuite.ship(order_id)
    invoice_id = netsuite.invoice(order_id)
    total = netsuite.staff.get("invoice", invoice_id)["total"]
    customer = netsuite.staff.get("salesOrder", order_id)["entity"]["id"]
    payment = netsuite.staff.create("customerPayment", {
        "customer": {"id": customer}, "payment": 10, "externalId": f"PAY-{order_id}",
        "apply": {"items": [{"doc": {"id": str(invoice_id)}, "apply": True, "amount": 10}]}})
    assert netsuite.staff.get("customerPayment", payment)["applied"] == 10
    memo = netsuite.staff.credit_memo(invoice_id)
    record = netsuite.staff.get("creditMemo", memo)
    assert record["applied"] == round(total - 10, 2) and record["createdFrom"]["id"] == str(invoice_id)
    assert netsuite.staff.get("invoice", invoice_id)["status"]["id"] == "B"
    assert netsuite.staff.suiteql("SELECT BUILTIN.CF(status) AS code FROM transaction WHERE id = ?",
                                  [memo])[0]["code"] == "CustCred:A"  # unapplied remainder stays open


def test_shipping_cost_is_taxed_and_billed_once(netsuite: NetSuiteEmulator) -> None:
    body = order_body(netsuite, status="B")
    body["shippingCost"] = 5
    order_id = netsuite.staff.create("salesOrder", body)
    order = netsuite.staff.get("salesOrder", order_id)
    assert order["total"] == round((order["subtotal"] + 5) * 1.2, 2)
    netsuite.ship(order_id, lines={1: 1})
    first = netsuite.staff.get("invoice", netsuite.invoice(order_id))
    netsuite.ship(order_id)
    second = netsuite.staff.get("invoice", netsuite.invoice(order_id))
    assert first["shippingCost"] == 5 and second["shippingCost"] == 0
    assert round(first["total"] + second["total"], 2) == order["total"]


def test_partial_credit_memo_for_one_billed_line(netsuite: NetSuiteEmulator) -> None:
    order_id = create_order(netsuite, status="B")
    netsuite.ship(order_id)
    invoice_id = netsuite.invoice(order_id)
    memo_id = netsuite.staff.transform("invoice", invoice_id, "creditMemo",
                                       {"item": {"items": [{"orderLine": 2, "quantity": 2}]}})
    memo = netsuite.staff.get("creditMemo", memo_id)
    assert [(line["orderLine"], line["quantity"]) for line in memo["item"]["items"]] == [(2, 2)]
    assert memo["total"] == round(2 * 0.9 * 1.2, 2) and memo["status"]["id"] == "B"
    invoice = netsuite.staff.get("invoice", invoice_id)
    assert invoice["amountRemaining"] == round(invoice["total"] - memo["total"], 2)
