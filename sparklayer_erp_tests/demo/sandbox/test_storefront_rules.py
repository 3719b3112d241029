"""The storefront's pure checkout rules and the store's clock (no HTTP needed for these)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from sparklayer_erp.demo.sandbox import storefront
from sparklayer_erp.demo.sandbox.db import Database

D = Decimal


@pytest.mark.parametrize(("quantity", "rule", "code"), [
    (12, {"pack_size": 12}, None), (24, {"pack_size": 12}, None), (13, {"pack_size": 12}, "pack-size"),
    (5, {}, None), (0, {}, "invalid-quantity"), (6, {"sell": False}, "not-for-sale"),
    (6, {"pack_size": 6, "min_order_quantity": 12}, "min-order-quantity"),
    (48, {"pack_size": 12, "max_order_quantity": 36}, "max-order-quantity"),
])
def test_quantity_rules(quantity: int, rule: dict, code: str | None) -> None:
    problem = storefront.quantity_problem(quantity, rule)
    assert (problem[0] if problem else None) == code


def test_break_price_takes_the_highest_break_not_above_the_quantity() -> None:
    breaks = [(120, D("0.7225")), (1, D("0.76")), (240, D("0.70"))]
    assert storefront.break_price(breaks, 1) == D("0.76")
    assert storefront.break_price(breaks, 119) == D("0.76")
    assert storefront.break_price(breaks, 120) == D("0.7225")
    assert storefront.break_price(breaks, 10_000) == D("0.70")
    assert storefront.break_price([(10, D("1"))], 9) is None
    assert storefront.break_price([], 1) is None


def test_line_rounding_is_half_up_per_line() -> None:
    line = storefront.price_line("S", "n", 24, D("0.8833"), D("20"), "TRADE")
    assert (line.net, line.tax, line.gross) == (D("21.20"), D("4.24"), D("25.44"))  # 21.1992 → 21.20
    tie = storefront.price_line("S", "n", 1, D("0.125"), D("20"), None)
    assert (tie.net, tie.tax) == (D("0.13"), D("0.03"))  # 0.125 → 0.13, 0.026 → 0.03
    exempt = storefront.price_line("S", "n", 3, D("1.10"), D("0"), None)
    assert exempt.tax == D("0.00") and exempt.gross == D("3.30")


def test_discount_keeps_four_decimals() -> None:
    assert storefront.discounted(D("0.7225"), D("5")) == D("0.6864")  # 0.686375 → 0.6864
    assert storefront.discounted(D("1.00"), None) == D("1.00")


def test_on_account_needs_a_limit_and_headroom() -> None:
    assert storefront.on_account_problem(None, D("1")) is not None
    assert storefront.on_account_problem({"credit_limit": None, "balance": 0}, D("1")) is not None
    account = {"credit_limit": D("2000"), "balance": D("1500")}
    assert storefront.on_account_problem(account, D("500")) is None
    assert storefront.on_account_problem(account, D("500.01")) is not None
    assert storefront.credit_headroom(D("100"), D("250")) == D("0")  # over the limit: no headroom, not negative


def test_store_clock_is_strictly_increasing_with_microseconds(tmp_path: Path) -> None:
    db = Database(tmp_path / "clock.sqlite")
    stamps = [db.now() for _ in range(2000)]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert all(len(s) == len("2025-01-01T00:00:00.000000Z") and s.endswith("Z") for s in stamps)
    db.close()
