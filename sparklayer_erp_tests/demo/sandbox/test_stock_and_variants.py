"""Stock locations, stock upsert per SKU + location (and its two 400s), variant pack-size settings."""

from __future__ import annotations

import httpx


def _levels(api: httpx.Client, *skus: str) -> dict[tuple[str, str], int]:
    rows = api.post("/api/v1/batch-fetch-stock", json={"skus": list(skus)}).json()
    return {(r["sku"], lvl["stock_location_external_id"]): lvl["stock_level"] for r in rows for lvl in r["stock_levels"]}


def test_stock_locations_create_get_and_duplicate(api: httpx.Client) -> None:
    assert api.get("/api/v1/stock-locations").json() == []  # the integration creates them
    created = api.post("/api/v1/stock-locations", json={"name": "Main warehouse", "external_id": "WH"})
    assert created.status_code == 201
    location = created.json()
    assert api.get(f"/api/v1/stock-locations/{location['id']}").json() == location
    assert api.get("/api/v1/stock-locations/WH").json() == location
    assert api.get("/api/v1/stock-locations/NOPE").status_code == 404
    dup = api.post("/api/v1/stock-locations", json={"name": "Again", "external_id": "WH"})
    assert dup.status_code == 409 and dup.json()["errors"][0]["code"] == "resource-already-exists"
    missing = api.post("/api/v1/stock-locations", json={"name": "No code"})
    assert missing.status_code == 400 and missing.json()["errors"][0]["property"] == "external_id"


def test_batch_update_upserts_per_sku_and_location(api: httpx.Client) -> None:
    wh = api.post("/api/v1/stock-locations", json={"name": "Main", "external_id": "WH"}).json()
    api.post("/api/v1/stock-locations", json={"name": "North", "external_id": "WH2"})
    first = [{"sku": "SKU-A", "stock_location_external_id": "WH", "stock_level": 10},
             {"sku": "SKU-A", "stock_location_external_id": "WH2", "stock_level": 5},
             {"sku": "SKU-B", "stock_location_id": wh["id"], "stock_level": 7, "restock_date": "2025-05-01"}]
    assert api.post("/api/v1/batch-update-stock", json=first).status_code == 204
    update = [{"sku": "SKU-A", "stock_location_external_id": "WH", "stock_level": 3, "min_stock_level": -9}]
    assert api.post("/api/v1/batch-update-stock", json=update).status_code == 204
    assert _levels(api, "SKU-A", "SKU-B") == {("SKU-A", "WH"): 3, ("SKU-A", "WH2"): 5, ("SKU-B", "WH"): 7}
    fetched = api.post("/api/v1/batch-fetch-stock", json=["SKU-B", "SKU-NONE"]).json()
    assert fetched[0]["stock_levels"][0]["restock_date"] == "2025-05-01"
    assert fetched[1] == {"sku": "SKU-NONE", "stock_levels": []}


def test_unknown_location_or_repeated_pair_is_400_and_writes_nothing(api: httpx.Client) -> None:
    api.post("/api/v1/stock-locations", json={"name": "Main", "external_id": "WH"})
    unknown = [{"sku": "SKU-A", "stock_location_external_id": "WH", "stock_level": 1},
               {"sku": "SKU-A", "stock_location_external_id": "GHOST", "stock_level": 1}]
    response = api.post("/api/v1/batch-update-stock", json=unknown)
    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == "[1].stock_location_external_id"
    repeated = [{"sku": "SKU-A", "stock_location_external_id": "WH", "stock_level": 1},
                {"sku": "SKU-A", "stock_location_external_id": "WH", "stock_level": 2}]
    response = api.post("/api/v1/batch-update-stock", json=repeated)
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == "duplicate"
    assert _levels(api, "SKU-A") == {}
    assert api.post("/api/v1/batch-update-stock", json=[]).status_code == 400


def test_variants_have_no_pack_size_until_the_integration_sets_it(api: httpx.Client) -> None:
    variant = api.get("/api/v1/variants/SKU-COLA-L").json()
    assert variant["sku"] == "SKU-COLA-L" and variant["settings"] == [] and variant["status"] == "live"
    patched = api.patch("/api/v1/variants/SKU-COLA-L", json={"settings": [{"customer_group": "base",
                                                                           "pack_size": 12}]})
    assert patched.status_code == 200
    assert api.get(f"/api/v1/variants/{variant['id']}").json()["settings"] == [{"customer_group": "base",
                                                                                "pack_size": 12}]
    bad = api.patch("/api/v1/variants/SKU-COLA-L", json={"settings": [{"customer_group": "nope", "pack_size": 0}]})
    assert bad.status_code == 400
    assert {e["property"] for e in bad.json()["errors"]} == {"settings[0].customer_group", "settings[0].pack_size"}
    assert api.get("/api/v1/variants/NO-SUCH-SKU").status_code == 404
