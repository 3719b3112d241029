"""Sales orders through the port: create pending or committed, exactly once per purchase id, credit
refusals, approve, cancel and amend before the point of no return and refused after it.

Tests share one ERP per session and isolate themselves by data: unique purchase ids, their own customers
where a credit position matters.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace
from decimal import Decimal

import pytest

from sparklayer_erp.demo import demo_data
from sparklayer_erp.domain.models import ErpOrderState, PaymentMethod, RefusalReason
from sparklayer_erp_tests.erp.contract.back_office import DEFAULT_WAREHOUSE, ON_HOLD, taxed
from sparklayer_erp_tests.erp.contract.drafts import ACCOUNT, draft, line, untaxed


@pytest.fixture
def uid() -> str:
    return uuid.uuid4().hex[:10]


def _today_window() -> tuple[dt.date, dt.date]:
    today = dt.date.today()
    return today - dt.timedelta(days=1), today + dt.timedelta(days=2)  # an ERP may date in its own zone


def _unknown_sku_line(office):
    return replace(line(office, "SKU-COLA-S", 1), sku="SKU-DOES-NOT-EXIST")


def _orders_for(erp_port, purchase_id: str) -> list:
    return [s for s in erp_port.list_orders_between(*_today_window()) if s.purchase_id == purchase_id]


def test_pending_and_committed_orders_carry_po_number_customer_and_lines_in_the_sale_unit(erp_port, office, uid):
    lines = (line(office, "SKU-COLA-L", 2), line(office, "SKU-OJ-S", 5, single=True))
    pending, committed = erp_port.create_orders([
        draft(office, f"{uid}-p", commit=False, lines=lines),
        draft(office, f"{uid}-c", lines=lines),
    ])
    assert [r.purchase_id for r in (pending, committed)] == [f"{uid}-p", f"{uid}-c"]  # results in draft order
    assert pending.refusal is None and committed.refusal is None
    assert not pending.already_existed and not committed.already_existed
    assert pending.order.state == ErpOrderState.PENDING_APPROVAL
    assert committed.order.state == ErpOrderState.COMMITTED
    assert pending.order.number and committed.order.number and pending.order.erp_id != committed.order.erp_id

    statuses = {s.purchase_id: s for s in erp_port.order_status([pending.order.erp_id, committed.order.erp_id])}
    for result in (pending, committed):
        status = statuses[result.purchase_id]
        assert (status.erp_id, status.number) == (result.order.erp_id, result.order.number)
        assert status.state == result.order.state
        assert (status.po_number, status.account_code) == (f"PO-{result.purchase_id}", ACCOUNT)
        assert [(ln.sku, ln.quantity, ln.unit, ln.unit_price) for ln in status.lines] == [
            (ln.sku, ln.quantity, ln.unit, ln.unit_price) for ln in lines]
        assert status.total_untaxed == untaxed(lines)
        assert status.total_tax == taxed(untaxed(lines)) and status.total == status.total_untaxed + status.total_tax
        assert not status.point_of_no_return and not status.payments
        assert status.order_date is not None and abs((status.order_date - dt.date.today()).days) <= 1
        assert status.warehouse_code in (None, DEFAULT_WAREHOUSE)


def test_find_orders_looks_orders_up_by_purchase_id(erp_port, office, uid):
    a, b = erp_port.create_orders([draft(office, f"{uid}-a", commit=False), draft(office, f"{uid}-b")])
    found = erp_port.find_orders([f"{uid}-a", f"{uid}-b", f"{uid}-never"])
    assert set(found) == {f"{uid}-a", f"{uid}-b"}
    for result in (a, b):
        ref = found[result.purchase_id]
        assert (ref.erp_id, ref.number, ref.purchase_id, ref.state) == (
            result.order.erp_id, result.order.number, result.purchase_id, result.order.state)
    assert erp_port.find_orders([]) == {}


def test_a_second_create_for_a_purchase_returns_the_existing_order_never_a_duplicate(erp_port, office, uid):
    first = erp_port.create_orders([draft(office, f"{uid}-a", commit=False)])[0]
    # "the ERP created it but our ledger lost it": the same purchase again, in a batch with a new one
    again, new = erp_port.create_orders([draft(office, f"{uid}-a", commit=False), draft(office, f"{uid}-b")])
    assert again.already_existed and again.order.erp_id == first.order.erp_id and again.refusal is None
    assert not new.already_existed and new.order.erp_id != first.order.erp_id
    # the same purchase twice in one call is created once
    x, y = erp_port.create_orders([draft(office, f"{uid}-c"), draft(office, f"{uid}-c")])
    assert x.order.erp_id == y.order.erp_id and y.already_existed and not x.already_existed
    for suffix in "abc":
        assert len(_orders_for(erp_port, f"{uid}-{suffix}")) == 1
    assert erp_port.find_orders([f"{uid}-a"])[f"{uid}-a"].number == first.order.number


def test_unknown_customer_unknown_sku_and_fractional_packs_are_refused_without_an_order(erp_port, office, uid):
    results = erp_port.create_orders([
        draft(office, f"{uid}-cust", account="C-NOBODY"),
        draft(office, f"{uid}-sku", lines=(_unknown_sku_line(office),)),
        draft(office, f"{uid}-frac", lines=(line(office, "SKU-COLA-L", "1.5"),)),
        draft(office, f"{uid}-ok", commit=False),
    ])
    reasons = [r.refusal.reason if r.refusal else None for r in results]
    assert reasons == [RefusalReason.UNKNOWN_CUSTOMER, RefusalReason.UNKNOWN_SKU,
                       RefusalReason.FRACTIONAL_QUANTITY, None]
    assert [r.order is None for r in results] == [True, True, True, False]
    assert results[3].order.state == ErpOrderState.PENDING_APPROVAL
    assert set(erp_port.find_orders([r.purchase_id for r in results])) == {f"{uid}-ok"}


# --- credit --------------------------------------------------------------------------------------------------


# An ERP answers a credit refusal in one of two ways, both fine for the integration: the order is kept
# pending approval with the refusal (Tryton), or it is not entered at all and the refusal comes alone
# (NetSuite under "Enforce Holds"); then the next attempt after the hold or the limit changes creates it.


def test_a_customer_on_credit_hold_is_refused_with_a_hold_refusal(erp_port, office, uid):
    result = erp_port.create_orders([draft(office, f"{uid}-hold", account=ON_HOLD)])[0]
    assert result.refusal.reason == RefusalReason.CREDIT_HOLD
    if result.order is None:
        assert erp_port.find_orders([f"{uid}-hold"]) == {}
        return
    assert result.order.state == ErpOrderState.PENDING_APPROVAL
    approval = erp_port.approve_order(result.order.erp_id)  # a business refusal returns, never raises
    assert not approval.ok and approval.refusal.reason == RefusalReason.CREDIT_HOLD
    assert erp_port.order_status([result.order.erp_id])[0].state == ErpOrderState.PENDING_APPROVAL


def _committed_after_the_credit_change(erp_port, office, refused, account: str, lines=None) -> int:
    """The refused order committed once credit control allowed it: approved if it was kept pending, else
    created again (the order sync's next attempt). Returns its ERP id."""
    if refused.order is not None:
        assert erp_port.approve_order(refused.order.erp_id).ok
        erp_id = refused.order.erp_id
    else:
        (again,) = erp_port.create_orders([draft(office, refused.purchase_id, account=account, lines=lines)])
        assert again.refusal is None and not again.already_existed
        erp_id = again.order.erp_id
    assert erp_port.order_status([erp_id])[0].state == ErpOrderState.COMMITTED
    return erp_id


def test_a_hold_set_and_released_by_credit_control_is_what_the_port_reports(erp_port, office, uid):
    code = f"H{uid}"
    office.new_customer(code, credit_limit=None)
    office.set_credit_hold(code, True)
    assert next(c for c in erp_port.list_customers() if c.account_code == code).on_credit_hold
    held = erp_port.create_orders([draft(office, f"{code}-1", account=code)])[0]
    assert held.refusal.reason == RefusalReason.CREDIT_HOLD
    assert held.order is None or held.order.state == ErpOrderState.PENDING_APPROVAL

    office.set_credit_hold(code, False)
    assert not next(c for c in erp_port.list_customers() if c.account_code == code).on_credit_hold
    erp_id = _committed_after_the_credit_change(erp_port, office, held, code)
    assert erp_port.approve_order(erp_id).ok  # idempotent


def test_over_the_credit_limit_is_refused_and_a_batch_cannot_slip_past_the_limit(erp_port, office, uid):
    code = f"T{uid}"
    office.new_customer(code, credit_limit=Decimal("100"))
    sixty = (line(office, "SKU-COLA-S", 1, price="60.00"),)  # 72.00 with tax: one fits, two do not
    # one call, two orders that each fit the limit but not together
    a, b = erp_port.create_orders([draft(office, f"{code}-1", account=code, lines=sixty),
                                   draft(office, f"{code}-2", account=code, lines=sixty)])
    assert a.order.state == ErpOrderState.COMMITTED and a.refusal is None
    assert b.refusal.reason == RefusalReason.CREDIT_LIMIT
    if b.order is not None:
        assert b.order.state == ErpOrderState.PENDING_APPROVAL
        refused = erp_port.approve_order(b.order.erp_id)
        assert not refused.ok and refused.refusal.reason == RefusalReason.CREDIT_LIMIT
    office.set_credit_limit(code, Decimal("1000"))
    erp_id = _committed_after_the_credit_change(erp_port, office, b, code, sixty)
    assert erp_port.approve_order(erp_id).ok  # idempotent


def test_approve_commits_a_pending_order_once(erp_port, office, uid):
    pending = erp_port.create_orders([draft(office, f"{uid}-q", commit=False)])[0]
    assert erp_port.approve_order(pending.order.erp_id).ok
    (status,) = erp_port.order_status([pending.order.erp_id])
    assert status.state == ErpOrderState.COMMITTED and not status.point_of_no_return
    assert erp_port.approve_order(pending.order.erp_id).ok
    assert erp_port.find_orders([f"{uid}-q"])[f"{uid}-q"].state == ErpOrderState.COMMITTED


# --- cancel / amend -------------------------------------------------------------------------------------------


def test_cancel_before_the_point_of_no_return_pending_or_committed(erp_port, office, uid):
    pending, committed = erp_port.create_orders([draft(office, f"{uid}-q", commit=False),
                                                 draft(office, f"{uid}-c")])
    assert erp_port.cancel_order(pending.order.erp_id).ok
    assert erp_port.order_status([pending.order.erp_id])[0].state == ErpOrderState.CANCELLED

    result = erp_port.cancel_order(committed.order.erp_id)
    assert result.ok, result.refusal
    (status,) = erp_port.order_status([committed.order.erp_id])
    assert status.state == ErpOrderState.CANCELLED and not status.point_of_no_return
    assert all(s.state == "cancelled" for s in status.shipments)
    assert sum((i.amount_due for i in status.invoices), Decimal(0)) == 0  # nothing left to pay
    assert erp_port.cancel_order(committed.order.erp_id).ok  # idempotent
    assert erp_port.approve_order(committed.order.erp_id).refusal.reason == RefusalReason.ALREADY_CANCELLED
    assert erp_port.find_orders([f"{uid}-c"])[f"{uid}-c"].state == ErpOrderState.CANCELLED


def test_allocated_stock_is_the_point_of_no_return_cancel_and_amend_are_refused(erp_port, office, uid):
    result = erp_port.create_orders([draft(office, f"{uid}-ponr")])[0]
    office.allocate(result.order.erp_id)
    (status,) = erp_port.order_status([result.order.erp_id])
    assert status.point_of_no_return and status.state == ErpOrderState.COMMITTED
    for action in (erp_port.cancel_order(result.order.erp_id),
                   erp_port.amend_order(result.order.erp_id, [line(office, "SKU-COLA-L", 3)])):
        assert not action.ok and action.refusal.reason == RefusalReason.POINT_OF_NO_RETURN
    (after,) = erp_port.order_status([result.order.erp_id])
    assert after.state == ErpOrderState.COMMITTED and after.point_of_no_return
    assert [(ln.sku, ln.quantity) for ln in after.lines] == [("SKU-COLA-L", 1)]  # nothing was touched


def test_amend_replaces_the_lines_of_a_pending_order_and_refuses_an_unknown_sku(erp_port, office, uid):
    pending, committed = erp_port.create_orders([draft(office, f"{uid}-q", commit=False),
                                                 draft(office, f"{uid}-c")])
    new_lines = [line(office, "SKU-COLA-L", 2, price="9.12"), line(office, "SKU-OJ-S", 5, single=True, price="1.50")]
    assert erp_port.amend_order(pending.order.erp_id, new_lines).ok
    (status,) = erp_port.order_status([pending.order.erp_id])
    assert status.state == ErpOrderState.PENDING_APPROVAL
    assert [(ln.sku, ln.quantity, ln.unit) for ln in status.lines] == [
        (ln.sku, ln.quantity, ln.unit) for ln in new_lines]
    assert status.total_untaxed == Decimal("25.74")
    assert status.total_tax == taxed(Decimal("25.74")) and status.total == Decimal("25.74") + taxed(Decimal("25.74"))

    bad = erp_port.amend_order(pending.order.erp_id, [_unknown_sku_line(office)])
    assert not bad.ok and bad.refusal.reason == RefusalReason.UNKNOWN_SKU
    assert len(erp_port.order_status([pending.order.erp_id])[0].lines) == 2  # untouched

    # a committed order before the point of no return: amended, or refused as a business answer
    changed = erp_port.amend_order(committed.order.erp_id, new_lines)
    (status,) = erp_port.order_status([committed.order.erp_id])
    if changed.ok:
        assert [(ln.sku, ln.quantity) for ln in status.lines] == [(ln.sku, ln.quantity) for ln in new_lines]
    else:
        assert changed.refusal.reason == RefusalReason.INVALID_STATE
        assert [(ln.sku, ln.quantity) for ln in status.lines] == [("SKU-COLA-L", 1)]


# --- stock --------------------------------------------------------------------------------------------------


def test_a_committed_order_holds_stock_in_base_units_until_cancelled_or_shipped(erp_port, office, uid):
    sku = next(p.sku for p in demo_data.PRODUCTS if p.pack_size == 12 and p.sku.startswith("SKU-NUTS"))

    def level():
        return next(s for s in erp_port.list_stock() if s.sku == sku and s.warehouse_code == DEFAULT_WAREHOUSE)

    before = level()
    kept, dropped = erp_port.create_orders([
        draft(office, f"{uid}-keep", lines=(line(office, sku, 2),)),
        draft(office, f"{uid}-drop", lines=(line(office, sku, 3, single=True),)),
    ])
    committed = level()
    assert (committed.on_hand, committed.reserved) == (before.on_hand, before.reserved + 24 + 3)
    assert committed.free == before.free - 27

    assert erp_port.cancel_order(dropped.order.erp_id).ok
    assert level().reserved == before.reserved + 24

    office.ship(kept.order.erp_id, tracking=f"TRK-{uid}")
    shipped = level()
    assert (shipped.on_hand, shipped.reserved) == (before.on_hand - 24, before.reserved)


def test_pending_orders_hold_no_stock(erp_port, office, uid):
    sku = "SKU-FLAP-L"

    def level():
        return next(s for s in erp_port.list_stock() if s.sku == sku and s.warehouse_code == DEFAULT_WAREHOUSE)

    before = level()
    erp_port.create_orders([draft(office, f"{uid}-q", commit=False, lines=(line(office, sku, 4),),
                                  method=PaymentMethod.ON_ACCOUNT)])
    assert level() == before
