"""Resending master data in full: a hand edit in SparkLayer survives the regular push (its ERP row did not
change), and ``master_data_resend_job`` puts the ERP's value back; afterwards the regular push is quiet.

The end-to-end tests share one module world (the real Tryton demo company, the sandbox over HTTP, one
Dagster instance), synced once; each makes its own hand edit and undoes it by the resend it tests, so they
pass in any order. Plus the request validation (``resend_run_config``) without any server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

import dagster as dg
import pytest

from sparklayer_erp.demo import demo_data
from sparklayer_erp.demo.sandbox import variants
from sparklayer_erp.domain import masterdata as md
from sparklayer_erp.masterdata import extract as erp_extract
from sparklayer_erp.masterdata.definitions import (
    MASTERDATA_JOBS,
    MASTERDATA_SCHEDULES,
    master_data_resend_job,
)
from sparklayer_erp.masterdata.resend import DATA_TYPES, RESEND_JOB_NAME, resend_run_config
from sparklayer_erp.masterdata.sync import collapse_breaks
from sparklayer_erp.resources import ErpResource, LedgerResource, PolicyResource, SparkLayerResource
from sparklayer_erp.sparklayer import contract
from sparklayer_erp.sparklayer.models import PricingRow, StockLevelRow, VariantSetting
from sparklayer_erp_tests.masterdata.conftest import World

CUSTOMERS_PUSH = ["erp_customers", "sparklayer_customers"]
PRICES_PUSH = ["erp_price_lists", "erp_prices", "sparklayer_price_lists"]
STOCK_PUSH = ["erp_stock", "sparklayer_stock"]
PACK_SIZES_PUSH = ["erp_items", "sparklayer_pack_sizes"]
ACME = demo_data.customer_by_code("C1001")


# --- the request: validation, no servers --------------------------------------------------------------------------


def _config(run_config: Mapping[str, Any]) -> dict[str, Any]:
    return run_config["ops"]["master_data_resend"]["config"]


@pytest.mark.parametrize("data_type", DATA_TYPES)
def test_every_data_type_can_be_resent_in_full(data_type: str) -> None:
    assert _config(resend_run_config(data_type)) == {"data_type": data_type}


def test_the_run_config_names_only_what_was_asked_cleaned() -> None:
    assert _config(resend_run_config("prices", price_list=" trade ")) == {"data_type": "prices", "price_list": "trade"}
    assert _config(resend_run_config("stock", skus=["SKU-A", " SKU-B", "SKU-A"])) == {
        "data_type": "stock", "skus": ["SKU-A", "SKU-B"]}
    assert _config(resend_run_config("pack_sizes", skus=("SKU-A",))) == {"data_type": "pack_sizes", "skus": ["SKU-A"]}
    assert _config(resend_run_config("customers", account_codes=["C1001"])) == {
        "data_type": "customers", "account_codes": ["C1001"]}
    assert _config(resend_run_config("prices", price_list="")) == {"data_type": "prices"}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"data_type": "orders"}, "unknown data type 'orders': choose one of customers, prices, stock, pack_sizes"),
    ({"data_type": ""}, "unknown data type"),
    ({"data_type": "stock", "price_list": "TRADE"}, "a price list can only be given when resending prices"),
    ({"data_type": "customers", "skus": ["SKU-A"]}, "SKUs can only be given when resending stock or pack_sizes"),
    ({"data_type": "prices", "skus": ["SKU-A"]}, "SKUs can only be given"),
    ({"data_type": "stock", "account_codes": ["C1001"]}, "account codes can only be given when resending customers"),
    ({"data_type": "stock", "skus": ["SKU-A", " "]}, "an empty or invalid SKU"),
    ({"data_type": "stock", "skus": "SKU-A"}, "give the SKUs as a list"),
    ({"data_type": "customers", "account_codes": [None]}, "an empty or invalid account code"),
])
def test_a_bad_request_is_refused_saying_why(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        resend_run_config(**kwargs)


def test_the_resend_job_is_a_master_data_job_that_is_never_scheduled() -> None:
    assert master_data_resend_job.name == RESEND_JOB_NAME
    assert master_data_resend_job in MASTERDATA_JOBS
    assert master_data_resend_job.tags.get("flow") == "master_data"
    assert all(s.job_name != RESEND_JOB_NAME for s in MASTERDATA_SCHEDULES)


def _unreachable_resources(tmp_path) -> dict[str, Any]:
    return {
        "erp": ErpResource(url="http://127.0.0.1:9", database="none", login="none", password="none"),
        "ledger": LedgerResource(database_url=f"sqlite:///{tmp_path / 'ledger.sqlite'}"),
        "sparklayer": SparkLayerResource(base_url="http://127.0.0.1:9", site_id="s", client_id="c",
                                         client_secret="x"),
        "policy": PolicyResource(),
    }


def test_the_job_refuses_a_request_its_launchpad_schema_lets_through(tmp_path) -> None:
    bad = {"ops": {"master_data_resend": {"config": {"data_type": "stock", "price_list": "TRADE"}}}}
    result = master_data_resend_job.execute_in_process(run_config=bad, resources=_unreachable_resources(tmp_path),
                                                       raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "a price list can only be given when resending prices" in str(failure.step_failure_data.error)


def test_the_job_config_only_takes_the_four_data_types(tmp_path) -> None:
    with pytest.raises(dg.DagsterInvalidConfigError, match="data_type"):
        master_data_resend_job.execute_in_process(
            run_config={"ops": {"master_data_resend": {"config": {"data_type": "orders"}}}},
            resources=_unreachable_resources(tmp_path))


# --- end to end: hand edits in SparkLayer, undone by a resend ------------------------------------------------------


@pytest.fixture(scope="module")
def synced(world: World) -> World:
    assert world.materialize().success
    return world


def resend(world: World, data_type: str, **kwargs: Any) -> dg.ExecuteInProcessResult:
    return master_data_resend_job.execute_in_process(
        run_config=resend_run_config(data_type, **kwargs), resources=world.resources(), instance=world.instance,
        raise_on_error=False)


def resend_metadata(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    (output,) = [e for e in result.all_events if e.is_successful_output]
    return {k: v.value for k, v in output.step_output_data.metadata.items()}


def regular_push(world: World, selection: list[str]) -> list[dict[str, Any]]:
    """Run the regular push of one data type; the sandbox writes it made."""
    since = world.last_seq()
    assert world.materialize(selection).success
    return world.writes_since(since)


def assert_next_regular_push_is_quiet(world: World, selection: list[str]) -> None:
    assert regular_push(world, selection) == []



@pytest.mark.tryton
def test_a_hand_edited_credit_limit_stays_until_resent_then_the_erp_limit_is_back(synced: World) -> None:
    world, client = synced, synced.client()
    shop = client.get_customer("email", ACME.email)
    erp_limit = shop.payment_on_account.credit_limit
    edited = replace(shop, payment_on_account=replace(shop.payment_on_account, credit_limit=Decimal("99999")))
    client.upsert_customer("email", ACME.email, edited)  # someone in sales edits the limit in SparkLayer

    writes = regular_push(world, CUSTOMERS_PUSH)
    assert not [w for w in writes if ACME.email in w["path"]]  # the ERP row did not change: nothing sent
    assert client.get_customer("email", ACME.email).payment_on_account.credit_limit == Decimal("99999")

    since = world.last_seq()
    result = resend(world, "customers", account_codes=[ACME.account_code])
    assert result.success
    sent = [w for w in world.writes_since(since) if w["path"].startswith("/api/v2/customers/")]
    assert len(sent) == 1 and sent[0]["method"] == "PUT"  # only the customer asked for
    back = client.get_customer("email", ACME.email)
    assert back.payment_on_account.credit_limit == erp_limit
    assert back.role == shop.role and back.id == shop.id  # SparkLayer-owned fields kept, the same record
    meta = resend_metadata(result)
    assert meta["data_type"] == "customers" and meta["sent"] == 1 and meta["resent_unchanged"] == 1
    assert ACME.account_code in meta["sent_keys"]
    audit = world.ledger.audit_entries(key=ACME.account_code, operation="customer.upsert")
    assert audit and audit[-1].outcome == "ok"
    assert_next_regular_push_is_quiet(world, CUSTOMERS_PUSH)


@pytest.mark.tryton
def test_resending_every_customer_sends_each_valid_one(synced: World) -> None:
    world = synced
    result = resend(world, "customers")
    assert result.success
    valid = {c.account_code for c in demo_data.CUSTOMERS}
    meta = resend_metadata(result)
    assert meta["asked_for"] == "all" and meta["sent"] >= len(valid)
    assert all(code in meta["sent_keys"] for code in valid)
    assert world.ledger.sync_status("customers").last_success_at is not None
    assert_next_regular_push_is_quiet(world, CUSTOMERS_PUSH)


def erp_breaks(world: World, slug: str, sku: str) -> list[tuple[int, Decimal]]:
    prices = collapse_breaks(md_prices(world))
    rows = prices[(prices["price_list_code"].map(md.price_list_slug) == slug) & (prices["sku"] == sku)]
    return [(int(q), Decimal(p)) for q, p in rows[["min_quantity", "unit_price"]].itertuples(index=False, name=None)]


def md_prices(world: World):
    with world.resources()["erp"].session() as port:
        return erp_extract.extract_prices(port, world.resources()["policy"].quantity_breaks()).valid


def shop_breaks(world: World, slug: str, sku: str) -> list[tuple[int, Decimal]]:
    rows = [r for r in world.client().get_pricing(slug) if r.sku == sku]
    return list(rows[0].breaks) if rows else []


@pytest.mark.tryton
def test_a_hand_edited_price_stays_until_its_list_is_resent_by_slug(synced: World) -> None:
    world, client = synced, synced.client()
    trade, contract_list = "trade", "contract-c1001"
    trade_erp = shop_breaks(world, trade, "SKU-COLA-S")
    contract_erp = shop_breaks(world, contract_list, "SKU-COLA-L")
    assert trade_erp == erp_breaks(world, trade, "SKU-COLA-S") and contract_erp
    client.batch_update_pricing([  # finance "fixes" two prices in SparkLayer by hand
        PricingRow(sku="SKU-COLA-S", price_list_slug=trade, breaks=((1, Decimal("0.01")),)),
        PricingRow(sku="SKU-COLA-L", price_list_slug=contract_list, breaks=((1, Decimal("0.02")),)),
    ])

    writes = regular_push(world, PRICES_PUSH)
    assert not [w for w in writes if w["path"].endswith("pricing")]
    assert shop_breaks(world, trade, "SKU-COLA-S") == [(1, Decimal("0.01"))]

    result = resend(world, "prices", price_list=trade)  # by SparkLayer slug: only that list
    assert result.success
    assert shop_breaks(world, trade, "SKU-COLA-S") == trade_erp
    assert shop_breaks(world, contract_list, "SKU-COLA-L") == [(1, Decimal("0.02"))]  # another list: untouched
    meta = resend_metadata(result)
    assert meta["sent"] == len({s for s in md_prices(world).query("price_list_code == 'TRADE'")["sku"]})
    assert "TRADE / SKU-COLA-S" in meta["sent_keys"]
    assert not [k for k in meta["sent_keys"].splitlines() if "CONTRACT-C1001" in k]

    result = resend(world, "prices", price_list="CONTRACT-C1001")  # by ERP code
    assert result.success
    assert shop_breaks(world, contract_list, "SKU-COLA-L") == contract_erp
    assert_next_regular_push_is_quiet(world, PRICES_PUSH)


@pytest.mark.tryton
def test_resending_all_prices_restores_every_list(synced: World) -> None:
    world, client = synced, synced.client()
    before = shop_breaks(world, "wholesale", "SKU-COLA-S")
    assert before
    client.batch_update_pricing([PricingRow(sku="SKU-COLA-S", price_list_slug="wholesale",
                                            breaks=((1, Decimal("5")),))])
    result = resend(world, "prices")
    assert result.success
    assert shop_breaks(world, "wholesale", "SKU-COLA-S") == before
    assert resend_metadata(result)["sent"] == len(collapse_breaks(md_prices(world))
                                                  .drop_duplicates(list(md.PRICE_KEY)))
    assert_next_regular_push_is_quiet(world, PRICES_PUSH)


def shop_stock(world: World, sku: str) -> dict[str, int]:
    return {r.stock_location_external_id: r.stock_level for r in world.client().batch_fetch_stock([sku])}


@pytest.mark.tryton
def test_a_hand_edited_stock_figure_stays_until_its_sku_is_resent(synced: World) -> None:
    world, client = synced, synced.client()
    before, other = shop_stock(world, "SKU-COLA-S"), shop_stock(world, "SKU-NUTS-M")
    client.batch_update_stock([StockLevelRow(sku="SKU-COLA-S", stock_level=1, stock_location_external_id="WH"),
                               StockLevelRow(sku="SKU-NUTS-M", stock_level=2, stock_location_external_id="WH")])

    writes = regular_push(world, STOCK_PUSH)
    assert not [w for w in writes if "stock" in w["path"]]
    assert shop_stock(world, "SKU-COLA-S")["WH"] == 1

    result = resend(world, "stock", skus=["SKU-COLA-S"])
    assert result.success
    assert shop_stock(world, "SKU-COLA-S") == before
    assert shop_stock(world, "SKU-NUTS-M")["WH"] == 2  # not asked for
    meta = resend_metadata(result)
    assert meta["sent"] == len(before)  # every warehouse of that SKU
    assert set(meta["sent_keys"].replace("- ", "").splitlines()) == {f"SKU-COLA-S @ {wh}" for wh in before}

    assert resend(world, "stock").success  # everything
    assert shop_stock(world, "SKU-NUTS-M") == other
    assert_next_regular_push_is_quiet(world, STOCK_PUSH)


@pytest.mark.tryton
def test_a_hand_edited_pack_size_is_put_back_by_a_pack_size_resend(synced: World) -> None:
    world, client = synced, synced.client()
    product = next(p for p in demo_data.PRODUCTS if p.pack_size > 1)
    want = [{"customer_group": contract.BASE_GROUP, "pack_size": product.pack_size}]
    client.update_variant_settings(product.sku, [VariantSetting(customer_group=contract.BASE_GROUP, pack_size=1)])

    writes = regular_push(world, PACK_SIZES_PUSH)
    assert not [w for w in writes if product.sku in w["path"]]
    assert variants.get(world.sandbox.sandbox.db, product.sku)["settings"] != want

    result = resend(world, "pack_sizes")
    assert result.success
    assert variants.get(world.sandbox.sandbox.db, product.sku)["settings"] == want
    meta = resend_metadata(result)
    assert meta["sent"] >= len(demo_data.PRODUCTS) and product.sku in meta["sent_keys"]
    assert_next_regular_push_is_quiet(world, PACK_SIZES_PUSH)


@pytest.mark.tryton
def test_keys_the_erp_does_not_know_are_reported_and_alone_send_nothing(synced: World) -> None:
    world = synced
    since = world.last_seq()
    result = resend(world, "stock", skus=["NO-SUCH-SKU"])
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "not found in the ERP: NO-SUCH-SKU" in str(failure.step_failure_data.error)
    assert world.writes_since(since) == []

    result = resend(world, "prices", price_list="no-such-list")
    assert not result.success

    result = resend(world, "customers", account_codes=[ACME.account_code, "NO-SUCH-ACCOUNT"])
    assert result.success
    meta = resend_metadata(result)
    assert meta["sent"] == 1 and meta["not_found_in_erp"] == "NO-SUCH-ACCOUNT"
