"""Drift rules: each fires on its case, and none fires on a healthy system (so exceptions resolve)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest

from sparklayer_erp.domain.drift import (
    RULES,
    DriftConfig,
    DriftSnapshot,
    ErpOrderSnap,
    OpenInvoice,
    PendingQuantity,
    PriceRule,
    SlCustomerSnap,
    SlOrderSnap,
    evaluate_drift,
)
from sparklayer_erp.domain.exception_kinds import KINDS
from sparklayer_erp.domain.models import ErpItem, OwnerTeam, PriceEntry, SaleUnit

D = Decimal
NOW = dt.datetime(2026, 10, 15, 12, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)
CONFIG = DriftConfig()


def sl(pid: str, **kw) -> SlOrderSnap:
    base = dict(purchase_id=pid, visible_id=f"#{pid}", customer_sparklayer_id="cust-1", payment_method="invoice",
                status="processing", placed_at=NOW - 2 * H, total_gross=D("120.00"), skus=("SKU-A",))
    return SlOrderSnap(**{**base, **kw})


def erp(erp_id: int, pid: str | None, **kw) -> ErpOrderSnap:
    base = dict(erp_id=erp_id, number=f"SO{erp_id}", purchase_id=pid, state="committed", total=D("120.00"),
                stock_held=True)
    return ErpOrderSnap(**{**base, **kw})


def item(sku: str) -> ErpItem:
    return ErpItem(sku=sku, name=sku, base_unit="unit", sale_unit=SaleUnit("Case of 12", 12), list_price=D("1"))


def healthy() -> DriftSnapshot:
    return DriftSnapshot(
        sl_orders=(
            sl("INV"),
            sl("ACC", payment_method="on_account", status="incoming"),
            sl("CARD", payment_method="platform_upfront", total_paid=D("120.00"), status="shipped"),
            sl("NEW", placed_at=NOW - 5 * M),  # too young to be stuck
            sl("CXL", status="cancelled"),
            sl("CXL-EARLY", status="cancelled", placed_at=NOW - 48 * H),  # cancelled before it reached the ERP
        ),
        erp_orders=(
            erp(1, "INV"),
            erp(2, "ACC", state="pending_approval", stock_held=None,
                pending=(PendingQuantity("SKU-A", "WH", 12), PendingQuantity("SKU-B", "WH2", 24))),
            erp(3, "CARD", state="done", shipped_at=NOW - 3 * H),
            erp(4, "CXL", state="cancelled"),
            erp(5, None),  # keyed in the ERP by hand: not ours
        ),
        sl_customers=(SlCustomerSnap("cust-1", "Acme Ltd", "C001"),),
        sl_skus=frozenset({"SKU-A", "SKU-B"}),
        erp_items=(item("SKU-A"), item("SKU-B"), replace(item("SKU-OLD"), active=False)),
        erp_prices=(PriceEntry("TRADE", "SKU-A", 1, D("1.00"), "GBP"), PriceEntry("TRADE", "SKU-B", 1, D("2"), "GBP"),
                    PriceEntry("WHOLESALE", "SKU-A", 1, D("0.90"), "GBP")),
        pushed_pending_stock={("SKU-A", "WH"): 12, ("SKU-B", "WH2"): 30},
        sync_last_success={name: NOW - 5 * M for name in CONFIG.stale_after},
    )


def replace_sl(snap: DriftSnapshot, pid: str, **kw) -> DriftSnapshot:
    return replace(snap, sl_orders=tuple(replace(o, **kw) if o.purchase_id == pid else o for o in snap.sl_orders))


def replace_erp(snap: DriftSnapshot, erp_id: int, **kw) -> DriftSnapshot:
    return replace(snap, erp_orders=tuple(replace(e, **kw) if e.erp_id == erp_id else e for e in snap.erp_orders))


def found(snap: DriftSnapshot, config: DriftConfig = CONFIG) -> list[tuple[str, str, str]]:
    return [p.key for p in evaluate_drift(snap, config, NOW)]


def test_healthy_system_has_no_problems():
    assert found(healthy()) == []


def test_every_rule_uses_a_catalogue_kind_and_its_owner():
    snap = healthy()
    snap = replace_sl(snap, "NEW", placed_at=NOW - H)
    snap = replace(snap, sl_customers=(SlCustomerSnap("cust-2", "New Co", None),))
    problems = evaluate_drift(snap, CONFIG, NOW)
    assert problems
    for p in problems:
        assert p.kind in KINDS and p.owner_team == KINDS[p.kind].owner
        assert "(not known)" not in p.message, p.message


def test_stuck_order_after_the_configured_age():
    snap = replace_sl(healthy(), "NEW", placed_at=NOW - 20 * M)
    assert found(snap) == [("order_stuck", "order", "NEW")]
    (p,) = evaluate_drift(snap, CONFIG, NOW)
    assert "20 min ago" in p.message and p.owner_team == OwnerTeam.OPERATIONS
    assert found(snap, replace(CONFIG, stuck_after=30 * M)) == []


def test_erp_order_orphaned_when_sparklayer_order_cancelled_or_gone():
    cancelled = replace_sl(healthy(), "INV", status="cancelled")
    assert found(cancelled) == [("erp_order_orphaned", "erp_order", "SO1")]
    gone = replace(healthy(), sl_missing_purchase_ids=frozenset({"INV"}))
    (p,) = evaluate_drift(gone, CONFIG, NOW)
    assert p.key == ("erp_order_orphaned", "erp_order", "SO1") and "no longer in SparkLayer" in p.message


def test_status_mismatch_cancelled_in_erp_only_for_a_card_order():
    snap = replace_sl(healthy(), "CARD", status="processing")
    snap = replace_erp(snap, 3, state="cancelled", shipped_at=None)
    assert found(snap) == [("status_mismatch", "order", "CARD")]


def test_status_mismatch_shipped_in_erp_not_in_sparklayer_after_grace():
    snap = replace_sl(healthy(), "CARD", status="processing")
    assert found(snap) == [("status_mismatch", "order", "CARD")]
    (p,) = evaluate_drift(snap, CONFIG, NOW)
    assert '"shipped"' in p.message
    fresh = replace_erp(snap, 3, shipped_at=NOW - 10 * M)  # the write-back still has time
    assert found(fresh) == []


def test_amount_mismatch_beyond_tolerance_only():
    snap = replace_erp(healthy(), 1, total=D("119.95"))
    (p,) = evaluate_drift(snap, CONFIG, NOW)
    assert p.key == ("amount_mismatch", "order", "INV")
    assert p.detail["difference"] == "0.05" and p.owner_team == OwnerTeam.FINANCE
    assert found(snap, replace(CONFIG, amount_tolerance=D("0.05"))) == []
    half = replace_erp(healthy(), 1, total=D("119.995"))  # rounds half-up to 120.00: no mismatch
    assert found(half) == []


def test_a_part_shipped_order_with_lines_the_erp_cancelled_is_not_an_amount_mismatch():
    # SparkLayer leaves the 30.00 the ERP cancelled after the point of no return out of its total; the ERP
    # order still carries the line.
    part = replace_sl(healthy(), "INV", status="part_shipped", total_gross=D("90.00"))
    assert found(part) == [("amount_mismatch", "order", "INV")]
    shown = replace_sl(part, "INV", cancelled_gross=D("30.00"))
    assert found(shown) == []
    assert found(replace_sl(shown, "INV", total_gross=D("89.00"))) == [("amount_mismatch", "order", "INV")]
    assert found(replace_sl(healthy(), "INV", status="part_shipped")) == []


def test_pay_later_order_whose_erp_order_was_cancelled_holds_no_stock():
    snap = replace_erp(healthy(), 1, state="cancelled")
    (p,) = evaluate_drift(snap, CONFIG, NOW)  # one problem, not also a status mismatch
    assert p.key == ("draft_order_stock_not_held", "order", "INV")
    assert "SKU-A" in p.message


def test_pay_later_order_whose_committed_stock_was_released():
    snap = replace_erp(healthy(), 1, stock_held=False)
    assert found(snap) == [("draft_order_stock_not_held", "order", "INV")]


def test_pending_quantities_not_subtracted_in_the_last_stock_push():
    snap = replace(healthy(), pushed_pending_stock={("SKU-A", "WH"): 11, ("SKU-B", "WH2"): 30})
    (p,) = evaluate_drift(snap, CONFIG, NOW)
    assert p.key == ("draft_order_stock_not_held", "order", "ACC")
    assert "SKU-A at WH: pending orders need 12, last stock push held back 11" in p.message
    assert "SKU-B" not in p.message
    # a second pending order on the same SKU needs its quantity held back too
    two = replace(healthy(), sl_orders=healthy().sl_orders + (sl("ACC2", payment_method="on_account",
                                                                  status="incoming"),),
                  erp_orders=healthy().erp_orders + (erp(6, "ACC2", state="pending_approval", stock_held=None,
                                                         pending=(PendingQuantity("SKU-A", "WH", 6),)),))
    assert [k[2] for k in found(two)] == ["ACC", "ACC2"]
    assert found(replace(two, pushed_pending_stock={("SKU-A", "WH"): 18, ("SKU-B", "WH2"): 24})) == []


def test_customer_without_account_code():
    snap = replace(healthy(), sl_customers=(SlCustomerSnap("cust-1", "Acme Ltd", "C001"),
                                            SlCustomerSnap("cust-2", "New Co", None),
                                            SlCustomerSnap("cust-3", "Blank Ltd", "  ")))
    assert found(snap) == [("customer_without_account_code", "customer", "cust-2"),
                           ("customer_without_account_code", "customer", "cust-3")]


def test_sku_sold_in_sparklayer_but_unknown_or_inactive_in_erp():
    snap = replace(healthy(), sl_skus=frozenset({"SKU-A", "SKU-B", "SKU-OLD", "SKU-TYPO"}))
    assert found(snap) == [("sku_unknown_to_erp", "sku", "SKU-OLD"), ("sku_unknown_to_erp", "sku", "SKU-TYPO")]


def test_item_without_any_price_and_the_strict_every_list_rule():
    snap = replace(healthy(), erp_items=healthy().erp_items + (item("SKU-C"),))
    assert found(snap) == [("item_without_price", "sku", "SKU-C")]
    strict = replace(CONFIG, price_rule=PriceRule.EVERY_LIST)
    problems = evaluate_drift(healthy(), strict, NOW)
    assert [(p.entity_id, p.detail["missing_lists"]) for p in problems] == [("SKU-B", ["WHOLESALE"])]


def test_stale_sync_per_threshold_and_never_run():
    last = {**healthy().sync_last_success, "stock": NOW - 61 * M}
    last.pop("customers")
    snap = replace(healthy(), sync_last_success=last)
    problems = evaluate_drift(snap, CONFIG, NOW)
    assert [p.key for p in problems] == [("stale_sync", "dataset", "customers"), ("stale_sync", "dataset", "stock")]
    assert "since it was set up" in problems[0].message
    assert "1 h 1 min ago" in problems[1].message


def test_card_order_paid_in_shop_with_an_open_erp_invoice():
    snap = replace_erp(healthy(), 3, open_invoices=(OpenInvoice("INV9", D("120.00"), NOW - 2 * H),))
    (p,) = evaluate_drift(snap, CONFIG, NOW)
    assert p.key == ("paid_in_shop_unpaid_in_erp", "order", "CARD")
    assert "INV9" in p.message and p.owner_team == OwnerTeam.FINANCE
    fresh = replace_erp(healthy(), 3, open_invoices=(OpenInvoice("INV9", D("120.00"), NOW - 10 * M),))
    assert found(fresh) == []


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate_drift(healthy(), CONFIG, NOW.replace(tzinfo=None))


def test_output_is_sorted_and_deterministic():
    snap = replace_sl(replace_erp(healthy(), 1, total=D("1")), "NEW", placed_at=NOW - H)
    snap = replace(snap, sl_skus=frozenset({"ZZZ", "SKU-A"}))
    first = evaluate_drift(snap, CONFIG, NOW)
    again = evaluate_drift(replace(snap, sl_orders=snap.sl_orders[::-1], erp_orders=snap.erp_orders[::-1]),
                           CONFIG, NOW)
    assert first == again
    assert [p.key for p in first] == sorted(p.key for p in first)
    assert len(RULES) == 10
