"""What master data sends to SparkLayer: only changes, complete customer bodies, exact prices, safe stock."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import replace
from decimal import Decimal

import pandas as pd
import pytest

from sparklayer_erp.domain.hashing import hash_dict, row_hash_series, row_hashes
from sparklayer_erp.domain.masterdata import (
    Changes,
    PriceBreak,
    available_stock,
    card_only,
    customer_from_row,
    diff_hashes,
    mass_deletion_blocks,
    mass_quarantine_blocks,
    mass_quarantine_problem,
    price_list_slug,
    pricing_rows,
    quarantine_share,
)
from sparklayer_erp.domain.models import ErpPriceList, OwnerTeam, PriceEntry, PriceListKind, StockLevel
from sparklayer_erp.masterdata.gates import (
    CustomersFrame,
    customers_frame,
    items_frame,
    prices_frame,
    split_valid,
    stock_frame,
)
from sparklayer_erp.masterdata.mapper import (
    SPARKLAYER_OWNED_CUSTOMER_FIELDS,
    CustomerLink,
    customer_payload,
    pack_size_settings,
    price_list_payload,
    pricing_body,
    stock_updates,
)
from sparklayer_erp.sparklayer import contract, wire
from sparklayer_erp_tests.domain import masterdata_demo as demo

PRICE_KEY = ["price_list_code", "sku"]
PRICE_VALUES = ["min_quantity", "unit_price", "currency"]
CUSTOMER_VALUES = [c for c in CustomersFrame.to_schema().columns if c != "account_code"]


# --- diff ---------------------------------------------------------------------------------------------------

def test_first_run_sends_everything_then_nothing_then_exactly_the_change():
    frame = prices_frame(demo.prices())
    first = row_hashes(frame, PRICE_KEY, PRICE_VALUES)
    changes = diff_hashes({}, first)
    assert changes.upserts == frozenset(first) and not changes.deletes and changes.unchanged == 0

    again = diff_hashes(first, row_hashes(prices_frame(demo.prices()), PRICE_KEY, PRICE_VALUES))
    assert again.empty and again.unchanged == len(first)
    assert pricing_rows(frame, again.upserts | again.deletes) == []  # a no-change run sends nothing

    edited = frame.copy()
    edited.loc[5, "unit_price"] = edited.loc[5, "unit_price"] + Decimal("0.01")
    one = diff_hashes(first, row_hashes(edited, PRICE_KEY, PRICE_VALUES))
    key = (edited.loc[5, "price_list_code"], edited.loc[5, "sku"])
    assert one.upserts == {key} and not one.deletes and one.unchanged == len(first) - 1


def test_removed_keys_are_deletes_but_held_keys_are_left_alone():
    previous = {"A": "1", "B": "2", "C": "3", "D": "4"}
    current = {"A": "1", "B": "9", "E": "5"}
    changes = diff_hashes(previous, current)
    assert changes.upserts == {"B", "E"} and changes.deletes == {"C", "D"} and changes.unchanged == 1

    held = diff_hashes(previous, current, held={"B", "C"})  # quarantined this run: keep SparkLayer's copy
    assert held.upserts == {"E"} and held.deletes == {"D"} and held.held == {"B", "C"}
    assert held.hashes_after_push(previous, current) == {"A": "1", "B": "2", "C": "3", "E": "5"}


def test_mass_deletion_needs_a_person():
    changes = Changes(upserts=frozenset(), deletes=frozenset(range(30)), unchanged=70)
    assert mass_deletion_blocks(changes, previous_count=100, threshold="0.2")
    assert not mass_deletion_blocks(changes, previous_count=100, threshold="0.3")
    assert not mass_deletion_blocks(changes, previous_count=0, threshold="0.2")


# --- customers ----------------------------------------------------------------------------------------------

ERP_OWNED = {"email", "accounting_id", "company_name", "group", "price_lists", "payment_on_account",
             "addresses"}


def test_customer_payload_is_complete_and_uses_the_erp_numbers():
    customer = next(c for c in demo.customers() if c.account_code == "C1001")  # has a contract list
    link = CustomerLink(platform_id="7100000000", sparklayer_id="uuid-1", email=customer.email)
    upsert = customer_payload(customer, link)
    assert (upsert.lookup_by, upsert.identifier) == ("platform", "7100000000")
    body = upsert.body
    assert set(body) == ERP_OWNED | {"external_id"}
    assert body["external_id"] == "7100000000"
    assert body["accounting_id"] == "C1001" and body["company_name"] == "Acme Retail"
    assert body["group"] == contract.DEFAULT_GROUP
    assert body["price_lists"] == ["contract-c1001", "trade"]  # contract first: it wins
    assert body["payment_on_account"] == {
        contract.POA_CREDIT_LIMIT: Decimal("2000.00"), contract.POA_BALANCE: Decimal("125.40"),
        contract.POA_CURRENCY: "GBP", contract.POA_NET_TERMS: 30}
    on_the_wire = wire.dumps(body["payment_on_account"])  # exact number literals, never floats or strings
    assert b'"credit_limit":2000.00' in on_the_wire and b'"balance":125.40' in on_the_wire
    assert body["addresses"] == [{
        "external_id": "C1001-1", "company_name": "Acme Retail", "address_line1": "1 High Street",
        "city": "London", "postal_code": "AB1 2CD", "country_code": "GB",
        "is_default_shipping": True, "is_default_billing": True}]


def test_customer_on_credit_hold_goes_to_the_card_only_group_and_back():
    held = next(c for c in demo.customers() if c.on_credit_hold)
    assert customer_payload(held).body["group"] == contract.CREDIT_HOLD_GROUP
    released = replace(held, on_credit_hold=False)
    assert customer_payload(released).body["group"] == contract.DEFAULT_GROUP


def test_customer_closed_in_the_erp_cannot_buy_on_credit_until_reactivated():
    open_account = next(c for c in demo.customers() if not c.on_credit_hold and c.credit_limit)
    closed = replace(open_account, active=False)
    body = customer_payload(closed).body
    assert card_only(closed) and not card_only(open_account)
    assert body["group"] == contract.CREDIT_HOLD_GROUP  # card only: no pay on account, no pay by invoice
    assert body["payment_on_account"][contract.POA_CREDIT_LIMIT] == Decimal("0.00")
    assert body["payment_on_account"][contract.POA_BALANCE] == Decimal("125.40")  # what is still owed
    assert body["accounting_id"] == open_account.account_code  # the account stays linked, not removed
    reopened = customer_payload(replace(closed, active=True)).body
    assert reopened["group"] == contract.DEFAULT_GROUP
    assert reopened["payment_on_account"][contract.POA_CREDIT_LIMIT] == open_account.credit_limit


def test_a_closed_customer_without_a_limit_is_sent_a_limit_of_zero_not_no_limit():
    unlimited = replace(demo.customers()[0], credit_limit=None, active=False)
    assert customer_payload(unlimited).body["payment_on_account"][contract.POA_CREDIT_LIMIT] == 0


def test_closing_an_account_survives_the_customer_frame_and_changes_the_body():
    customers = demo.customers()
    closed = replace(customers[0], active=False)
    valid, held = split_valid(customers_frame([closed]), CustomersFrame)
    assert held.empty
    back = customer_from_row(valid.to_dict("records")[0])
    assert back.active is False
    assert customer_payload(back).body != customer_payload(customers[0]).body  # so the push sends it


def test_customer_payload_rounds_half_up_and_sends_no_limit_as_null():
    customer = replace(demo.customers()[0], credit_limit=None, open_balance=Decimal("10.005"),
                       payment_terms_days=None, contract_price_list=None, addresses=())
    body = customer_payload(customer).body
    assert body["payment_on_account"][contract.POA_CREDIT_LIMIT] is None
    assert str(body["payment_on_account"][contract.POA_BALANCE]) == "10.01"
    assert body["payment_on_account"][contract.POA_NET_TERMS] is None
    assert body["price_lists"] == ["trade"] and body["addresses"] == []  # sent empty, never omitted


def test_customer_lookup_prefers_ids_over_email():
    customer = demo.customers()[0]
    by_id = customer_payload(customer, CustomerLink(sparklayer_id="uuid-1", email="old@acme.example"))
    assert (by_id.lookup_by, by_id.identifier, by_id.body["id"]) == ("sparklayer", "uuid-1", "uuid-1")
    assert by_id.body["email"] == customer.email  # the ERP's address replaces the old one
    new = customer_payload(customer)
    assert (new.lookup_by, new.identifier) == ("email", customer.email) and "id" not in new.body
    assert new.lookup_by in contract.CUSTOMER_LOOKUPS


def test_customer_payload_keeps_sparklayer_owned_fields_and_balance_date():
    current = {"first_name": "Ann", "role": "main", "discount_percentage": 5, "accounting_id": "OLD",
               "sales_agent_groups": ["north"]}
    body = customer_payload(demo.customers()[0], current=current, balance_date=dt.date(2026, 1, 31)).body
    assert body["first_name"] == "Ann" and body["discount_percentage"] == 5
    assert body["sales_agent_groups"] == ["north"]
    assert body["accounting_id"] == "C1001"  # ERP-owned fields always come from the ERP
    assert body["payment_on_account"][contract.POA_BALANCE_DATE] == "2026-01-31"
    assert set(SPARKLAYER_OWNED_CUSTOMER_FIELDS).isdisjoint(ERP_OWNED)


def test_customer_payload_from_a_checked_frame_row_equals_the_dataclass_one():
    customers = demo.customers()
    valid, _ = split_valid(customers_frame(customers), CustomersFrame)
    for row, customer in zip(valid.to_dict("records"), customers, strict=True):
        assert customer_payload(row).body == customer_payload(customer).body


def test_customer_hashes_change_when_the_hold_changes():
    customers = demo.customers()
    before = row_hashes(customers_frame(customers), ["account_code"], CUSTOMER_VALUES)
    customers[2] = replace(customers[2], on_credit_hold=True)
    after = row_hashes(customers_frame(customers), ["account_code"], CUSTOMER_VALUES)
    assert diff_hashes(before, after).upserts == {customers[2].account_code}


# --- price lists and pricing --------------------------------------------------------------------------------

def test_price_list_slug_is_stable_lowercase_and_short():
    assert price_list_slug("TRADE") == "trade"
    assert price_list_slug("CONTRACT-C1001") == "contract-c1001"
    assert price_list_slug(" Trade Level / UK ") == "trade-level-uk"
    long_a = "CONTRACT-FOR-A-VERY-LONG-CUSTOMER-NAME-ONE"
    long_b = "CONTRACT-FOR-A-VERY-LONG-CUSTOMER-NAME-TWO"
    assert len(price_list_slug(long_a)) <= 30 and price_list_slug(long_a) != price_list_slug(long_b)
    assert price_list_slug(long_a) == price_list_slug(long_a)
    digest = hashlib.sha256(long_a.encode()).hexdigest()[:8]
    assert price_list_slug(long_a) == f"contract-for-a-very-l-{digest}"
    assert price_list_slug("???") == f"list-{hashlib.sha256(b'???').hexdigest()[:8]}"


def test_price_list_payload_is_an_integration_list():
    payload = price_list_payload(ErpPriceList("CONTRACT-C1001", "Contract Acme " + "x" * 80, "GBP",
                                              PriceListKind.CONTRACT, "C1001"))
    assert payload == {"slug": "contract-c1001", "name": ("Contract Acme " + "x" * 80)[:64],
                       "currency_code": "GBP", "source": "integration"}


def test_pricing_rows_sorted_breaks_exact_prices_and_blank_for_removed_skus():
    frame = prices_frame([
        PriceEntry("TRADE", "B", 120, Decimal("0.6800"), "GBP"),
        PriceEntry("TRADE", "B", 1, Decimal("0.7200"), "GBP"),
        PriceEntry("TRADE", "A", 1, Decimal("1.10"), "GBP"),
        PriceEntry("WHOLESALE", "B", 1, Decimal("0.64"), "GBP"),
    ])
    entries = pricing_rows(frame, [("TRADE", "B"), ("TRADE", "GONE")])
    assert [(e.price_list_code, e.sku) for e in entries] == [("TRADE", "B"), ("TRADE", "GONE")]
    assert entries[0].breaks == (PriceBreak(1, Decimal("0.7200")), PriceBreak(120, Decimal("0.6800")))
    assert pricing_body(entries[0]) == {"sku": "B", "pricing": [{"quantity": 1, "price": Decimal("0.7200")},
                                                         {"quantity": 120, "price": Decimal("0.6800")}]}
    assert entries[1].removes and pricing_body(entries[1]) == {"sku": "GONE", "pricing": []}
    assert entries[0].price_list_slug == "trade"


def test_pack_size_settings_carry_the_erp_pack():
    items = demo.items()
    case_of_12 = next(i for i in items if i.pack_size == 12)
    expected = {"settings": [{"customer_group": contract.BASE_GROUP, "pack_size": 12}]}
    assert pack_size_settings(case_of_12) == expected
    row = items_frame([case_of_12]).to_dict("records")[0]
    assert pack_size_settings(row) == expected


# --- stock --------------------------------------------------------------------------------------------------

def test_available_stock_formula_rounds_down_and_floors_at_zero():
    levels = [
        StockLevel("A", "WH", Decimal("100"), Decimal("20")),  # 100 − 20 − 30 pending − 5 buffer = 45
        StockLevel("A", "WH2", Decimal("10.9"), Decimal("0")),  # 10.9 − 5 = 5.9 → 5 (never promise part)
        StockLevel("B", "WH", Decimal("8"), Decimal("6")),  # 8 − 6 − 5 = −3 → 0
        StockLevel("C", "WH", Decimal("-4"), Decimal("0")),  # negative on hand → 0
    ]
    pending = {("A", "WH"): 30, ("Z", "WH"): 99}  # a pending SKU without stock rows adds nothing
    result = available_stock(levels, pending, safety_buffer=5)
    assert result == {("A", "WH"): 45, ("A", "WH2"): 5, ("B", "WH"): 0, ("C", "WH"): 0}
    assert all(isinstance(v, int) for v in result.values())
    assert available_stock(levels, {}, 0)[("A", "WH")] == 80
    with pytest.raises(ValueError):
        available_stock(levels, {}, safety_buffer=-1)


def test_available_stock_from_the_checked_frame_equals_the_dataclasses():
    levels = demo.stock()
    pending = {(levels[0].sku, levels[0].warehouse_code): Decimal("12")}
    assert available_stock(stock_frame(levels), pending, 2) == available_stock(levels, pending, 2)
    assert stock_updates({("A", "WH"): 3, ("A", "WH2"): 0}, [("A", "WH2")]) == [
        {"sku": "A", "stock_location_external_id": "WH2", "stock_level": 0}]


# --- mass quarantine ----------------------------------------------------------------------------------------

def test_quarantine_share_and_the_mass_quarantine_gate():
    assert quarantine_share(0, 0) == 0
    assert quarantine_share(95, 5) == Decimal("0.05")
    assert not mass_quarantine_blocks(quarantine_share(95, 5), "0.05")  # at the threshold: still sent
    assert mass_quarantine_blocks(quarantine_share(94, 6), "0.05")
    assert mass_quarantine_blocks(quarantine_share(0, 24), 0.5)
    p = mass_quarantine_problem("prices", valid_count=94, quarantined_count=6)
    assert p.owner_team == OwnerTeam.OPERATIONS and p.kind == "mass_quarantine"
    assert p.message.startswith("6 of 100 price records failed their checks")


# --- the compact (Series) form used for millions of price points --------------------------------------------

def test_series_and_dict_forms_give_the_same_changes():
    frame = prices_frame(demo.prices())
    edited = frame.drop(index=[0, 1])  # one SKU (both breaks) gone from TRADE
    edited.loc[7, "unit_price"] = Decimal("9.99")
    edited = pd.concat([edited, prices_frame([PriceEntry("TRADE", "NEW", 1, Decimal("1"), "GBP")])])
    held = {(frame.loc[9, "price_list_code"], frame.loc[9, "sku"])}
    edited.loc[9, "unit_price"] = Decimal("0")  # changed but held back this run

    as_dicts = diff_hashes(row_hashes(frame, PRICE_KEY, PRICE_VALUES),
                           row_hashes(edited, PRICE_KEY, PRICE_VALUES), held=held)
    before, after = (row_hash_series(f, PRICE_KEY, PRICE_VALUES) for f in (frame, edited))
    as_series = diff_hashes(before, after, held=held)
    assert as_series == as_dicts
    assert as_series.upserts == {tuple(edited.loc[7, PRICE_KEY]), ("TRADE", "NEW")}
    assert as_series.deletes == {tuple(frame.loc[0, PRICE_KEY])}
    assert hash_dict(after) == row_hashes(edited, PRICE_KEY, PRICE_VALUES)

    recorded = as_series.hashes_after_push(before, after)
    assert hash_dict(recorded) == as_dicts.hashes_after_push(hash_dict(before), hash_dict(after))
    assert diff_hashes(recorded, after).upserts == held  # the held key is sent once it passes

    first = diff_hashes({}, after)
    assert first.upserts == frozenset(hash_dict(after)) and not first.deletes
    assert diff_hashes(after, row_hash_series(edited, PRICE_KEY, PRICE_VALUES)).empty
    with pytest.raises(TypeError):
        diff_hashes({("TRADE", "A"): "0"}, after)
