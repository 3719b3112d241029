"""Month-end reconciliation end to end: a month of real orders in the sandbox shop and the real Tryton, one
per reconciliation class, reconciled through the monthly-partitioned asset; the blocking check fails naming
what blocks the close and who must act, then passes once each owner fixed their part; each run writes a new
version of the pack, the close records the version it used and a re-run gives the same answer in a new version
without replacing it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from openpyxl import load_workbook

from sparklayer_erp.demo import demo_data
from sparklayer_erp.domain.models import ErpOrderDraft, ErpOrderLine, PaymentMethod
from sparklayer_erp.domain.reconciliation import ReconResult
from sparklayer_erp.erp.tryton.rpc import TrytonUserWarning
from sparklayer_erp.ledger import Ledger
from sparklayer_erp.month_end.assets import month_end_reconciliation, month_is_close_ready
from sparklayer_erp.month_end.close import Month
from sparklayer_erp.month_end.definitions import previous_month_key
from sparklayer_erp.month_end.export import CSV_FILES
from sparklayer_erp.orders.followup import OrderFollowup
from sparklayer_erp.orders.sync import OrderSync
from sparklayer_erp_tests.erp import warehouse
from sparklayer_erp_tests.monitoring.conftest import resources_for

pytestmark = pytest.mark.filterwarnings("ignore::dagster.PreviewWarning")

COLA = [("SKU-COLA-L", 24)]
KEY = dg.AssetKey("month_end_reconciliation")


def _sync(ledger, erp, client, *pids: str) -> None:
    """The order sync as production runs it: orders into the ERP; card invoices are left to the follow-up."""
    purchases = [client.get_purchase("sparklayer", p) for p in pids]
    OrderSync(ledger, erp).run(purchases)


def _erp_id(ledger, pid: str) -> int:
    return ledger.get_order_link(pid).erp_order_id


def _reconcile(resources: dict, partition: str) -> tuple[ReconResult, dg.AssetCheckEvaluation, dict]:
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize([month_end_reconciliation, month_is_close_ready], partition_key=partition,
                                resources=resources, instance=instance, raise_on_error=False)
        (evaluation,) = result.get_asset_check_evaluations()
        (materialization,) = result.get_asset_materialization_events()
        value = result.asset_value(KEY)
    return value, evaluation, materialization.materialization.metadata


def _classes(result: ReconResult) -> dict[str, str]:
    return dict(zip(result.orders["purchase_id"], result.orders["recon_class"], strict=True))


@pytest.fixture(scope="module")
def month(shop, ledger, erp, client, wh, admin, sandbox) -> dict:
    """This month's orders, one situation each, made the way they happen (see each comment)."""
    today = dt.datetime.now(dt.UTC).date()
    if today.timetuple().tm_yday == 1:
        pytest.skip("an overdue invoice needs a day of this fiscal year behind it")
    buyer = shop.demo("C1006")  # Net 30, no credit limit
    prompt = shop.demo("C1012")  # switched to "Upon Receipt" terms: its invoices are due on the invoice date
    term = admin.model("account.invoice.payment_term", "search", [("name", "=", "Upon Receipt")], 0, 1, None)
    party = admin.model("party.party", "search", [("code", "=", "C1012")], 0, 1, None)
    admin.model("party.party", "write", party, {"customer_payment_term": term[0]})
    warehouse.create_customer(admin, "C9001", name="Newcomer Ltd", price_list="TRADE")
    newcomer = demo_data.UNLINKED_SPARKLAYER_CUSTOMER["id"]

    o = {name: shop.place(buyer, COLA, "invoice") for name in (
        "settled", "within_terms", "not_invoiced", "amount_mismatch", "cancelled_in_sl_only",
        "cancelled_in_erp_only", "cancelled_in_both", "cancelled_before_erp")}
    o["overdue"] = shop.place(prompt, COLA, "invoice")
    o["pending"] = shop.place(buyer, COLA, "on_account")
    o["paid_in_shop"] = shop.place(buyer, COLA, "platform_upfront")
    o["missing"] = sandbox.admin.place_order(newcomer, COLA, "platform_upfront", unit_price_overrides={
        "SKU-COLA-L": shop.erp_unit_price("C9001", "SKU-COLA-L", 24)})["purchase_identifiers"]["sparklayer"]
    sandbox.admin.cancel_order(o["cancelled_before_erp"])  # the buyer changed their mind at once
    _sync(ledger, erp, client, *(p for k, p in o.items() if k != "paid_in_shop"))
    _sync(ledger, erp, client, o["paid_in_shop"])  # no follow-up yet: its card payment is not recorded

    # finance: an invoice dated yesterday on "Upon Receipt" terms (posted first: invoice numbers follow dates)
    overdue_invoices = warehouse.invoice_ids(wh, _erp_id(ledger, o["overdue"]))
    admin.model("account.invoice", "write", overdue_invoices, {"invoice_date": today - dt.timedelta(days=1)})
    try:
        wh.model("account.invoice", "post", overdue_invoices)
    except TrytonUserWarning as warning:  # "payment date in the past": the clerk confirms, as in the client
        wh.model("res.user.warning", "skip", warning.name, False)
        wh.model("account.invoice", "post", overdue_invoices)
    for name in ("settled", "within_terms", "paid_in_shop"):  # the card invoice: before the payment was recorded
        warehouse.post_invoices(wh, _erp_id(ledger, o[name]))
    warehouse.pay_by_bank(wh, _erp_id(ledger, o["settled"]))
    # the warehouse allocates; afterwards the buyer changes one order and cancels another
    warehouse.assign_shipments(wh, _erp_id(ledger, o["amount_mismatch"]))
    warehouse.assign_shipments(wh, _erp_id(ledger, o["cancelled_in_sl_only"]))
    sandbox.admin.amend_order(o["amount_mismatch"], [("SKU-COLA-L", 36)], unit_price_overrides={
        "SKU-COLA-L": shop.erp_unit_price("C1006", "SKU-COLA-L", 24)})
    sandbox.admin.cancel_order(o["cancelled_in_sl_only"])
    sandbox.admin.cancel_order(o["cancelled_in_both"])
    _sync(ledger, erp, client, o["amount_mismatch"], o["cancelled_in_sl_only"], o["cancelled_in_both"])
    assert erp.cancel_order(_erp_id(ledger, o["cancelled_in_erp_only"])).ok  # cancelled in the ERP by hand
    # an ERP order keyed by hand with a SparkLayer reference that does not exist
    (ghost,) = erp.create_orders([ErpOrderDraft(
        purchase_id=str(uuid.uuid4()), account_code="C1006", po_number="PO-BY-HAND",
        payment_method=PaymentMethod.INVOICE, commit=True,
        lines=(ErpOrderLine("SKU-WATER-L", Decimal(1), "Case of 12", Decimal("5.00")),))])
    # the partition of an order is the month of its placed time in company time (COMPANY_TIMEZONE)
    placed = {Month.containing(client.get_purchase("sparklayer", p).placed_at).start for p in o.values()}
    if len(placed) != 1:
        pytest.skip("the orders straddle a month end; run again")
    return {"orders": o, "ghost": ghost.order, "partition": placed.pop().isoformat(), "newcomer": newcomer}


EXPECTED_FIRST = {
    "settled": "settled", "within_terms": "invoiced_open_within_terms", "overdue": "overdue",
    "pending": "pending_approval", "not_invoiced": "committed_not_invoiced", "missing": "missing_in_erp",
    "amount_mismatch": "amount_mismatch", "paid_in_shop": "paid_in_shop_unpaid_in_erp",
    "cancelled_in_sl_only": "cancelled_in_sparklayer_only", "cancelled_in_erp_only": "cancelled_in_erp_only",
    "cancelled_in_both": "cancelled_in_both", "cancelled_before_erp": "cancelled_before_erp",
}


def test_the_month_is_blocked_until_each_owner_fixed_their_part(month, ledger, erp, client, wh, sandbox, shop,
                                                                  erp_server, ledger_url, tmp_path):
    o, partition = month["orders"], month["partition"]
    data_dir = tmp_path / "data"
    resources = resources_for(ledger_url, sandbox, erp_server, data_dir)

    result, check, meta = _reconcile(resources, partition)

    classes = _classes(result)
    assert {name: classes[pid] for name, pid in o.items()} == EXPECTED_FIRST
    unknown = result.erp_orders_claiming_unknown_purchase
    assert list(unknown["number"]) == [month["ghost"].number]
    assert not check.passed and check.blocking
    blockers = {b["class"]: b for b in check.metadata["blockers"].value}
    assert set(blockers) == {"missing_in_erp", "amount_mismatch", "paid_in_shop_unpaid_in_erp",
                             "cancelled_in_sparklayer_only", "cancelled_in_erp_only",
                             "erp_order_claiming_unknown_purchase"}
    assert blockers["paid_in_shop_unpaid_in_erp"]["who_must_act"] == "finance"
    assert blockers["missing_in_erp"]["who_must_act"] == "operations"
    assert check.metadata["who_must_act"].value == "operations, finance"
    assert check.metadata["blocking_orders"].value == 6
    assert "Record the shop payment against the invoice" in check.metadata["what_blocks_the_close"].value
    # money: each total is the sum of its orders, to the cent; SparkLayer - ERP = difference
    billable = sum(result.orders["sl_billable"], Decimal("0.00"))
    assert result.totals["sl_total"] == billable
    mismatch = result.orders.set_index("purchase_id").loc[o["amount_mismatch"]]
    assert mismatch["difference"] == mismatch["sl_total"] - mismatch["erp_total"] > 0
    assert Decimal(meta["difference"].value) == result.totals["sl_total"] - result.totals["erp_total"]
    by_method = result.by_payment_method.set_index("payment_method")
    assert by_method.loc["platform_upfront", "orders"] == 2 and by_method.loc["on_account", "orders"] == 1
    # what finance opens: version 1 of the pack (workbook, CSV files, chart) in the data folder and the ledger
    label = partition[:7]
    assert meta["pack_version"].value == 1 and meta["closed_on_version"].value == "not closed"
    folder = data_dir / "reconciliation" / label / "v1"
    workbook = load_workbook(folder / f"reconciliation-{label}-v1.xlsx", read_only=True)
    assert workbook.sheetnames[:3] == ["Read me", "Summary", "Orders"]
    assert f"sparklayer-erp pack --month {label} --version 1" in meta["download"].value
    summary = {row[0]: row[1] for row in workbook["Summary"].iter_rows(values_only=True) if len(row) > 1}
    assert summary["Close-ready"] == "NO"
    assert {p.name for p in folder.iterdir()} >= {*CSV_FILES, "chart.svg"}
    assert "Paid in shop unpaid in ERP ⚠ blocks the close" in meta["chart_text"].value
    assert meta["chart"].value.startswith("![Orders per status](data:image/svg+xml;base64,")
    assert meta["spreadsheet"].value.endswith(".xlsx")

    # --- each owner fixes their part ---------------------------------------------------------------------------
    ledger.upsert_customer_link("C9001", month["newcomer"], demo_data.UNLINKED_SPARKLAYER_CUSTOMER["external_id"],
                                demo_data.UNLINKED_SPARKLAYER_CUSTOMER["email"])
    _sync(ledger, erp, client, o["missing"])  # sales operations linked the account: the order goes through
    # the follow-up settles the new card order's invoice, and the one finance let wait (paid_in_shop)
    OrderFollowup(ledger, erp, client).record_card_payments()
    sandbox.admin.amend_order(o["amount_mismatch"], COLA, unit_price_overrides={  # agreed: ships as ordered
        "SKU-COLA-L": shop.erp_unit_price("C1006", "SKU-COLA-L", 24)})
    stopped = _erp_id(ledger, o["cancelled_in_sl_only"])
    wh.model("stock.shipment.out", "wait", warehouse.shipment_ids(wh, stopped))  # the warehouse stops it ...
    assert erp.cancel_order(stopped).ok  # ... and operations cancel the ERP order
    assert erp.cancel_order(month["ghost"].erp_id).ok
    OrderFollowup(ledger, erp, client).write_back_status()  # the shop shows the ERP's cancellation

    fixed, check, fixed_meta = _reconcile(resources, partition)

    assert check.passed, check.metadata["what_blocks_the_close"].value
    assert fixed_meta["pack_version"].value == 2 and fixed_meta["closed_on_version"].value == 2
    classes = _classes(fixed)
    assert classes[o["missing"]] == "settled"  # a card order: created by the sync, paid by the follow-up
    assert classes[o["paid_in_shop"]] == "settled"
    assert classes[o["amount_mismatch"]] == "committed_not_invoiced"
    assert classes[o["cancelled_in_sl_only"]] == classes[o["cancelled_in_erp_only"]] == "cancelled_in_both"
    assert fixed.erp_orders_claiming_unknown_purchase.empty

    # a re-run reads the same documents and writes the same answer, as version 3; the close stays on version 2
    closed = data_dir / "reconciliation" / label / "v2"
    csv_before = {name: (closed / name).read_bytes() for name in CSV_FILES}
    workbook_before = (closed / f"reconciliation-{label}-v2.xlsx").read_bytes()
    again, check_again, again_meta = _reconcile(resources, partition)
    assert check_again.passed
    assert again_meta["pack_version"].value == 3 and again_meta["closed_on_version"].value == 2
    pd.testing.assert_frame_equal(again.orders, fixed.orders)
    pd.testing.assert_frame_equal(again.by_class, fixed.by_class)
    third = data_dir / "reconciliation" / label / "v3"
    assert {name: (third / name).read_bytes() for name in CSV_FILES} == csv_before
    assert (closed / f"reconciliation-{label}-v2.xlsx").read_bytes() == workbook_before  # never replaced
    with Ledger(ledger_url) as led:
        assert led.month_close(label).version == 2
        assert [v.version for v in led.pack_versions(label)] == [1, 2, 3]
    assert not [p for p in Path(folder.parent).iterdir() if p.name.startswith(".")]  # no scratch folders left


def test_the_schedule_reconciles_the_month_that_just_ended():
    assert previous_month_key(dt.datetime(2026, 12, 1, 6, tzinfo=dt.UTC)) == "2026-11-01"
    assert previous_month_key(dt.datetime(2027, 1, 1, 6, tzinfo=dt.UTC)) == "2026-12-01"
