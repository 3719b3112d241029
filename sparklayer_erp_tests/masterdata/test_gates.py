"""The quarantine gates: every rule from the issue, with the team that owns the exception it raises."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import dagster as dg
import pandas as pd
import pytest

from sparklayer_erp.domain.masterdata import quarantine_problems
from sparklayer_erp.domain.models import OwnerTeam, PriceEntry, SaleUnit
from sparklayer_erp.masterdata.gates import (
    FAILED_CHECKS,
    REASONS,
    CustomersFrame,
    ItemsFrame,
    PriceListsFrame,
    PricesFrame,
    StockFrame,
    customers_frame,
    items_frame,
    price_lists_frame,
    prices_frame,
    split_valid,
    stock_frame,
)
from sparklayer_erp.plumbing.pandera_types import column_schema, pandera_dagster_type
from sparklayer_erp_tests.domain import masterdata_demo as demo


def _held(quarantined: pd.DataFrame, column: str) -> dict:
    """key → reasons of the quarantined rows."""
    return {row[column]: row[REASONS] for _, row in quarantined.iterrows()}


def _assert_revalidates(valid: pd.DataFrame, model) -> None:
    model.validate(valid, lazy=True)  # raises if a row that "passed" does not


@pytest.mark.parametrize(("builder", "rows", "model"), [
    (customers_frame, demo.customers, CustomersFrame),
    (price_lists_frame, demo.price_lists, PriceListsFrame),
    (prices_frame, demo.prices, PricesFrame),
    (items_frame, demo.items, ItemsFrame),
    (stock_frame, demo.stock, StockFrame),
])
def test_demo_master_data_passes_every_gate(builder, rows, model):
    records = rows()
    valid, quarantined = split_valid(builder(records), model)
    assert len(valid) == len(records) and quarantined.empty
    assert list(quarantined.columns) == [*valid.columns, REASONS, FAILED_CHECKS]


# --- customers → sales operations ---------------------------------------------------------------------------

def test_customer_rules_hold_back_only_the_bad_rows():
    cs = demo.customers()
    cs[0] = replace(cs[0], account_code=None)  # missing account code
    cs[1] = replace(cs[1], account_code=cs[2].account_code)  # duplicated account code (both rows)
    cs[3] = replace(cs[3], email=None)  # no e-mail
    cs[4] = replace(cs[4], email="buyer at example")  # implausible e-mail
    cs[5] = replace(cs[5], currency="XXX")  # unknown currency
    cs[6] = replace(cs[6], credit_limit=Decimal("-1"))  # negative credit limit
    cs[7] = replace(cs[7], on_credit_hold=None)  # hold status unknown: never read as "not on hold"
    cs[8] = replace(cs[8], credit_limit="abc", payment_terms_days=-3)  # junk from the adapter, kept
    valid, quarantined = split_valid(customers_frame(cs), CustomersFrame)

    held = _held(quarantined, "account_code")
    assert len(quarantined) == 9 and len(valid) == len(cs) - 9
    assert set(valid["account_code"]).isdisjoint(quarantined["account_code"].dropna())
    assert quarantined.index.tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8]
    assert held[cs[2].account_code] == [
        f"the same account code ('{cs[2].account_code}') appears on more than one row; none of them is sent "
        "until the ERP has only one"]
    assert quarantined.loc[0, REASONS] == ["account code is missing"]
    assert held["C1004"] == ["e-mail address is missing"]
    assert held["C1005"] == ["e-mail address is not a usable address (expected something like "
                             "name@company.com) (found: 'buyer at example')"]
    assert held["C1006"] == ["currency is not a currency we trade in (an ISO code such as GBP or EUR) "
                             "(found: 'XXX')"]
    assert held["C1007"] == ["credit limit must be empty (no limit) or an amount of 0 or more (found: -1)"]
    assert held["C1008"] == ["credit hold is missing"]
    assert set(held["C1009"]) == {
        "credit limit must be empty (no limit) or an amount of 0 or more (found: 'abc')",
        "payment terms (days) must be empty or a whole number of days, 0 or more (found: -3)"}
    assert quarantined.loc[4, FAILED_CHECKS] == ["email:plausible_email"]
    _assert_revalidates(valid, CustomersFrame)

    problems = quarantine_problems("customers", quarantined)
    assert {p.owner_team for p in problems} == {OwnerTeam.SALES_OPERATIONS}
    assert {p.kind for p in problems} == {"customer_invalid"}
    # the two rows sharing an account code are one customer, so one exception
    assert sorted(p.entity_id for p in problems) == sorted(
        ["(no account code) Acme Retail", "C1003", "C1004", "C1005", "C1006", "C1007", "C1008", "C1009"])
    c1004 = next(p for p in problems if p.entity_id == "C1004")
    assert c1004.message == "ERP customer C1004 was not sent to SparkLayer: e-mail address is missing."


def test_same_email_on_two_customers_holds_both_back():
    cs = demo.customers()
    cs[3] = replace(cs[3], email=cs[9].email.upper())
    _, quarantined = split_valid(customers_frame(cs), CustomersFrame)
    assert sorted(quarantined["account_code"]) == sorted([cs[3].account_code, cs[9].account_code])
    assert quarantined[FAILED_CHECKS].tolist() == [["row:email_used_once"]] * 2


def test_fixed_customer_is_released_at_the_next_run():
    cs = demo.customers()
    broken = [replace(c, email=None) if c.account_code == "C1010" else c for c in cs]
    valid, quarantined = split_valid(customers_frame(broken), CustomersFrame)
    assert quarantined["account_code"].tolist() == ["C1010"] and "C1010" not in set(valid["account_code"])

    valid, quarantined = split_valid(customers_frame(cs), CustomersFrame)  # corrected in the ERP
    assert quarantined.empty and "C1010" in set(valid["account_code"])


def test_missing_column_holds_back_every_row_with_the_reason():
    frame = customers_frame(demo.customers()).drop(columns=["email"])
    valid, quarantined = split_valid(frame, CustomersFrame)
    assert valid.empty and len(quarantined) == len(frame)
    assert quarantined[REASONS].iloc[0] == [
        "the ERP extract has no e-mail address column, so no row can be checked"]


def test_split_keeps_a_non_default_index():
    frame = customers_frame(demo.customers())
    frame.index = [f"r{i}" for i in range(len(frame))]
    frame.loc["r2", "email"] = None
    valid, quarantined = split_valid(frame, CustomersFrame)
    assert quarantined.index.tolist() == ["r2"] and "r2" not in valid.index and len(valid) == len(frame) - 1


# --- prices → finance --------------------------------------------------------------------------------------

def test_price_rules_hold_back_only_the_bad_rows():
    ps = demo.prices()
    bad = [
        PriceEntry("TRADE", "SKU-X-NEG", 1, Decimal("-0.01"), "GBP"),  # negative price
        PriceEntry("TRADE", "SKU-X-NAN", 1, "abc", "GBP"),  # type: ignore[arg-type]  # not a number
        PriceEntry("TRADE", "SKU-X-FLT", 1, 0.1, "GBP"),  # type: ignore[arg-type]  # float: cents maybe lost
        PriceEntry("TRADE", "SKU-X-CUR", 1, Decimal("1.00"), "GPB"),  # unknown currency
        PriceEntry("TRADE", None, 1, Decimal("1.00"), "GBP"),  # type: ignore[arg-type]  # SKU missing
        PriceEntry("TRADE", "SKU-X-QTY", 0, Decimal("1.00"), "GBP"),  # break below 1
        PriceEntry("TRADE", "SKU-X-DUP", 1, Decimal("1.00"), "GBP"),  # same list, SKU and break twice
        PriceEntry("TRADE", "SKU-X-DUP", 1, Decimal("1.10"), "GBP"),
    ]
    valid, quarantined = split_valid(prices_frame(ps + bad), PricesFrame)
    assert len(valid) == len(ps) and len(quarantined) == len(bad)
    reasons = quarantined[REASONS].tolist()
    assert reasons[0] == ["unit price must be a number, 0 or more (found: -0.01)"]
    assert reasons[1] == ["unit price must be a number, 0 or more (found: 'abc')"]
    assert reasons[2] == ["unit price must be a number, 0 or more (found: 0.1)"]
    assert reasons[3] == ["currency is not a currency we trade in (an ISO code such as GBP or EUR) "
                          "(found: 'GPB')"]
    assert reasons[4] == ["SKU is missing"]
    assert reasons[5] == ["minimum quantity must be a whole number, 1 or more (found: 0)"]
    assert reasons[6] == reasons[7] == [
        "the same price list code and SKU and minimum quantity ('TRADE' / 'SKU-X-DUP' / 1) appears on more "
        "than one row; none of them is sent until the ERP has only one"]
    _assert_revalidates(valid, PricesFrame)

    problems = quarantine_problems("prices", quarantined)
    assert {p.owner_team for p in problems} == {OwnerTeam.FINANCE}
    dup = next(p for p in problems if p.entity_id == "TRADE / SKU-X-DUP")
    assert len(dup.detail["rows"]) == 2 and dup.detail["rows"][1]["unit_price"] == "1.10"


def test_price_list_rules():
    lists = demo.price_lists()
    lists.append(replace(lists[0], code="trade"))  # same slug as TRADE: both held back
    lists.append(replace(lists[-2], code="CONTRACT-X", customer_account_code=None))
    valid, quarantined = split_valid(price_lists_frame(lists), PriceListsFrame)
    assert sorted(quarantined["code"]) == ["CONTRACT-X", "TRADE", "trade"]
    assert quarantined.set_index("code").loc["CONTRACT-X", REASONS] == [
        "a contract price list must name the customer account it belongs to"]
    assert {p.owner_team for p in quarantine_problems("price_lists", quarantined)} == {OwnerTeam.FINANCE}
    _assert_revalidates(valid, PriceListsFrame)


# --- items and stock → operations ---------------------------------------------------------------------------

def test_item_rules_hold_back_only_the_bad_rows():
    items = demo.items()
    items[0] = replace(items[0], sale_unit=SaleUnit("Case of 0", 0))  # pack size < 1
    items[1] = replace(items[1], sku=items[2].sku)  # duplicated SKU: both held back
    items[3] = replace(items[3], sku="  ")  # blank SKU
    items[4] = replace(items[4], sale_unit=None)  # no sale unit at all: kept, then held back
    valid, quarantined = split_valid(items_frame(items), ItemsFrame)
    assert quarantined.index.tolist() == [0, 1, 2, 3, 4] and len(valid) == len(items) - 5
    reasons = quarantined[REASONS].tolist()
    assert reasons[0] == ["pack size must be a whole number, 1 or more (found: 0)"]
    assert reasons[1] == reasons[2] and "appears on more than one row" in reasons[1][0]
    assert reasons[3] == ["SKU is missing"]
    assert set(reasons[4]) == {"sale unit is missing", "pack size is missing"}
    problems = quarantine_problems("items", quarantined)
    assert {p.owner_team for p in problems} == {OwnerTeam.OPERATIONS}
    assert {p.kind for p in problems} == {"item_invalid"}
    _assert_revalidates(valid, ItemsFrame)


def test_stock_rules_hold_back_only_the_bad_rows():
    levels = demo.stock()
    levels[0] = replace(levels[0], on_hand="twelve")  # stock not a number
    levels[1] = replace(levels[1], reserved=Decimal("-2"))
    levels[2] = replace(levels[2], on_hand=Decimal("-4"))  # negative on hand is allowed: publishes 0
    levels.append(replace(levels[5]))  # same SKU and warehouse twice
    valid, quarantined = split_valid(stock_frame(levels), StockFrame)
    assert quarantined.index.tolist() == [0, 1, 5, len(levels) - 1]
    assert quarantined[REASONS].iloc[0] == ["quantity on hand must be a number (found: 'twelve')"]
    problems = quarantine_problems("stock", quarantined)
    assert {p.owner_team for p in problems} == {OwnerTeam.OPERATIONS}
    assert problems[0].entity_id == f"{levels[0].sku} / {levels[0].warehouse_code}"
    sku, warehouse = levels[0].sku, levels[0].warehouse_code
    assert problems[0].message.startswith(f"The stock of {sku} in warehouse {warehouse}")
    _assert_revalidates(valid, StockFrame)


# --- builders -----------------------------------------------------------------------------------------------

def test_builders_keep_decimals_exact_and_junk_visible():
    ps = [PriceEntry("TRADE", "A", 1, Decimal("0.1000"), "GBP"),
          PriceEntry("TRADE", "B", "12", "19.99", "GBP"),  # type: ignore[arg-type]  # text is parsed exactly
          PriceEntry("TRADE", "C", 1, Decimal("NaN"), "GBP"),
          PriceEntry("TRADE", "D", 1.0, float("nan"), "GBP")]  # type: ignore[arg-type]
    frame = prices_frame(ps)
    assert frame["unit_price"].tolist()[:2] == [Decimal("0.1000"), Decimal("19.99")]
    assert str(frame["unit_price"][0]) == "0.1000"  # exponent kept: exactly what the ERP holds
    assert frame["min_quantity"].tolist()[:2] == [1, 12]
    # NaN is kept as text, so pandas does not mistake it for "empty" (an empty credit limit means no limit)
    assert frame["unit_price"].tolist()[2:] == ["NaN", "nan"]
    _, quarantined = split_valid(frame, PricesFrame)
    assert quarantined["sku"].tolist() == ["C", "D"]


def test_builders_handle_an_empty_extract():
    for builder, model in [(customers_frame, CustomersFrame), (prices_frame, PricesFrame),
                           (items_frame, ItemsFrame), (stock_frame, StockFrame),
                           (price_lists_frame, PriceListsFrame)]:
        valid, quarantined = split_valid(builder([]), model)
        assert valid.empty and quarantined.empty


def test_addresses_that_are_not_addresses_are_held_back():
    cs = demo.customers()
    cs[0] = replace(cs[0], addresses=("1 High Street", "York"))  # type: ignore[arg-type]
    _, quarantined = split_valid(customers_frame(cs), CustomersFrame)
    assert quarantined[REASONS].tolist() == [
        ["addresses must be a list of addresses (found: ('1 High Street', 'York'))"]]


def test_nan_credit_limit_never_means_no_limit():
    frame = customers_frame(demo.customers())
    frame.loc[0, "credit_limit"] = Decimal("NaN")  # pandas would call this "missing"
    _, quarantined = split_valid(frame, CustomersFrame)
    assert quarantined.index.tolist() == [0]


# --- Dagster type -------------------------------------------------------------------------------------------

def test_dagster_type_checks_the_frame_against_the_model_it_names():
    customers_type = pandera_dagster_type("sparklayer_erp.masterdata.gates.customers:CustomersFrame",
                                          name="CustomersFrame")
    good = customers_frame(demo.customers())
    assert dg.check_dagster_type(customers_type, good).success
    assert not dg.check_dagster_type(customers_type, good.to_dict("records")).success  # not a frame
    bad = good.copy()
    bad.loc[0, "email"] = None
    result = dg.check_dagster_type(customers_type, bad)
    assert not result.success and result.description == "1 failure case(s) for CustomersFrame"
    assert result.metadata["num_failures"].value == 1


def test_column_schema_documents_every_column_with_its_title_and_description():
    columns = {c.name: c for c in column_schema(CustomersFrame).schema.columns}
    assert set(columns) == set(customers_frame(demo.customers()).columns)
    hold = columns["on_credit_hold"].description
    assert hold.startswith("credit hold — Yes if the account is on credit hold")
