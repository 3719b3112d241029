"""Property tests: for arbitrary orders the translation either agrees with SparkLayer to the cent or says why.

Quantities, pack sizes 1..48, unit prices and tax rates 0..25 % are drawn at random; the shop computes its
totals either the ERP's way (per line) or per document, sometimes with a line-level discount.
"""

from __future__ import annotations

import dataclasses
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import event, given, settings
from hypothesis import strategies as st

from sparklayer_erp.domain.orders import ItemInfo, OrderIn, PricePolicy, expected_erp_totals, translate_order
from sparklayer_erp_tests.domain.order_builders import assert_no_float, make_order

D = Decimal
PROPERTY = settings(max_examples=200, deadline=None)

pack_sizes = st.integers(min_value=1, max_value=48)
unit_prices = st.decimals(min_value=D("0.0001"), max_value=D("250"), places=4)
tax_rates = st.decimals(min_value=0, max_value=25, places=2)
shipping = st.decimals(min_value=0, max_value=50, places=2)


@st.composite
def orders(draw, *, whole_packs: bool = False):
    """(order, items, rate): up to 5 lines of distinct SKUs, each with its own pack size."""
    n = draw(st.integers(min_value=1, max_value=5))
    items, lines = {}, []
    for i in range(n):
        pack = draw(pack_sizes)
        sku = f"SKU-{i}"
        items[sku] = ItemInfo(sku, "Unit" if pack == 1 else f"Case of {pack}", pack)
        qty = pack * draw(st.integers(min_value=1, max_value=60))
        if not whole_packs:
            qty += draw(st.sampled_from([0, 0, 0, 1, pack // 2]))  # mostly whole packs, sometimes not
        lines.append((sku, max(qty, 1), str(draw(unit_prices))))
    rate = draw(tax_rates)
    order = make_order(lines, shipping=str(draw(shipping)), rate=str(rate),
                       tax_per_document=draw(st.booleans()) and not whole_packs,
                       method=draw(st.sampled_from(["on_account", "invoice", "platform_upfront"])))
    discount = D(0) if whole_packs else draw(st.sampled_from([D(0), D(0), D(0), D("0.01"), D("1.00")]))
    if discount and order.lines[0].line_net >= discount:  # a shop-side discount the ERP knows nothing about
        first = dataclasses.replace(order.lines[0], line_net=order.lines[0].line_net - discount)
        order = dataclasses.replace(order, lines=(first, *order.lines[1:]), total_net=order.total_net - discount,
                                    total_gross=order.total_gross - discount)
    return order, items, rate


def _buyer_prices(order: OrderIn, items: dict) -> dict[str, Decimal]:
    return {line.sku: line.unit_net * items[line.sku].pack_size for line in order.lines}


def _translate(order, items, rate, prices, policy=PricePolicy.HOLD_FOR_FINANCE):
    return translate_order(order, account_code="C1001", items=items, erp_price=prices, policy=policy,
                           tolerance=D("0.01"), tax_rate_erp=rate)


@PROPERTY
@given(orders())
def test_erp_total_equals_the_shop_total_or_the_order_is_held_for_a_stated_reason(case):
    order, items, rate = case
    t = _translate(order, items, rate, _buyer_prices(order, items))
    assert_no_float(t)
    event("held: " + ",".join(sorted({p.kind for p in t.problems})) if t.problems else "created")
    if t.draft is None:
        assert t.problems and {p.kind for p in t.problems} <= {"total_mismatch", "not_whole_pack"}
        if {p.kind for p in t.problems} == {"total_mismatch"}:
            shop = (order.total_net, order.total_tax, order.total_gross)
            assert expected_erp_totals_for(order, items, rate) != shop
        return
    assert t.problems == ()
    erp = expected_erp_totals(t.draft.lines, t.draft.shipping_amount, rate)
    assert (erp.net, erp.tax, erp.gross) == (order.total_net, order.total_tax, order.total_gross)
    for line, source in zip(t.draft.lines, order.lines, strict=True):
        pack = items[source.sku].pack_size
        assert isinstance(line.quantity, Decimal) and line.quantity == line.quantity.to_integral_value()
        assert line.quantity * pack == source.quantity  # conversion is exact
        assert line.unit_price == source.unit_net * pack


def expected_erp_totals_for(order: OrderIn, items: dict, rate: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    """The ERP's arithmetic, written out independently of the code under test."""
    def cents(x: Decimal) -> Decimal:
        return x.quantize(D("0.01"), rounding=ROUND_HALF_UP)

    amounts = [cents(line.quantity * line.unit_net) for line in order.lines] + [cents(order.shipping_net)]
    net = sum(amounts, D(0))
    tax = sum((cents(a * rate / 100) for a in amounts), D(0))
    return net, tax, net + tax


@PROPERTY
@given(orders(whole_packs=True))
def test_a_shop_that_totals_like_the_erp_always_gets_its_order_through(case):
    order, items, rate = case
    t = _translate(order, items, rate, _buyer_prices(order, items))
    assert t.problems == () and t.draft is not None
    assert t.erp_totals.gross == order.total_gross
    assert t.draft.commit is (order.payment_method != "on_account")


@PROPERTY
@given(orders(whole_packs=True), st.lists(st.decimals(min_value=D("-5"), max_value=D("5"), places=2),
                                          min_size=5, max_size=5))
def test_erp_wins_difference_is_exactly_the_price_decisions(case, shifts):
    order, items, rate = case
    erp_prices = {sku: max(price + shift, D("0.01")) for (sku, price), shift in
                  zip(_buyer_prices(order, items).items(), shifts, strict=False)}
    t = _translate(order, items, rate, erp_prices, policy=PricePolicy.ERP_WINS)
    assert_no_float(t)
    if t.draft is None:  # only a card payment refuses a repricing
        assert [p.kind for p in t.problems] == ["price_mismatch"]
        assert order.payment_method == "platform_upfront"
        assert any(d.line_difference for d in t.price_decisions)
        return
    ours = expected_erp_totals(t.draft.lines, t.draft.shipping_amount, rate)
    assert ours == t.erp_totals
    assert t.erp_totals.net - order.total_net == sum((d.line_difference for d in t.price_decisions), D(0))
    assert t.price_adjustment == t.erp_totals.gross - order.total_gross
    for line in t.draft.lines:
        pack = items[line.sku].pack_size
        buyer = next(source.unit_net for source in order.lines if source.sku == line.sku) * pack
        within = abs(buyer - erp_prices[line.sku]) <= D("0.01") * pack
        assert line.unit_price == (buyer if within else erp_prices[line.sku])


@PROPERTY
@given(orders(whole_packs=True), st.sampled_from(list(PricePolicy)))
def test_each_policy_does_what_it_says_when_every_price_is_off(case, policy):
    order, items, rate = case
    erp_prices = {sku: price + D("1") for sku, price in _buyer_prices(order, items).items()}
    t = _translate(order, items, rate, erp_prices, policy=policy)  # 1.00 a pack is beyond 0.01 × 48
    if policy is PricePolicy.HOLD_FOR_FINANCE or (policy is PricePolicy.ERP_WINS
                                                   and order.payment_method == "platform_upfront"):
        assert t.draft is None and [p.kind for p in t.problems] == ["price_mismatch"]
        return
    assert t.problems == ()
    expected = 0 if policy is PricePolicy.ERP_WINS else 1
    assert all(line.unit_price == erp_prices[line.sku] - expected for line in t.draft.lines)
