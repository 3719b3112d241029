"""Price lists (v1 create/patch, v2 pages) and prices (replace-per-SKU, blank removes, batch 404, CSV)."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest


def _create(api: httpx.Client, slug: str, **fields: object) -> httpx.Response:
    return api.post("/api/v1/price-lists", json={"slug": slug, "name": f"List {slug}", "currency_code": "GBP",
                                                 "source": "integration", **fields})


def _prices(api: httpx.Client, slug: str) -> dict[str, list[tuple[int, Decimal]]]:
    rows = api.get(f"/api/v1/price-lists/{slug}/pricing").json()
    out: dict[str, list[tuple[int, Decimal]]] = {}
    for row in rows:
        out.setdefault(row["sku"], []).append((row["quantity"], Decimal(str(row["price"]))))
    return out


def test_create_duplicate_get_and_patch_a_price_list(api: httpx.Client) -> None:
    created = _create(api, "TRADE")
    assert created.status_code == 201
    assert created.json()["source"] == "integration" and created.json()["rules"] == []
    dup = _create(api, "TRADE")
    assert dup.status_code == 400 and dup.json()["errors"][0]["code"] == "resource-already-exists"
    patched = api.patch("/api/v1/price-lists/TRADE", json={"name": "Trade prices", "tax_inclusive_display": True})
    assert patched.status_code == 200
    got = api.get("/api/v1/price-lists/TRADE").json()
    assert got["name"] == "Trade prices" and got["tax_inclusive_display"] is True and got["currency_code"] == "GBP"
    assert got["updated_at"] > got["created_at"]
    assert api.patch("/api/v1/price-lists/TRADE", json={"slug": "OTHER"}).status_code == 400
    assert api.patch("/api/v1/price-lists/MISSING", json={"name": "x"}).status_code == 404
    assert api.get("/api/v1/price-lists/MISSING").status_code == 404
    assert [p["slug"] for p in api.get("/api/v1/price-lists").json()] == ["TRADE"]


def test_rules_must_reference_existing_lists_and_patch_replaces_them(api: httpx.Client) -> None:
    bad = _create(api, "DERIVED", rules=[{"source_price_list_slug": "NOPE", "adjustment_percentage": 0.1,
                                          "adjustment_direction": "minus"}])
    assert bad.status_code == 400 and bad.json()["errors"][0]["property"] == "rules[0].source_price_list_slug"
    _create(api, "BASE")
    rule = {"source_price_list_slug": "BASE", "adjustment_percentage": 0.1, "adjustment_direction": "minus"}
    assert _create(api, "DERIVED", rules=[rule]).status_code == 201
    api.patch("/api/v1/price-lists/DERIVED", json={"rules": []})
    assert api.get("/api/v1/price-lists/DERIVED").json()["rules"] == []


def test_pricing_patch_replaces_per_sku_and_leaves_other_skus_alone(api: httpx.Client) -> None:
    _create(api, "TRADE")
    first = [{"sku": "SKU-A", "pricing": [{"quantity": 1, "price": 10.40}, {"quantity": 10, "price": 9.50}]},
             {"sku": "SKU-B", "pricing": [{"quantity": 1, "price": 5}]}]
    assert api.patch("/api/v1/price-lists/TRADE/pricing", json=first).status_code == 204
    second = [{"sku": "SKU-A", "pricing": [{"quantity": 5, "price": 9.99}]}]
    assert api.patch("/api/v1/price-lists/TRADE/pricing", json=second).status_code == 204
    assert _prices(api, "TRADE") == {"SKU-A": [(5, Decimal("9.99"))], "SKU-B": [(1, Decimal("5"))]}
    assert api.patch("/api/v1/price-lists/TRADE/pricing", json=second).status_code == 204  # idempotent
    assert _prices(api, "TRADE")["SKU-A"] == [(5, Decimal("9.99"))]


@pytest.mark.parametrize("blank", [[], [{"quantity": None, "price": None}], [{"quantity": "", "price": ""}]])
def test_blank_quantity_and_price_remove_the_skus_prices(api: httpx.Client, blank: list) -> None:
    _create(api, "TRADE")
    api.patch("/api/v1/price-lists/TRADE/pricing", json=[
        {"sku": "SKU-A", "pricing": [{"quantity": 1, "price": 1}]}, {"sku": "SKU-B", "pricing": [{"quantity": 1,
                                                                                                  "price": 2}]}])
    assert api.patch("/api/v1/price-lists/TRADE/pricing", json=[{"sku": "SKU-A", "pricing": blank}]).status_code == 204
    assert set(_prices(api, "TRADE")) == {"SKU-B"}


def test_pricing_errors_are_line_field_message_arrays_and_nothing_is_written(api: httpx.Client) -> None:
    _create(api, "TRADE")
    body = [{"sku": "SKU-A", "pricing": [{"quantity": 1, "price": 1}]},
            {"sku": "SKU-B", "pricing": [{"quantity": 0, "price": "cheap"}]},
            {"pricing": [{"quantity": 1, "price": 1}]}]
    response = api.patch("/api/v1/price-lists/TRADE/pricing", json=body)
    assert response.status_code == 400
    errors = response.json()
    assert {(e["line"], e["field"]) for e in errors} == {
        (2, "pricing[0].quantity"), (2, "pricing[0].price"), (3, "sku")}
    assert all(set(e) == {"line", "field", "message"} for e in errors)
    assert _prices(api, "TRADE") == {}


def test_pricing_on_an_unknown_list_is_404(api: httpx.Client) -> None:
    response = api.patch("/api/v1/price-lists/NOPE/pricing", json=[{"sku": "A", "pricing": []}])
    assert response.status_code == 404


def test_batch_update_spans_lists_and_is_404_without_writing_if_any_list_is_missing(api: httpx.Client) -> None:
    _create(api, "L1")
    _create(api, "L2")
    ok = [{"sku": "SKU-A", "price_list_slug": "L1", "pricing": [{"quantity": 1, "price": 3}]},
          {"sku": "SKU-A", "price_list_slug": "L2", "pricing": [{"quantity": 1, "price": 2.5}]}]
    assert api.patch("/api/v1/batch-update-pricing", json=ok).status_code == 204
    missing = [{"sku": "SKU-B", "price_list_slug": "L1", "pricing": [{"quantity": 1, "price": 1}]},
               {"sku": "SKU-B", "price_list_slug": "GONE", "pricing": [{"quantity": 1, "price": 1}]}]
    response = api.patch("/api/v1/batch-update-pricing", json=missing)
    assert response.status_code == 404 and "GONE" in response.json()["detail"]
    assert "SKU-B" not in _prices(api, "L1")
    by_sku = api.get("/api/v1/pricing/SKU-A").json()
    assert by_sku == [{"price_list_slug": "L1", "pricing": [{"quantity": 1, "price": 3, "unit_of_measure": None}]},
                      {"price_list_slug": "L2", "pricing": [{"quantity": 1, "price": 2.5, "unit_of_measure": None}]}]
    assert api.get("/api/v1/pricing/NO-SUCH-SKU").json() == []


def test_sku_with_a_slash_is_url_encoded(api: httpx.Client) -> None:
    _create(api, "L1")
    api.patch("/api/v1/price-lists/L1/pricing", json=[{"sku": "BOX/12", "pricing": [{"quantity": 1, "price": 7}]}])
    assert api.get("/api/v1/pricing/BOX%2F12").json()[0]["price_list_slug"] == "L1"


def test_csv_pricing_patch(api: httpx.Client) -> None:
    _create(api, "L1")
    csv_body = "sku,quantity,price\nSKU-A,1,1.10\nSKU-A,12,0.99\nSKU-B,1,2.00\n"
    response = api.patch("/api/v1/price-lists/L1/pricing", content=csv_body, headers={"Content-Type": "text/csv"})
    assert response.status_code == 204
    assert _prices(api, "L1") == {"SKU-A": [(1, Decimal("1.1")), (12, Decimal("0.99"))], "SKU-B": [(1, Decimal(2))]}
    removal = api.patch("/api/v1/price-lists/L1/pricing", content="sku,quantity,price\nSKU-A,,\n",
                        headers={"Content-Type": "text/csv"})
    assert removal.status_code == 204 and set(_prices(api, "L1")) == {"SKU-B"}
    bad = api.patch("/api/v1/price-lists/L1/pricing", content="sku,quantity,price\nSKU-C,x,1\n",
                    headers={"Content-Type": "text/csv"})
    assert bad.status_code == 400 and bad.json()[0]["line"] == 2


@pytest.mark.parametrize(("rows", "page_size", "pages"), [(0, 3, [0]), (1, 3, [1]), (3, 3, [3]), (4, 3, [3, 1])])
def test_v2_pagination_edges(api: httpx.Client, rows: int, page_size: int, pages: list[int]) -> None:
    for i in range(rows):
        _create(api, f"P{i}")
    seen = []
    page = 1
    while True:
        body = api.get("/api/v2/price-lists", params={"page": page, "page_size": page_size}).json()
        assert body["pagination"]["total"] == rows and body["pagination"]["per_page"] == page_size
        assert body["pagination"]["total_pages"] == len(pages)
        seen.append(len(body["data"]))
        if body["pagination"]["current_page"] >= body["pagination"]["total_pages"]:
            break
        page += 1
    assert seen == pages


def test_v2_order_by_source_filter_and_page_size_cap(api: httpx.Client) -> None:
    _create(api, "B", name="beta")
    _create(api, "A", name="alpha", source="custom")
    names = [p["name"] for p in api.get("/api/v2/price-lists", params={"order_by": "name:asc"}).json()["data"]]
    assert names == ["alpha", "beta"]
    only = api.get("/api/v2/price-lists", params={"source": "integration"}).json()["data"]
    assert [p["slug"] for p in only] == ["B"]
    assert api.get("/api/v2/price-lists", params={"page_size": 251}).status_code == 400
    assert api.get("/api/v2/price-lists", params={"order_by": "colour:asc"}).status_code == 400
