"""Every quarantine rule, with its owner: junk rows injected at the ERP edge next to the real Tryton data.

The extract assets run for real (real Tryton over JSON-RPC, real pandera gates, real ledger); only the
``JunkPort`` double appends bad records. The real rows still flow: they all pass, and only the junk is held.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sparklayer_erp.demo import demo_data
from sparklayer_erp.domain.models import OwnerTeam
from sparklayer_erp_tests.masterdata import junk
from sparklayer_erp_tests.masterdata.conftest import World, check_results, make_world, materialized

pytestmark = pytest.mark.tryton

EXTRACTS = ["erp_customers", "erp_price_lists", "erp_prices", "erp_items", "erp_stock"]
ONLY_BREAK_1 = {"ops": {"erp_prices": {"config": {"quantity_breaks": [1]}}}}

# entity id → (exception kind, owner, words the reason must contain)
RULES = {
    "(no account code) Junk None": ("customer_invalid", OwnerTeam.SALES_OPERATIONS, "account code is missing"),
    "JUNK-DUP": ("customer_invalid", OwnerTeam.SALES_OPERATIONS, "appears on more than one row"),
    "JUNK-NOMAIL": ("customer_invalid", OwnerTeam.SALES_OPERATIONS, "e-mail address is missing"),
    "JUNK-GPB": ("customer_invalid", OwnerTeam.SALES_OPERATIONS, "not a currency we trade in"),
    "JUNK-LIST": ("price_invalid", OwnerTeam.FINANCE, "not a currency we trade in"),
    "TRADE / JUNK-NEG": ("price_invalid", OwnerTeam.FINANCE, "unit price must be a number, 0 or more"),
    "TRADE / JUNK-NAN": ("price_invalid", OwnerTeam.FINANCE, "unit price must be a number, 0 or more"),
    "TRADE / JUNK-CUR": ("price_invalid", OwnerTeam.FINANCE, "not a currency we trade in"),
    "TRADE / (no code)": ("price_invalid", OwnerTeam.FINANCE, "SKU is missing"),
    "(no SKU)": ("item_invalid", OwnerTeam.OPERATIONS, "SKU is missing"),
    "JUNK-SKU-DUP": ("item_invalid", OwnerTeam.OPERATIONS, "appears on more than one row"),
    "JUNK-PACK0": ("item_invalid", OwnerTeam.OPERATIONS, "pack size must be a whole number, 1 or more"),
    "JUNK-STOCK / WH": ("stock_invalid", OwnerTeam.OPERATIONS, "quantity on hand must be a number"),
}
JUNK_ROWS = {"erp_customers": len(junk.EVERY_RULE_CUSTOMERS), "erp_price_lists": len(junk.EVERY_RULE_PRICE_LISTS),
             "erp_prices": len(junk.EVERY_RULE_PRICES), "erp_items": len(junk.EVERY_RULE_ITEMS),
             "erp_stock": len(junk.EVERY_RULE_STOCK)}


@pytest.fixture(scope="module")
def junk_world(tryton_server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    for world in make_world(tryton_server, tmp_path_factory.mktemp("quarantine")):
        world.share_limit = "0.5"  # this test is about the row rules, not the mass gate
        yield world


def test_every_quarantine_rule_holds_its_rows_back_with_the_right_owner(junk_world: World) -> None:
    since = junk_world.last_seq()
    result = junk_world.materialize(EXTRACTS, scenario="every_rule", run_config=ONLY_BREAK_1)
    assert result.success and materialized(result) == set(EXTRACTS)
    assert all(check.passed for check in check_results(result).values())

    ledger = junk_world.ledger
    open_ = {e.entity_id: e for e in ledger.open_exceptions()}
    for entity_id, (kind, owner, words) in RULES.items():
        exc = open_.get(entity_id)
        assert exc is not None, f"no exception for {entity_id}"
        assert (exc.kind, exc.owner_team) == (kind, owner), entity_id
        assert words in exc.message, (entity_id, exc.message)
        assert exc.action  # the owner is told what to do
    assert set(open_) == set(RULES)  # the real records raised nothing

    # only the junk was held; every real record passed, e.g. all demo customers, SKUs, stock rows
    for step, junk_rows in JUNK_ROWS.items():
        extract = result.output_for_node(step)
        assert extract.quarantined_count == junk_rows, step
    customers = result.output_for_node("erp_customers")
    assert {c.account_code for c in demo_data.CUSTOMERS} <= set(customers.valid["account_code"])
    items = result.output_for_node("erp_items")
    assert {p.sku for p in demo_data.PRODUCTS} <= set(items.valid["sku"])
    meta = {e.asset_key.to_user_string(): e.materialization.metadata for e in result.get_asset_materialization_events()}
    assert meta["erp_customers"]["quarantined"].value == len(junk.EVERY_RULE_CUSTOMERS)
    preview = meta["erp_customers"]["quarantined_rows"].value
    assert "JUNK-NOMAIL" in preview and "e-mail address is missing" in preview
    columns = {c.name for c in meta["erp_customers"]["dagster/column_schema"].value.columns}
    assert {"account_code", "email", "on_credit_hold"} <= columns  # the gate's columns, shown in the UI
    assert junk_world.writes_since(since) == []  # extracting never writes to SparkLayer


def test_quarantine_exceptions_resolve_themselves_once_the_junk_is_gone(junk_world: World) -> None:
    ledger = junk_world.ledger
    # its own junk first (test order is random): the every-rule extract opens the exceptions
    junk_run = junk_world.materialize(EXTRACTS, scenario="every_rule", run_config=ONLY_BREAK_1)
    assert junk_run.success
    assert ledger.open_exceptions(), "the junk extract opened exceptions"
    result = junk_world.materialize(EXTRACTS, run_config=ONLY_BREAK_1)
    assert result.success
    assert ledger.open_exceptions() == []
