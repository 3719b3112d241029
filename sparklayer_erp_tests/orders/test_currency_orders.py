"""Orders in the customer's currency, against the real Tryton and the sandbox shop.

The EU trade customer (``demo_data.EURO_CUSTOMER``) buys in EUR: the ERP prices them through its EUR level
(the GBP list prices converted at the ERP's rate), SparkLayer shows that list in EUR, the purchase is in EUR
and becomes a Tryton sale in EUR. A purchase in a currency the ERP does not book is held for finance as
``unknown_currency`` before anything is written, while the valid orders of the same batch go through.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from sparklayer_erp.demo import demo_data
from sparklayer_erp.domain.masterdata import PriceBreak, PricingEntry
from sparklayer_erp.domain.models import ErpOrderState, OwnerTeam
from sparklayer_erp.erp.tryton import conventions as conv
from sparklayer_erp.ledger import SyncState
from sparklayer_erp.masterdata.mapper import CustomerLink, customer_payload, price_list_payload, pricing_row
from sparklayer_erp.orders.sync import OrderSync, Outcome, SyncSettings, fetch_requested
from sparklayer_erp.sparklayer.models import PriceList
from sparklayer_erp_tests.orders.shop import Shop, rounding_agrees

pytestmark = pytest.mark.tryton

EURO = demo_data.EURO_CUSTOMER
EURO_LEVEL = demo_data.level_by_code(EURO.price_level)
DEMO_RATE = demo_data.FOREIGN_CURRENCIES[0].rate  # EUR per GBP in the seeded ERP


@pytest.fixture(scope="module")
def euro_shop(shop: Shop, client, erp):
    """What the master-data push gives SparkLayer for the euro customer: the EUR level as a EUR price list
    with the ERP's prices, and the customer (pay on account in EUR) on that list."""
    (price_list,) = [pl for pl in erp.list_price_lists() if pl.code == EURO_LEVEL.code]
    payload = price_list_payload(price_list)
    client.create_price_list(PriceList(slug=payload["slug"], name=payload["name"],
                                       currency_code=payload["currency_code"], source="integration"))
    prices = [p for p in erp.list_prices((1, EURO_LEVEL.volume_break_units)) if p.price_list_code == EURO_LEVEL.code]
    by_sku: dict[str, list[PriceBreak]] = {}
    for p in prices:
        by_sku.setdefault(p.sku, []).append(PriceBreak(p.min_quantity, p.unit_price))
    client.patch_pricing(payload["slug"], [pricing_row(PricingEntry(EURO_LEVEL.code, sku, tuple(breaks)))
                                           for sku, breaks in by_sku.items()])
    (customer,) = [c for c in erp.list_customers() if c.account_code == EURO.account_code]
    upsert = customer_payload(customer, CustomerLink(platform_id=EURO.platform_id))
    raw = dict(client.get_customer(upsert.lookup_by, upsert.identifier).raw)  # (the shop's own addresses kept)
    raw.update({k: upsert.body[k] for k in ("accounting_id", "price_lists", "payment_on_account")})
    client.upsert_customer(upsert.lookup_by, upsert.identifier, raw)
    return {"price_list": price_list, "customer": customer, "slug": payload["slug"], "prices": prices,
            "poa": upsert.body["payment_on_account"]}


def test_the_erp_prices_the_euro_customer_in_eur_at_its_rate(erp, euro_shop):
    assert euro_shop["price_list"].currency == "EUR"
    assert euro_shop["customer"].currency == "EUR"
    case12 = next(p for p in demo_data.PRODUCTS if p.pack_size == 12)
    gbp_case = case12.list_price * EURO_LEVEL.factor * 12
    assert erp.customer_price(EURO.account_code, case12.sku, Decimal(1), "Case of 12") == gbp_case * DEMO_RATE
    # the credit limit Tryton keeps in GBP reaches the shop in the customer's currency
    assert euro_shop["customer"].credit_limit == EURO.credit_limit * DEMO_RATE


def test_a_euro_customers_order_becomes_a_tryton_sale_in_eur(shop: Shop, ledger, client, erp, euro_shop, admin_rpc):
    case12 = next(p for p in demo_data.PRODUCTS if p.pack_size == 12)
    single = next(p for p in demo_data.PRODUCTS if p.pack_size == 1)
    lines = [(case12.sku, 24), (single.sku, 10)]
    buyer = shop.demo(EURO.account_code)  # (gives the buyer SparkLayer credit in GBP: the push's EUR terms back)
    raw = dict(client.get_customer("sparklayer", buyer.sparklayer_id).raw)
    raw["payment_on_account"] = {**euro_shop["poa"], "credit_limit": 100_000}
    client.upsert_customer("sparklayer", buyer.sparklayer_id, raw)
    assert client.get_customer("sparklayer", buyer.sparklayer_id).raw["price_lists"] == [euro_shop["slug"]]
    shop.link(ledger, buyer)
    purchase = shop.sandbox.admin.place_order(buyer.sparklayer_id, lines, "invoice", po_number="PO-EUR-1")
    pid = purchase["purchase_identifiers"]["sparklayer"]
    shop_units = {li["identifiers"]["sku"]: Decimal(li["unit_total"]["number"])
                  for li in purchase["packages"][0]["line_items"]}
    assert purchase["currency_code"] == "EUR"  # the shop priced it from the EUR list
    assert rounding_agrees([(shop_units[sku], qty) for sku, qty in lines])

    (result,) = OrderSync(ledger, erp, SyncSettings()).run(fetch_requested(client, [pid], None)).results

    assert result.outcome is Outcome.COMMITTED, result.detail
    link = ledger.get_order_link(pid)
    assert link.sync_state == SyncState.COMMITTED and link.currency == "EUR"
    (status,) = erp.order_status([link.erp_order_id])
    assert status.state is ErpOrderState.COMMITTED
    assert status.currency == "EUR" and status.company_rate == 1 / DEMO_RATE  # 1 EUR = 0.80 GBP in the ERP
    assert {(ln.sku, ln.quantity, ln.unit, ln.unit_price) for ln in status.lines} == {
        (case12.sku, 2, "Case of 12", shop_units[case12.sku] * 12),
        (single.sku, 10, "Unit", shop_units[single.sku])}
    assert [ln.unit_price for ln in status.lines if ln.sku == case12.sku] == [
        case12.list_price * EURO_LEVEL.factor * 12 * DEMO_RATE]
    assert status.total == Decimal(purchase["calculated_total"]["number"])  # in EUR, to the cent
    (sale,) = admin_rpc.search_read("sale.sale", [("id", "=", link.erp_order_id)], ["currency.code", "total_amount"])
    assert sale["currency."]["code"] == "EUR"
    month = [s for s in erp.list_orders_between(dt.date.today(), dt.date.today() + dt.timedelta(days=1))
             if s.purchase_id == pid]
    assert [(s.currency, s.company_rate) for s in month] == [("EUR", 1 / DEMO_RATE)]


def test_a_purchase_in_a_currency_the_erp_does_not_book_is_held_for_finance_while_the_batch_syncs(
        shop: Shop, ledger, client, erp):
    buyer = shop.new_customer(credit_limit=None)
    raw = dict(client.get_customer("sparklayer", buyer.sparklayer_id).raw)
    raw["payment_on_account"] = {**raw["payment_on_account"], "currency_code": "USD"}
    client.upsert_customer("sparklayer", buyer.sparklayer_id, raw)
    shop.link(ledger, buyer)
    usd = shop.place(buyer, [("SKU-COLA-L", 12)], "invoice", po=f"PO-USD-{uuid.uuid4().hex[:4]}")
    assert shop.purchase(usd).currency == "USD"
    gbp_buyer = shop.demo("C1006")
    shop.link(ledger, gbp_buyer)
    gbp = shop.place(gbp_buyer, [("SKU-COLA-L", 12)], "invoice")

    report = OrderSync(ledger, erp, SyncSettings()).run(fetch_requested(client, [usd, gbp], None))

    outcomes = {r.purchase_id: r for r in report.results}
    assert outcomes[gbp].outcome is Outcome.COMMITTED
    assert outcomes[usd].outcome is Outcome.QUARANTINED and outcomes[usd].exception_kinds == ("unknown_currency",)
    (held,) = [e for e in ledger.open_exceptions(kind="unknown_currency") if e.entity_id == usd]
    assert held.owner_team == OwnerTeam.FINANCE
    assert "USD" in held.message and "the ERP has no currency USD" in held.message
    assert shop.erp_order_count([usd, gbp]) == {gbp: 1}  # nothing written for the USD purchase
    assert all(e.entity_id != usd for e in ledger.open_exceptions(kind="erp_refused"))  # not operations
    rows = erp.rpc.search_read("sale.sale", [(conv.PURCHASE_ID_FIELD, "=", usd)], ["id"])
    assert rows == []
