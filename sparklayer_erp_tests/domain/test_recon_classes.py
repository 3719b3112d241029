"""The reconciliation classes for refunds, credit notes and partial shipments, and the one catalogue."""

from __future__ import annotations

import dataclasses
import pickle
from decimal import Decimal

import pandas as pd
import pytest

from sparklayer_erp.domain.models import OwnerTeam
from sparklayer_erp.domain.recon_classes import CLASS_ORDER
from sparklayer_erp.domain.reconciliation import RECON_CLASSES, ReconClass, close_ready, reconcile_month
from sparklayer_erp_tests.domain.recon_builders import AS_OF, MONTH_END, MONTH_START, Frames

D = Decimal
C = ReconClass


def run(f: Frames, **kw):
    return reconcile_month(**f.frames(), as_of=AS_OF, month_start=MONTH_START, month_end=MONTH_END, **kw)


def row(result, pid: str) -> pd.Series:
    return result.orders.set_index("purchase_id").loc[pid]


def paid_in_full(f: Frames, pid: str, erp_id: int, **erp) -> Frames:
    return f.sl(pid, **erp.pop("sl", {})).erp(erp_id, pid, **erp).invoice(
        erp_id, f"INV{erp_id}", due="0").pay(f"INV{erp_id}", "120.00")


@pytest.mark.parametrize(("cls", "owner", "blocks"), [
    (C.REFUNDED_IN_SHOP_NO_CREDIT_NOTE, OwnerTeam.FINANCE, True),
    (C.CREDIT_NOTE_NOT_IN_SHOP, OwnerTeam.FINANCE, True),
    (C.PART_SHIPPED_INVOICED_SHIPPED_PART, OwnerTeam.OPERATIONS, False),
    (C.PART_SHIPPED_INVOICE_DIFFERS, OwnerTeam.FINANCE, True),
    (C.RATE_DIFFERENCE_WITHIN_TOLERANCE, OwnerTeam.FINANCE, False),
    (C.RATE_DIFFERENCE_OUTSIDE_TOLERANCE, OwnerTeam.FINANCE, True),
    (C.CURRENCY_UNKNOWN_TO_ERP, OwnerTeam.FINANCE, True),
    (C.MISSING_CURRENCY_RATE, OwnerTeam.FINANCE, True),
])
def test_the_catalogue_gives_each_new_class_its_owner_and_whether_it_blocks(cls, owner, blocks):
    rule = RECON_CLASSES[cls]
    assert (rule.owner, rule.blocks_close, rule.explained) == (owner, blocks, not blocks)
    assert rule.meaning.endswith(".") and rule.action


def test_every_order_class_is_in_the_precedence_and_only_the_erp_row_is_not():
    assert set(CLASS_ORDER) == set(RECON_CLASSES) - {C.ERP_ORDER_CLAIMING_UNKNOWN_PURCHASE}
    assert CLASS_ORDER[-1] == C.INVOICED_OPEN_WITHIN_TERMS  # the default when nothing else holds


def test_a_refund_matched_by_a_credit_note_is_no_class_of_its_own():
    f = paid_in_full(Frames(), "P", 1, sl={"refunded": "20.00"}, credited="20.00")
    r = row(run(f), "P")
    assert r["recon_class"] == C.SETTLED
    assert (r["sl_refunded"], r["erp_credited"]) == (D("20.00"), D("20.00"))


def test_refund_and_credit_note_differences_block_either_way_with_the_figures():
    f = paid_in_full(Frames(), "SHOP", 1, sl={"refunded": "30.00"}, credited="20.00")
    paid_in_full(f, "ERP", 2, sl={"refunded": "0.00"}, credited="15.50")
    result = run(f)
    shop, erp = row(result, "SHOP"), row(result, "ERP")
    assert shop["recon_class"] == C.REFUNDED_IN_SHOP_NO_CREDIT_NOTE
    assert "30.00" in shop["reason"] and "20.00" in shop["reason"]
    assert erp["recon_class"] == C.CREDIT_NOTE_NOT_IN_SHOP and "15.50" in erp["reason"]
    assert {b.recon_class for b in close_ready(result).blockers} == {C.REFUNDED_IN_SHOP_NO_CREDIT_NOTE,
                                                                     C.CREDIT_NOTE_NOT_IN_SHOP}
    assert run(f, amount_tolerance_pence=1550).orders["recon_class"].tolist() == [C.SETTLED, C.SETTLED]


def test_cancelling_an_invoiced_order_through_a_credit_note_is_explained_only_when_it_is_all_credited():
    def month(credited: str, refunded: str) -> Frames:
        return (Frames().sl("P", status="cancelled", refunded=refunded, method="platform_upfront", paid="120.00")
                .erp(1, "P", state="done", credited=credited).invoice(1, "INV1", due="0").pay("INV1", "120.00"))

    assert row(run(month("120.00", "120.00")), "P")["recon_class"] == C.CANCELLED_BY_CREDIT_NOTE
    assert row(run(month("120.00", "0.00")), "P")["recon_class"] == C.CREDIT_NOTE_NOT_IN_SHOP
    assert row(run(month("0.00", "0.00")), "P")["recon_class"] == C.CANCELLED_IN_SPARKLAYER_ONLY
    r = row(run(month("120.00", "120.00")), "P")
    assert bool(r["explained"]) and r["sl_billable"] == D("0.00")


def test_part_shipped_orders_compare_the_invoice_with_the_shipped_part():
    f = Frames()
    f.sl("EXACT").erp(1, "EXACT", ordered=10, shipped=4, shipped_total="48.00").invoice(1, "INV1", total="48.00")
    f.sl("OVER").erp(2, "OVER", ordered=10, shipped=4, shipped_total="48.00").invoice(2, "INV2", total="60.00")
    f.sl("NOINV").erp(3, "NOINV", ordered=10, shipped=4, shipped_total="48.00")
    f.sl("WHOLE").erp(4, "WHOLE", ordered=10, shipped=10, shipped_total="120.00").invoice(4, "INV4")
    result = run(f)
    exact, over = row(result, "EXACT"), row(result, "OVER")
    assert (exact["recon_class"], bool(exact["explained"])) == (C.PART_SHIPPED_INVOICED_SHIPPED_PART, True)
    assert "4 of 10" in exact["reason"] and exact["shipped_total"] == D("48.00")
    assert (over["recon_class"], over["owner"]) == (C.PART_SHIPPED_INVOICE_DIFFERS, OwnerTeam.FINANCE)
    assert "48.00" in over["reason"] and "60.00" in over["reason"]
    assert row(result, "NOINV")["recon_class"] == C.COMMITTED_NOT_INVOICED  # not invoiced yet: normal
    assert row(result, "WHOLE")["recon_class"] == C.INVOICED_OPEN_WITHIN_TERMS  # shipped in full
    assert run(f, amount_tolerance_pence=1200).orders["recon_class"].tolist().count(
        C.PART_SHIPPED_INVOICED_SHIPPED_PART) == 2


def test_shipment_columns_go_together():
    frames = Frames().sl("P").erp(1, "P", ordered=10, shipped=4, shipped_total="48.00").frames()
    with pytest.raises(ValueError, match="go together"):
        reconcile_month(**{**frames, "erp_orders": frames["erp_orders"].drop(columns=["shipped_total"])},
                        as_of=AS_OF, month_start=MONTH_START, month_end=MONTH_END)


def test_absent_refund_credit_and_shipment_columns_mean_none_of_that_kind():
    f = paid_in_full(Frames(), "P", 1)
    frames = f.frames()
    assert not {"refunded", "credited", "quantity_shipped"} & {*frames["sl_orders"], *frames["erp_orders"]}
    r = row(run(f), "P")
    assert (r["recon_class"], r["sl_refunded"], r["erp_credited"], r["shipped_total"]) == (
        C.SETTLED, D("0.00"), D("0.00"), D("0.00"))


def test_the_orders_frame_is_built_once_when_read_and_results_stay_dataclasses():
    result = run(paid_in_full(Frames(), "P", 1))
    assert "orders" not in result.__dict__  # not built by the reconciliation itself
    assert result.totals["orders"] == 1 and "orders" not in result.__dict__
    first = result.orders
    assert result.orders is first
    again = dataclasses.replace(result, by_class=result.by_class.head(0))  # a copy carries the built frame
    assert again.orders is first and again.totals["orders"] == 1
    pickled = pickle.loads(pickle.dumps(run(paid_in_full(Frames(), "P", 1))))  # unbuilt: still lazy after a copy
    assert "orders" not in pickled.__dict__
    pd.testing.assert_frame_equal(pickled.orders, first)
