"""TrytonErp against a real Tryton 8.2 server (JSON-RPC over loopback HTTP): what is Tryton's own.

The port's behaviour (orders, credit, cancel/amend, status, payments, master data) is the contract suite in
``contract/``, which runs against this adapter too; here are Tryton's conventions and mechanics: web_id
uniqueness, RPC chunking, the shipments and draft invoice a committed sale carries, forecast and reservation,
how the seed marks a hold, sessions and technical failures.

Tests share one database and isolate themselves by data: unique purchase ids and PO numbers, and their own
customers where a customer's credit position matters.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest

from sparklayer_erp.domain.models import (
    ErpOrderDraft,
    ErpOrderLine,
    ErpOrderState,
    PaymentMethod,
    RefusalReason,
)
from sparklayer_erp.erp.port import ErpTechnicalError
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


def test_customers_are_parties_with_a_code_but_not_the_company_or_its_staff_and_a_hold_is_limit_zero(erp, wh):
    customers = {c.account_code: c for c in erp.list_customers()}
    assert conv.COMPANY_PARTY_CODE not in customers  # the company itself is not a customer
    employees = wh.search_read("company.employee", [], ["party.code"])
    assert employees and not {e["party."]["code"] for e in employees} & set(customers)  # nor its staff
    # the seed's hold: the category and a limit of 0 (Tryton then refuses confirm by itself)
    assert customers["C1007"].on_credit_hold and customers["C1007"].credit_limit == 0
    assert sum(c.on_credit_hold for code, c in customers.items() if code.startswith("C1")) == 1


def test_customer_price_raises_for_an_unknown_customer_or_sku(erp):
    for args in (("NOPE", "SKU-COLA-L"), ("C1001", "SKU-NOPE")):
        with pytest.raises(UnknownErpReference):
            erp.customer_price(*args, Decimal(1), "Unit")


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


def test_a_purchase_created_again_never_makes_a_second_web_id(erp, wh, uid):
    first = one(erp, draft(f"{uid}-a", commit=False))
    again, new = erp.create_orders([draft(f"{uid}-a", commit=False), draft(f"{uid}-b", commit=False)])
    x, y = erp.create_orders([draft(f"{uid}-c", commit=False), draft(f"{uid}-c", commit=False)])
    assert again.order.erp_id == first.order.erp_id and x.order.erp_id == y.order.erp_id
    assert [web_id_count(wh, f"{uid}-{s}") for s in "abc"] == [1, 1, 1]


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


def test_open_balance_counts_committed_uninvoiced_orders_untaxed(erp, admin_rpc, uid):
    code = f"T{uid}"
    warehouse.create_customer(admin_rpc, code, credit_limit=Decimal("100"))
    sixty = (line("SKU-COLA-S", "1", "Unit", "60.00"),)
    a, b = erp.create_orders([draft(f"{uid}-1", code, lines=sixty), draft(f"{uid}-2", code, lines=sixty)])
    assert (a.order.state, b.refusal.reason) == (ErpOrderState.COMMITTED, RefusalReason.CREDIT_LIMIT)
    customer = next(c for c in erp.list_customers() if c.account_code == code)
    assert customer.open_balance == Decimal("60.00")  # the committed, uninvoiced order (untaxed); not the quotation


def test_a_person_can_still_approve_knowingly_in_the_erp(tryton_server, erp, admin_rpc, uid):
    code = f"P{uid}"
    warehouse.create_customer(admin_rpc, code, credit_limit=Decimal("5"))
    result = one(erp, draft(f"{uid}-op", code))
    assert result.refusal.reason == RefusalReason.CREDIT_LIMIT
    operator = warehouse.operator(tryton_server)
    assert warehouse.approve_as_person(operator, result.order.erp_id, override_credit_warning=True) == "processing"
    assert erp.order_status([result.order.erp_id])[0].state == ErpOrderState.COMMITTED


# --- cancel / amend ---------------------------------------------------------------------------------------


def test_cancelling_a_committed_sale_cancels_its_waiting_shipment_and_draft_invoice(erp, uid):
    committed = one(erp, draft(f"{uid}-c"))
    result = erp.cancel_order(committed.order.erp_id)  # nothing allocated: the 10-call procedure
    assert result.ok, result.refusal
    (status,) = erp.order_status([committed.order.erp_id])
    assert status.state == ErpOrderState.CANCELLED
    assert [s.state for s in status.shipments] == ["cancelled"]
    assert [i.state for i in status.invoices] == ["cancelled"]
    assert status.invoices[0].amount_due == 0


def test_a_committed_sale_cannot_be_amended_in_tryton(erp, uid):
    committed = one(erp, draft(f"{uid}-c"))
    refused = erp.amend_order(committed.order.erp_id, [line("SKU-COLA-L", "2", CASE12, "9.12")])
    assert not refused.ok and refused.refusal.reason == RefusalReason.INVALID_STATE
    assert [(ln.sku, ln.quantity) for ln in erp.order_status([committed.order.erp_id])[0].lines] == [
        ("SKU-COLA-L", 1)]


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


def test_a_committed_sale_has_its_draft_invoice_from_the_start(erp, uid):
    committed = one(erp, draft(f"{uid}-r2"))
    today = dt.date.today()
    rows = {s.purchase_id: s for s in erp.list_orders_between(today, today + dt.timedelta(days=1))}
    invoices = rows[f"{uid}-r2"].invoices
    assert rows[f"{uid}-r2"].erp_id == committed.order.erp_id
    assert [(i.state, i.amount_due) for i in invoices] == [("draft", rows[f"{uid}-r2"].total)]
    later = erp.list_orders_between(today + dt.timedelta(days=1), today + dt.timedelta(days=2))
    assert f"{uid}-r2" not in {s.purchase_id for s in later}  # Tryton dates in the server's day: [start, end)


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
