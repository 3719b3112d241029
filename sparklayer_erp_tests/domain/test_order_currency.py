"""Orders in other currencies than the company's: totals and price checks round to the order currency's minor
unit (ISO 4217: JPY 1, GBP 0.01, KWD 0.001), and a currency with no known minor unit is held for finance."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest

from sparklayer_erp.domain.models import ErpOrderLine, OwnerTeam
from sparklayer_erp.domain.money import minor_unit
from sparklayer_erp.domain.orders import (
    OrderIn,
    OrderLineIn,
    PricePolicy,
    Totals,
    expected_erp_totals,
    line_tax,
    translate_order,
)
from sparklayer_erp_tests.domain.order_builders import ITEMS

D = Decimal
RATE = D("20")


def shop_order(lines: list[tuple[str, int, str]], currency: str, *, method: str = "invoice",
               tax_adjust: Decimal = D(0)) -> OrderIn:
    """An order as a shop in ``currency`` totals it: each line and its VAT rounded half-up to the currency's
    minor unit. ``tax_adjust`` puts the shop's tax total off by that much (a rounding disagreement)."""
    step = minor_unit(currency)

    def r(x: Decimal) -> Decimal:
        return x.quantize(step, rounding=ROUND_HALF_UP)

    ins = tuple(OrderLineIn(sku, qty, D(unit), r(qty * D(unit)), RATE) for sku, qty, unit in lines)
    net = sum((line.line_net for line in ins), D(0))
    tax = sum((r(line.line_net * RATE / 100) for line in ins), D(0)) + tax_adjust
    return OrderIn(purchase_id="p-cur", customer_sparklayer_id="cust", payment_method=method, po_number="PO-C",
                   currency=currency, lines=ins, shipping_net=D(0), shipping_tax=D(0), total_net=net,
                   total_tax=tax, total_gross=net + tax, status="processing")


def translate(order: OrderIn, prices: dict[str, Decimal], policy: PricePolicy = PricePolicy.HOLD_FOR_FINANCE):
    return translate_order(order, account_code="C1025", items=ITEMS, erp_price=prices, policy=policy,
                           tolerance=D("0.01"), tax_rate_erp=RATE)


# --- totals per currency exponent ------------------------------------------------------------------------


@pytest.mark.parametrize(("currency", "line_net", "tax"), [
    ("JPY", D("999"), D("200")),  # 999 × 20 % = 199.8 → 200 yen (no cents in yen)
    ("GBP", D("999"), D("199.80")),
    ("KWD", D("999"), D("199.800")),
])
def test_line_tax_rounds_to_the_currencys_minor_unit(currency, line_net, tax):
    assert line_tax(line_net, RATE, currency) == tax
    assert line_tax(line_net, RATE, currency).as_tuple().exponent == minor_unit(currency).as_tuple().exponent


def test_expected_totals_in_kwd_keep_three_decimals_per_line():
    # 7 × 1.2345 = 8.6415 → 8.642 KWD (8.64 if it were rounded to the cent); tax 1.7284 → 1.728
    lines = [ErpOrderLine("SKU-COLA-S", D(7), "Unit", D("1.2345"))]
    assert expected_erp_totals(lines, D(0), RATE, "KWD") == Totals(D("8.642"), D("1.728"), D("10.370"))
    assert expected_erp_totals(lines, D(0), RATE) == Totals(D("8.64"), D("1.73"), D("10.37"))


def test_expected_totals_in_jpy_are_whole_yen():
    lines = [ErpOrderLine("SKU-COLA-S", D(3), "Unit", D("333")), ErpOrderLine("SKU-COLA-L", D(1), "Case of 12",
                                                                               D("1234.5"))]
    totals = expected_erp_totals(lines, D("450.4"), RATE, "JPY")
    assert totals.net == D(999) + D(1235) + D(450)
    assert totals.tax == D(200) + D(247) + D(90)
    assert all(x == x.to_integral_value() for x in (totals.net, totals.tax, totals.gross))


def test_a_difference_below_the_minor_unit_is_no_difference_but_one_minor_unit_is():
    a = Totals(D("10.370"), D("1.728"), D("12.098"))
    assert not a.differs_from(Totals(D("10.3704"), D("1.728"), D("12.0984")), "KWD")
    assert a.differs_from(Totals(D("10.371"), D("1.728"), D("12.099")), "KWD")
    assert not a.differs_from(Totals(D("10.371"), D("1.728"), D("12.099")))  # the cent would miss it
    assert not Totals(D("1199"), D("200"), D("1399")).differs_from(Totals(D("1199.4"), D("200"), D("1399.4")), "JPY")


# --- translation in the order's currency -----------------------------------------------------------------


def test_a_kwd_order_totalled_to_the_fils_goes_through_with_kwd_totals():
    order = shop_order([("SKU-COLA-S", 7, "1.2345")], "KWD")
    t = translate(order, {"SKU-COLA-S": D("1.2345")})
    assert t.draft is not None and t.draft.currency == "KWD"
    assert t.erp_totals == Totals(D("8.642"), D("1.728"), D("10.370"))


def test_a_kwd_order_one_fils_off_is_held_for_finance():
    order = shop_order([("SKU-COLA-S", 7, "1.2345")], "KWD", tax_adjust=D("0.001"))
    t = translate(order, {"SKU-COLA-S": D("1.2345")})
    assert t.draft is None
    (p,) = t.problems
    assert p.kind == "total_mismatch" and p.owner_team is OwnerTeam.FINANCE and "KWD" in p.message


def test_a_jpy_card_order_is_paid_and_repriced_in_whole_yen():
    order = shop_order([("SKU-COLA-S", 3, "333")], "JPY", method="platform_upfront")
    t = translate(order, {"SKU-COLA-S": D("333")})
    assert t.draft is not None and t.draft.currency == "JPY"
    assert t.payment_amount == D(1199) and t.erp_totals == Totals(D(999), D(200), D(1199))


def test_an_erp_wins_line_difference_in_yen_is_whole_yen():
    order = shop_order([("SKU-COLA-L", 24, "100")], "JPY")  # 2 cases of 12 at 1200 yen a case
    t = translate(order, {"SKU-COLA-L": D("1250.5")}, PricePolicy.ERP_WINS)
    (decision,) = t.price_decisions
    assert decision.line_difference == D(2501) - D(2400)  # 2 × 1250.5 = 2501 yen, not 2501.00
    assert t.draft is not None and t.draft.lines[0].unit_price == D("1250.5")


@pytest.mark.parametrize("currency", ["XYZ", "ABC"])
def test_a_currency_without_a_known_minor_unit_is_held_for_finance_before_anything_else(currency):
    order = shop_order([("SKU-COLA-S", 3, "1.00")], "GBP")
    order = OrderIn(**{**order.__dict__, "currency": currency})
    t = translate(order, {"SKU-COLA-S": D("1.00")})
    assert t.draft is None
    (p,) = t.problems
    assert p.kind == "unknown_currency" and p.owner_team is OwnerTeam.FINANCE
    assert currency in p.message and p.entity_id == "p-cur"


def test_a_lower_case_currency_code_is_the_same_currency():
    order = shop_order([("SKU-COLA-S", 3, "1.00")], "EUR")
    order = OrderIn(**{**order.__dict__, "currency": "eur"})
    t = translate(order, {"SKU-COLA-S": D("1.00")})
    assert t.draft is not None and t.draft.currency == "EUR"
