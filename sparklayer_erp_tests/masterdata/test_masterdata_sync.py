"""Master data ERP → SparkLayer, end to end: the real Tryton demo company, the sandbox over HTTP, Dagster.

A story in order (one module-scoped world): the first full sync lands what the ERP holds; a run with
nothing changed writes nothing; changes made in the ERP arrive on the next run and nothing else is written;
credit hold and release reach the shop; a quarantined customer is released once fixed; the gates stop
pushes. Writes are counted in the sandbox's own write log. ERP changes are made on data the test owns, or
put back, because the order tests use the same Tryton.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from sparklayer_erp.demo import demo_data
from sparklayer_erp.demo.sandbox import variants
from sparklayer_erp.demo.sandbox.admin import SandboxRejected
from sparklayer_erp.domain import masterdata as md
from sparklayer_erp.domain.models import ErpOrderDraft, ErpOrderLine, ErpOrderState, OwnerTeam, PaymentMethod
from sparklayer_erp.ledger import ExceptionStatus, SyncState
from sparklayer_erp.masterdata.sync import collapse_breaks
from sparklayer_erp.sparklayer import contract
from sparklayer_erp_tests.masterdata import erp_admin
from sparklayer_erp_tests.masterdata.conftest import (
    World,
    check_results,
    executed_steps,
    make_world,
    materialized,
)
from sparklayer_erp_tests.masterdata.junk import mass_junk_count

pytestmark = pytest.mark.tryton

CUSTOMERS_ONLY = ["erp_customers", "sparklayer_customers"]
SYNC_NAMES = ("customers", "prices", "products", "stock")


@pytest.fixture(scope="module")
def admin(world: World) -> Iterator:
    rpc = erp_admin.admin(world.tryton)
    yield rpc
    for party_id in world.created_parties:
        erp_admin.remove_customer(rpc, party_id)
    rpc.close()


@pytest.fixture(scope="module")
def first_sync(world: World):
    result = world.materialize()
    assert result.success
    return result


@pytest.fixture
def own_world(tryton_server, tmp_path: Path) -> Iterator[World]:
    """A shop, ledger and instance no other test has synced to: the tests run in random order, so by the time
    a test about the first runs comes, the module's ``world`` may have seen the later chapters of the story."""
    yield from make_world(tryton_server, tmp_path)


def new_customer(world: World, admin, prefix: str, *, email: bool = True, limit: str = "750") -> tuple[int, str]:
    code = f"{prefix}{uuid.uuid4().hex[:6].upper()}"
    party = erp_admin.create_customer(admin, code, email=f"{code.lower()}@md.example" if email else None,
                                      credit_limit=Decimal(limit))
    world.created_parties.append(party)
    return party, code


def paths(writes: list[dict]) -> list[tuple[str, str]]:
    return [(w["method"], w["path"]) for w in writes]


def sync_log_writes(writes: list[dict]) -> list[dict]:
    return [w for w in writes if w["path"].startswith("/api/v1/sync-log/")]


def data_writes(writes: list[dict]) -> list[dict]:
    return [w for w in writes if not w["path"].startswith("/api/v1/sync-log/")]


# --- the first sync ------------------------------------------------------------------------------------------


def test_first_full_sync_lands_exactly_what_the_erp_holds(own_world: World) -> None:
    world = own_world
    result = world.materialize()
    assert result.success
    assert materialized(result) >= {"erp_customers", "erp_prices", "sparklayer_customers", "sparklayer_price_lists",
                                    "sparklayer_pack_sizes", "sparklayer_stock"}
    assert all(check.passed for check in check_results(result).values())
    client, ledger = world.client(), world.ledger

    # customers: accounting id, group (credit hold), price lists, payment on account; the link is recorded
    customers = result.output_for_node("erp_customers")
    held = {name: {p.entity_id for p in result.output_for_node(f"erp_{name}").problems()}
            for name in ("customers", "price_lists", "prices", "items", "stock")}
    assert {c.account_code for c in demo_data.CUSTOMERS} <= set(customers.valid["account_code"])
    for row in customers.valid.to_dict("records"):
        erp = md.customer_from_row(row)
        shop = client.get_customer("email", erp.email)
        assert shop.accounting_id == erp.account_code
        assert shop.group == (contract.CREDIT_HOLD_GROUP if md.card_only(erp) else contract.DEFAULT_GROUP)
        assert list(shop.price_lists) == md.customer_price_list_slugs(erp)
        poa = shop.payment_on_account
        assert (poa.credit_limit, poa.balance, poa.net_terms_days, poa.currency_code) == (
            erp.credit_limit if erp.active else 0, erp.open_balance, erp.payment_terms_days, erp.currency)
        link = ledger.customer_link_by_account_code(erp.account_code)
        assert link is not None and link.sparklayer_customer_id == shop.id and link.email == erp.email
    acme = client.get_customer("email", "buyer@acmeretail.example")
    assert acme.id == demo_data.customer_by_code("C1001").sparklayer_id  # updated in place, not duplicated
    assert acme.external_id == demo_data.customer_by_code("C1001").platform_id
    assert acme.role == "main" and acme.addresses  # SparkLayer-owned fields and the shop's addresses kept
    assert client.get_customer("email", "buyer@greengrocer.example").group == contract.CREDIT_HOLD_GROUP
    newcomer = client.get_customer("email", demo_data.UNLINKED_SPARKLAYER_CUSTOMER["email"])
    assert newcomer.accounting_id is None  # not in the ERP: left alone

    # price lists and every price, volume breaks in base units, breaks that lower nothing dropped
    lists = {pl.slug: pl for pl in client.list_price_lists()}
    erp_lists = result.output_for_node("erp_price_lists").valid
    for code in erp_lists["code"]:
        assert lists[md.price_list_slug(code)].source == "integration"
    expected: dict[tuple[str, str], list[tuple[int, Decimal]]] = {}
    for code, sku, qty, price in collapse_breaks(result.output_for_node("erp_prices").valid)[
            ["price_list_code", "sku", "min_quantity", "unit_price"]].itertuples(index=False, name=None):
        expected.setdefault((md.price_list_slug(code), sku), []).append((qty, price))
    shop_prices = {(row.price_list_slug, row.sku): list(row.breaks)
                   for code in erp_lists["code"] for row in client.get_pricing(md.price_list_slug(code))}
    assert shop_prices == expected
    cola = demo_data.product_by_sku("SKU-COLA-S")
    assert shop_prices[("trade", "SKU-COLA-S")] == [(1, cola.list_price * Decimal("0.90")),
                                                    (120, cola.list_price * Decimal("0.85"))]
    assert shop_prices[("contract-c1001", "SKU-COLA-L")] == [(1, Decimal("0.6650"))]

    # pack sizes: the ERP sale unit's factor on the variant, for the base group
    for product in demo_data.PRODUCTS:
        settings = variants.get(world.sandbox.sandbox.db, product.sku)["settings"]
        assert settings == [{"customer_group": contract.BASE_GROUP, "pack_size": product.pack_size}]

    # stock: on hand − reserved per warehouse, at locations keyed by the ERP warehouse code
    stock = result.output_for_node("erp_stock").valid
    want = {(s, w): int(on - res) for s, w, on, res in stock[["sku", "warehouse_code", "on_hand", "reserved"]]
            .itertuples(index=False, name=None)}
    got = {(r.sku, r.stock_location_external_id): r.stock_level
           for r in client.batch_fetch_stock(sorted({s for s, _ in want}))}
    assert got == want
    assert {loc.external_id for loc in client.list_stock_locations()} == {"WH", "WH2"}

    # each push reported to SparkLayer's sync log (errors = what the gates held back) and to the ledger; the
    # shared demo ERP holds nothing to hold back unless another test module added it
    reported = {"customers": held["customers"], "prices": held["price_lists"] | held["prices"],
                "products": held["items"], "stock": held["stock"]}
    for name in SYNC_NAMES:
        log = client.get_sync_log(name)
        assert log is not None and log.last_full_sync_succeeded and log.error_count == len(reported[name]), name
        full = world.sandbox.admin.sync_log(contract.SYNC_LOG_INTEGRATION, name)
        assert {e["external_id"] for e in full["errors"]} == reported[name]
        assert ledger.sync_status(name).last_success_at is not None
    demo_ids = {c.account_code for c in demo_data.CUSTOMERS} | {p.sku for p in demo_data.PRODUCTS}
    assert not [e for e in ledger.open_exceptions() if demo_ids & set(e.entity_id.split(" / "))]


def test_a_second_run_with_nothing_changed_makes_zero_write_requests(own_world: World) -> None:
    world = own_world
    assert world.materialize().success  # the first run
    since = world.last_seq()
    result = world.materialize()
    assert result.success
    assert world.writes_since(since) == []
    pushes = {e.asset_key.to_user_string(): e.materialization.metadata for e in
              result.get_asset_materialization_events() if e.asset_key.to_user_string().startswith("sparklayer_")}
    assert {name: meta["write_requests"].value for name, meta in pushes.items()} == {
        "sparklayer_customers": 0, "sparklayer_price_lists": 0, "sparklayer_pack_sizes": 0, "sparklayer_stock": 0}


# --- ERP changes arrive, and nothing else ---------------------------------------------------------------------


def test_erp_changes_arrive_on_the_next_run_and_nothing_else_is_written(world: World, first_sync, admin) -> None:
    port, ledger = world.port(), world.ledger
    before = {(r.sku, r.stock_location_external_id): r.stock_level
              for r in world.client().batch_fetch_stock(["SKU-COLA-S", "SKU-NUTS-M"])}
    purchase_id = f"md-pending-{uuid.uuid4().hex[:8]}"
    old_price = erp_admin.set_contract_price(admin, "CONTRACT-C1001", "SKU-COLA-L", Decimal("0.6123"))
    old_pack = erp_admin.set_sale_unit(admin, "SKU-FLAP-L", 24)
    erp_order = None
    try:
        party, code = new_customer(world, admin, "MDN")
        erp_admin.move_stock(admin, "SKU-COLA-S", "WH", +7)
        # a pay-on-account order waiting for approval: 2 cases of 6 are promised, not yet reserved in the ERP
        price = port.customer_price("C1002", "SKU-NUTS-M", Decimal(2), "Case of 6")
        (created,) = port.create_orders([ErpOrderDraft(
            purchase_id=purchase_id, account_code="C1002", po_number=None, payment_method=PaymentMethod.ON_ACCOUNT,
            lines=(ErpOrderLine("SKU-NUTS-M", Decimal(2), "Case of 6", price),), commit=False)])
        erp_order = created.order
        assert erp_order is not None, created.refusal
        ledger.claim_order(purchase_id, "C1002", PaymentMethod.ON_ACCOUNT, None,
                           sync_state=SyncState.PENDING_APPROVAL)
        ledger.update_order_link(purchase_id, erp_order_id=erp_order.erp_id, erp_order_number=erp_order.number)

        since = world.last_seq()
        result = world.materialize()
        assert result.success
        writes = world.writes_since(since)
        email = f"{code.lower()}@md.example"
        assert sorted(paths(writes)) == sorted([
            ("PATCH", "/api/v1/batch-update-pricing"),
            ("PUT", f"/api/v2/customers/email/{email}"),
            ("PATCH", "/api/v1/variants/SKU-FLAP-L"),
            ("POST", "/api/v1/batch-update-stock"),
        ])
        by_path = {w["path"]: w for w in writes}
        assert by_path["/api/v1/batch-update-pricing"]["body"] == [
            {"sku": "SKU-COLA-L", "price_list_slug": "contract-c1001", "pricing": [{"quantity": 1, "price": 0.6123}]}]
        customer = by_path[f"/api/v2/customers/email/{email}"]
        assert customer["status"] == 201  # created: the shop did not know this ERP customer
        assert customer["body"]["accounting_id"] == code and customer["body"]["group"] == contract.DEFAULT_GROUP
        assert customer["body"]["price_lists"] == ["trade"]
        assert customer["body"]["payment_on_account"]["credit_limit"] == 750
        assert by_path["/api/v1/variants/SKU-FLAP-L"]["body"] == {
            "settings": [{"customer_group": "base", "pack_size": 24}]}
        assert by_path["/api/v1/batch-update-stock"]["body"] == [
            {"sku": "SKU-COLA-S", "stock_location_external_id": "WH", "stock_level": before[("SKU-COLA-S", "WH")] + 7},
            {"sku": "SKU-NUTS-M", "stock_location_external_id": "WH",
             "stock_level": before[("SKU-NUTS-M", "WH")] - 12},  # 2 cases of 6 pending approval
        ]
        link = ledger.customer_link_by_account_code(code)
        assert link is not None and link.sparklayer_customer_id == world.client().get_customer("email", email).id
    finally:
        erp_admin.set_contract_price(admin, "CONTRACT-C1001", "SKU-COLA-L", old_price)
        erp_admin.set_sale_unit(admin, "SKU-FLAP-L", old_pack)
        erp_admin.move_stock(admin, "SKU-COLA-S", "WH", -7)
        if erp_order is not None:
            erp_admin.delete_sale(admin, erp_order.erp_id)
            ledger.update_order_link(purchase_id, sync_state=SyncState.CANCELLED)
        port.close()


STOCK_ONLY = ["erp_stock", "sparklayer_stock"]


def shop_stock(world: World, sku: str) -> dict[tuple[str, str], int]:
    return {(r.sku, r.stock_location_external_id): r.stock_level for r in world.client().batch_fetch_stock([sku])}


def test_an_order_waiting_for_approval_holds_stock_in_the_warehouse_it_ships_from(world: World, first_sync,
                                                                                  admin) -> None:
    """Someone in the ERP moves a pending quotation to the North warehouse: WH2's figure drops, WH's not."""
    port, ledger, sku = world.port(), world.ledger, "SKU-NUTS-M"
    purchase_id = f"md-wh2-{uuid.uuid4().hex[:8]}"
    erp_order = None
    try:
        assert world.materialize(STOCK_ONLY).success  # settle what earlier tests left in the shop
        before = shop_stock(world, sku)
        price = port.customer_price("C1002", sku, Decimal(2), "Case of 6")
        (created,) = port.create_orders([ErpOrderDraft(
            purchase_id=purchase_id, account_code="C1002", po_number=None, payment_method=PaymentMethod.ON_ACCOUNT,
            lines=(ErpOrderLine(sku, Decimal(2), "Case of 6", price),), commit=False)])
        erp_order = created.order
        assert erp_order is not None, created.refusal
        erp_admin.ship_quotation_from(admin, erp_order.erp_id, "WH2")
        (status,) = port.order_status([erp_order.erp_id])
        assert (status.state, status.warehouse_code) == (ErpOrderState.PENDING_APPROVAL, "WH2")
        ledger.claim_order(purchase_id, "C1002", PaymentMethod.ON_ACCOUNT, None,
                           sync_state=SyncState.PENDING_APPROVAL)
        ledger.update_order_link(purchase_id, erp_order_id=erp_order.erp_id, erp_order_number=erp_order.number)

        since = world.last_seq()
        assert world.materialize(STOCK_ONLY).success
        (write,) = data_writes(world.writes_since(since))
        assert write["path"] == "/api/v1/batch-update-stock"
        assert write["body"] == [  # 2 cases of 6 held in WH2; WH untouched
            {"sku": sku, "stock_location_external_id": "WH2", "stock_level": before[(sku, "WH2")] - 12}]
    finally:
        if erp_order is not None:
            erp_admin.delete_sale(admin, erp_order.erp_id)
            ledger.update_order_link(purchase_id, sync_state=SyncState.CANCELLED)
        port.close()
    assert world.materialize(STOCK_ONLY).success  # the order is gone: WH2 gets its units back
    assert shop_stock(world, sku) == before


def test_credit_hold_and_its_release_reach_the_shop_on_the_next_run(world: World, first_sync, admin) -> None:
    party, code = new_customer(world, admin, "MDH", limit="900")
    email = f"{code.lower()}@md.example"
    assert world.materialize(CUSTOMERS_ONLY).success
    shop_id = world.ledger.customer_link_by_account_code(code).sparklayer_customer_id
    buyer = world.sandbox.admin

    erp_admin.set_credit_hold(admin, party, True, Decimal("900"))
    since = world.last_seq()
    assert world.materialize(CUSTOMERS_ONLY).success
    (write,) = world.writes_since(since)
    assert (write["method"], write["path"]) == ("PUT", f"/api/v2/customers/sparklayer/{shop_id}")
    assert write["body"]["group"] == contract.CREDIT_HOLD_GROUP
    assert write["body"]["payment_on_account"]["credit_limit"] == 0
    for method in (PaymentMethod.ON_ACCOUNT, PaymentMethod.INVOICE):
        with pytest.raises(SandboxRejected) as refused:
            buyer.place_order(email, [("SKU-COLA-S", 1)], method)
        assert "payment-method-not-allowed" in refused.value.codes
    buyer.place_order(email, [("SKU-COLA-S", 1)], PaymentMethod.UPFRONT)  # card still works

    erp_admin.set_credit_hold(admin, party, False, Decimal("900"))
    since = world.last_seq()
    assert world.materialize(CUSTOMERS_ONLY).success
    (write,) = world.writes_since(since)
    assert write["body"]["group"] == contract.DEFAULT_GROUP
    assert write["body"]["payment_on_account"]["credit_limit"] == 900
    order = buyer.place_order(email, [("SKU-COLA-S", 1)], PaymentMethod.ON_ACCOUNT)
    assert order["payment_method"] == PaymentMethod.ON_ACCOUNT


def test_a_customer_closed_in_the_erp_cannot_buy_on_credit_until_reopened(world: World, first_sync,
                                                                          admin) -> None:
    party, code = new_customer(world, admin, "MDC", limit="800")
    email = f"{code.lower()}@md.example"
    assert world.materialize(CUSTOMERS_ONLY).success
    shop_id = world.ledger.customer_link_by_account_code(code).sparklayer_customer_id
    buyer = world.sandbox.admin

    erp_admin.set_active(admin, party, False)  # finance closes the account
    try:
        since = world.last_seq()
        assert world.materialize(CUSTOMERS_ONLY).success
        (write,) = data_writes(world.writes_since(since))
        assert (write["method"], write["path"]) == ("PUT", f"/api/v2/customers/sparklayer/{shop_id}")
        shop = world.client().get_customer("sparklayer", shop_id)
        assert shop.group == contract.CREDIT_HOLD_GROUP and shop.payment_on_account.credit_limit == 0
        assert shop.accounting_id == code  # still linked: its orders still find the ERP account
        with pytest.raises(SandboxRejected) as refused:
            buyer.place_order(email, [("SKU-COLA-S", 1)], PaymentMethod.ON_ACCOUNT)
        assert "payment-method-not-allowed" in refused.value.codes
    finally:
        erp_admin.set_active(admin, party, True)  # reopened
        result = world.materialize(CUSTOMERS_ONLY)  # even after a failure: later tests expect a settled shop

    assert result.success
    shop = world.client().get_customer("sparklayer", shop_id)
    assert shop.group == contract.DEFAULT_GROUP and shop.payment_on_account.credit_limit == 800


# --- quarantine --------------------------------------------------------------------------------------------------


def test_quarantined_customer_is_released_and_its_exception_resolved_once_fixed(world: World, first_sync,
                                                                                admin) -> None:
    party, code = new_customer(world, admin, "MDQ", email=False)
    ledger, since = world.ledger, world.last_seq()
    result = world.materialize(CUSTOMERS_ONLY)
    assert result.success
    (open_,) = [e for e in ledger.open_exceptions("customer_invalid") if e.entity_id == code]
    assert open_.owner_team == OwnerTeam.SALES_OPERATIONS and "e-mail address is missing" in open_.message
    assert data_writes(world.writes_since(since)) == []  # held back: nothing sent about it
    (report,) = sync_log_writes(world.writes_since(since))
    assert [e["external_id"] for e in report["body"]["errors"]] == [code]

    email = f"{code.lower()}@md.example"
    erp_admin.add_email(admin, party, email)
    since = world.last_seq()
    assert world.materialize(CUSTOMERS_ONLY).success
    writes = world.writes_since(since)
    assert paths(data_writes(writes)) == [("PUT", f"/api/v2/customers/email/{email}")]
    assert sync_log_writes(writes)[0]["body"]["errors"] == []
    assert ledger.get_exception(open_.id).status == ExceptionStatus.RESOLVED
    assert world.client().get_customer("email", email).accounting_id == code


def test_mass_quarantine_blocks_the_push_and_clears_once_the_extract_is_sound(world: World, first_sync) -> None:
    ledger, since = world.ledger, world.last_seq()
    result = world.materialize(CUSTOMERS_ONLY, scenario="mass")  # a third lost their e-mail at once
    assert not result.success
    assert materialized(result) == {"erp_customers"}
    assert not check_results(result)["erp_customers:not_mass_quarantined"].passed
    assert "sparklayer_customers" not in executed_steps(result)
    (report,) = world.writes_since(since)  # no customer write; only the failed sync reported
    assert report["path"] == "/api/v1/sync-log/sparklayer-erp/customers"
    assert report["body"]["last_full_sync_succeeded"] is False
    assert "dataset:customers" in {e["external_id"] for e in report["body"]["errors"]}
    (mass,) = ledger.open_exceptions("mass_quarantine")
    assert mass.owner_team == OwnerTeam.OPERATIONS and mass.entity_id == "customers"
    junk = [e for e in ledger.open_exceptions("customer_invalid") if e.entity_id.startswith("JUNK-MASS-")]
    extract = result.output_for_node("erp_customers")
    assert len(junk) == extract.quarantined_count == mass_junk_count(extract.valid_count) > 0
    assert {e.owner_team for e in junk} == {OwnerTeam.SALES_OPERATIONS}

    since = world.last_seq()
    assert world.materialize(CUSTOMERS_ONLY).success  # the ERP extract is sound again
    assert paths(world.writes_since(since)) == [("PUT", "/api/v1/sync-log/sparklayer-erp/customers")]
    assert ledger.get_exception(mass.id).status == ExceptionStatus.RESOLVED
    assert all(ledger.get_exception(e.id).status == ExceptionStatus.RESOLVED for e in junk)


def test_customer_pointing_at_a_missing_price_list_blocks_the_customer_push(world: World, first_sync) -> None:
    since = world.last_seq()
    result = world.materialize(["erp_customers", "sparklayer_price_lists", "sparklayer_customers"],
                               scenario="ghost_list")
    assert not result.success
    check = check_results(result)["sparklayer_price_lists:customer_price_lists_exist"]
    assert not check.passed and check.metadata["missing"].value == {"JUNK-GHOST": ["ghost"]}
    assert "sparklayer_customers" not in executed_steps(result)
    assert world.writes_since(since) == []
