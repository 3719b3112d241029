"""Price lists per currency, ERP → SparkLayer, through the real master-data flow (Tryton demo company, sandbox).

The ERP's EUR trade level reaches SparkLayer as a EUR price list holding the ERP's EUR prices (its GBP
list prices converted at the ERP's rate); the EU customer gets that list and pay-on-account terms in EUR;
everything in the company currency stays GBP.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from sparklayer_erp.demo import demo_data
from sparklayer_erp.domain.masterdata import price_list_slug
from sparklayer_erp.sparklayer import contract
from sparklayer_erp_tests.masterdata.conftest import World, make_world

pytestmark = pytest.mark.tryton

EURO = demo_data.EURO_CUSTOMER
EURO_LEVEL = demo_data.level_by_code(EURO.price_level)
RATE = demo_data.FOREIGN_CURRENCIES[0].rate


@pytest.fixture(scope="module")
def synced(tryton_server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    for world in make_world(tryton_server, tmp_path_factory.mktemp("md-currency")):
        result = world.materialize()
        assert result.success
        yield world


def test_the_eur_level_is_pushed_as_a_eur_price_list_and_the_others_stay_gbp(synced: World):
    with synced.client() as client:
        lists = {pl.slug: pl for pl in client.list_price_lists()}
    assert lists[price_list_slug(EURO_LEVEL.code)].currency_code == "EUR"
    for level in demo_data.PRICE_LEVELS:
        assert lists[price_list_slug(level.code)].currency_code == level.currency
    contracts = [price_list_slug(demo_data.contract_list_code(c.account_code))
                 for c in demo_data.CUSTOMERS if c.contract_prices]
    assert {lists[slug].currency_code for slug in contracts} == {"GBP"}


def test_the_eur_list_holds_the_erps_prices_converted_at_its_rate_with_the_volume_break(synced: World):
    with synced.client() as client:
        rows = {row.sku: dict(row.breaks) for row in client.get_pricing(price_list_slug(EURO_LEVEL.code))}
    assert set(rows) == {p.sku for p in demo_data.PRODUCTS}
    for product in demo_data.PRODUCTS:
        expected = {1: product.list_price * EURO_LEVEL.factor * RATE,
                    EURO_LEVEL.volume_break_units: product.list_price * EURO_LEVEL.volume_factor * RATE}
        assert rows[product.sku] == {q: p.quantize(Decimal("0.0001")) for q, p in expected.items()}, product.sku


def test_the_eu_customer_buys_on_the_eur_list_with_credit_terms_in_eur(synced: World):
    with synced.client() as client:
        customer = client.get_customer("platform", EURO.platform_id).raw
        gbp_customer = client.get_customer("platform", demo_data.CUSTOMERS[0].platform_id).raw
    assert customer["accounting_id"] == EURO.account_code
    assert customer["price_lists"] == [price_list_slug(EURO_LEVEL.code)]
    poa = customer["payment_on_account"]
    assert poa[contract.POA_CURRENCY] == "EUR"
    # the ERP keeps the limit in GBP; the shop shows it in EUR at the ERP's rate, to the cent
    assert Decimal(str(poa[contract.POA_CREDIT_LIMIT])) == EURO.credit_limit * RATE
    assert gbp_customer["payment_on_account"][contract.POA_CURRENCY] == "GBP"
