"""The exception catalogue: every kind has one owner, plain words, and templates that always render."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from sparklayer_erp.domain.exception_kinds import KINDS, MISSING_FACT, Entity, Flow, Problem, problem
from sparklayer_erp.domain.models import OwnerTeam

FIN, SALES, OPS, ECOM = OwnerTeam.FINANCE, OwnerTeam.SALES_OPERATIONS, OwnerTeam.OPERATIONS, OwnerTeam.ECOMMERCE
REQUIRED_OWNERS = {
    "missing_customer_link": SALES, "unknown_sku": ECOM, "not_whole_pack": ECOM, "price_mismatch": FIN,
    "credit_hold": FIN, "over_credit_limit": FIN, "cancel_after_point_of_no_return": OPS,
    "amend_after_point_of_no_return": OPS, "total_mismatch": FIN, "invalid_order": ECOM, "erp_refused": OPS,
    "customer_invalid": SALES, "price_invalid": FIN, "item_invalid": OPS, "stock_invalid": OPS,
    "pack_size_gap": ECOM, "mass_quarantine": OPS, "order_stuck": OPS, "erp_order_orphaned": OPS,
    "status_mismatch": OPS, "amount_mismatch": FIN, "draft_order_stock_not_held": OPS,
    "customer_without_account_code": SALES, "sku_unknown_to_erp": ECOM, "item_without_price": FIN,
    "stale_sync": OPS, "paid_in_shop_unpaid_in_erp": FIN,
    "unknown_currency": FIN,
    "refund_not_credited": FIN, "return_not_credited": OPS, "refund_needs_review": FIN,
}
ENGINEER_WORDS = re.compile(r"\b(None|null|Traceback|stack trace|JSON|HTTP|API|cursor|sensor|asset|float)\b")


@pytest.mark.parametrize(("code", "owner"), sorted(REQUIRED_OWNERS.items()))
def test_every_required_kind_exists_with_its_owner(code, owner):
    assert KINDS[code].owner is owner
    assert KINDS[code].code == code


def test_catalogue_has_nothing_unowned():
    assert set(KINDS) == set(REQUIRED_OWNERS)  # a new kind must be added to this test with its owner


@pytest.mark.parametrize("code", sorted(REQUIRED_OWNERS))
def test_each_kind_renders_in_plain_words_from_its_declared_facts(code):
    spec = KINDS[code]
    assert spec.title and spec.message and spec.action
    assert spec.facts, "every message names at least the thing it is about"
    p = problem(code, spec.entity_type, "E-1", **{name: f"<{name}>" for name in spec.facts})
    for text in (p.message, p.action):
        assert "{" not in text and "}" not in text
        assert MISSING_FACT not in text
        assert not ENGINEER_WORDS.search(text), text
    for name in spec.facts:
        assert f"<{name}>" in p.message + p.action
    assert p.owner_team is spec.owner and p.kind == code


def test_problem_fills_templates_shows_amounts_for_people_and_keeps_them_exact_in_detail():
    p = problem("over_credit_limit", Entity.ORDER, "p-9", order="p-9 (PO 55)", account_code="C1001",
                open_balance=Decimal("1800"), order_total=Decimal("1234.5"), credit_limit=Decimal("3000"),
                excess=Decimal("34.50"))
    assert p.message == ("Order p-9 (PO 55) for account C1001 cannot be approved: the open balance 1,800.00 "
                         "plus this order 1,234.50 is over the credit limit 3,000.00 by 34.50. Nothing has been "
                         "invoiced.")
    assert p.owner_team is OwnerTeam.FINANCE
    assert (p.entity_type, p.entity_id) == ("order", "p-9")
    assert p.key == ("over_credit_limit", "order", "p-9")
    assert p.detail["order_total"] == "1234.5"
    json.dumps(p.detail)


def test_missing_fact_never_loses_the_problem():
    p = problem("unknown_sku", Entity.ORDER, "p-1", order="p-1")
    assert MISSING_FACT in p.message
    assert p.kind == "unknown_sku"


def test_list_facts_read_as_a_list():
    p = problem("not_whole_pack", "order", "p-1", order="p-1", lines=["A: 30 units", "B: 5 units"])
    assert "A: 30 units; B: 5 units" in p.message
    assert p.detail["lines"] == ["A: 30 units", "B: 5 units"]


def test_a_fact_that_is_not_plain_data_still_gives_a_problem():
    p = problem("invalid_order", "order", "p-1", order="p-1", reason=0.5)
    assert p.detail == {"order": "p-1", "reason": "0.5"}
    assert isinstance(p, Problem)


def test_unknown_kind_is_a_programming_error():
    with pytest.raises(KeyError):
        problem("no_such_kind", "order", "x")


def test_declared_facts_are_what_templates_use():
    assert KINDS["over_credit_limit"].facts == ("order", "account_code", "open_balance", "order_total",
                                                "credit_limit", "excess")
    assert "erp_order" in KINDS["cancel_after_point_of_no_return"].facts


def test_orders_held_say_not_to_rekey_them_where_that_is_the_risk():
    for code in ("missing_customer_link", "price_mismatch", "total_mismatch", "erp_refused", "order_stuck"):
        assert "by hand" in KINDS[code].action


def test_every_kind_names_the_flow_that_raises_it():
    by_flow = {flow: {code for code, kind in KINDS.items() if kind.flow is flow} for flow in Flow}
    assert {"missing_customer_link", "credit_hold", "cancel_after_point_of_no_return"} <= by_flow[Flow.ORDERS]
    assert {"customer_invalid", "price_invalid", "mass_quarantine"} <= by_flow[Flow.MASTER_DATA]
    assert {"order_stuck", "amount_mismatch", "stale_sync"} <= by_flow[Flow.MONITORING]
    assert sum(len(codes) for codes in by_flow.values()) == len(KINDS)
