"""Master data every adapter reads for SparkLayer: customers with credit status, price lists and prices with
quantity breaks, items with sale units, stock per warehouse — as seeded from ``demo_data``."""

from __future__ import annotations

from decimal import Decimal

from sparklayer_erp.demo import demo_data
from sparklayer_erp.domain.models import PriceListKind
from sparklayer_erp.erp.port import ErpPort
from sparklayer_erp_tests.erp.contract.back_office import (
    CONTRACT_CUSTOMER,
    DEFAULT_WAREHOUSE,
    WAREHOUSE_CODES,
    customer_with_level,
    level_price,
)


def _currency(row: object) -> str:
    """A demo level's or customer's currency (the company's unless it says otherwise)."""
    return getattr(row, "currency", demo_data.CURRENCY)


def test_adapter_satisfies_the_port(erp_port):
    assert isinstance(erp_port, ErpPort)


def test_customers_carry_terms_limits_credit_status_levels_and_contracts(erp_port):
    customers = {c.account_code: c for c in erp_port.list_customers()}
    assert {c.account_code for c in demo_data.CUSTOMERS} <= set(customers)
    for demo in demo_data.CUSTOMERS:
        got = customers[demo.account_code]
        assert (got.name, got.email, got.currency) == (demo.name, demo.email, _currency(demo))
        assert got.payment_terms == demo.payment_terms
        assert got.payment_terms_days == int(demo.payment_terms.removeprefix("Net "))
        assert got.on_credit_hold is demo.on_credit_hold, demo.account_code
        if not demo.on_credit_hold and _currency(demo) == demo_data.CURRENCY:  # else converted by the ERP
            assert got.credit_limit == demo.credit_limit, demo.account_code  # None: no limit configured
        assert got.price_level == demo.price_level
        expected_contract = demo_data.contract_list_code(demo.account_code) if demo.contract_prices else None
        assert got.contract_price_list == expected_contract
        assert isinstance(got.open_balance, Decimal) and got.open_balance >= 0
        assert got.active


def test_customers_have_their_addresses(erp_port):
    customers = {c.account_code: c for c in erp_port.list_customers()}
    for demo in demo_data.CUSTOMERS:
        assert demo.city in {a.city for a in customers[demo.account_code].addresses}, demo.account_code


def test_price_lists_are_the_levels_and_one_contract_list_per_contract_customer(erp_port):
    lists = {p.code: p for p in erp_port.list_price_lists()}
    for lv in demo_data.PRICE_LEVELS:
        assert (lists[lv.code].kind, lists[lv.code].currency) == (PriceListKind.LEVEL, _currency(lv))
    for customer in demo_data.CUSTOMERS:
        code = demo_data.contract_list_code(customer.account_code)
        if customer.contract_prices:
            assert lists[code].kind == PriceListKind.CONTRACT
            assert lists[code].customer_account_code == customer.account_code
        else:
            assert code not in lists


def _price_at(entries: dict, list_code: str, sku: str, base_units: int) -> Decimal:
    """The price in force at a quantity: the entry with the largest break not above it."""
    breaks = [q for (code, s, q) in entries if code == list_code and s == sku and q <= base_units]
    assert breaks, (list_code, sku, base_units)
    return entries[(list_code, sku, max(breaks))]


def test_prices_per_base_unit_follow_each_level_and_its_volume_break(erp_port):
    breaks = sorted({1} | {lv.volume_break_units for lv in demo_data.PRICE_LEVELS})
    rows = erp_port.list_prices(breaks)
    currencies = {lv.code: _currency(lv) for lv in demo_data.PRICE_LEVELS}
    assert all(p.currency == currencies.get(p.price_list_code, demo_data.CURRENCY) for p in rows)
    entries = {(p.price_list_code, p.sku, p.min_quantity): p.unit_price for p in rows}
    for lv in demo_data.PRICE_LEVELS:
        if _currency(lv) != demo_data.CURRENCY:
            continue  # priced by the ERP at its exchange rate: the currency tests cover those
        for product in demo_data.PRODUCTS:
            for quantity in breaks:
                assert _price_at(entries, lv.code, product.sku, quantity) == level_price(lv.code, product.sku,
                                                                                          quantity)


def test_a_contract_list_prices_every_sku_contract_first_then_the_customers_level(erp_port):
    entries = {(p.price_list_code, p.sku, p.min_quantity): p.unit_price for p in erp_port.list_prices((1,))}
    code = demo_data.contract_list_code(CONTRACT_CUSTOMER.account_code)
    for product in demo_data.PRODUCTS:
        contract = CONTRACT_CUSTOMER.contract_prices.get(product.sku)
        expected = contract if contract is not None else level_price(CONTRACT_CUSTOMER.price_level, product.sku, 1)
        assert _price_at(entries, code, product.sku, 1) == expected, product.sku


def test_customer_price_is_per_requested_unit_at_the_quantity_in_that_unit(erp_port, office):
    sku = next(s for s in CONTRACT_CUSTOMER.contract_prices if demo_data.product_by_sku(s).pack_size > 1)
    pack = demo_data.product_by_sku(sku).pack_size
    case, single = office.unit_name(pack), office.unit_name(1)
    per_unit = CONTRACT_CUSTOMER.contract_prices[sku]
    code = CONTRACT_CUSTOMER.account_code
    assert erp_port.customer_price(code, sku, Decimal(1), case) == per_unit * pack
    assert erp_port.customer_price(code, sku, Decimal(pack), single) == per_unit

    # a level customer just below and at the volume break; breaks compare base units, not cases
    buyer = customer_with_level("WHOLESALE")
    cases_at_break = demo_data.PRICE_LEVELS[1].volume_break_units // pack
    below, at = Decimal(cases_at_break - 1), Decimal(cases_at_break)
    assert erp_port.customer_price(buyer.account_code, sku, below, case) == level_price("WHOLESALE", sku, 1) * pack
    assert erp_port.customer_price(buyer.account_code, sku, at, case) == level_price(
        "WHOLESALE", sku, cases_at_break * pack) * pack


def test_customer_prices_answer_a_batch_and_none_for_what_the_erp_does_not_know(erp_port, office):
    sku = "SKU-COLA-L"
    pack = demo_data.product_by_sku(sku).pack_size
    case = office.unit_name(pack)
    buyer = customer_with_level("WHOLESALE")
    requests = [
        (CONTRACT_CUSTOMER.account_code, sku, Decimal(1), case),
        (buyer.account_code, sku, Decimal(1), case),
        (buyer.account_code, sku, Decimal(480 // pack), case),
        ("C-NOBODY", sku, Decimal(1), case),
        (buyer.account_code, "SKU-NOPE", Decimal(1), case),
        (buyer.account_code, sku, Decimal(1), "Crate of 7"),
    ]
    prices = erp_port.customer_prices(requests)
    assert set(prices) == set(requests)
    for request in requests:
        if request[0] != "C-NOBODY" and request[1] != "SKU-NOPE" and request[3] != "Crate of 7":
            assert prices[request] == erp_port.customer_price(*request)
    assert prices[requests[0]] == CONTRACT_CUSTOMER.contract_prices[sku] * pack
    assert prices[requests[2]] == level_price("WHOLESALE", sku, 480) * pack
    assert [prices[r] for r in requests[3:]] == [None, None, None]


def test_items_have_their_sale_unit_pack_size_and_list_price(erp_port, office):
    items = {i.sku: i for i in erp_port.list_items()}
    assert set(items) == {p.sku for p in demo_data.PRODUCTS}
    for product in demo_data.PRODUCTS:
        item = items[product.sku]
        assert item.name == product.name
        assert item.base_unit == office.base_unit
        assert (item.sale_unit.name, item.sale_unit.factor) == (office.unit_name(product.pack_size),
                                                                product.pack_size)
        assert item.pack_size == product.pack_size
        assert item.list_price == product.list_price
        assert item.active
    some = [demo_data.PRODUCTS[0].sku, demo_data.PRODUCTS[-1].sku]
    assert erp_port.list_items([*some, "SKU-NOPE"]) == [items[sku] for sku in sorted(some)]  # only those asked
    assert erp_port.list_items([]) == []


def test_stock_is_per_sku_and_warehouse_and_new_orders_ship_from_the_default_one(erp_port):
    levels = {(s.sku, s.warehouse_code): s for s in erp_port.list_stock()}
    assert {code for _, code in levels} <= WAREHOUSE_CODES
    for product in demo_data.PRODUCTS:
        for code in product.stock:
            level = levels[(product.sku, code)]
            assert level.on_hand >= 0 and level.reserved >= 0
            assert level.on_hand <= product.stock[code]  # seeded, then only shipped from
    assert erp_port.default_warehouse_code() == DEFAULT_WAREHOUSE
