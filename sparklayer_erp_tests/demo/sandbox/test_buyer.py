"""The buyer (``/_sandbox``): checkout rules as the storefront enforces them, cancel, amend, the write log."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from sparklayer_erp.demo.sandbox.admin import SandboxRejected
from sparklayer_erp.demo.sandbox.server import SandboxHandle
from sparklayer_erp_tests.demo.sandbox.helpers import ACME, HOLD, customer_body, money

POA = {"credit_limit": 2000, "balance": 0, "currency_code": "GBP", "net_terms_days": 30}


@pytest.fixture()
def shop(api: httpx.Client) -> httpx.Client:
    """What the integration would have pushed: a trade list with a quantity break, a case-of-12 pack size,
    Acme linked with the list and a 2,000 credit limit."""
    api.post("/api/v1/price-lists", json={"slug": "TRADE", "name": "Trade", "currency_code": "GBP"})
    api.patch("/api/v1/price-lists/TRADE/pricing", json=[
        {"sku": "SKU-COLA-S", "pricing": [{"quantity": 1, "price": 0.76}, {"quantity": 120, "price": 0.7225}]},
        {"sku": "SKU-COLA-L", "pricing": [{"quantity": 1, "price": 0.8833}]}])
    api.patch("/api/v1/variants/SKU-COLA-L", json={"settings": [{"customer_group": "base", "pack_size": 12}]})
    for customer in (ACME, HOLD):
        response = api.put(f"/api/v2/customers/platform/{customer.platform_id}",
                           json=customer_body(customer, price_lists=["TRADE"], payment_on_account=POA))
        assert response.status_code == 200, response.text
    return api


def _balance(api: httpx.Client) -> Decimal:
    poa = api.get(f"/api/v2/customers/platform/{ACME.platform_id}").json()["payment_on_account"]
    return Decimal(str(poa["balance"]))


def test_order_is_priced_taxed_and_stored_as_a_purchase(shop: httpx.Client, sandbox: SandboxHandle) -> None:
    order = sandbox.admin.place_order(ACME.email, [("SKU-COLA-S", 120), ("SKU-COLA-L", 24)], "invoice", "PO-77")
    assert order["type"] == "order" and order["customer_reference"] == "PO-77"
    assert order["purchase_identifiers"]["visible"] == "#1001" and order["purchase_identifiers"]["platform"]
    assert order["customer_identifiers"]["sparklayer"] == ACME.sparklayer_id
    (package,) = order["packages"]
    assert package["type"] == "incoming"
    cola_s, cola_l = package["line_items"]
    assert cola_s["unit_total"] == money("0.7225")  # the 120-unit break
    assert cola_s["line_total"]["total_net"] == money("86.70")
    assert cola_s["line_total"]["total_tax"] == money("17.34")
    assert cola_l["line_total"]["total_net"] == money("21.20")  # 24 × 0.8833 = 21.1992 → 21.20
    assert cola_l["line_total"]["total_tax"] == money("4.24")
    assert order["tax_lines"] == [{"title": "VAT", "amount": money("21.58"), "rate": "20"}]
    assert order["calculated_total"] == money("129.48")
    assert order["dates"]["placed"] < order["dates"]["last_updated"]
    listed = shop.get("/api/v1/purchases", params={"type": "order"}).json()
    assert [p["purchase_identifiers"]["sparklayer"] for p in listed] == [order["purchase_identifiers"]["sparklayer"]]
    assert _balance(shop) == Decimal("129.48")  # invoice orders are owed too


def test_pack_size_violation_is_refused(shop: httpx.Client, sandbox: SandboxHandle) -> None:
    with pytest.raises(SandboxRejected) as refused:
        sandbox.admin.place_order(ACME.email, [("SKU-COLA-L", 10)], "invoice")
    assert refused.value.status == 400 and refused.value.codes == ["pack-size"]
    assert refused.value.problem["errors"][0]["property"] == "lines[0].quantity"


def test_credit_hold_group_can_only_pay_by_card(shop: httpx.Client, sandbox: SandboxHandle) -> None:
    body = customer_body(HOLD, group="credit-hold", price_lists=["TRADE"], payment_on_account=POA)
    shop.put(f"/api/v2/customers/platform/{HOLD.platform_id}", json=body)
    for method in ("on_account", "invoice"):
        with pytest.raises(SandboxRejected) as refused:
            sandbox.admin.place_order(HOLD.sparklayer_id, [("SKU-COLA-S", 6)], method)
        assert refused.value.codes == ["payment-method-not-allowed"]
    card = sandbox.admin.place_order(HOLD.sparklayer_id, [("SKU-COLA-S", 6)], "platform_upfront")
    assert card["payment_method"] == "platform_upfront"


def test_on_account_beyond_the_credit_headroom_is_refused(shop: httpx.Client, sandbox: SandboxHandle) -> None:
    with pytest.raises(SandboxRejected) as refused:  # 2400 × 0.7225 × 1.2 = 2080.80 > 2000
        sandbox.admin.place_order(ACME.platform_id, [("SKU-COLA-S", 2400)], "on_account")
    assert refused.value.codes == ["credit-limit-exceeded"]
    first = sandbox.admin.place_order(ACME.platform_id, [("SKU-COLA-S", 1200)], "on_account")  # 1040.40
    assert _balance(shop) == Decimal("1040.40")
    with pytest.raises(SandboxRejected):  # headroom is now 959.60
        sandbox.admin.place_order(ACME.platform_id, [("SKU-COLA-S", 1200)], "on_account")
    cancelled = sandbox.admin.cancel_order(first["purchase_identifiers"]["sparklayer"])
    assert cancelled["status"] == "cancelled" and cancelled["dates"]["cancelled"]
    assert cancelled["calculated_fulfilment_status"] == "cancelled"
    assert _balance(shop) == Decimal("0.00")
    sandbox.admin.place_order(ACME.platform_id, [("SKU-COLA-S", 1200)], "on_account")


def test_card_order_gets_a_payment_transaction_and_is_paid(shop: httpx.Client, sandbox: SandboxHandle) -> None:
    order = sandbox.admin.place_order(ACME.email, [("SKU-COLA-S", 10)], "platform_upfront")  # 7.60 + 1.52
    assert order["total_paid"] == order["calculated_total"] == money("9.12")
    sparklayer_id = order["purchase_identifiers"]["sparklayer"]
    (tx,) = shop.get(f"/api/v1/purchases/sparklayer/{sparklayer_id}/transactions").json()
    assert tx["type"] == "payment" and tx["total"] == money("9.12") and tx["apply_to_balance"] is True
    assert _balance(shop) == Decimal("0.00")


def test_no_price_is_refused_unless_the_buyer_price_is_overridden(shop: httpx.Client,
                                                                   sandbox: SandboxHandle) -> None:
    with pytest.raises(SandboxRejected) as refused:
        sandbox.admin.place_order(ACME.email, [("SKU-OJ-S", 2)], "invoice")
    assert refused.value.codes == ["no-price"]
    order = sandbox.admin.place_order(ACME.email, [("SKU-OJ-S", 2)], "invoice",
                                      unit_price_overrides={"SKU-OJ-S": Decimal("1.5")})
    assert order["packages"][0]["line_items"][0]["unit_total"] == money("1.50")


def test_customer_lists_come_before_group_lists(shop: httpx.Client, sandbox: SandboxHandle) -> None:
    shop.post("/api/v1/price-lists", json={"slug": "RETAIL", "name": "Retail", "currency_code": "GBP"})
    shop.patch("/api/v1/price-lists/RETAIL/pricing", json=[
        {"sku": "SKU-COLA-S", "pricing": [{"quantity": 1, "price": 0.99}]},
        {"sku": "SKU-OJ-S", "pricing": [{"quantity": 1, "price": 1.95}]}])
    sandbox.admin.set_group_settings("trade", price_lists=["RETAIL"])
    order = sandbox.admin.place_order(ACME.email, [("SKU-COLA-S", 1), ("SKU-OJ-S", 1)], "invoice")
    units = [line["unit_total"]["number"] for line in order["packages"][0]["line_items"]]
    assert units == ["0.76", "1.95"]


def test_amend_replaces_lines_and_moves_the_balance(shop: httpx.Client, sandbox: SandboxHandle) -> None:
    order = sandbox.admin.place_order(ACME.email, [("SKU-COLA-S", 10)], "on_account")
    amended = sandbox.admin.amend_order(order["purchase_identifiers"]["sparklayer"], [("SKU-COLA-L", 12)])
    (line,) = amended["packages"][0]["line_items"]
    assert line["identifiers"]["sku"] == "SKU-COLA-L" and line["quantity"] == 12
    assert amended["calculated_total"] == money("12.72")  # 10.60 + 2.12
    assert amended["dates"]["last_updated"] > order["dates"]["last_updated"]
    assert _balance(shop) == Decimal("12.72")
    with pytest.raises(SandboxRejected):
        sandbox.admin.amend_order(order["purchase_identifiers"]["sparklayer"], [("SKU-COLA-L", 5)])


def test_unknown_customer_and_unknown_sku(shop: httpx.Client, sandbox: SandboxHandle) -> None:
    with pytest.raises(SandboxRejected) as refused:
        sandbox.admin.place_order("nobody@nowhere.example", [("SKU-COLA-S", 1)], "invoice")
    assert refused.value.status == 404
    with pytest.raises(SandboxRejected) as refused:
        sandbox.admin.place_order(ACME.email, [("NOT-A-SKU", 1)], "invoice")
    assert refused.value.codes == ["unknown-sku"]


def test_write_log_lists_every_mutating_call(shop: httpx.Client, sandbox: SandboxHandle) -> None:
    writes = sandbox.admin.writes()
    assert [(w["method"], w["path"], w["status"]) for w in writes][:3] == [
        ("POST", "/api/v1/price-lists", 201), ("PATCH", "/api/v1/price-lists/TRADE/pricing", 204),
        ("PATCH", "/api/v1/variants/SKU-COLA-L", 200)]
    assert writes[1]["body"][0]["sku"] == "SKU-COLA-S"
    mark = writes[-1]["seq"]
    shop.get("/api/v1/purchases")  # reads are not logged
    shop.post("/api/v1/batch-fetch-stock", json={"skus": ["SKU-COLA-S"]})
    shop.put("/api/v1/sync-log/sparklayer-erp/orders", json={})
    assert [(w["method"], w["path"]) for w in sandbox.admin.writes(since=mark)] == [
        ("PUT", "/api/v1/sync-log/sparklayer-erp/orders")]
