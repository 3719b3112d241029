"""Currency rules of the master data, without an ERP: which currency an ERP price list is in, the ERP's rate
on a date, and a customer's credit terms rounded to its currency's minor unit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from sparklayer_erp.domain.models import ErpCustomer, ErpPriceList, PriceListKind
from sparklayer_erp.erp.tryton.currencies import company_rate, price_list_currency, rate_on
from sparklayer_erp.masterdata.mapper import customer_payload, price_list_payload
from sparklayer_erp.sparklayer import contract

D = Decimal
DAY = dt.date(2026, 3, 10)


@pytest.mark.parametrize(("name", "currency"), [
    ("TRADE-EUR", "EUR"), ("TRADE", "GBP"), ("CONTRACT-C1001", "GBP"), ("TRADE-USD", "GBP"), ("-EUR", "GBP"),
    ("EU-TRADE-EUR", "EUR"),
])
def test_a_price_list_is_in_the_currency_its_name_ends_with_when_the_erp_knows_it(name, currency):
    assert price_list_currency(name, ["EUR", "JPY"], "GBP") == currency


def test_the_rate_on_a_date_is_the_latest_one_dated_on_or_before_it():
    rates = ((dt.date(2026, 1, 1), D("1.10")), (dt.date(2026, 3, 10), D("1.25")), (dt.date(2026, 4, 1), D("1.30")))
    assert rate_on(rates, dt.date(2025, 12, 31)) is None
    assert rate_on(rates, dt.date(2026, 3, 9)) == D("1.10")
    assert rate_on(rates, DAY) == D("1.25")
    assert rate_on(rates, dt.date(2027, 1, 1)) == D("1.30")


def test_the_company_rate_is_company_currency_per_unit_of_the_other():
    home = ((dt.date(2000, 1, 1), D(1)),)
    eur = ((dt.date(2000, 1, 1), D("1.25")),)
    assert company_rate(home, eur, DAY) == D("0.8")  # 1 GBP = 1.25 EUR, so 1 EUR = 0.80 GBP
    assert D("125.00") * company_rate(home, eur, DAY) == D("100")
    assert company_rate(home, (), DAY) is None  # no rate: never guessed


def _customer(currency: str, limit: str, balance: str) -> ErpCustomer:
    return ErpCustomer(account_code="C9", name="N", email="n@x.example", payment_terms="Net 30",
                       payment_terms_days=30, credit_limit=D(limit), open_balance=D(balance), on_credit_hold=False,
                       price_level="TRADE-EUR", contract_price_list=None, currency=currency)


@pytest.mark.parametrize(("currency", "limit", "balance", "shop_limit", "shop_balance"), [
    ("JPY", "625000.5", "1234.5", D("625001"), D("1235")),
    ("EUR", "6250.0049", "1234.5678", D("6250.00"), D("1234.57")),
    ("KWD", "6250.0049", "1234.5678", D("6250.005"), D("1234.568")),
])
def test_credit_terms_reach_the_shop_in_the_customers_currency_rounded_to_its_minor_unit(
        currency, limit, balance, shop_limit, shop_balance):
    poa = customer_payload(_customer(currency, limit, balance)).body["payment_on_account"]
    assert poa[contract.POA_CURRENCY] == currency
    assert (poa[contract.POA_CREDIT_LIMIT], poa[contract.POA_BALANCE]) == (shop_limit, shop_balance)
    assert str(poa[contract.POA_CREDIT_LIMIT]) == str(shop_limit)  # the minor unit, written exactly


def test_a_price_list_is_created_in_its_erp_currency():
    payload = price_list_payload(ErpPriceList("TRADE-EUR", "Trade (EUR)", "EUR", PriceListKind.LEVEL))
    assert payload["currency_code"] == "EUR" and payload["slug"] == "trade-eur"
