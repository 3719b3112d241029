"""The master-data services' own rules, without servers: breaks, held keys, hashes, previews, the checks,
refusal classification, exception scoping on a real SQLite ledger, cron settings and the definitions."""

from __future__ import annotations

import dataclasses
import inspect
import subprocess
import sys
from decimal import Decimal

import dagster as dg
import pandas as pd
import pytest

from sparklayer_erp.demo import demo_data
from sparklayer_erp.domain.models import (
    Address,
    ErpOrderLine,
    ErpOrderState,
    ErpOrderStatus,
    OwnerTeam,
    PaymentMethod,
)
from sparklayer_erp.ledger import Ledger, SyncState
from sparklayer_erp.masterdata import catalog
from sparklayer_erp.masterdata import extract as erp_extract
from sparklayer_erp.masterdata import sync as flow
from sparklayer_erp.masterdata.assets import (
    EXTRACT,
    PRICES_OUTCOME,
    customer_price_lists_exist,
    customers_have_account_codes,
    extract_type,
)
from sparklayer_erp.masterdata.definitions import (
    MASTERDATA_ASSETS,
    MASTERDATA_CHECKS,
    MASTERDATA_JOBS,
    MASTERDATA_SCHEDULES,
    cron_from_env,
)
from sparklayer_erp.masterdata.gates import customers_frame, price_lists_frame, prices_frame, stock_frame
from sparklayer_erp.plumbing.failures import failures_handled
from sparklayer_erp.plumbing.pandera_types import load
from sparklayer_erp.resources import PolicyResource, build_resources
from sparklayer_erp.settings import SettingError
from sparklayer_erp.sparklayer.errors import (
    SparkLayerConflict,
    SparkLayerNotFound,
    SparkLayerRateLimited,
    SparkLayerServerError,
    SparkLayerValidationError,
)
from sparklayer_erp_tests.domain import masterdata_demo as demo
from sparklayer_erp_tests.masterdata import junk


def prices(rows: list[tuple[str, str, int, str]]) -> pd.DataFrame:
    return pd.DataFrame([{"price_list_code": c, "sku": s, "min_quantity": q, "unit_price": Decimal(p),
                          "currency": "GBP"} for c, s, q, p in rows])


@pytest.fixture
def ledger(tmp_path) -> Ledger:
    return Ledger.from_url(f"sqlite:///{tmp_path / 'ledger.sqlite'}")


# --- quantity breaks -------------------------------------------------------------------------------------------


def test_breaks_that_do_not_lower_the_price_are_dropped_whatever_the_row_order() -> None:
    frame = prices([("TRADE", "A", 480, "0.85"), ("TRADE", "A", 1, "0.90"), ("TRADE", "A", 240, "0.85"),
                    ("TRADE", "A", 120, "0.85"), ("C1", "A", 1, "0.50"), ("C1", "A", 120, "0.50"),
                    ("TRADE", "B", 1, "1.00"), ("TRADE", "B", 120, "1.00000")])
    kept = flow.collapse_breaks(frame)
    assert list(kept[["price_list_code", "sku", "min_quantity"]].itertuples(index=False, name=None)) == [
        ("C1", "A", 1), ("TRADE", "A", 1), ("TRADE", "A", 120), ("TRADE", "B", 1)]
    assert kept["unit_price"].tolist() == [Decimal("0.50"), Decimal("0.90"), Decimal("0.85"), Decimal("1.00")]


def test_default_quantity_breaks_cover_every_demo_volume_break() -> None:
    default_breaks = build_resources()["policy"].quantity_breaks()
    assert default_breaks == (1, 120, 240, 480)
    assert {lv.volume_break_units for lv in demo_data.PRICE_LEVELS} <= set(default_breaks)


def test_quantity_breaks_setting_is_checked_and_always_asks_for_one() -> None:
    assert PolicyResource(price_quantity_breaks="480, 120").quantity_breaks() == (1, 120, 480)
    with pytest.raises(SettingError, match="PRICE_QUANTITY_BREAKS"):
        PolicyResource(price_quantity_breaks="12,a case").quantity_breaks()


# --- extracts ----------------------------------------------------------------------------------------------------


def test_held_keys_name_only_rows_with_a_complete_key() -> None:
    frame = stock_frame([*demo.stock()[:2], *junk.EVERY_RULE_STOCK,
                         dataclasses.replace(junk.EVERY_RULE_STOCK[0], sku=None)])
    extract = erp_extract.gate(erp_extract.STOCK, frame)
    assert extract.quarantined_count == 2 and extract.valid_count == 2
    assert extract.held_keys() == {("JUNK-STOCK", "WH")}  # the row without a SKU names nothing
    assert extract.share == Decimal("0.5")


def test_quarantine_preview_lists_keys_and_plain_reasons() -> None:
    extract = erp_extract.gate(erp_extract.CUSTOMERS, customers_frame([*demo.customers()[:3], *junk.EVERY_RULE_CUSTOMERS]))
    preview = erp_extract.quarantine_preview(extract)
    assert preview.splitlines()[0] == "| account_code | why it was held back |"
    assert "| JUNK-NOMAIL | e-mail address is missing |" in preview
    assert "| (missing) |" in preview  # the record without an account code
    clean = erp_extract.gate(erp_extract.CUSTOMERS, customers_frame(demo.customers()[:3]))
    assert erp_extract.quarantine_preview(clean).startswith("Nothing held back")


def test_extract_dagster_type_rechecks_the_valid_rows_against_the_model() -> None:
    frame = customers_frame(demo.customers()[:3])
    good = erp_extract.Extract("customers", frame, frame.iloc[0:0])
    customers_type = extract_type(catalog.CUSTOMERS)
    assert customers_type.unique_name == "CustomersFrameExtract"
    assert dg.check_dagster_type(customers_type, good).success
    assert not dg.check_dagster_type(extract_type(catalog.STOCK), good).success  # another dataset
    assert not dg.check_dagster_type(customers_type, frame).success  # a bare frame is no extract
    broken = frame.copy()
    broken.loc[0, "currency"] = "GPB"
    assert not dg.check_dagster_type(customers_type, erp_extract.Extract("customers", broken, frame.iloc[0:0])).success


def test_input_types_check_the_class_they_name() -> None:
    frame = customers_frame(demo.customers()[:3])
    assert dg.check_dagster_type(EXTRACT, erp_extract.Extract("customers", frame, frame.iloc[0:0])).success
    assert not dg.check_dagster_type(EXTRACT, frame).success
    assert dg.check_dagster_type(PRICES_OUTCOME, flow.PricesOutcome("prices", "prices")).success
    assert not dg.check_dagster_type(PRICES_OUTCOME, flow.PushOutcome("prices", "prices")).success


@pytest.mark.parametrize("name", sorted(erp_extract.DATASETS))
def test_catalog_describes_each_dataset_as_extract_does(name: str) -> None:
    """The asset definitions read ``catalog`` (no pandas at load time); ``extract`` runs: they must agree."""
    info, dataset = catalog.DATASETS[name], erp_extract.DATASETS[name]
    assert (info.name, info.label, info.sync_name) == (dataset.name, dataset.label, dataset.sync_name)
    assert load(info.model_path) is dataset.model
    assert info.model_name == dataset.model.__name__
    assert info.model_doc == inspect.cleandoc(dataset.model.__doc__ or "")
    assert set(catalog.DATASETS) == set(erp_extract.DATASETS)


def test_loading_the_master_data_definitions_imports_no_data_library() -> None:
    """Every run worker, the order sync's too, loads these definitions: pandas and pandera wait for a step."""
    probe = ("import sys; import sparklayer_erp.masterdata.definitions; "
             "print(sorted(m for m in ('pandas', 'numpy', 'pandera', 'hypothesis') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", probe], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


# --- customers ----------------------------------------------------------------------------------------------------


def test_customer_hash_follows_what_the_erp_owns() -> None:
    c = demo.customers()[0]
    assert flow.customer_hash(c) == flow.customer_hash(dataclasses.replace(c))
    assert flow.customer_hash(c) != flow.customer_hash(dataclasses.replace(c, on_credit_hold=True))
    assert flow.customer_hash(c) != flow.customer_hash(dataclasses.replace(c, active=False))  # closed: resent
    assert flow.customer_hash(c) != flow.customer_hash(dataclasses.replace(c, open_balance=Decimal("125.41")))
    # an ERP address the shop cannot take (no street, postcode or country) changes nothing
    partial = dataclasses.replace(c, addresses=(*c.addresses, Address("Depot", "", "Leeds", "", "")))
    assert flow.customer_hash(partial) == flow.customer_hash(c)
    assert flow.shop_ready(partial).addresses == c.addresses


def test_account_code_check_fails_on_a_blank_or_shared_code() -> None:
    frame = customers_frame(demo.customers()[:3])
    assert customers_have_account_codes(erp_customers=erp_extract.Extract("customers", frame, frame.iloc[0:0])).passed
    frame.loc[1, "account_code"] = " "
    frame.loc[2, "account_code"] = frame.loc[0, "account_code"]
    result = customers_have_account_codes(erp_customers=erp_extract.Extract("customers", frame, frame.iloc[0:0]))
    assert not result.passed and result.metadata["without_or_shared_code"].value == 2


def test_price_list_check_names_each_customer_and_missing_list() -> None:
    frame = customers_frame(demo.customers()[:3])  # C1001 (contract + TRADE), C1002 WHOLESALE, C1003 ...
    customers = erp_extract.Extract("customers", frame, frame.iloc[0:0])
    everything = flow.PricesOutcome("prices", "prices", price_list_slugs=frozenset(
        {"contract-c1001", "trade", "wholesale", "distributor"}))
    assert customer_price_lists_exist(sparklayer_price_lists=everything, erp_customers=customers).passed
    assert flow.missing_price_lists(frame, {"trade", "wholesale", "distributor"}) == {"C1001": ["contract-c1001"]}
    without = flow.PricesOutcome("prices", "prices", price_list_slugs=frozenset({"trade", "distributor"}))
    result = customer_price_lists_exist(sparklayer_price_lists=without, erp_customers=customers)
    assert not result.passed
    assert result.metadata["missing"].value == {"C1001": ["contract-c1001"], "C1002": ["wholesale"]}


# --- errors ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("error", "refusal"), [
    (SparkLayerValidationError("bad", status=400), True),
    (SparkLayerNotFound("gone", status=404), True),
    (SparkLayerConflict("exists", status=409, code="resource-already-exists"), True),
    (SparkLayerConflict("busy", status=409, code="concurrent-update"), False),
    (SparkLayerRateLimited("slow down", status=429), False),
    (SparkLayerServerError("down", status=503), False),
])
def test_only_a_4xx_that_would_fail_again_is_a_refusal(error, refusal: bool) -> None:
    assert flow.is_refusal(error) is refusal


def test_a_refusal_fails_the_step_for_good_and_a_technical_failure_is_left_to_the_retry_policy(
        ledger: Ledger) -> None:
    with pytest.raises(dg.Failure) as failure, failures_handled(ledger, "customers"):
        raise SparkLayerValidationError("SparkLayer PUT /api/v2/customers -> 400: bad", status=400)
    assert failure.value.allow_retries is False
    with pytest.raises(SparkLayerServerError), failures_handled(ledger, "stock"):
        raise SparkLayerServerError("SparkLayer POST /api/v1/batch-update-stock -> 503", status=503)
    assert ledger.sync_status("customers").failing and "400" in ledger.sync_status("customers").last_error
    assert ledger.sync_status("stock").failing


# --- exceptions on a real ledger -----------------------------------------------------------------------------------


def test_price_list_and_price_exceptions_share_a_kind_but_resolve_separately(ledger: Ledger) -> None:
    bad_list = erp_extract.gate(erp_extract.PRICE_LISTS, price_lists_frame([*demo.price_lists(), *junk.EVERY_RULE_PRICE_LISTS]))
    erp_extract.record_quarantine(ledger, bad_list)
    clean_prices = erp_extract.gate(erp_extract.PRICES, prices_frame(demo.prices()[:10]))
    assert erp_extract.record_quarantine(ledger, clean_prices).resolved == 0
    (open_,) = ledger.open_exceptions("price_invalid")
    assert (open_.entity_id, open_.owner_team) == ("JUNK-LIST", OwnerTeam.FINANCE)
    erp_extract.record_quarantine(ledger, erp_extract.gate(erp_extract.PRICE_LISTS, price_lists_frame(demo.price_lists())))
    assert ledger.open_exceptions("price_invalid") == []


def test_mass_quarantine_gate_opens_and_closes_its_exception(ledger: Ledger) -> None:
    good = customers_frame(demo.customers()[:4])
    broken = erp_extract.gate(erp_extract.CUSTOMERS, customers_frame([*demo.customers()[:4], *junk.EVERY_RULE_CUSTOMERS]))
    decision = erp_extract.gate_decision(ledger, broken, Decimal("0.2"))
    assert decision.blocked and decision.description.startswith("Push stopped: 55.6%")
    (mass,) = ledger.open_exceptions("mass_quarantine")
    assert mass.owner_team == OwnerTeam.OPERATIONS and "5 of 9 customer records failed" in mass.message
    assert not erp_extract.gate_decision(ledger, erp_extract.gate(erp_extract.CUSTOMERS, good), Decimal("0.2")).blocked
    assert ledger.open_exceptions("mass_quarantine") == []


def test_pending_approval_counts_against_the_orders_own_warehouse_and_the_default_only_when_unknown(
        ledger: Ledger) -> None:
    """The ERP side is a stand-in here (the real Tryton path is in test_masterdata_sync)."""

    def status(erp_id: int, warehouse: str | None, cases: int) -> ErpOrderStatus:
        return ErpOrderStatus(erp_id, f"S{erp_id}", f"p-{erp_id}", "C1002", None, ErpOrderState.PENDING_APPROVAL,
                              False, Decimal(0), Decimal(0), Decimal(0), warehouse_code=warehouse,
                              lines=(ErpOrderLine("SKU-NUTS-M", Decimal(cases), "Case of 6", Decimal(1)),))

    class Erp:  # the two port calls pending_approval_quantities makes
        def order_status(self, ids):
            return [s for s in (status(1, "WH2", 2), status(2, None, 1), status(3, "WH", 3)) if s.erp_id in ids]

    for erp_id in (1, 2, 3):
        ledger.claim_order(f"p-{erp_id}", "C1002", PaymentMethod.ON_ACCOUNT, None,
                           sync_state=SyncState.PENDING_APPROVAL)
        ledger.update_order_link(f"p-{erp_id}", erp_order_id=erp_id)
    pending = flow.pending_approval_quantities(ledger, Erp(), "WH", items=demo.items)  # type: ignore[arg-type]
    assert pending.orders == 3
    assert pending.quantities == {("SKU-NUTS-M", "WH2"): Decimal(12), ("SKU-NUTS-M", "WH"): Decimal(24)}


# --- definitions -----------------------------------------------------------------------------------------------------


def test_cron_strings_come_from_the_environment_and_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MASTERDATA_STOCK_CRON", raising=False)
    assert cron_from_env("MASTERDATA_STOCK_CRON", "*/5 * * * *") == "*/5 * * * *"
    monkeypatch.setenv("MASTERDATA_STOCK_CRON", "*/2 * * * *")
    assert cron_from_env("MASTERDATA_STOCK_CRON", "*/5 * * * *") == "*/2 * * * *"
    monkeypatch.setenv("MASTERDATA_STOCK_CRON", "every five minutes")
    with pytest.raises(SettingError, match="MASTERDATA_STOCK_CRON"):
        cron_from_env("MASTERDATA_STOCK_CRON", "*/5 * * * *")


def test_master_data_definitions_load_with_owners_groups_jobs_and_schedules() -> None:
    defs = dg.Definitions(assets=MASTERDATA_ASSETS, asset_checks=MASTERDATA_CHECKS, jobs=MASTERDATA_JOBS,
                          schedules=MASTERDATA_SCHEDULES, resources=build_resources())
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.group_name == "master_data" and node.owners and node.description, key
    stock_job = defs.resolve_job_def("master_data_stock_job")
    assert set(stock_job.graph.node_names()) >= {"erp_stock", "sparklayer_stock"}
    assert "sparklayer_customers" not in stock_job.graph.node_names()
    schedules = {s.name: s.cron_schedule for s in MASTERDATA_SCHEDULES}
    assert schedules["master_data_stock_schedule"] == "*/5 * * * *"
    checks = {k.name for k in graph.asset_check_keys}
    assert checks == {"not_mass_quarantined", "customers_have_account_codes", "customer_price_lists_exist",
                      "credit_hold_group_blocks_credit"}
