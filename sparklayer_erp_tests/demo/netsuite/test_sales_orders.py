"""Sales-order state machine, credit checks, closing lines and stock effects."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sparklayer_erp.demo import demo_data
from sparklayer_erp_tests.demo.netsuite.helpers import (
    create_order,
    error_code,
    error_detail,
    order_body,
    stock,
)
from sparklayer_erp_tests.netsuite_fixtures import NetSuiteEmulator


def _status(ns: NetSuiteEmulator, order_id: int) -> str:
    return ns.staff.get("salesOrder", order_id)["status"]["id"]


@pytest.fixture
def customer_c1010(netsuite: NetSuiteEmulator) -> Iterator[str]:
    """A customer whose credit settings a test may change; put back afterwards."""
    seeded = demo_data.customer_by_code("C1010")
    yield seeded.account_code
    netsuite.set_credit_hold(seeded.account_code, "AUTO")
    limit = seeded.credit_limit
    netsuite.staff.set_credit_limit(seeded.account_code, None if limit is None else float(limit))


def test_approval_commits_stock_and_unapproval_releases_it(netsuite: NetSuiteEmulator) -> None:
    before = stock(netsuite, "SKU-COLA-L")
    order_id = create_order(netsuite)
    assert stock(netsuite, "SKU-COLA-L") == before  # pending approval commits nothing
    netsuite.staff.patch("salesOrder", order_id, {"orderStatus": {"id": "B"}})
    assert _status(netsuite, order_id) == "B"
    after = stock(netsuite, "SKU-COLA-L")
    assert after["quantitycommitted"] - before["quantitycommitted"] == 24  # 2 cases of 12, in base units
    assert before["quantityavailable"] - after["quantityavailable"] == 24
    netsuite.staff.patch("salesOrder", order_id, {"orderStatus": "A"})  # bare string enum accepted
    assert _status(netsuite, order_id) == "A" and stock(netsuite, "SKU-COLA-L") == before


def test_unapproval_is_refused_once_fulfilled(netsuite: NetSuiteEmulator) -> None:
    order_id = create_order(netsuite, status="B")
    netsuite.ship(order_id, lines={1: 1})
    response = netsuite.staff.request("PATCH", f"/record/v1/salesOrder/{order_id}",
                                      json_body={"orderStatus": {"id": "A"}})
    assert response.status_code == 400 and error_code(response) == "USER_ERROR"


def test_credit_hold_refuses_create_and_off_never_blocks(netsuite: NetSuiteEmulator) -> None:
    refused = netsuite.staff.request("POST", "/record/v1/salesOrder", json_body=order_body(netsuite, "C1007"))
    assert refused.status_code == 400 and "credit hold" in error_detail(refused)
    rows = netsuite.staff.suiteql("SELECT oncredithold FROM customer WHERE entityid = 'C1007'")
    assert rows[0]["oncredithold"] == "T"


def test_hold_set_by_patch_refuses_approval(netsuite: NetSuiteEmulator, customer_c1010: str) -> None:
    order_id = create_order(netsuite, customer_c1010)
    netsuite.set_credit_hold(customer_c1010, "ON")
    assert netsuite.staff.suiteql("SELECT oncredithold FROM customer WHERE entityid = ?",
                                  [customer_c1010])[0]["oncredithold"] == "T"
    refused = netsuite.staff.request("PATCH", f"/record/v1/salesOrder/{order_id}",
                                     json_body={"orderStatus": {"id": "B"}})
    assert refused.status_code == 400 and error_code(refused) == "USER_ERROR"
    assert _status(netsuite, order_id) == "A"
    netsuite.set_credit_hold(customer_c1010, "OFF")
    netsuite.staff.set_credit_limit(customer_c1010, 1)
    netsuite.staff.patch("salesOrder", order_id, {"orderStatus": {"id": "B"}})
    assert _status(netsuite, order_id) == "B"


def test_credit_limit_with_auto_counts_unbilled_orders(netsuite: NetSuiteEmulator, customer_c1010: str) -> None:
    netsuite.staff.set_credit_limit(customer_c1010, 40)  # one order of 31.32 fits, a second does not
    row = netsuite.staff.suiteql("SELECT unbilledorderssearch FROM customer WHERE entityid = ?", [customer_c1010])[0]
    existing = float(row["unbilledorderssearch"])
    if existing:
        netsuite.staff.set_credit_limit(customer_c1010, existing + 40)
    create_order(netsuite, customer_c1010)
    second = netsuite.staff.request("POST", "/record/v1/salesOrder", json_body=order_body(netsuite, customer_c1010))
    assert second.status_code == 400 and "credit hold" in error_detail(second)


def test_closing_every_line_closes_the_order_and_releases_stock(netsuite: NetSuiteEmulator) -> None:
    before = stock(netsuite, "SKU-COLA-S")
    order_id = create_order(netsuite, status="B")
    assert stock(netsuite, "SKU-COLA-S")["quantitycommitted"] == before["quantitycommitted"] + 5
    netsuite.staff.patch("salesOrder", order_id, {"item": {"items": [{"line": 1, "isClosed": True},
                                                                     {"line": 2, "isClosed": True}]}})
    assert _status(netsuite, order_id) == "H"
    assert stock(netsuite, "SKU-COLA-S") == before
    lines = netsuite.staff.suiteql("SELECT isclosed FROM transactionline WHERE transaction = ? AND mainline = 'F'",
                                   [order_id])
    assert {row["isclosed"] for row in lines} == {"T"}


def test_status_letters_follow_fulfilment_and_billing(netsuite: NetSuiteEmulator) -> None:
    order_id = create_order(netsuite, status="B")
    netsuite.ship(order_id, lines={1: 1})
    assert _status(netsuite, order_id) == "E"  # partly shipped, shipped part unbilled
    netsuite.invoice(order_id)
    assert _status(netsuite, order_id) == "D"
    netsuite.ship(order_id)
    assert _status(netsuite, order_id) == "F"
    netsuite.invoice(order_id)
    assert _status(netsuite, order_id) == "G"
    code = netsuite.staff.suiteql("SELECT BUILTIN.CF(t.status) AS code, BUILTIN.DF(t.status) AS label "
                                  "FROM transaction t WHERE t.id = ?", [order_id])[0]
    assert code["code"] == "SalesOrd:G" and code["label"].endswith("Billed")


def test_delete_only_without_dependent_records(netsuite: NetSuiteEmulator) -> None:
    order_id = create_order(netsuite)
    assert netsuite.staff.request("DELETE", f"/record/v1/salesOrder/{order_id}").status_code == 204
    assert netsuite.staff.request("GET", f"/record/v1/salesOrder/{order_id}").status_code == 404
    deleted = netsuite.staff.suiteql("SELECT type FROM DeletedRecord WHERE recordid = ?", [order_id])
    assert deleted == [{"links": [], "type": "salesorder"}]
    shipped = create_order(netsuite, status="B")
    netsuite.ship(shipped)
    assert netsuite.staff.request("DELETE", f"/record/v1/salesOrder/{shipped}").status_code == 400


def test_lines_default_to_the_sale_unit_and_the_customer_price(netsuite: NetSuiteEmulator) -> None:
    item = netsuite.staff.suiteql("SELECT id, saleunit FROM item WHERE itemid = 'SKU-COLA-L'")[0]
    body = order_body(netsuite, "C1002", lines=[{"item": {"id": item["id"]}, "quantity": 1}])
    line = netsuite.staff.get("salesOrder", netsuite.staff.create("salesOrder", body))["item"]["items"][0]
    assert line["units"] == item["saleunit"] == "3"
    price = netsuite.staff.suiteql("SELECT unitprice FROM pricing WHERE item = ? AND pricelevel = 3 AND quantity = 1",
                                   [item["id"]])[0]["unitprice"]  # C1002 is on Wholesale (level 3)
    assert line["rate"] == pytest.approx(float(price) * 12)


def test_overdue_invoices_hold_the_customer_when_the_preference_is_on(netsuite: NetSuiteEmulator) -> None:
    order_id = create_order(netsuite, "C1014", status="B")
    netsuite.ship(order_id)
    invoice_id = netsuite.invoice(order_id)
    netsuite.staff.set_preferences(days_overdue_for_hold=10)
    netsuite.set_clock(35)  # Net 30: five days overdue, inside the grace period
    create_order(netsuite, "C1014")
    netsuite.set_clock(45)
    row = netsuite.staff.suiteql("SELECT oncredithold, overduebalancesearch FROM customer WHERE entityid = 'C1014'")[0]
    assert row["oncredithold"] == "T" and float(row["overduebalancesearch"]) > 0
    refused = netsuite.staff.request("POST", "/record/v1/salesOrder", json_body=order_body(netsuite, "C1014"))
    assert refused.status_code == 400 and "credit hold" in error_detail(refused)
    netsuite.pay(invoice_id)
    create_order(netsuite, "C1014")
