"""What the integration writes and reads, through the client, against the sandbox."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

import pytest

from sparklayer_erp.demo import demo_data
from sparklayer_erp.demo.sandbox.admin import SandboxRejected
from sparklayer_erp.demo.sandbox.server import SandboxHandle
from sparklayer_erp.sparklayer import contract
from sparklayer_erp.sparklayer.client import SparkLayerClient
from sparklayer_erp.sparklayer.errors import SparkLayerValidationError
from sparklayer_erp.sparklayer.models import (
    AccountingFile,
    Customer,
    PaymentOnAccount,
    PriceList,
    PriceListRule,
    PricingRow,
    Shipment,
    StockLevelRow,
    SyncLogEntry,
    SyncLogError,
    Transaction,
    VariantSetting,
)

from .conftest import MakeClient

D = Decimal


def _requests(client: SparkLayerClient) -> int:
    return client.stats.requests - client.stats.token_fetches


def test_batched_pricing_push_is_exact_and_logs_progress(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(progress_every=2)
    for slug in ("trade", "wholesale"):
        client.create_price_list(PriceList(slug, slug.title(), "GBP"))
    rows = [
        PricingRow(f"SKU-{i:04d}", slug, ((1, D("1.10") + D(i) / 100), (12, D("0.995"))))
        for slug in ("trade", "wholesale")
        for i in range(600)
    ]
    before = _requests(client)
    with caplog.at_level(logging.INFO, logger="sparklayer_erp.sparklayer"):
        report = client.batch_update_pricing(rows, batch_size=250)
    assert (report.rows, report.batches) == (1200, 5)
    assert _requests(client) - before == 5
    progress = [r.getMessage() for r in caplog.records if "rows/s" in r.getMessage()]
    assert progress[0].startswith("pricing: 500/1200 rows in 2 batches")
    assert progress[-1].startswith("pricing: 1200/1200 rows in 5 batches")

    stored = {r.sku: r for r in client.get_pricing("wholesale")}
    assert len(stored) == 600
    assert stored["SKU-0599"].breaks == ((1, D("7.09")), (12, D("0.995")))  # no float on the way


def test_patch_pricing_replaces_per_sku_and_empty_breaks_remove(client: SparkLayerClient) -> None:
    client.create_price_list(PriceList("trade", "Trade", "GBP"))
    client.patch_pricing("trade", [
        PricingRow("A", "trade", ((1, D("2.00")), (10, D("1.80")))),
        PricingRow("B", "trade", ((1, D("3.00")),)),
    ])
    client.patch_pricing("trade", [PricingRow("A", "trade", ((1, D("2.10")),)), PricingRow("B", "trade", ())])
    assert client.get_pricing("trade") == [PricingRow("A", "trade", ((1, D("2.10")),))]
    with pytest.raises(ValueError):
        client.patch_pricing("trade", [PricingRow("A", "other", ((1, D("1")),))])
    with pytest.raises(ValueError):  # a repeat would be a 400 in one batch, silently last-wins across two
        twice = [PricingRow("A", "trade", ()), PricingRow("A", "trade", ())]
        client.patch_pricing("trade", twice, batch_size=1)


def test_sku_with_slash_is_url_encoded(client: SparkLayerClient) -> None:
    client.create_price_list(PriceList("trade", "Trade", "GBP"))
    client.patch_pricing("trade", [PricingRow("BOX/12", "trade", ((1, D("9.99")),))])
    assert client.get_sku_pricing("BOX/12") == [PricingRow("BOX/12", "trade", ((1, D("9.99")),))]
    assert client.get_pricing("missing-list") == []  # 404 -> empty (contract 9)


def test_price_list_create_get_update(client: SparkLayerClient) -> None:
    client.create_price_list(PriceList("trade", "Trade", "GBP"))
    made = client.create_price_list(PriceList("retail", "Retail", "GBP"))
    assert made.source == "integration"
    updated = client.update_price_list(
        "retail", name="Retail RRP", rules=[PriceListRule("trade", D("0.25"), "plus")]
    )
    assert updated.name == "Retail RRP" and updated.rules[0].adjustment_percentage == D("0.25")
    assert client.get_price_list("retail") == updated
    assert {p.slug for p in client.list_price_lists()} == {"trade", "retail"}


def test_stock_push_and_fetch(client: SparkLayerClient) -> None:
    for code, name in demo_data.WAREHOUSES:
        client.create_stock_location(name, code)
    assert client.get_stock_location("WH2").name == "North warehouse"
    rows = [StockLevelRow(f"S{i}", i, loc) for loc in ("WH", "WH2") for i in range(7)]
    report = client.batch_update_stock(rows, batch_size=5)
    assert report.batches == 3
    client.batch_update_stock([StockLevelRow("S3", 99, "WH", restock_date=dt.date(2025, 6, 1))])
    fetched = client.batch_fetch_stock(["S3", "S4"], batch_size=1)
    assert [(r.sku, r.stock_location_external_id, r.stock_level) for r in fetched] == [
        ("S3", "WH", 99), ("S3", "WH2", 3), ("S4", "WH", 4), ("S4", "WH2", 4),
    ]
    assert fetched[0].restock_date == dt.date(2025, 6, 1)
    with pytest.raises(SparkLayerValidationError):
        client.batch_update_stock([StockLevelRow("S1", 1, "NOWHERE")])


def test_customer_upsert_is_a_full_replace(client: SparkLayerClient) -> None:
    demo = demo_data.CUSTOMERS[0]
    current = client.get_customer("platform", demo.platform_id)
    assert current.id == demo.sparklayer_id and current.addresses
    first = client.upsert_customer("platform", demo.platform_id, Customer(
        external_id=demo.platform_id, email=current.email, company_name=current.company_name, group="trade",
        accounting_id=demo.account_code, price_lists=("trade",),
        payment_on_account=PaymentOnAccount(D("5000.00"), D("1234.56"), None, "GBP", 30),
        addresses=current.addresses,
    ))
    assert first.created is False
    got = client.get_customer("platform", demo.platform_id)
    assert got.accounting_id == demo.account_code
    assert got.payment_on_account is not None and got.payment_on_account.credit_limit == D("5000.00")
    # omit accounting_id and addresses: SparkLayer clears them (which is why callers send everything)
    bare = Customer(external_id=demo.platform_id, email=got.email)
    client.upsert_customer("platform", demo.platform_id, bare)
    cleared = client.get_customer("platform", demo.platform_id)
    assert cleared.accounting_id is None and cleared.addresses == () and cleared.payment_on_account is None
    created = client.upsert_customer("email", "new@buyer.example", Customer(email="new@buyer.example"))
    assert created.created is True and created.customer.id


def test_groups_and_settings(client: SparkLayerClient) -> None:
    groups = client.create_customer_group("wholesale", "Wholesale", parent_slug=contract.DEFAULT_GROUP)
    assert {"base", "trade", "credit-hold", "wholesale"} <= {g.slug for g in groups}
    hold = client.get_group_settings(contract.CREDIT_HOLD_GROUP)
    assert "on_account" not in hold.payment_methods
    assert "on_account" in client.get_group_settings(contract.DEFAULT_GROUP).payment_methods


def test_variant_settings(client: SparkLayerClient, sandbox: SandboxHandle) -> None:
    client.update_variant_settings("SKU-COLA-L", [VariantSetting("base", pack_size=12)])
    with pytest.raises(SandboxRejected) as refused:  # the storefront now enforces the pack size
        sandbox.admin.place_order(demo_data.CUSTOMERS[0].sparklayer_id, [("SKU-COLA-L", 5)], "invoice",
                                  unit_price_overrides={"SKU-COLA-L": "1"})
    assert refused.value.codes == ["pack-size"]
    with pytest.raises(SparkLayerValidationError):
        client.update_variant_settings("SKU-COLA-L", [VariantSetting("no-such-group", pack_size=12)])


def _order(sandbox: SandboxHandle) -> str:
    order = sandbox.admin.place_order(
        demo_data.CUSTOMERS[0].sparklayer_id, [("SKU-COLA-S", 24), ("SKU-OJ-S", 2)], "invoice",
        po_number="PO-77", unit_price_overrides={"SKU-COLA-S": "0.80", "SKU-OJ-S": "1.95"},
    )
    return order["purchase_identifiers"]["sparklayer"]


def test_purchase_full_replace_through_with_changes(client: SparkLayerClient, sandbox: SandboxHandle) -> None:
    purchase_id = _order(sandbox)
    purchase = client.get_purchase("sparklayer", purchase_id)
    assert purchase.customer_reference == "PO-77"
    assert (purchase.total, purchase.lines_net) == (D("27.72"), D("23.10"))  # gross incl. 20 % VAT, net
    assert [(line.sku, line.quantity, line.unit_net) for line in purchase.lines] == [
        ("SKU-COLA-S", 24, D("0.80")), ("SKU-OJ-S", 2, D("1.95")),
    ]

    shipped = dict(purchase.raw["packages"][0], type="shipment",
                   shipments=[Shipment("DPD", tracking_number="TRK1").to_api()])
    body = purchase.with_changes(
        status="shipped",
        purchase_identifiers={**purchase.identifiers, "internal": "SO-1001"},
        packages=[shipped],
        accounting_files=[AccountingFile("INV-1", "https://erp.example/inv/1.pdf").to_api()],
    )
    saved = client.put_purchase("sparklayer", purchase_id, body)
    assert saved is not None and saved.raw["calculated_fulfilment_status"] == "shipped"
    again = client.get_purchase("internal", "SO-1001")
    assert again.customer_reference == "PO-77"  # kept, because with_changes started from the GET answer
    assert again.packages[0].shipments[0].tracking_number == "TRK1"

    # the same change built without the GET answer would wipe the PO number: the API is full replace
    bare = {k: v for k, v in body.items() if k != "customer_reference"}
    client.put_purchase("internal", "SO-1001", bare)
    assert client.get_purchase("internal", "SO-1001").customer_reference is None

    with pytest.raises(ValueError, match="full replace"):
        client.put_purchase("internal", "SO-1001", {"status": "complete"})


def test_history_and_transactions(client: SparkLayerClient, sandbox: SandboxHandle) -> None:
    purchase_id = _order(sandbox)
    before = client.get_purchase("sparklayer", purchase_id).last_updated_at
    client.add_purchase_history("sparklayer", purchase_id, "Sales order SO-1 created")
    tx = Transaction("pay-1", "payment", D("27.72"), "GBP", True, full_transaction={"ref": "BACS"})
    client.put_transaction("sparklayer", purchase_id, tx)
    client.put_transaction("sparklayer", purchase_id, tx)  # upsert by platform_id: still one
    (stored,) = client.get_transactions("sparklayer", purchase_id)
    assert (stored.platform_id, stored.total, stored.currency, stored.apply_to_balance) == (
        "pay-1", D("27.72"), "GBP", True,
    )
    after = client.get_purchase("sparklayer", purchase_id)
    assert after.total_paid == D("27.72")
    assert after.last_updated_at is not None and before is not None and after.last_updated_at > before


def test_sync_log(client: SparkLayerClient) -> None:
    assert client.get_sync_log("prices") is None  # 404 until the first full sync
    started = dt.datetime(2025, 1, 5, 9, 0, tzinfo=dt.UTC)
    client.put_sync_log("prices", SyncLogEntry(
        started, started + dt.timedelta(minutes=2), False,
        (SyncLogError("SKU-X", "unknown SKU", visible_id="SKU-X"),),
    ))
    got = client.get_sync_log("prices")
    assert got is not None
    assert (got.last_full_sync, got.last_full_sync_succeeded, got.error_count) == (
        started + dt.timedelta(minutes=2), False, 1,
    )


def test_sessions_of_the_resource_share_one_token_per_process(fresh_shop: SandboxHandle) -> None:
    """Each ``session()`` is a new client (as each sensor tick is); the token is fetched once for them all."""
    from sparklayer_erp.resources import SparkLayerResource
    from sparklayer_erp.sparklayer.client import TokenCache

    TokenCache.clear_all()
    resource = SparkLayerResource(base_url=fresh_shop.base_url, site_id="demo-site", client_id="demo-client",
                                  client_secret="demo-secret")
    before = fresh_shop.admin.tokens_issued()
    fetched = []
    for _ in range(5):
        with resource.session() as client:
            client.get_sync_log("orders")
            fetched.append(client.stats.token_fetches)
    assert fresh_shop.admin.tokens_issued() - before == 1 and fetched == [1, 0, 0, 0, 0]
    TokenCache.clear_all()
