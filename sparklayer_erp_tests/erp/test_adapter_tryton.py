"""TrytonErp against a real Tryton 8.2 server (JSON-RPC over loopback HTTP).

Tests share one database and isolate themselves by data: unique purchase ids and PO numbers, and their own
customers where a customer's credit position matters.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest

from sparklayer_erp.demo import demo_data
from sparklayer_erp.domain.models import (
    ErpOrderDraft,
    ErpOrderLine,
    ErpOrderState,
    PaymentMethod,
    PriceListKind,
    RefusalReason,
)
from sparklayer_erp.erp.port import ErpPort, ErpTechnicalError
from sparklayer_erp.erp.tryton import conventions as conv
from sparklayer_erp.erp.tryton.adapter import CREATE_CHUNK, TrytonErp, UnknownErpReference
from sparklayer_erp_tests.erp import warehouse

pytestmark = pytest.mark.tryton

CASE12 = "Case of 12"


def line(sku: str = "SKU-COLA-L", qty: str = "1", unit: str = CASE12, price: str = "9.12") -> ErpOrderLine:
    return ErpOrderLine(sku=sku, quantity=Decimal(qty), unit=unit, unit_price=Decimal(price))


def draft(pid: str, code: str = "C1002", commit: bool = True, lines: tuple | None = None,
          method: PaymentMethod = PaymentMethod.INVOICE) -> ErpOrderDraft:
    return ErpOrderDraft(purchase_id=pid, account_code=code, po_number=f"PO-{pid}", payment_method=method,
                         lines=lines or (line(),), commit=commit)


def one(erp: TrytonErp, d: ErpOrderDraft):
    (result,) = erp.create_orders([d])
    return result


def web_id_count(wh, pid: str) -> int:
    return len(wh.model("sale.sale", "search", [(conv.PURCHASE_ID_FIELD, "=", pid)], 0, None, None))


# --- master data -------------------------------------------------------------------------------------------


def test_adapter_satisfies_the_port(erp):
    assert isinstance(erp, ErpPort)


def test_default_warehouse_is_one_the_erp_reports_stock_for(erp):
    assert erp.default_warehouse_code() == "WH"
    assert any(s.warehouse_code == erp.default_warehouse_code() for s in erp.list_stock())


def test_list_customers_reads_terms_limits_hold_levels_and_contracts(erp, wh):
    customers = {c.account_code: c for c in erp.list_customers()}
    assert {c.account_code for c in demo_data.CUSTOMERS} <= set(customers)
    assert conv.COMPANY_PARTY_CODE not in customers  # the company itself is not a customer
    employees = wh.search_read("company.employee", [], ["party.code"])
    assert employees and not {e["party."]["code"] for e in employees} & set(customers)  # nor its staff

    acme = customers["C1001"]  # contract customer on the TRADE level
    assert acme.contract_price_list == demo_data.contract_list_code("C1001")
    assert acme.price_level == "TRADE"
    assert acme.credit_limit == Decimal("2000") and not acme.on_credit_hold
    assert (acme.payment_terms, acme.payment_terms_days) == ("Net 30", 30)
    assert acme.email == "buyer@acmeretail.example"
    assert acme.addresses[0].city == "London"
    assert isinstance(acme.open_balance, Decimal)

    delta = customers["C1004"]
    assert (delta.payment_terms, delta.payment_terms_days) == ("Net 60", 60)
    assert delta.price_level == "TRADE" and delta.contract_price_list is None
    assert customers["C1006"].credit_limit is None  # no limit configured
    assert customers["C1007"].on_credit_hold and customers["C1007"].credit_limit == 0
    assert sum(c.on_credit_hold for code, c in customers.items() if code.startswith("C1")) == 1


def test_price_lists_and_prices_are_computed_by_tryton_per_base_unit(erp):
    lists = {p.code: p for p in erp.list_price_lists()}
    assert lists["TRADE"].kind == PriceListKind.LEVEL
    assert lists["CONTRACT-C1001"].kind == PriceListKind.CONTRACT
    assert lists["CONTRACT-C1001"].customer_account_code == "C1001"

    prices = {(p.price_list_code, p.sku, p.min_quantity): p.unit_price for p in erp.list_prices((1, 120))}
    cola_s = demo_data.product_by_sku("SKU-COLA-S").list_price  # 0.85, sold by the unit
    assert prices[("TRADE", "SKU-COLA-S", 1)] == cola_s * Decimal("0.90")
    assert prices[("TRADE", "SKU-COLA-S", 120)] == cola_s * Decimal("0.85")  # volume break
    cola_l = demo_data.product_by_sku("SKU-COLA-L")
    contract = demo_data.customer_by_code("C1001").contract_prices["SKU-COLA-L"]
    assert prices[("CONTRACT-C1001", "SKU-COLA-L", 1)] == contract  # per unit, not per case
    assert prices[("CONTRACT-C1001", "SKU-OJ-S", 1)] == prices[("TRADE", "SKU-OJ-S", 1)]  # level fallback
    assert prices[("WHOLESALE", "SKU-COLA-L", 1)] == cola_l.list_price * Decimal("0.80")


def test_customer_price_is_per_requested_unit_and_quantity(erp):
    per_unit = demo_data.customer_by_code("C1001").contract_prices["SKU-COLA-L"]
    assert erp.customer_price("C1001", "SKU-COLA-L", Decimal(1), CASE12) == per_unit * 12
    assert erp.customer_price("C1001", "SKU-COLA-L", Decimal(12), "Unit") == per_unit
    list_price = demo_data.product_by_sku("SKU-COLA-L").list_price
    # C1002 is WHOLESALE: 0.80 below 240 units, 0.76 from 240 units (20 cases); breaks compare base units
    assert erp.customer_price("C1002", "SKU-COLA-L", Decimal(19), CASE12) == list_price * Decimal("0.80") * 12
    assert erp.customer_price("C1002", "SKU-COLA-L", Decimal(20), CASE12) == list_price * Decimal("0.76") * 12
    for args in (("NOPE", "SKU-COLA-L"), ("C1001", "SKU-NOPE")):
        with pytest.raises(UnknownErpReference):
            erp.customer_price(*args, Decimal(1), "Unit")


def test_list_items_gives_base_unit_sale_unit_and_list_price(erp):
    items = {i.sku: i for i in erp.list_items()}
    assert set(items) == {p.sku for p in demo_data.PRODUCTS}
    for product in demo_data.PRODUCTS:
        item = items[product.sku]
        assert item.base_unit == "Unit"
        assert item.pack_size == product.pack_size
        assert item.sale_unit.name == conv.uom_name_for_pack_size(product.pack_size)
        assert item.list_price == product.list_price
        assert item.active


# --- orders: create ------------------------------------------------------------------------------------


def test_twelve_units_as_one_case_move_forecast_by_twelve_and_reservation_is_the_point_of_no_return(
        erp, wh, uid):
    sku = "SKU-NUTS-L"  # pack size 12
    warehouse_id = wh.search_read("stock.location", [("code", "=", "WH")], ["id"])[0]["id"]

    def forecast() -> Decimal:
        rows = wh.search_read("product.product", [("code", "=", sku)], ["forecast_quantity"],
                              context={"locations": [warehouse_id]})
        return Decimal(str(rows[0]["forecast_quantity"]))

    def level():
        return next(s for s in erp.list_stock() if s.sku == sku and s.warehouse_code == "WH")

    before_forecast, before = forecast(), level()
    result = one(erp, draft(f"{uid}-case", lines=(line(sku, "1", CASE12, "14.40"),)))
    assert result.order.state == ErpOrderState.COMMITTED and result.refusal is None
    (status,) = erp.order_status([result.order.erp_id])
    assert [(ln.sku, ln.quantity, ln.unit) for ln in status.lines] == [(sku, Decimal(1), CASE12)]
    assert status.warehouse_code == conv.DEFAULT_WAREHOUSE_CODE  # where the integration's orders ship from
    assert forecast() == before_forecast - 12
    assert level().on_hand == before.on_hand and level().reserved == before.reserved + 12  # committed
    assert not status.point_of_no_return

    assert warehouse.assign_shipments(wh, result.order.erp_id) == ["assigned"]  # a warehouse person acts
    after = level()
    assert after.reserved == before.reserved + 12 and after.on_hand == before.on_hand  # counted once
    (status,) = erp.order_status([result.order.erp_id])
    assert status.point_of_no_return and status.state == ErpOrderState.COMMITTED

    for action in (erp.cancel_order(result.order.erp_id), erp.amend_order(result.order.erp_id, [line()])):
        assert not action.ok and action.refusal.reason == RefusalReason.POINT_OF_NO_RETURN
    assert warehouse.shipment_states(wh, result.order.erp_id) == ["assigned"]  # nothing was touched


def test_reserved_is_what_committed_orders_hold_until_it_is_picked(erp, wh, uid):
    """Committed but not yet assigned still counts (else the shop sells it again); cancelling releases it;
    picking moves the goods out of on hand, so they leave reserved at the same moment."""
    sku = "SKU-FLAP-L"  # a case of 12

    def level():
        return next(s for s in erp.list_stock() if s.sku == sku and s.warehouse_code == "WH")

    before = level()
    kept, dropped = erp.create_orders([
        draft(f"{uid}-keep", code="C1006", lines=(line(sku, "2", CASE12, "16.20"),)),
        draft(f"{uid}-drop", code="C1006", lines=(line(sku, "3", "Unit", "1.35"),)),
    ])
    assert [r.order.state for r in (kept, dropped)] == [ErpOrderState.COMMITTED] * 2
    assert warehouse.shipment_states(wh, kept.order.erp_id) == ["waiting"]  # nobody assigned anything
    committed = level()
    assert (committed.on_hand, committed.reserved) == (before.on_hand, before.reserved + 24 + 3)

    assert warehouse.assign_shipments(wh, kept.order.erp_id) == ["assigned"]
    assert level() == committed  # allocating it does not count it again

    assert erp.cancel_order(dropped.order.erp_id).ok
    assert level().reserved == before.reserved + 24

    wh.model("stock.shipment.out", "pick", warehouse.shipment_ids(wh, kept.order.erp_id))
    picked = level()
    assert (picked.on_hand, picked.reserved) == (before.on_hand - 24, before.reserved)
    assert picked.free == committed.free + 3  # only the cancelled order changed what can be sold


def test_unknown_customer_unknown_sku_and_fractional_cases_are_refused_without_an_order(erp, wh, uid):
    results = erp.create_orders([
        draft(f"{uid}-cust", code="C-NOBODY"),
        draft(f"{uid}-sku", lines=(line("SKU-DOES-NOT-EXIST", "1", "Unit", "1"),)),
        draft(f"{uid}-frac", lines=(line("SKU-COLA-L", "1.5", CASE12),)),
        draft(f"{uid}-ok", commit=False),
    ])
    reasons = [r.refusal.reason if r.refusal else None for r in results]
    assert reasons == [RefusalReason.UNKNOWN_CUSTOMER, RefusalReason.UNKNOWN_SKU,
                       RefusalReason.FRACTIONAL_QUANTITY, None]
    assert [r.order is None for r in results] == [True, True, True, False]
    assert results[3].order.state == ErpOrderState.PENDING_APPROVAL
    assert set(erp.find_orders([f"{uid}-cust", f"{uid}-sku", f"{uid}-frac", f"{uid}-ok"])) == {f"{uid}-ok"}


def test_lookup_before_create_returns_the_existing_order(erp, wh, uid):
    first = one(erp, draft(f"{uid}-a", commit=False))
    # "the ERP created it but our ledger lost it": the same purchase comes again, in a batch with a new one
    again, new = erp.create_orders([draft(f"{uid}-a", commit=False), draft(f"{uid}-b", commit=False)])
    assert again.already_existed and again.order.erp_id == first.order.erp_id
    assert not new.already_existed and new.order.erp_id != first.order.erp_id
    # the same purchase twice in one call is created once
    x, y = erp.create_orders([draft(f"{uid}-c", commit=False), draft(f"{uid}-c", commit=False)])
    assert x.order.erp_id == y.order.erp_id and y.already_existed
    assert [web_id_count(wh, f"{uid}-{s}") for s in "abc"] == [1, 1, 1]
    found = erp.find_orders([f"{uid}-a", f"{uid}-b", f"{uid}-zzz"])
    assert set(found) == {f"{uid}-a", f"{uid}-b"} and found[f"{uid}-a"].number == first.order.number


def test_a_batch_larger_than_one_tryton_call_can_take_is_created_whole(erp, uid):
    """Tryton on SQLite fails a create (or quote) of ~100+ sales at once (parser stack overflow, HTTP 503);
    the adapter splits the batch itself. C1006 and C1012 have no credit limit."""
    assert CREATE_CHUNK < 100  # one call stays below where SQLite overflows
    drafts = [draft(f"{uid}-{i:03}", code=("C1006", "C1012")[i % 2], commit=False,
                    method=PaymentMethod.ON_ACCOUNT, lines=(line("SKU-COLA-S", "1", "Unit", "0.77"),))
              for i in range(120)]
    results = erp.create_orders(drafts)
    assert [r.purchase_id for r in results] == [d.purchase_id for d in drafts]
    assert all(r.refusal is None and not r.already_existed for r in results)
    assert {r.order.state for r in results} == {ErpOrderState.PENDING_APPROVAL}
    assert len({r.order.erp_id for r in results}) == 120
    found = erp.find_orders([d.purchase_id for d in drafts])
    assert {pid: ref.erp_id for pid, ref in found.items()} == {r.purchase_id: r.order.erp_id for r in results}


def test_a_multi_line_description_is_stored_as_one_line(erp, wh, uid):
    """Tryton refuses a line break in sale.description; the adapter normalises, so the order is created."""
    text = f"SparkLayer order {uid}\nPrice: SKU-COLA-L kept at the ERP price\r\n\tnote"
    result = one(erp, replace(draft(f"{uid}-desc", commit=False), description=text))
    assert result.refusal is None and result.order is not None
    stored = wh.search_read("sale.sale", [("id", "=", result.order.erp_id)], ["description"])[0]["description"]
    assert stored == f"SparkLayer order {uid} / Price: SKU-COLA-L kept at the ERP price / note"


def test_a_concurrent_writer_hits_the_unique_constraint_and_we_return_its_order(tryton_server, wh, uid):
    class BlindFirstLookup(TrytonErp):
        """Our lookup runs just before another writer creates the same purchase."""
        blind = True

        def _rows_by_purchase_id(self, purchase_ids, fields):
            if self.blind:
                self.blind = False
                return {}
            return super()._rows_by_purchase_id(purchase_ids, fields)

    other = TrytonErp(tryton_server.url, tryton_server.db_name, tryton_server.login, tryton_server.password)
    theirs = one(other, draft(f"{uid}-race", commit=False))
    racing = BlindFirstLookup(tryton_server.url, tryton_server.db_name, tryton_server.login,
                              tryton_server.password)
    ours, fresh = racing.create_orders([draft(f"{uid}-race", commit=False), draft(f"{uid}-new", commit=False)])
    assert ours.already_existed and ours.order.erp_id == theirs.order.erp_id
    assert fresh.order is not None and not fresh.already_existed
    assert web_id_count(wh, f"{uid}-race") == 1


def test_credit_limit_refusal_leaves_a_quotation_and_batches_cannot_slip_past_the_limit(erp, admin_rpc, uid):
    code = f"T{uid}"
    warehouse.create_customer(admin_rpc, code, credit_limit=Decimal("100"))
    sixty = (line("SKU-COLA-S", "1", "Unit", "60.00"),)
    # one call, two orders that each fit the limit but not together: Tryton alone would confirm both
    a, b = erp.create_orders([draft(f"{uid}-1", code, lines=sixty), draft(f"{uid}-2", code, lines=sixty)])
    assert a.order.state == ErpOrderState.COMMITTED and a.refusal is None
    assert b.order.state == ErpOrderState.PENDING_APPROVAL
    assert b.refusal.reason == RefusalReason.CREDIT_LIMIT
    customer = next(c for c in erp.list_customers() if c.account_code == code)
    assert customer.open_balance == Decimal("60.00")  # the committed, uninvoiced order (untaxed)

    refused = erp.approve_order(b.order.erp_id)
    assert not refused.ok and refused.refusal.reason == RefusalReason.CREDIT_LIMIT
    warehouse.set_credit_limit(admin_rpc, code, Decimal("1000"))
    assert erp.approve_order(b.order.erp_id).ok
    assert erp.order_status([b.order.erp_id])[0].state == ErpOrderState.COMMITTED
    assert erp.approve_order(b.order.erp_id).ok  # idempotent


def test_credit_hold_customer_gets_a_pending_order_and_a_hold_refusal(erp, uid):
    result = one(erp, draft(f"{uid}-hold", code="C1007"))
    assert result.order.state == ErpOrderState.PENDING_APPROVAL
    assert result.refusal.reason == RefusalReason.CREDIT_HOLD
    approval = erp.approve_order(result.order.erp_id)  # a business refusal returns, never raises
    assert not approval.ok and approval.refusal.reason == RefusalReason.CREDIT_HOLD


def test_a_person_can_still_approve_knowingly_in_the_erp(tryton_server, erp, admin_rpc, uid):
    code = f"P{uid}"
    warehouse.create_customer(admin_rpc, code, credit_limit=Decimal("5"))
    result = one(erp, draft(f"{uid}-op", code))
    assert result.refusal.reason == RefusalReason.CREDIT_LIMIT
    operator = warehouse.operator(tryton_server)
    assert warehouse.approve_as_person(operator, result.order.erp_id, override_credit_warning=True) == "processing"
    assert erp.order_status([result.order.erp_id])[0].state == ErpOrderState.COMMITTED


# --- cancel / amend ---------------------------------------------------------------------------------------


def test_cancel_before_and_after_commit(erp, wh, uid):
    pending, committed = erp.create_orders([draft(f"{uid}-q", commit=False), draft(f"{uid}-c")])
    assert erp.cancel_order(pending.order.erp_id).ok
    assert erp.order_status([pending.order.erp_id])[0].state == ErpOrderState.CANCELLED

    result = erp.cancel_order(committed.order.erp_id)  # nothing allocated: the 10-call procedure
    assert result.ok, result.refusal
    (status,) = erp.order_status([committed.order.erp_id])
    assert status.state == ErpOrderState.CANCELLED and not status.point_of_no_return
    assert [s.state for s in status.shipments] == ["cancelled"]
    assert [i.state for i in status.invoices] == ["cancelled"]
    assert status.invoices[0].amount_due == 0
    assert erp.cancel_order(committed.order.erp_id).ok  # idempotent
    assert erp.approve_order(committed.order.erp_id).refusal.reason == RefusalReason.ALREADY_CANCELLED


def test_amend_a_quotation_replaces_its_lines_and_a_committed_order_is_refused(erp, uid):
    pending, committed = erp.create_orders([draft(f"{uid}-q", commit=False), draft(f"{uid}-c")])
    new_lines = [line("SKU-COLA-L", "2", CASE12, "9.12"), line("SKU-OJ-S", "5", "Unit", "1.50")]
    assert erp.amend_order(pending.order.erp_id, new_lines).ok
    (status,) = erp.order_status([pending.order.erp_id])
    assert status.state == ErpOrderState.PENDING_APPROVAL
    assert [(ln.sku, ln.quantity) for ln in status.lines] == [("SKU-COLA-L", 2), ("SKU-OJ-S", 5)]
    assert status.total_untaxed == Decimal("25.74")
    assert status.total_tax == Decimal("5.15") and status.total == Decimal("30.89")

    bad = erp.amend_order(pending.order.erp_id, [line("SKU-NOPE", "1", "Unit", "1")])
    assert not bad.ok and bad.refusal.reason == RefusalReason.UNKNOWN_SKU
    assert len(erp.order_status([pending.order.erp_id])[0].lines) == 2  # untouched
    refused = erp.amend_order(committed.order.erp_id, new_lines)
    assert not refused.ok and refused.refusal.reason == RefusalReason.INVALID_STATE


# --- payments, status, reconciliation --------------------------------------------------------------------


def test_record_payment_settles_the_invoice_once(erp, uid):
    paid, too_much = erp.create_orders([
        draft(f"{uid}-card", method=PaymentMethod.UPFRONT), draft(f"{uid}-over", method=PaymentMethod.UPFRONT)])
    total = erp.order_status([paid.order.erp_id])[0].total
    today = dt.date.today()
    assert erp.record_payment(paid.order.erp_id, total, today, f"CARD-{uid}").ok
    (status,) = erp.order_status([paid.order.erp_id])
    assert [(i.state, i.amount_due) for i in status.invoices] == [("paid", 0)]
    assert status.invoices[0].number and status.invoices[0].due_date
    assert [(p.amount, p.reference, p.paid_on) for p in status.payments] == [(total, f"CARD-{uid}", today)]
    again = erp.record_payment(paid.order.erp_id, total, today, f"CARD-{uid}")
    assert again.ok and again.detail.get("already")
    assert len(erp.order_status([paid.order.erp_id])[0].payments) == 1

    split = too_much.order.erp_id
    over = erp.record_payment(split, Decimal("1000"), today, f"CARD-{uid}-x")
    assert not over.ok and over.refusal.reason == RefusalReason.OTHER
    assert erp.order_status([split])[0].invoices[0].state == "draft"  # not touched
    assert erp.record_payment(split, Decimal("5.00"), today, f"CARD-{uid}-1").ok  # a partial payment
    (status,) = erp.order_status([split])
    assert [(i.state, i.amount_due) for i in status.invoices] == [("posted", status.total - Decimal("5.00"))]
    assert erp.record_payment(split, status.total - Decimal("5.00"), today, f"CARD-{uid}-2").ok
    (status,) = erp.order_status([split])
    assert status.invoices[0].state == "paid" and sum(p.amount for p in status.payments) == status.total


def test_full_lifecycle_status_with_tracking_invoice_and_bank_payment(erp, wh, uid):
    result = one(erp, draft(f"{uid}-life"))
    sale_id = result.order.erp_id
    assert warehouse.ship_order(wh, sale_id, tracking=f"TRK-{uid}") == ["done"]
    numbers = warehouse.post_invoices(wh, sale_id)
    (status,) = erp.order_status([sale_id])
    assert status.state == ErpOrderState.COMMITTED and status.point_of_no_return
    assert status.shipments[0].tracking_number == f"TRK-{uid}" and status.shipments[0].shipped_on
    assert [i.number for i in status.invoices] == numbers and status.invoices[0].amount_due == status.total
    warehouse.pay_by_bank(wh, sale_id, reference=f"BACS-{uid}")
    (status,) = erp.order_status([sale_id])
    assert status.state == ErpOrderState.DONE
    assert status.payments[0].amount == status.total and status.payments[0].reference == f"BACS-{uid}"
    assert erp.cancel_order(sale_id).refusal.reason == RefusalReason.POINT_OF_NO_RETURN


def test_list_orders_between_returns_todays_purchases_with_their_status(erp, uid):
    a, b = erp.create_orders([draft(f"{uid}-r1", commit=False), draft(f"{uid}-r2")])
    today = dt.date.today()
    rows = {s.purchase_id: s for s in erp.list_orders_between(today, today + dt.timedelta(days=1))}
    assert rows[f"{uid}-r1"].state == ErpOrderState.PENDING_APPROVAL
    assert rows[f"{uid}-r2"].state == ErpOrderState.COMMITTED and rows[f"{uid}-r2"].invoices
    assert rows[f"{uid}-r2"].po_number == f"PO-{uid}-r2" and rows[f"{uid}-r2"].account_code == "C1002"
    later = erp.list_orders_between(today + dt.timedelta(days=1), today + dt.timedelta(days=2))
    assert f"{uid}-r1" not in {s.purchase_id for s in later}


# --- technical failures -------------------------------------------------------------------------------------


def test_technical_failures_raise_and_never_show_the_password(tryton_server, erp):
    from sparklayer_erp.demo.tryton_local import free_port

    password = tryton_server.password
    cases = [
        TrytonErp(f"http://127.0.0.1:{free_port()}", tryton_server.db_name, tryton_server.login, password),
        TrytonErp(tryton_server.url, "no_such_db", tryton_server.login, password),
        TrytonErp(tryton_server.url, tryton_server.db_name, tryton_server.login, password + "-wrong"),
        TrytonErp(tryton_server.url, tryton_server.db_name, tryton_server.login, password, timeout=1e-6),
    ]
    for adapter in cases:
        with pytest.raises(ErpTechnicalError) as caught:
            adapter.list_price_lists()
        text = f"{caught.value!s} {caught.value!r} {caught.value.__cause__!r} {caught.value.__context__!r}"
        assert password not in text
        adapter.close()


def test_a_lost_session_is_renewed_once(erp):
    erp.rpc.call("common.db.logout", [])  # the server forgets our session (like an expiry)
    assert erp.list_price_lists()  # 401 -> log in again -> the call succeeds
