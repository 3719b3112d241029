"""translate_order: SparkLayer purchase → ERP order draft, or the problems that hold it."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from sparklayer_erp.domain.models import ErpItem, ErpOrderLine, OwnerTeam, PaymentMethod, SaleUnit
from sparklayer_erp.domain.orders import (
    ItemInfo,
    OrderLineIn,
    PricePolicy,
    Totals,
    expected_erp_totals,
    order_label,
    translate_order,
)
from sparklayer_erp_tests.domain.order_builders import ITEMS, assert_no_float, make_order

D = Decimal
TOL = D("0.01")


class PriceBook:
    """The ERP price per sale unit for this test, recording what it was asked (the real one is the port)."""

    def __init__(self, prices: dict[str, Decimal | None]):
        self.prices = prices
        self.calls: list[tuple[str, str, Decimal, str]] = []

    def __call__(self, account_code: str, sku: str, quantity: Decimal, unit: str) -> Decimal | None:
        self.calls.append((account_code, sku, quantity, unit))
        return self.prices.get(sku)


def translate(order, *, prices=None, account="C1001", policy=PricePolicy.HOLD_FOR_FINANCE, tolerance=TOL,
              rate=D(20), items=ITEMS, **kw):
    """Default ERP prices equal the buyer's price per sale unit, so only what a test changes differs."""
    if prices is None:
        prices = {line.sku: line.unit_net * items[line.sku].pack_size for line in order.lines if line.sku in items}
    return translate_order(order, account_code=account, items=items, erp_price=prices, policy=policy,
                           tolerance=tolerance, tax_rate_erp=rate, **kw)


def kinds(translation) -> list[str]:
    return [p.kind for p in translation.problems]


# --- the happy path and unit conversion ----------------------------------------------------------------
def test_whole_cases_become_erp_sale_units_at_the_case_price():
    order = make_order([("SKU-COLA-L", 12, "0.72"), ("SKU-COLA-X", 48, "0.70")], shipping="7.50")
    t = translate(order)
    assert t.problems == () and t.draft is not None
    first, second = t.draft.lines
    assert first == ErpOrderLine(sku="SKU-COLA-L", quantity=D(1), unit="Case of 12", unit_price=D("8.6400"))
    assert second == ErpOrderLine(sku="SKU-COLA-X", quantity=D(2), unit="Case of 24", unit_price=D("16.8000"))
    assert t.draft.account_code == "C1001"
    assert t.draft.po_number == "PO-77"
    assert t.draft.shipping_amount == D("7.50")
    assert t.draft.currency == "GBP"
    assert t.draft.purchase_id == "p-1"
    assert "p-1 (PO PO-77)" in t.draft.description
    assert t.erp_totals == Totals(net=D("49.74"), tax=D("9.95"), gross=D("59.69"))
    assert t.sparklayer_totals == Totals(order.total_net, order.total_tax, order.total_gross) == t.erp_totals
    assert t.price_adjustment == 0


def test_pack_size_one_is_sold_by_the_unit():
    t = translate(make_order([("SKU-COLA-S", 7, "0.80")]))
    assert t.draft.lines == (ErpOrderLine("SKU-COLA-S", D(7), "Unit", D("0.8000")),)


@pytest.mark.parametrize(("qty", "cases"), [(12, 1), (24, 2), (120, 10), (1200, 100)])
def test_quantity_conversion_is_exact(qty, cases):
    t = translate(make_order([("SKU-COLA-L", qty, "0.72")]))
    (line,) = t.draft.lines
    assert line.quantity == D(cases) and isinstance(line.quantity, Decimal)
    assert line.quantity * 12 == qty


@pytest.mark.parametrize("qty", [30, 1, 11, 13, 6])
def test_quantity_that_is_not_whole_cases_holds_the_order(qty):
    t = translate(make_order([("SKU-COLA-L", qty, "0.72")]))
    assert t.draft is None
    assert kinds(t) == ["not_whole_pack"]
    (p,) = t.problems
    assert p.owner_team is OwnerTeam.ECOMMERCE
    assert f"SKU-COLA-L: {qty} units, sold in packs of 12 (Case of 12)" in p.message
    assert (p.entity_type, p.entity_id) == ("order", "p-1")


def test_item_info_from_erp_item():
    item = ErpItem("SKU-A", "A", "Unit", SaleUnit("Case of 6", 6), D("1.00"), active=False)
    assert ItemInfo.from_erp_item(item) == ItemInfo("SKU-A", "Case of 6", 6, active=False)


# --- routing by payment method -------------------------------------------------------------------------
@pytest.mark.parametrize(("method", "commit", "record"), [
    ("on_account", False, False), ("invoice", True, False), ("platform_upfront", True, True),
])
def test_routing_by_payment_method(method, commit, record):
    order = make_order([("SKU-COLA-L", 24, "0.72")], method=method, shipping="5")
    t = translate(order)
    assert t.draft.commit is commit
    assert t.draft.payment_method is PaymentMethod(method)
    assert t.record_payment is record
    assert t.payment_amount == (order.total_gross if record else None)


def test_unknown_payment_method_is_invalid_order_for_ecommerce():
    t = translate(make_order([("SKU-COLA-L", 12, "0.72")], method="hokodoPayment"))
    assert kinds(t) == ["invalid_order"]
    assert t.problems[0].owner_team is OwnerTeam.ECOMMERCE
    assert "'hokodoPayment'" in t.problems[0].message


# --- customer link -------------------------------------------------------------------------------------
@pytest.mark.parametrize("account", [None, ""])
def test_no_account_code_is_never_guessed(account):
    book = PriceBook({})
    t = translate(make_order([("SKU-COLA-L", 12, "0.72")]), account=account, prices=book)
    assert t.draft is None
    assert kinds(t) == ["missing_customer_link"]
    assert t.problems[0].owner_team is OwnerTeam.SALES_OPERATIONS
    assert "cust-uuid-1" in t.problems[0].message
    assert book.calls == []  # no price looked up for a customer we do not know


def test_all_problems_of_an_order_are_reported_together_one_per_kind():
    order = make_order([("SKU-NOPE", 1, "1"), ("SKU-OLD", 12, "1"), ("SKU-NOPE", 2, "1"), ("SKU-COLA-M", 5, "1")])
    t = translate(order, account=None, prices={})
    assert kinds(t) == ["missing_customer_link", "unknown_sku", "not_whole_pack"]
    unknown = t.problems[1]
    assert "SKU-NOPE, SKU-OLD" in unknown.message  # listed once each; inactive counts as unknown
    assert unknown.owner_team is OwnerTeam.ECOMMERCE


# --- prices --------------------------------------------------------------------------------------------
def test_erp_price_is_asked_per_sale_unit_for_the_customer_and_quantity():
    book = PriceBook({"SKU-COLA-L": D("8.64"), "SKU-COLA-S": D("0.80")})
    translate(make_order([("SKU-COLA-L", 36, "0.72"), ("SKU-COLA-S", 5, "0.80")]), prices=book)
    assert book.calls == [("C1001", "SKU-COLA-L", D(3), "Case of 12"), ("C1001", "SKU-COLA-S", D(5), "Unit")]


def test_price_within_tolerance_keeps_the_buyers_price_so_the_invoice_matches_checkout():
    # ERP: 10.00 a case; shop shows 0.83 a can = 9.96 a case; 0.04 ≤ 0.01 × 12.
    order = make_order([("SKU-COLA-L", 24, "0.83")])
    t = translate(order, prices={"SKU-COLA-L": D("10.00")}, policy=PricePolicy.ERP_WINS)
    assert t.problems == ()
    assert t.draft.lines[0].unit_price == D("9.96")
    (decision,) = t.price_decisions
    assert decision.within_tolerance and decision.line_difference == 0
    assert t.erp_totals.gross == order.total_gross


def test_price_exactly_at_tolerance_is_within_and_a_cent_more_is_not():
    order = make_order([("SKU-COLA-L", 12, "0.83")])  # 9.96 a case; tolerance 0.12 a case
    assert translate(order, prices={"SKU-COLA-L": D("10.08")}).problems == ()
    assert kinds(translate(order, prices={"SKU-COLA-L": D("10.09")})) == ["price_mismatch"]


def test_erp_wins_uses_the_erp_price_and_explains_the_difference():
    order = make_order([("SKU-COLA-L", 24, "0.80")], method="invoice")  # 9.60 a case; ERP 12.00
    t = translate(order, prices={"SKU-COLA-L": D("12.00")}, policy=PricePolicy.ERP_WINS)
    assert t.problems == ()
    assert t.draft.lines[0].unit_price == D("12.0000")
    (decision,) = t.price_decisions
    assert (decision.sparklayer_price, decision.erp_price, decision.used_price) == (D("9.6"), D(12), D(12))
    assert decision.line_difference == D("4.80")
    assert t.erp_totals == Totals(D("24.00"), D("4.80"), D("28.80"))
    assert t.price_adjustment == D("5.76")  # 4.80 net + 0.96 tax, on top of the shop's 23.04
    assert any("ERP price used, line changes by 4.80" in n for n in t.notes)
    assert any("GBP 5.76" in n for n in t.notes)
    assert "ERP price used" in t.draft.description


def test_sparklayer_wins_uses_the_buyers_price_and_notes_it():
    order = make_order([("SKU-COLA-L", 24, "0.80")])
    t = translate(order, prices={"SKU-COLA-L": D("12.00")}, policy=PricePolicy.SPARKLAYER_WINS)
    assert t.problems == ()
    assert t.draft.lines[0].unit_price == D("9.6")
    assert t.price_adjustment == 0
    assert t.notes == ("Price: SKU-COLA-L: shop 9.60, ERP 12.00 per Case of 12; shop price used",)


def test_hold_for_finance_raises_price_mismatch_and_creates_nothing():
    order = make_order([("SKU-COLA-L", 24, "0.80"), ("SKU-COLA-S", 3, "0.80")])
    t = translate(order, prices={"SKU-COLA-L": D("12.00"), "SKU-COLA-S": D("0.80")})
    assert t.draft is None
    assert kinds(t) == ["price_mismatch"]
    p = t.problems[0]
    assert p.owner_team is OwnerTeam.FINANCE
    assert "account C1001" in p.message
    assert "SKU-COLA-L: shop 9.60, ERP 12.00 per Case of 12" in p.message
    assert "SKU-COLA-S" not in p.message  # the line whose price agrees is not listed


@pytest.mark.parametrize("policy", list(PricePolicy))
def test_no_erp_price_holds_the_order_whatever_the_policy(policy):
    t = translate(make_order([("SKU-COLA-L", 12, "0.72")]), prices={"SKU-COLA-L": None}, policy=policy)
    assert kinds(t) == ["price_mismatch"]
    assert "no ERP price" in t.problems[0].message


def test_an_unreadable_erp_price_counts_as_no_price():
    t = translate(make_order([("SKU-COLA-L", 12, "0.72")]), prices={"SKU-COLA-L": D("NaN")},
                  policy=PricePolicy.SPARKLAYER_WINS)
    assert kinds(t) == ["price_mismatch"]


def test_paid_by_card_cannot_be_repriced_by_the_erp():
    order = make_order([("SKU-COLA-L", 24, "0.80")], method="platform_upfront")
    t = translate(order, prices={"SKU-COLA-L": D("12.00")}, policy=PricePolicy.ERP_WINS)
    assert t.draft is None
    assert kinds(t) == ["price_mismatch"]
    assert "paid by card at checkout" in t.problems[0].message


def test_paid_by_card_within_tolerance_goes_through_with_the_card_amount():
    order = make_order([("SKU-COLA-L", 24, "0.83")], method="platform_upfront")
    t = translate(order, prices={"SKU-COLA-L": D("10.00")}, policy=PricePolicy.ERP_WINS)
    assert t.draft is not None and t.record_payment
    assert t.payment_amount == order.total_gross == t.erp_totals.gross


def test_a_failing_price_lookup_is_a_technical_error_and_propagates():
    class Down(Exception):
        pass

    def broken(*_args):
        raise Down("ERP unreachable")

    with pytest.raises(Down):
        translate(make_order([("SKU-COLA-L", 12, "0.72")]), prices=broken)


def test_price_lookup_may_be_a_precomputed_mapping():
    t = translate(make_order([("SKU-COLA-L", 12, "0.72")]), prices={"SKU-COLA-L": D("8.64")})
    assert t.draft is not None and t.price_decisions == ()


# --- totals --------------------------------------------------------------------------------------------
def test_a_cent_of_difference_in_the_shop_total_holds_the_order_for_finance():
    order = make_order([("SKU-COLA-L", 12, "0.72")])
    bumped = dataclasses.replace(order, total_gross=order.total_gross + D("0.01"))
    t = translate(bumped)
    assert t.draft is None
    assert kinds(t) == ["total_mismatch"]
    p = t.problems[0]
    assert p.owner_team is OwnerTeam.FINANCE
    assert "the ERP would total GBP 10.37 but the buyer's order in SparkLayer totals GBP 10.38" in p.message
    assert "(difference -0.01)" in p.message
    assert p.detail["erp_totals"] == {"net": "8.64", "tax": "1.73", "gross": "10.37"}


def test_tax_rounded_per_document_by_the_shop_disagrees_with_the_erp_per_line():
    # 3 lines of 1.01 net: per line 3 × 0.20 = 0.60 tax; per document 3.03 × 20 % = 0.606 → 0.61.
    lines = [("SKU-COLA-S", 1, "1.01")] * 3
    assert translate(make_order(lines)).problems == ()
    t = translate(make_order(lines, tax_per_document=True))
    assert kinds(t) == ["total_mismatch"]
    assert t.problems[0].detail["difference"] == "-0.01"


def test_a_tax_exempt_shop_order_against_a_taxed_erp_item_shows_where_it_differs():
    t = translate(make_order([("SKU-COLA-L", 12, "0.72")], rate="0"))
    assert kinds(t) == ["total_mismatch"]
    assert "SKU-COLA-L: shop tax rate 0%, ERP tax rate 20%" in t.problems[0].detail["lines"]


def test_a_shop_line_discount_shows_up_in_the_mismatch_detail():
    order = make_order([("SKU-COLA-L", 12, "0.72")])
    line = dataclasses.replace(order.lines[0], line_net=D("8.00"))
    t = translate(dataclasses.replace(order, lines=(line,), total_net=D("8.00"), total_tax=D("1.60"),
                                      total_gross=D("9.60")))
    assert kinds(t) == ["total_mismatch"]
    assert "SKU-COLA-L: shop line total 8.00, 12 × 0.72 = 8.64" in t.problems[0].detail["lines"]


def test_shipping_is_taxed_at_the_erp_rate_and_included():
    order = make_order([("SKU-COLA-L", 12, "0.72")], shipping="4.99")
    t = translate(order)
    assert t.erp_totals == Totals(D("13.63"), D("2.73"), D("16.36"))
    assert t.draft.shipping_amount == D("4.99")


def test_expected_erp_totals_round_each_line_then_tax_each_line():
    lines = [ErpOrderLine("A", D(2), "Case of 12", D("9.9996")),  # 19.9992 → 20.00, tax 4.00
             ErpOrderLine("B", D(1), "Unit", D("0.025"))]  # 0.025 → 0.03, tax 0.006 → 0.01
    totals = expected_erp_totals(lines, D("0.025"), D("20"))  # shipping 0.03, tax 0.01
    assert totals == Totals(net=D("20.06"), tax=D("4.02"), gross=D("24.08"))
    assert expected_erp_totals([], D("0"), D("20")) == Totals(D("0.00"), D("0.00"), D("0.00"))


# --- bad data never raises -----------------------------------------------------------------------------
@pytest.mark.parametrize(("change", "reason"), [
    (dict(lines=()), "it has no lines"),
    (dict(currency=""), "it has no currency"),
    (dict(shipping_net=D("-1")), "its shipping is not a valid amount"),
    (dict(total_gross=1.5), "its total is not a valid amount"),
    (dict(total_net=D("NaN")), "its net total is not a valid amount"),
])
def test_invalid_order_data_is_held_for_ecommerce(change, reason):
    t = translate(dataclasses.replace(make_order([("SKU-COLA-L", 12, "0.72")]), **change))
    assert kinds(t) == ["invalid_order"]
    assert reason in t.problems[0].message


@pytest.mark.parametrize(("line", "reason"), [
    (OrderLineIn("SKU-COLA-L", 0, D("0.72"), D("0"), D(20)), "quantity 0"),
    (OrderLineIn("SKU-COLA-L", -12, D("0.72"), D("0"), D(20)), "quantity -12"),
    (OrderLineIn("SKU-COLA-L", True, D("0.72"), D("0"), D(20)), "quantity True"),
    (OrderLineIn("SKU-COLA-L", D("12"), D("0.72"), D("0"), D(20)), "quantity Decimal('12')"),
    (OrderLineIn("SKU-COLA-L", 12, 0.72, D("8.64"), D(20)), "invalid unit price (0.72)"),
    (OrderLineIn("SKU-COLA-L", 12, D("-0.72"), D("8.64"), D(20)), "invalid unit price"),
    (OrderLineIn("SKU-COLA-L", 12, D("0.72"), D("8.64"), None), "invalid tax rate"),
    (OrderLineIn("", 12, D("0.72"), D("8.64"), D(20)), "line 1 (no SKU) has no SKU"),
])
def test_a_bad_line_holds_the_whole_order_without_raising(line, reason):
    order = make_order([("SKU-COLA-S", 1, "0.80")])
    t = translate(dataclasses.replace(order, lines=(line, *order.lines)), prices={})
    assert t.draft is None
    assert kinds(t) == ["invalid_order"]
    assert reason in t.problems[0].message


def test_an_item_with_an_impossible_pack_size_is_an_item_problem_for_operations():
    items = {**ITEMS, "SKU-ODD": ItemInfo("SKU-ODD", "Case of 0", 0)}
    t = translate(make_order([("SKU-ODD", 12, "1")]), items=items, prices={})
    assert kinds(t) == ["item_invalid"]
    assert t.problems[0].owner_team is OwnerTeam.OPERATIONS
    assert "SKU-ODD" in t.problems[0].message


def test_currency_must_match_the_erp_account_when_known():
    order = make_order([("SKU-COLA-L", 12, "0.72")], currency="gbp")
    assert translate(order, erp_currency="GBP").draft.currency == "GBP"
    t = translate(dataclasses.replace(order, currency="EUR"), erp_currency="GBP")
    assert kinds(t) == ["invalid_order"]
    assert "in EUR but the ERP account is in GBP" in t.problems[0].message


def test_invalid_settings_are_a_configuration_error_not_an_order_problem():
    order = make_order([("SKU-COLA-L", 12, "0.72")])
    with pytest.raises(ValueError, match="tolerance"):
        translate(order, tolerance=D("-0.01"))
    with pytest.raises(ValueError, match="tax rate"):
        translate(order, rate=0.2)


def test_an_order_cancelled_before_it_reached_the_erp_is_skipped_not_created():
    t = translate(make_order([("SKU-COLA-L", 12, "0.72")], status="cancelled"))
    assert t.skipped and t.draft is None and t.problems == ()


def test_duplicate_sku_lines_stay_separate_lines():
    t = translate(make_order([("SKU-COLA-L", 12, "0.72"), ("SKU-COLA-L", 24, "0.72")]))
    assert [line.quantity for line in t.draft.lines] == [D(1), D(2)]


def test_translation_never_contains_a_float():
    for policy in PricePolicy:
        t = translate(make_order([("SKU-COLA-L", 24, "0.80"), ("SKU-COLA-S", 3, "0.8")], shipping="3.5"),
                      prices={"SKU-COLA-L": D(12), "SKU-COLA-S": D("0.8")}, policy=policy)
        assert_no_float(t)


def test_order_label_uses_the_po_number_when_there_is_one():
    assert order_label(make_order([("A", 1, "1")], po=None)) == "p-1"
    assert order_label(make_order([("A", 1, "1")], po="PO-1")) == "p-1 (PO PO-1)"
