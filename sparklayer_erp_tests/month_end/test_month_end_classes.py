"""The month-end extraction feeds refunds, credit notes, shipments and currencies to the reconciliation.

Against a private real Tryton and the sandbox shop (this module's own, see the conftest), each scenario made the
way it happens: a refund recorded in the shop that the ERP has not credited yet; a credit note raised in the
ERP by finance that has not reached the shop yet; an order shipped in part and invoiced for the shipped part.
Each is classified by ``build_month_frames`` + ``reconcile`` as the asset does, and stops being a blocker
once the integration (the follow-up) carried it across. What the demo cannot produce on demand (a currency
the ERP refused, an ERP rate that differs from the priced one) is checked at the frame level.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pandas as pd
import pytest

from sparklayer_erp.domain.exception_kinds import Entity, problem
from sparklayer_erp.domain.models import ErpOrderLine, ErpOrderState, ErpOrderStatus, Shipment, ShipmentLine
from sparklayer_erp.domain.recon_classes import RECON_CLASSES, ReconClass
from sparklayer_erp.domain.reconciliation import close_ready
from sparklayer_erp.erp.tryton.rpc import TrytonRpc
from sparklayer_erp.ledger import Ledger
from sparklayer_erp.month_end import close as flow
from sparklayer_erp.orders.followup import OrderFollowup
from sparklayer_erp.orders.links import Exceptions
from sparklayer_erp.orders.refunds import RefundSync
from sparklayer_erp.orders.sync import OrderSync, fetch_requested
from sparklayer_erp.settings import SettingError, read
from sparklayer_erp.sparklayer.models import Transaction
from sparklayer_erp_tests.erp import partial_shipping, warehouse
from sparklayer_erp_tests.orders.shop import Shop

LINES = [("SKU-PRTZ-L", 36), ("SKU-CRSP-L", 12)]  # two lines whose rounding agrees in both systems


def _invoiced(shop: Shop, ledger: Ledger, erp, client, wh: TrytonRpc, *, ship: bool = True) -> tuple[str, int]:
    buyer = shop.demo("C1006")  # Net 30, no credit limit
    pid = shop.place(buyer, LINES, "invoice", po=f"PO-MEC-{uuid.uuid4().hex[:6]}")
    OrderSync(ledger, erp).run(fetch_requested(client, [pid], None))
    erp_id = ledger.get_order_link(pid).erp_order_id
    if ship:
        warehouse.ship_order(wh, erp_id)
    warehouse.post_invoices(wh, erp_id)
    return pid, erp_id


def _classify(client, erp, ledger: Ledger, pid: str) -> tuple[str, bool, pd.Series]:
    """This purchase's class in its month, as the month-end asset computes it."""
    placed = client.get_purchase("sparklayer", pid).placed_at
    month = flow.Month.containing(placed)
    if month != flow.Month.containing(dt.datetime.now(dt.UTC)):
        pytest.skip("the order was placed in another month than today's; run again")
    frames = flow.build_month_frames(client, erp, ledger, month)
    result = flow.reconcile(frames, month, month.default_as_of(month.today()))
    row = result.orders.set_index("purchase_id").loc[pid]
    return str(row["recon_class"]), bool(row["explained"]), row


def _credit_in_erp(wh: TrytonRpc, erp_id: int) -> None:
    """Finance credits the order's invoice in full with Tryton's Credit wizard (a price dispute) and posts it."""
    (invoice,) = warehouse.invoice_ids(wh, erp_id)
    with wh.wizard("account.invoice.credit", "account.invoice", [invoice]) as session:
        start = TrytonRpc.view_defaults(session.execute("start", {}))
        start["with_refund"] = False
        session.execute("credit", {"start": start})
    (note,) = wh.search_read("account.invoice", [("lines.origin", "like", "account.invoice.line,%"),
                                                 ("state", "=", "draft"), ("party.code", "=", "C1006")], ["id"])
    wh.model("account.invoice", "write", [note["id"]], {"comment": "Price dispute", "description": "Price dispute"})
    wh.model("account.invoice", "post", [note["id"]])


# --- real scenarios ---------------------------------------------------------------------------------------------


def test_a_refund_in_the_shop_with_no_credit_note_blocks_until_the_integration_credits_it(
        shop: Shop, ledger, erp, client, wh):
    pid, erp_id = _invoiced(shop, ledger, erp, client, wh)
    client.put_transaction("sparklayer", pid, Transaction(platform_id="RF-MEC-1", type="refund",
                                                          total=Decimal("-12.00"), currency="GBP",
                                                          apply_to_balance=True))

    cls, explained, row = _classify(client, erp, ledger, pid)

    assert cls == ReconClass.REFUNDED_IN_SHOP_NO_CREDIT_NOTE and not explained
    assert row["sl_refunded"] == Decimal("12.00") and row["erp_credited"] == Decimal("0.00")
    assert row["owner"] == "finance"

    RefundSync(ledger, erp, client).run([pid])  # the follow-up raises the credit note
    assert [n.total for n in erp.order_status([erp_id])[0].credit_notes] == [Decimal("12.00")]

    cls, explained, row = _classify(client, erp, ledger, pid)
    assert row["sl_refunded"] == row["erp_credited"] == Decimal("12.00")
    assert cls not in (ReconClass.REFUNDED_IN_SHOP_NO_CREDIT_NOTE, ReconClass.CREDIT_NOTE_NOT_IN_SHOP)


def test_a_credit_note_raised_in_the_erp_blocks_until_the_shop_shows_the_refund(shop: Shop, ledger, erp, client, wh):
    pid, erp_id = _invoiced(shop, ledger, erp, client, wh)
    _credit_in_erp(wh, erp_id)
    total = erp.order_status([erp_id])[0].total

    cls, explained, row = _classify(client, erp, ledger, pid)

    assert cls == ReconClass.CREDIT_NOTE_NOT_IN_SHOP and not explained
    assert row["erp_credited"] == total and row["sl_refunded"] == Decimal("0.00")
    ready = close_ready(flow.reconcile(
        flow.build_month_frames(client, erp, ledger, flow.Month.containing(dt.datetime.now(dt.UTC))),
        flow.Month.containing(dt.datetime.now(dt.UTC)), dt.date.today()))
    assert ReconClass.CREDIT_NOTE_NOT_IN_SHOP in {b.recon_class for b in ready.blockers}

    OrderFollowup(ledger, erp, client).write_back_status()  # the note reaches the shop as a refund

    cls, _, row = _classify(client, erp, ledger, pid)
    assert row["sl_refunded"] == row["erp_credited"] == total
    assert cls not in (ReconClass.REFUNDED_IN_SHOP_NO_CREDIT_NOTE, ReconClass.CREDIT_NOTE_NOT_IN_SHOP)


@pytest.fixture
def invoice_on_shipment(admin: TrytonRpc):
    """The company invoices what ships (Tryton's ``fulfillment`` invoice method) for the orders of one test."""
    (config,) = admin.model("sale.configuration", "search", [], 0, 1, None)
    (before,) = admin.model("sale.configuration", "read", [config], ["sale_invoice_method"])
    admin.model("sale.configuration", "write", [config], {"sale_invoice_method": "fulfillment"})
    yield
    admin.model("sale.configuration", "write", [config], {"sale_invoice_method": before["sale_invoice_method"]})


def test_a_part_shipped_order_invoiced_for_the_shipped_part_is_explained(
        shop: Shop, ledger, erp, client, wh, invoice_on_shipment):
    pid, erp_id = _invoiced(shop, ledger, erp, client, wh, ship=False)
    assert warehouse.invoice_ids(wh, erp_id) == []  # nothing shipped: nothing invoiced
    first_line = erp.order_status([erp_id])[0].lines[0]
    partial_shipping.ship_part(wh, erp_id, {first_line.sku: first_line.quantity}, tracking="TRK-MEC-1")
    warehouse.post_invoices(wh, erp_id)
    status = erp.order_status([erp_id])[0]
    (invoice,) = status.invoices

    cls, explained, row = _classify(client, erp, ledger, pid)

    assert cls == ReconClass.PART_SHIPPED_INVOICED_SHIPPED_PART and explained
    assert row["owner"] == str(RECON_CLASSES[ReconClass.PART_SHIPPED_INVOICED_SHIPPED_PART].owner)
    assert row["shipped_total"] == row["invoiced"] == invoice.total < status.total
    assert not any(b.recon_class is ReconClass.PART_SHIPPED_INVOICED_SHIPPED_PART for b in close_ready(
        flow.reconcile(flow.build_month_frames(client, erp, ledger, flow.Month.containing(dt.datetime.now(dt.UTC))),
                       flow.Month.containing(dt.datetime.now(dt.UTC)), dt.date.today())).blockers)


# --- the extraction, at the frame level -------------------------------------------------------------------------


def _status(**fields: object) -> ErpOrderStatus:
    base: dict[str, object] = dict(
        erp_id=1, number="SO1", purchase_id="p1", account_code="C1", po_number=None,
        state=ErpOrderState.COMMITTED, point_of_no_return=True, total_untaxed=Decimal("100.00"),
        total_tax=Decimal("20.00"), total=Decimal("120.00"),
        lines=(ErpOrderLine("A", Decimal(3), "Case of 12", Decimal("24.00")),
               ErpOrderLine("B", Decimal(2), "Each", Decimal("14.00"))))
    base.update(fields)
    return ErpOrderStatus(**base)  # type: ignore[arg-type]


def test_shipped_facts_count_base_units_and_value_the_shipped_part_with_tax():
    factors = {("A", "Case of 12"): 12, ("A", "Each"): 1, ("B", "Each"): 1}
    shipped = _status(shipments=(
        Shipment("S1", "done", lines=(ShipmentLine("A", Decimal(2), "Case of 12"),)),
        Shipment("S2", "waiting", lines=(ShipmentLine("A", Decimal(1), "Case of 12"),
                                         ShipmentLine("B", Decimal(2), "Each"))),
    ))
    facts = flow.shipped_facts(shipped, factors)
    assert facts == {"quantity_ordered": 38, "quantity_shipped": 24, "shipped_total": Decimal("57.60")}

    cancelled = _status(lines=(ErpOrderLine("A", Decimal(3), "Case of 12", Decimal("24.00"),
                                            cancelled_quantity=Decimal(1)),))
    assert flow.shipped_facts(cancelled, factors)["quantity_ordered"] == 24  # cancelled after the point of no return
    yen = _status(currency="JPY", total_untaxed=Decimal(1000), total_tax=Decimal(100), total=Decimal(1100),
                  lines=(ErpOrderLine("B", Decimal(3), "Each", Decimal(333)),),
                  shipments=(Shipment("S1", "done", lines=(ShipmentLine("B", Decimal(1), "Each"),)),))
    assert flow.shipped_facts(yen, factors)["shipped_total"] == Decimal(366)  # 333 × 1.1 in whole yen


def test_paid_and_refunded_in_shop_count_transactions_applied_to_the_balance_only():
    txs = [Transaction(platform_id="P1", type="payment", total=Decimal("120.00"), currency="GBP", apply_to_balance=True),
           Transaction(platform_id="R1", type="refund", total=Decimal("-10.00"), currency="GBP", apply_to_balance=True),
           Transaction(platform_id="erp-credit-CN1", type="refund", total=Decimal("-5.50"), currency="GBP",
                       apply_to_balance=True),
           Transaction(platform_id="R2", type="refund", total=Decimal("-99.00"), currency="GBP",
                       apply_to_balance=False)]  # pending: not (yet) a refund
    assert flow.refunded_in_shop(txs) == Decimal("15.50")
    assert flow.paid_in_shop(txs) == Decimal("120.00")  # before refunds: a refund is never taken off twice
    assert flow.refunded_in_shop([]) == Decimal(0)


def _frames(sl: list[dict], erp: list[dict], invoices: list[dict] = (), refused: frozenset[str] = frozenset()
            ) -> flow.MonthFrames:
    sl_cols = [*flow.SL_ORDER_COLUMNS, "shipping_gross", "currency", "refunded", "company_currency_rate"]
    erp_cols = [*flow.ERP_ORDER_COLUMNS, *flow.ERP_ORDER_OPTIONAL_COLUMNS]
    erp_frame = pd.DataFrame(erp, columns=erp_cols).astype({"quantity_ordered": "int64", "quantity_shipped": "int64"})
    return flow.MonthFrames(
        sl_orders=pd.DataFrame(sl, columns=sl_cols), sl_lines=pd.DataFrame(columns=flow.SL_LINE_COLUMNS),
        erp_orders=erp_frame, erp_invoices=pd.DataFrame(list(invoices), columns=flow.ERP_INVOICE_COLUMNS),
        erp_payments=pd.DataFrame(columns=flow.ERP_PAYMENT_COLUMNS), known_purchase_ids=frozenset(),
        refused_currencies=refused)


def _sl(pid: str, total: str, currency: str = "GBP", rate: str | None = None) -> dict:
    return {"purchase_id": pid, "visible_id": pid.upper(), "account_code": "C1", "customer_sparklayer_id": "cust-1",
            "payment_method": "invoice", "placed_at": dt.datetime(2026, 10, 5, 10, tzinfo=dt.UTC),
            "status": "processing", "total_gross": Decimal(total), "total_paid": Decimal(0),
            "shipping_gross": Decimal(0), "currency": currency, "refunded": Decimal(0),
            "company_currency_rate": Decimal(rate) if rate else None}


def _erp(erp_id: int, pid: str, total: str, currency: str = "GBP", rate: str | None = "1") -> dict:
    return {"erp_id": erp_id, "number": f"SO{erp_id}", "purchase_id": pid, "account_code": "C1",
            "state": "committed", "total": Decimal(total), "order_date": dt.date(2026, 10, 5), "currency": currency,
            "company_currency_rate": Decimal(rate) if rate else None, "credited": Decimal(0),
            "quantity_ordered": 0, "quantity_shipped": 0, "shipped_total": Decimal(0)}


OCTOBER = flow.Month.of(dt.date(2026, 10, 1), dt.UTC)


def test_a_currency_the_erp_refused_is_its_own_blocker_for_finance(tmp_path):
    with Ledger.from_url(f"sqlite:///{tmp_path}/ledger.sqlite") as ledger:
        Exceptions(ledger).raise_all([problem("unknown_currency", Entity.ORDER, "chf-1", order="CHF-1",
                                              currency="CHF", reason="no such currency")])
        Exceptions(ledger).raise_all([problem("unknown_currency", Entity.ORDER, "eur-late", order="EUR-1",
                                              currency="EUR", reason="no rate on 5 Oct")])
        erp_rows = [_erp(2, "eur-1", "100.00", "EUR", "0.86")]
        refused = flow.refused_currencies(ledger, erp_rows)
    assert refused == {"CHF"}  # EUR is booked in the ERP: one missing day's rate does not make it unknown

    result = flow.reconcile(_frames([_sl("chf-1", "100.00", "CHF"), _sl("eur-1", "100.00", "EUR")], erp_rows,
                                    refused=refused), OCTOBER, dt.date(2026, 10, 31))
    classes = dict(zip(result.orders["purchase_id"], result.orders["recon_class"], strict=True))
    assert classes["chf-1"] == ReconClass.CURRENCY_UNKNOWN_TO_ERP
    assert classes["eur-1"] != ReconClass.CURRENCY_UNKNOWN_TO_ERP
    blockers = {b.recon_class: b for b in close_ready(result).blockers}
    assert blockers[ReconClass.CURRENCY_UNKNOWN_TO_ERP].owner == "finance"


def test_rate_differences_within_and_outside_tolerance_and_a_missing_rate(monkeypatch):
    monkeypatch.delenv("COMPANY_CURRENCY", raising=False)
    sl = [_sl("near", "100.00", "EUR", "0.8600"), _sl("far", "100.00", "EUR", "0.8600"),
          _sl("none", "100.00", "EUR", "0.8600")]
    erp = [_erp(1, "near", "100.00", "EUR", "0.8650"), _erp(2, "far", "100.00", "EUR", "0.9500"),
           _erp(3, "none", "100.00", "EUR", None)]
    inv = [{"erp_id": i, "number": f"INV{i}", "state": "posted", "total": Decimal("100.00"),
            "amount_due": Decimal("100.00"), "invoice_date": dt.date(2026, 10, 5), "due_date": dt.date(2026, 11, 4)}
           for i in (1, 2, 3)]

    result = flow.reconcile(_frames(sl, erp, inv), OCTOBER, dt.date(2026, 10, 31))

    rows = result.orders.set_index("purchase_id")
    assert rows.loc["near", "recon_class"] == ReconClass.RATE_DIFFERENCE_WITHIN_TOLERANCE
    assert bool(rows.loc["near", "explained"])
    assert rows.loc["far", "recon_class"] == ReconClass.RATE_DIFFERENCE_OUTSIDE_TOLERANCE
    assert not bool(rows.loc["far", "explained"])
    assert rows.loc["none", "recon_class"] != ReconClass.RATE_DIFFERENCE_WITHIN_TOLERANCE
    assert rows.loc["near", "erp_total_company"] == Decimal("86.50")  # at the ERP's rate, in GBP
    assert result.company_currency == "GBP"


def test_company_currency_is_a_setting_the_totals_follow(monkeypatch):
    sl = [_sl("gbp", "86.00", "GBP"), _sl("eur", "100.00", "EUR")]
    erp = [_erp(1, "gbp", "86.00", "GBP", "1.1628"), _erp(2, "eur", "100.00", "EUR", "1")]
    monkeypatch.setenv("COMPANY_CURRENCY", "EUR")

    result = flow.reconcile(_frames(sl, erp), OCTOBER, dt.date(2026, 10, 31))

    assert result.company_currency == "EUR"
    rows = result.orders.set_index("purchase_id")
    assert rows.loc["gbp", "erp_total_company"] == Decimal("100.00")  # 86.00 GBP × 1.1628, in EUR cents
    assert result.totals["erp_total"] == Decimal("200.00")
    monkeypatch.setenv("COMPANY_CURRENCY", "euro")
    with pytest.raises(SettingError, match="COMPANY_CURRENCY"):
        read("COMPANY_CURRENCY")
