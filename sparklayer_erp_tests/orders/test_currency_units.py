"""Per-currency money in the order path without an ERP: the sandbox checkout totals a purchase to the order
currency's minor unit, the mapper keeps the purchase's currency, and amounts show rounded for people."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from sparklayer_erp.demo import demo_data
from sparklayer_erp.demo.sandbox import storefront
from sparklayer_erp.demo.sandbox.monetary import money
from sparklayer_erp.demo.simulator import order_plan
from sparklayer_erp.orders.mapper import money_text

D = Decimal


@pytest.mark.parametrize(("currency", "net", "tax"), [
    ("JPY", D("999"), D("200")),  # 3 × 333 yen, VAT 199.8 → 200 yen
    ("GBP", D("999.00"), D("199.80")),
    ("KWD", D("999.000"), D("199.800")),
])
def test_the_shop_totals_a_line_to_the_currencys_minor_unit(currency, net, tax):
    line = storefront.price_line("SKU-A", "A", 3, D("333"), D("20"), "trade", currency)
    assert (line.net, line.tax) == (net, tax)


def test_kwd_keeps_the_third_decimal_the_cent_would_lose():
    line = storefront.price_line("SKU-A", "A", 7, D("1.2345"), D("20"), None, "KWD")
    assert (line.net, line.tax, line.gross) == (D("8.642"), D("1.728"), D("10.370"))
    assert money(line.gross, "KWD") == {"number": "10.370", "currency": "kwd"}
    assert money(D("1199.4"), "JPY") == {"number": "1199", "currency": "jpy"}
    assert money(D("1.005"), "XTS") == {"number": "1.01", "currency": "xts"}  # no known minor unit: the cent


def test_amounts_for_people_show_the_currencys_minor_unit():
    assert money_text(D("1234.5"), "jpy") == "JPY 1,235"
    assert money_text(D("10.3704"), "KWD") == "KWD 10.370"
    assert money_text(D("1234.5"), "GBP") == "GBP 1,234.50"
    assert money_text(D("9.9996"), "XTS") == "XTS 9.9996"  # unknown minor unit: shown exactly
    assert money_text(None, "EUR") == "—"


def test_the_simulated_buyers_include_the_euro_customer_and_only_they_buy_in_eur():
    rng = random.Random(7)
    plans = [order_plan(rng, n) for n in range(40)]
    euro = [p for p in plans if p["customer"] == demo_data.EURO_CUSTOMER.sparklayer_id]
    assert len(euro) >= 3 and len({p["payment_method"] for p in euro}) >= 2  # a regular buyer, several ways
    by_id = {c.sparklayer_id: c for c in demo_data.CUSTOMERS}
    others = [by_id[p["customer"]] for p in plans if p["customer"] in by_id and p not in euro]
    assert others and all(c.currency == demo_data.CURRENCY for c in others)
    assert demo_data.EURO_CUSTOMER.currency == "EUR"
    assert demo_data.level_by_code(demo_data.EURO_CUSTOMER.price_level).currency == "EUR"
