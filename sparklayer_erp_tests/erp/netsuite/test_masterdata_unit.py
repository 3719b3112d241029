"""Customer reads at the HTTP edge: SuiteQL rows (NULL columns left out) joined with the REST record's
hold override, price level, currency and address book."""

from __future__ import annotations

from decimal import Decimal

import httpx

from sparklayer_erp.erp.netsuite.adapter import NetSuiteErp
from sparklayer_erp_tests.erp.netsuite.support import FakeNetSuite, json_of, tba_config

CUSTOMERS = [
    {"links": [], "id": "11", "entityid": "C1", "companyname": "Acme", "email": "a@x.example", "creditlimit": "500",
     "oncredithold": "F", "balancesearch": "120.50", "unbilledorderssearch": "30", "terms": "2",
     "termsname": "Net 30", "isinactive": "F"},
    {"links": [], "id": "12", "entityid": "C2", "companyname": "Bravo", "oncredithold": "T", "isinactive": "T"},
]
RECORDS = {
    "customer/11": {"id": "11", "creditHoldOverride": {"id": "ON", "refName": "On"},
                    "priceLevel": {"id": "3", "refName": "Trade"}, "currency": {"id": "1", "refName": "British pound"},
                    "addressBook": {"items": [{"label": "HQ", "defaultBilling": True, "addressBookAddress": {
                        "addressee": "Acme Ltd", "addr1": "1 High St", "addr2": "Unit 4", "city": "Leeds",
                        "zip": "LS1 1AA", "country": {"id": "GB", "refName": "United Kingdom"}}}]},
                    "itemPricing": {"items": [{"item": {"id": "301"}, "level": {"id": "-1"}, "price": 0.5}]}},
    "customer/12": {"id": "12", "creditHoldOverride": {"id": "AUTO"}, "priceLevel": {"id": "1"}},
    "currency/1": {"id": "1", "name": "British pound", "symbol": "GBP"},
    "priceLevel/3": {"id": "3", "name": "Trade", "externalId": "TRADE"},
}


def _handler(request: httpx.Request) -> httpx.Response:
    path = request.url.path.split("/record/v1/", 1)[-1]
    if request.url.path.endswith("/suiteql"):
        q = json_of(request)["q"]
        if "FROM customer" in q:
            items = CUSTOMERS
        elif "FROM pricing" in q:
            items = [{"links": [], "pricelevel": "3", "levelname": "Trade", "currency": "1"},
                     {"links": [], "pricelevel": "1", "levelname": "Base Price", "currency": "1"}]
        else:
            items = []
        return httpx.Response(200, json={"items": items, "hasMore": False, "count": len(items), "offset": 0})
    record = RECORDS.get(path)
    return httpx.Response(200, json=record) if record else httpx.Response(404, json={"status": 404})


def test_customers_join_suiteql_figures_with_the_rest_record():
    fake = FakeNetSuite(_handler)
    with NetSuiteErp(tba_config(), http=fake.client(tba_config())) as erp:
        acme, bravo = erp.list_customers()
    assert (acme.account_code, acme.name, acme.email) == ("C1", "Acme", "a@x.example")
    assert acme.on_credit_hold  # manual hold read from REST although SuiteQL says F
    assert acme.open_balance == Decimal("150.50") and acme.credit_limit == Decimal("500")
    assert (acme.payment_terms, acme.payment_terms_days) == ("Net 30", 30)
    assert acme.price_level == "TRADE" and acme.contract_price_list == "CONTRACT-C1"
    assert acme.currency == "GBP"
    [address] = acme.addresses
    assert (address.name, address.street, address.city, address.postal_code, address.country_code) == (
        "Acme Ltd", "1 High St, Unit 4", "Leeds", "LS1 1AA", "GB")
    assert bravo.on_credit_hold and not bravo.active
    assert bravo.credit_limit is None and bravo.open_balance == 0 and bravo.price_level is None
    assert bravo.email is None and bravo.addresses == () and bravo.contract_price_list is None
    gets = [r.url.path for r in fake.requests if r.method == "GET"]
    assert gets.count("/services/rest/record/v1/currency/1") == 1  # currency records are cached


def test_credit_status_is_read_fresh_on_every_customer_list():
    fake = FakeNetSuite(_handler)
    with NetSuiteErp(tba_config(), http=fake.client(tba_config())) as erp:
        assert erp.list_customers()[0].on_credit_hold
        RECORDS["customer/11"] = {**RECORDS["customer/11"], "creditHoldOverride": {"id": "AUTO"}}
        try:
            assert not erp.list_customers()[0].on_credit_hold  # released by credit control in between
        finally:
            RECORDS["customer/11"] = {**RECORDS["customer/11"], "creditHoldOverride": {"id": "ON"}}
