"""SuiteQL: paging shape and rules, errors with NetSuite's texts, translation, the adapter's queries."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sparklayer_erp.erp.netsuite import queries
from sparklayer_erp_tests.demo.netsuite.helpers import create_order, error_code, error_detail
from sparklayer_erp_tests.netsuite_fixtures import NetSuiteEmulator


def _query(ns: NetSuiteEmulator, q: str, params: list[Any] | None = None, *, limit: Any = 1000, offset: Any = 0,
           prefer: str | None = "transient") -> httpx.Response:
    return ns.staff.request("POST", "/query/v1/suiteql", json_body={"q": q, "params": params or []},
                            params={"limit": limit, "offset": offset},
                            headers={"Prefer": prefer} if prefer else None)


def test_paging_shape(netsuite: NetSuiteEmulator) -> None:
    q = "SELECT id, itemid FROM item ORDER BY id"
    first = _query(netsuite, q, limit=20, offset=0).json()
    assert set(first) == {"links", "count", "hasMore", "offset", "totalResults", "items"}
    assert first["count"] == 20 and first["hasMore"] is True and first["totalResults"] == 52
    assert first["items"][0]["links"] == [] and isinstance(first["items"][0]["id"], str)
    assert any(link["rel"] == "next" for link in first["links"])
    last = _query(netsuite, q, limit=20, offset=40).json()
    assert last["count"] == 12 and last["hasMore"] is False and last["offset"] == 40
    assert {r["id"] for r in first["items"]}.isdisjoint({r["id"] for r in last["items"]})


@pytest.mark.parametrize(("limit", "offset"), [(1001, 0), (0, 0), (10, 5), ("x", 0)])
def test_limit_and_offset_rules(netsuite: NetSuiteEmulator, limit: Any, offset: Any) -> None:
    response = _query(netsuite, "SELECT id FROM item", limit=limit, offset=offset)
    assert response.status_code == 400 and error_code(response) == "INVALID_PARAMETER"


def test_prefer_transient_is_required(netsuite: NetSuiteEmulator) -> None:
    assert _query(netsuite, "SELECT id FROM item", prefer=None).status_code == 400


def test_unknown_column_and_table_texts(netsuite: NetSuiteEmulator) -> None:
    column = _query(netsuite, "SELECT c.id, c.balance FROM customer c")
    assert column.status_code == 400 and error_code(column) == "INVALID_PARAMETER"
    assert column.json()["o:errorDetails"][0]["o:errorQueryParam"] == "q"
    assert error_detail(column) == ("Invalid search query. Detailed unprocessed description follows. Search error "
                                    "occurred: Unknown identifier 'c.balance'. Available identifiers are: "
                                    "{c=customer}.")
    table = _query(netsuite, "SELECT id FROM transactiontablethatdoesnotexist")
    assert error_detail(table).endswith("Invalid search type: transactiontablethatdoesnotexist.")
    private = _query(netsuite, "SELECT doc FROM ns_record")
    assert private.status_code == 400 and "Invalid search type" in error_detail(private)


def test_values_are_strings_booleans_t_f_and_params_bind(netsuite: NetSuiteEmulator) -> None:
    rows = _query(netsuite, "SELECT entityid, creditlimit, oncredithold, isinactive FROM customer "
                            "WHERE entityid = ? OR entityid = ?", ["C1001", "C1007"]).json()["items"]
    by_code = {r["entityid"]: r for r in rows}
    assert by_code["C1001"] == {"links": [], "entityid": "C1001", "creditlimit": "2000", "oncredithold": "F",
                                "isinactive": "F"}
    assert by_code["C1007"]["oncredithold"] == "T"


def test_date_functions(netsuite: NetSuiteEmulator) -> None:
    order_id = create_order(netsuite)
    rows = _query(netsuite, "SELECT TO_CHAR(t.lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS modified, t.trandate "
                            "FROM transaction t WHERE t.id = ? AND t.lastmodifieddate > "
                            "TO_TIMESTAMP('2000-01-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS') AND "
                            "t.trandate >= TO_DATE(TO_CHAR(SYSDATE, 'YYYY-MM-DD'), 'YYYY-MM-DD')",
                  [order_id]).json()["items"]
    assert len(rows) == 1 and len(rows[0]["modified"]) == 19


def test_lines_are_in_base_units_and_negative(netsuite: NetSuiteEmulator) -> None:
    order_id = create_order(netsuite)
    rows = _query(netsuite, "SELECT tl.id, tl.quantity, tl.rate, tl.units, BUILTIN.DF(tl.units) AS unitname "
                            "FROM transactionline tl WHERE tl.transaction = ? AND tl.mainline = 'F' ORDER BY tl.id",
                  [order_id]).json()["items"]
    assert [(r["quantity"], r["rate"], r["unitname"]) for r in rows] == [("-24", "0.9", "Case of 12"),
                                                                          ("-5", "0.9", "Each")]


def test_every_adapter_query_runs(netsuite: NetSuiteEmulator) -> None:
    order_id = create_order(netsuite, status="B")
    fulfilment = netsuite.ship(order_id)
    invoice_id = netsuite.invoice(order_id)
    netsuite.pay(invoice_id)
    for name, query in queries.all_queries().items():
        response = _query(netsuite, query.q, list(query.params))
        assert response.status_code == 200, (name, response.text)
    found = {name: _query(netsuite, q.q, list(q.params)).json()["items"] for name, q in {
        "lines": queries.order_lines([order_id]), "fulfilments": queries.fulfilments([order_id]),
        "tracking": queries.tracking_numbers([fulfilment]), "invoices": queries.invoices([order_id]),
        "payments": queries.payments([invoice_id])}.items()}
    assert len(found["lines"]) == 2 and found["fulfilments"][0]["statuscode"] == "ItemShip:C"
    assert found["tracking"][0]["trackingnumber"] == "1Z999AA10123456784"
    assert found["invoices"][0]["statuscode"] == "CustInvc:B" and found["payments"][0]["invoice"] == str(invoice_id)


def test_display_values_of_transaction_references(netsuite: NetSuiteEmulator) -> None:
    order_id = create_order(netsuite, status="B")
    fulfilment = netsuite.ship(order_id)
    rows = _query(netsuite, "SELECT BUILTIN.DF(tl.transaction) AS doc, BUILTIN.DF(tl.createdfrom) AS source, "
                            "BUILTIN.DF(tl.location) AS place FROM transactionline tl WHERE tl.transaction = ? "
                            "AND tl.mainline = 'T' FETCH FIRST 1 ROWS ONLY", [fulfilment]).json()["items"]
    tran_id = netsuite.staff.get("salesOrder", order_id)["tranId"]
    assert rows[0]["doc"].startswith("Item Fulfillment #") and rows[0]["source"] == f"Sales Order #{tran_id}"
