"""Linked orders: cancel/amend before or after the point of no return, credit approval, status write-back."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from decimal import Decimal

import pytest

from sparklayer_erp.domain.exception_kinds import KINDS
from sparklayer_erp.domain.hashing import canonical_json
from sparklayer_erp.domain.models import (
    ErpItem,
    ErpOrderLine,
    ErpOrderState,
    ErpOrderStatus,
    Invoice,
    Payment,
    PaymentMethod,
    SaleUnit,
    Shipment,
    ShipmentLine,
)
from sparklayer_erp.domain.money import MoneyError
from sparklayer_erp.domain.order_lifecycle import (
    Action,
    Approval,
    PackageLineOut,
    PackageOut,
    ShipmentOut,
    approval_decision,
    content_hash,
    credit_excess,
    decide_change,
    order_lines_hash,
    status_for_sparklayer,
    unit_factors,
)
from sparklayer_erp.sparklayer.contract import PACKAGE_TYPES, PURCHASE_STATUSES
from sparklayer_erp_tests.domain.order_builders import make_order

D = Decimal
S = ErpOrderState


# --- decide_change -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("state", "sl_status", "new_hash", "old_hash", "ponr", "expected"), [
    (S.COMMITTED, "processing", "h1", "h1", False, Action.NONE),
    (S.COMMITTED, "cancelled", "h1", "h1", False, Action.CANCEL_IN_ERP),
    (S.PENDING_APPROVAL, "cancelled", "h1", "h1", False, Action.CANCEL_IN_ERP),
    (S.COMMITTED, "cancelled", "h1", "h1", True, Action.RAISE_CANCEL_AFTER_PONR),
    (S.COMMITTED, "processing", "h2", "h1", False, Action.AMEND_IN_ERP),
    (S.PENDING_APPROVAL, "incoming", "h2", "h1", False, Action.AMEND_IN_ERP),
    (S.COMMITTED, "processing", "h2", "h1", True, Action.RAISE_AMEND_AFTER_PONR),
    (S.COMMITTED, "cancelled", "h2", "h1", False, Action.CANCEL_IN_ERP),  # cancel wins over amend
    (S.COMMITTED, "cancelled", "h2", "h1", True, Action.RAISE_CANCEL_AFTER_PONR),
    (S.DONE, "cancelled", "h1", "h1", False, Action.RAISE_CANCEL_AFTER_PONR),  # done is past, flag or not
    (S.DONE, "complete", "h2", "h1", False, Action.RAISE_AMEND_AFTER_PONR),
    (S.CANCELLED, "cancelled", "h1", "h1", True, Action.NONE),  # already cancelled: nothing to do
    (S.CANCELLED, "processing", "h2", "h1", False, Action.NONE),
    (S.COMMITTED, "processing", "h2", None, False, Action.NONE),  # unknown baseline: never amend on a guess
])
def test_decide_change(state, sl_status, new_hash, old_hash, ponr, expected):
    assert decide_change(state, sl_status, new_hash, old_hash, ponr) is expected


def test_raise_actions_name_operations_exception_kinds():
    assert Action.RAISE_CANCEL_AFTER_PONR.problem_kind == "cancel_after_point_of_no_return"
    assert Action.RAISE_AMEND_AFTER_PONR.problem_kind == "amend_after_point_of_no_return"
    for action in Action:
        kind = action.problem_kind
        assert (kind is None) == action.name.startswith(("NONE", "CANCEL_IN", "AMEND_IN"))
        if kind:
            assert KINDS[kind].owner.value == "operations"


# --- approval ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("on_hold", "limit", "balance", "total", "expected"), [
    (False, D("3000"), D("1000"), D("500"), Approval(True, None)),
    (False, D("3000"), D("2500"), D("500"), Approval(True, None)),  # exactly at the limit is allowed
    (False, D("3000"), D("2500"), D("500.01"), Approval(False, "over_credit_limit")),
    (False, None, D("999999"), D("999999"), Approval(True, None)),  # no limit configured
    (True, None, D("0"), D("1"), Approval(False, "credit_hold")),
    (True, D("3000"), D("0"), D("1"), Approval(False, "credit_hold")),  # hold beats headroom
    (False, D("0"), D("0"), D("0.01"), Approval(False, "over_credit_limit")),
    (False, D("100"), D("-50"), D("150"), Approval(True, None)),  # a credit balance adds headroom
])
def test_approval_decision(on_hold, limit, balance, total, expected):
    decision = approval_decision(on_hold, limit, balance, total)
    assert decision == expected
    approve, kind = decision  # unpacks as the (approve, problem kind) pair
    assert kind is None or KINDS[kind].owner.value == "finance"
    assert approve is (kind is None)


def test_credit_excess_and_floats_refused():
    assert credit_excess(D("3000"), D("2500"), D("534.50")) == D("34.50")
    assert credit_excess(D("3000"), D("0"), D("1")) == D("-2999")
    with pytest.raises(MoneyError):
        approval_decision(False, D("100"), 10.0, D("1"))


# --- content_hash --------------------------------------------------------------------------------------
def test_content_hash_is_sha256_of_canonical_json():
    obj = {"b": 1, "a": D("1.50"), "c": (S.DONE, dt.date(2026, 1, 2))}
    assert canonical_json(obj) == '{"a":"1.5","b":1,"c":["done","2026-01-02"]}'
    assert content_hash(obj) == hashlib.sha256(b'{"a":"1.5","b":1,"c":["done","2026-01-02"]}').hexdigest()


def test_content_hash_is_stable_across_key_order_and_decimal_spelling_but_not_values():
    assert content_hash({"x": D("12.50"), "y": "a"}) == content_hash({"y": "a", "x": D("12.5")})
    assert content_hash({"x": D("12.50")}) != content_hash({"x": D("12.51")})
    assert canonical_json({"x": "12.5"}) == canonical_json({"x": D("12.5")})  # text and Decimal hash alike
    assert content_hash([1, 2]) != content_hash([2, 1])


def test_content_hash_of_dataclasses_and_non_ascii():
    status = _status()
    assert content_hash(status) == content_hash(dataclasses.replace(status))
    assert content_hash(dataclasses.replace(status, total=D("99"))) != content_hash(status)
    assert "é" in canonical_json({"name": "Café"})


def test_content_hash_refuses_floats():
    with pytest.raises(MoneyError):
        content_hash({"price": 1.5})


def test_order_lines_hash_ignores_line_order_and_shipping_but_not_quantity_or_price():
    base = make_order([("A", 12, "0.72"), ("B", 6, "1.00")], shipping="5")
    h = order_lines_hash(base)
    assert order_lines_hash(make_order([("B", 6, "1.00"), ("A", 12, "0.72")], shipping="9")) == h
    assert order_lines_hash(make_order([("A", 12, "0.720"), ("B", 6, "1")])) == h
    assert order_lines_hash(make_order([("A", 24, "0.72"), ("B", 6, "1.00")])) != h
    assert order_lines_hash(make_order([("A", 12, "0.73"), ("B", 6, "1.00")])) != h
    assert order_lines_hash(make_order([("A", 12, "0.72")])) != h


def test_order_lines_hash_does_not_change_when_sparklayer_holds_a_line_split_over_packages():
    whole = order_lines_hash(make_order([("A", 36, "0.72"), ("B", 6, "1.00")]))
    split = make_order([("A", 24, "0.72"), ("B", 6, "1.00"), ("A", 12, "0.72")])  # shipped + still incoming
    assert order_lines_hash(split) == whole
    assert order_lines_hash(make_order([("A", 24, "0.72"), ("B", 6, "1.00"), ("A", 6, "0.72")])) != whole
    assert order_lines_hash(make_order([("A", 24, "0.72"), ("B", 6, "1.00"), ("A", 12, "0.70")])) != whole


# --- status back to SparkLayer -------------------------------------------------------------------------
def _status(**kw) -> ErpOrderStatus:
    base = dict(erp_id=7, number="SO0007", purchase_id="p-1", account_code="C1001", po_number="PO-77",
                state=S.COMMITTED, point_of_no_return=False, total_untaxed=D("100"), total_tax=D("20"),
                total=D("120"))
    return ErpOrderStatus(**{**base, **kw})


def _shipment(state: str, number: str = "SH1", tracking: str | None = "TRK1") -> Shipment:
    return Shipment(number, state, tracking_number=tracking, carrier="DPD", shipped_on=dt.date(2026, 3, 2))


@pytest.mark.parametrize(("state", "shipments", "expected"), [
    (S.COMMITTED, (), "processing"),
    (S.COMMITTED, (_shipment("waiting"),), "processing"),
    (S.COMMITTED, (_shipment("done"), _shipment("waiting", "SH2")), "part_shipped"),
    (S.COMMITTED, (_shipment("done"), _shipment("cancelled", "SH2")), "shipped"),
    (S.COMMITTED, (_shipment("done"), _shipment("done", "SH2")), "shipped"),
    (S.DONE, (_shipment("done"),), "complete"),
    (S.CANCELLED, (), "cancelled"),
    (S.PENDING_APPROVAL, (), "incoming"),
    (S.DRAFT, (), "incoming"),
])
def test_status_follows_the_erp(state, shipments, expected):
    update = status_for_sparklayer(_status(state=state, shipments=shipments), "incoming")
    assert update.status == expected
    assert update.status in PURCHASE_STATUSES
    assert update.status_changed is (expected != "incoming")


def test_a_held_pending_order_shows_on_hold():
    assert status_for_sparklayer(_status(state=S.PENDING_APPROVAL), "incoming", held=True).status == "on_hold"
    assert status_for_sparklayer(_status(state=S.COMMITTED), "incoming", held=True).status == "processing"


def test_the_erp_status_wins_over_a_cancellation_the_erp_refused():
    update = status_for_sparklayer(_status(point_of_no_return=True, shipments=(_shipment("done"),)), "cancelled")
    assert update.status == "shipped" and update.status_changed


def test_shipped_packages_carry_carrier_and_tracking():
    update = status_for_sparklayer(_status(shipments=(_shipment("done"), _shipment("waiting", "SH2"))), None)
    assert update.packages == (
        PackageOut("shipment", "SH1", (ShipmentOut("SH1", "DPD", "TRK1", dt.date(2026, 3, 2)),)),)
    assert all(p.type in PACKAGE_TYPES for p in update.packages)
    assert update.internal_id == "SO0007" and update.purchase_id == "p-1"


def test_a_cancelled_order_gets_a_cancellation_package():
    update = status_for_sparklayer(_status(state=S.CANCELLED), "processing")
    assert update.packages == (PackageOut("cancellation", "SO0007"),)


def test_only_posted_and_paid_invoices_are_shown_to_the_buyer():
    invoices = (Invoice(None, "draft", D("120"), D("120")), Invoice("INV1", "posted", D("120"), D("120"),
                dt.date(2026, 3, 3), dt.date(2026, 4, 2)), Invoice("INV2", "paid", D("10"), D("0")),
                Invoice("INV3", "cancelled", D("5"), D("0")))
    update = status_for_sparklayer(_status(invoices=invoices), "processing")
    assert [(f.invoice_number, f.state, f.file_type) for f in update.accounting_files] == [
        ("INV1", "posted", "invoice"), ("INV2", "paid", "invoice")]
    assert update.accounting_files[0].due_date == dt.date(2026, 4, 2)


def test_payments_become_transactions_with_stable_ids():
    payments = (Payment("INV1", D("60"), dt.date(2026, 3, 10), "BACS-1"),
                Payment("INV1", D("60"), dt.date(2026, 3, 10), None),
                Payment("INV1", D("60"), dt.date(2026, 3, 10), None))  # two identical payments stay two
    status = _status(payments=payments)
    first = status_for_sparklayer(status, "processing").transactions
    again = status_for_sparklayer(status, "processing").transactions
    assert first == again
    assert len({t.platform_id for t in first}) == 3
    assert [(t.type, t.total, t.apply_to_balance, t.reference) for t in first] == [
        ("payment", D("60"), True, "BACS-1"), ("payment", D("60"), True, None), ("payment", D("60"), True, None)]
    assert first[0].platform_id.startswith("erp-payment-")


def test_card_payments_taken_by_the_shop_are_not_written_back_twice():
    status = _status(payments=(Payment("INV1", D("120"), dt.date(2026, 3, 10), "card"),))
    assert status_for_sparklayer(status, "processing", payment_method=PaymentMethod.UPFRONT).transactions == ()
    assert len(status_for_sparklayer(status, "processing", payment_method=PaymentMethod.INVOICE).transactions) == 1


def test_fingerprint_changes_with_what_is_written_not_with_what_sparklayer_showed():
    status = _status(shipments=(_shipment("done", tracking=None),))
    a = status_for_sparklayer(status, "processing")
    b = status_for_sparklayer(status, "shipped")
    assert a.status_changed and not b.status_changed
    assert a.fingerprint == b.fingerprint
    tracked = status_for_sparklayer(_status(shipments=(_shipment("done"),)), "shipped")
    assert tracked.fingerprint != a.fingerprint


def test_every_erp_state_maps_to_a_sparklayer_status():
    for state in ErpOrderState:
        for held in (False, True):
            assert status_for_sparklayer(_status(state=state), None, held=held).status in PURCHASE_STATUSES


# --- partial shipments ----------------------------------------------------------------------------------
_ITEMS = (ErpItem("A", "Cola", "Unit", SaleUnit("Case of 12", 12), D("0.70")),
          ErpItem("B", "Crisps", "Unit", SaleUnit("Case of 6", 6), D("0.50")))


def test_unit_factors_are_the_pack_sizes_both_ways():
    assert unit_factors(_ITEMS) == {("A", "Unit"): 1, ("A", "Case of 12"): 12, ("B", "Unit"): 1,
                                    ("B", "Case of 6"): 6}


def _shipped(number: str, *lines: tuple[str, str, str], state: str = "done") -> Shipment:
    return Shipment(number, state, tracking_number=f"TRK-{number}", shipped_on=dt.date(2026, 3, 2),
                    lines=tuple(ShipmentLine(sku, D(qty), unit) for sku, qty, unit in lines), shipment_id=number)


def test_each_shipment_package_carries_its_own_lines_in_shop_units():
    status = _status(shipments=(_shipped("SH1", ("A", "2", "Case of 12")),
                                _shipped("SH2", ("A", "1", "Case of 12"), ("B", "3", "Unit"), ("B", "1", "Case of 6")),
                                _shipped("SH3", ("B", "1", "Case of 6"), state="waiting")))
    update = status_for_sparklayer(status, None, unit_factors=unit_factors(_ITEMS))
    assert update.status == "part_shipped"
    assert [(p.type, p.reference, p.lines) for p in update.packages] == [
        ("shipment", "SH1", (PackageLineOut("A", 24),)),
        ("shipment", "SH2", (PackageLineOut("A", 12), PackageLineOut("B", 9))),
    ]  # the waiting shipment has not left: no package yet
    without = status_for_sparklayer(status, None)
    assert [p.lines for p in without.packages] == [(), ()]  # no pack sizes: lines are not guessed
    assert update.fingerprint != without.fingerprint


def test_a_unit_without_a_known_pack_size_is_left_out_not_guessed():
    status = _status(shipments=(_shipped("SH1", ("A", "2", "Pallet"), ("C", "1", "Unit"), ("B", "1", "Case of 6")),))
    (package,) = status_for_sparklayer(status, None, unit_factors=unit_factors(_ITEMS)).packages
    assert package.lines == (PackageLineOut("B", 6),)


def test_lines_cancelled_after_the_point_of_no_return_go_to_a_cancellation_package():
    lines = (ErpOrderLine("A", D(3), "Case of 12", D("8.64"), cancelled_quantity=D(1)),
             ErpOrderLine("B", D(2), "Case of 6", D("3.00")))
    status = _status(point_of_no_return=True, lines=lines,
                     shipments=(_shipped("SH1", ("A", "2", "Case of 12"), ("B", "2", "Case of 6")),
                                _shipped("SH2", state="cancelled")))
    update = status_for_sparklayer(status, "part_shipped", unit_factors=unit_factors(_ITEMS))
    assert update.status == "shipped"  # all that will leave has left
    assert [(p.type, p.reference, p.lines) for p in update.packages] == [
        ("shipment", "SH1", (PackageLineOut("A", 24), PackageLineOut("B", 12))),
        ("cancellation", "SO0007", (PackageLineOut("A", 12),)),
    ]
    cancelled_order = status_for_sparklayer(_status(state=S.CANCELLED, lines=lines), None,
                                            unit_factors=unit_factors(_ITEMS))
    assert cancelled_order.packages == (PackageOut("cancellation", "SO0007"),)  # the whole order: as before


def test_an_erp_without_an_open_shipment_for_the_rest_is_part_shipped_until_every_unit_left():
    # NetSuite makes an item fulfilment only for what leaves: after the first part every shipment it has is
    # done, yet units are still to come.
    lines = (ErpOrderLine("A", D(3), "Case of 12", D("8.64")), ErpOrderLine("B", D(2), "Case of 6", D("3.00")))
    first = _shipped("IF1", ("A", "2", "Case of 12"))
    second = _shipped("IF2", ("A", "12", "Unit"), ("B", "2", "Case of 6"))
    factors = unit_factors(_ITEMS)
    assert status_for_sparklayer(_status(lines=lines, shipments=(first,)), None,
                                 unit_factors=factors).status == "part_shipped"
    assert status_for_sparklayer(_status(lines=lines, shipments=(first, second)), None,
                                 unit_factors=factors).status == "shipped"
    # without pack sizes the shipments' own states decide, as before
    assert status_for_sparklayer(_status(lines=lines, shipments=(first,)), None).status == "shipped"
