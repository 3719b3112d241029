"""The NetSuite adapter against the NetSuite emulator: what is specific to NetSuite (auth flavours, token
expiry, governance, lost answers, status letters, units, currencies, credit preferences). Port behaviour
shared with every adapter is in the contract suite."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest

from sparklayer_erp.demo import demo_data
from sparklayer_erp.domain.models import (
    ErpOrderDraft,
    ErpOrderLine,
    ErpOrderState,
    PaymentMethod,
    RefusalReason,
)
from sparklayer_erp.erp.netsuite.adapter import NetSuiteErp
from sparklayer_erp_tests.erp.netsuite.support import config_from_settings
from sparklayer_erp_tests.netsuite_fixtures import NetSuiteEmulator, netsuite, netsuite_emulator  # noqa: F401

CASE = "Case of 12"
SKU = "SKU-COLA-L"  # sold in cases of 12


@pytest.fixture
def erp(netsuite: NetSuiteEmulator) -> Iterator[NetSuiteErp]:  # noqa: F811
    with NetSuiteErp(config_from_settings(netsuite.settings("oauth2"))) as adapter:
        yield adapter


def _pid() -> str:
    return f"T-{uuid.uuid4().hex[:12]}"


def _draft(account: str = "C1002", commit: bool = False, cases: int = 2, currency: str = "GBP",
           price: str = "8.64", pid: str | None = None) -> ErpOrderDraft:
    return ErpOrderDraft(
        purchase_id=pid or _pid(), account_code=account, po_number="PO-77",
        payment_method=PaymentMethod.INVOICE if commit else PaymentMethod.ON_ACCOUNT,
        lines=(ErpOrderLine(sku=SKU, quantity=Decimal(cases), unit=CASE, unit_price=Decimal(price)),),
        commit=commit, currency=currency,
    )


def _orders_with_external_id(netsuite: NetSuiteEmulator, pid: str) -> int:  # noqa: F811
    rows = netsuite.staff.suiteql("SELECT t.id FROM transaction t WHERE t.externalid = ?", [pid])
    return len(rows)


@pytest.mark.parametrize("auth", ["oauth2", "tba"])
def test_both_auth_flavours_read_customers_with_credit_status(netsuite, auth):  # noqa: F811
    with NetSuiteErp(config_from_settings(netsuite.settings(auth))) as adapter:
        customers = {c.account_code: c for c in adapter.list_customers()}
        [written] = adapter.create_orders([_draft()])  # a signed write with a JSON body and query parameters
        assert adapter.find_orders([written.purchase_id])[written.purchase_id].erp_id == written.order.erp_id
    assert set(customers) >= {c.account_code for c in demo_data.CUSTOMERS}
    hold = customers["C1007"]
    assert hold.on_credit_hold and not customers["C1002"].on_credit_hold
    expected = demo_data.customer_by_code("C1002")
    assert customers["C1002"].credit_limit == expected.credit_limit
    assert customers["C1002"].payment_terms == expected.payment_terms
    assert customers["C1002"].price_level == expected.price_level
    assert customers["C1001"].contract_price_list == "CONTRACT-C1001"
    euro = demo_data.EURO_CUSTOMER
    assert customers[euro.account_code].currency == "EUR"
    assert customers[euro.account_code].price_level == euro.price_level


def test_expired_token_is_replaced_without_failing_the_call(netsuite, erp):  # noqa: F811
    erp.find_orders(["nothing-here"])
    netsuite.expire_tokens()
    assert erp.find_orders(["still-nothing"]) == {}
    assert erp.http.stats["token_fetches"] == 2


def test_items_units_and_stock_follow_the_demo_company(erp):
    items = {i.sku: i for i in erp.list_items()}
    for product in demo_data.PRODUCTS:
        item = items[product.sku]
        assert item.sale_unit.factor == product.pack_size
        assert item.list_price == product.list_price
    stock = {(s.sku, s.warehouse_code): s for s in erp.list_stock()}
    product = demo_data.product_by_sku("SKU-FLAP-X")  # no test orders it
    for code, _name in demo_data.WAREHOUSES:
        assert stock[(product.sku, code)].on_hand == product.stock[code]
    assert erp.default_warehouse_code() in {code for code, _ in demo_data.WAREHOUSES}


def test_customer_prices_use_contract_level_breaks_units_and_currency(erp):
    contract_customer = demo_data.customer_by_code("C1001")
    contract_sku, contract_price = sorted(contract_customer.contract_prices.items())[0]
    level_customer = demo_data.customer_by_code("C1002")
    level = demo_data.level_by_code(level_customer.price_level)
    product = demo_data.product_by_sku(SKU)
    euro = demo_data.EURO_CUSTOMER
    keys = [
        ("C1001", contract_sku, Decimal(1), erp_unit(erp, contract_sku)),
        ("C1002", SKU, Decimal(1), CASE),  # 12 units: below the level's volume break
        ("C1002", SKU, Decimal(level.volume_break_units // 12 + 1), CASE),  # above it
        ("C1002", SKU, Decimal(1), "Pallet"),  # a unit the item does not have
        ("C9999", SKU, Decimal(1), CASE),
        (euro.account_code, SKU, Decimal(1), CASE),
    ]
    prices = erp.customer_prices(keys)
    factor = demo_data.product_by_sku(contract_sku).pack_size
    assert prices[keys[0]] == contract_price * factor
    assert prices[keys[1]] == (product.list_price * level.factor).quantize(Decimal("0.0001")) * 12
    assert prices[keys[2]] == (product.list_price * level.volume_factor).quantize(Decimal("0.0001")) * 12
    assert prices[keys[2]] < prices[keys[1]]
    assert prices[keys[3]] is None and prices[keys[4]] is None
    euro_level = demo_data.level_by_code(euro.price_level)
    rate = demo_data.FOREIGN_CURRENCIES[0].rate
    assert prices[keys[5]] == (product.list_price * euro_level.factor * rate).quantize(Decimal("0.0001")) * 12
    lists = {pl.code: pl for pl in erp.list_price_lists()}
    assert lists["TRADE-EUR"].currency == "EUR" and lists["TRADE"].currency == "GBP"


def erp_unit(erp: NetSuiteErp, sku: str) -> str:
    return next(i.sale_unit.name for i in erp.list_items() if i.sku == sku)


def test_order_is_written_once_even_when_the_answer_is_lost(netsuite, erp):  # noqa: F811
    draft = _draft(commit=True)
    netsuite.set_faults(drop_after_commit_next=1)
    [result] = erp.create_orders([draft])
    assert result.order is not None and result.refusal is None
    assert result.order.state is ErpOrderState.COMMITTED
    assert netsuite.emulator.faults.injected["drop_after_commit"] == 1  # the first answer really was lost
    assert _orders_with_external_id(netsuite, draft.purchase_id) == 1
    [again] = erp.create_orders([draft])
    assert again.already_existed and again.order.erp_id == result.order.erp_id
    assert _orders_with_external_id(netsuite, draft.purchase_id) == 1


def test_429_storm_is_ridden_out_with_backoff(netsuite, erp):  # noqa: F811
    netsuite.set_faults(rate_limit_next=3)
    draft = _draft()
    [result] = erp.create_orders([draft])
    assert result.order is not None
    assert netsuite.emulator.faults.injected["rate_limit"] == 3
    assert erp.http.stats["retries"] >= 3
    assert _orders_with_external_id(netsuite, draft.purchase_id) == 1


def test_concurrency_cap_keeps_parallel_reads_under_the_account_limit(netsuite):  # noqa: F811
    netsuite.set_faults(concurrency_limit=2, latency_ms=20)
    config = config_from_settings(netsuite.settings("oauth2"), concurrency=2)
    with NetSuiteErp(config) as adapter:
        customers = adapter.list_customers()  # one REST read per customer, on the worker pool
        assert len(customers) >= len(demo_data.CUSTOMERS)
        assert adapter.http.stats["retries"] == 0


def test_status_letters_lines_fulfilment_tracking_invoice_and_payment(netsuite, erp):  # noqa: F811
    draft = _draft(commit=True, cases=3)
    [result] = erp.create_orders([draft])
    order_id = result.order.erp_id
    [fresh] = erp.order_status([order_id])
    assert fresh.state is ErpOrderState.COMMITTED and not fresh.point_of_no_return
    assert fresh.lines[0].quantity == 3 and fresh.lines[0].unit == CASE
    assert fresh.lines[0].unit_price == Decimal("8.64")
    assert fresh.po_number == "PO-77" and fresh.purchase_id == draft.purchase_id
    assert fresh.account_code == "C1002" and fresh.warehouse_code == erp.default_warehouse_code()
    netsuite.ship(order_id, tracking=("1ZA", "1ZB"))
    netsuite.invoice(order_id)
    [billed] = erp.order_status([order_id])
    assert billed.point_of_no_return and billed.state is ErpOrderState.COMMITTED  # billed, not paid
    assert billed.shipments[0].state == "done" and set(billed.shipments[0].tracking_number.split(", ")) == {
        "1ZA", "1ZB"}
    assert billed.shipments[0].lines[0].quantity == 3
    invoice = billed.invoices[0]
    assert invoice.state == "posted" and invoice.amount_due == invoice.total == billed.total
    paid = erp.record_payment(order_id, invoice.amount_due, dt.date.today(), "pi_card_1")
    assert paid.ok
    again = erp.record_payment(order_id, invoice.amount_due, dt.date.today(), "pi_card_1")
    assert again.ok and again.detail.get("already")
    [done] = erp.order_status([order_id])
    assert done.state is ErpOrderState.DONE
    assert [p.reference for p in done.payments] == ["pi_card_1"]
    assert done.invoices[0].amount_due == 0
    assert erp.cancel_order(order_id).refusal.reason is RefusalReason.POINT_OF_NO_RETURN


def test_payment_before_billing_waits_and_overpayment_is_refused(netsuite, erp):  # noqa: F811
    [result] = erp.create_orders([_draft(commit=True)])
    order_id = result.order.erp_id
    early = erp.record_payment(order_id, Decimal("1"), dt.date.today(), "pi_early")
    assert early.refusal.reason is RefusalReason.INVALID_STATE
    netsuite.ship(order_id)
    netsuite.invoice(order_id)
    [status] = erp.order_status([order_id])
    too_much = erp.record_payment(order_id, status.invoices[0].amount_due + 1, dt.date.today(), "pi_big")
    assert not too_much.ok and too_much.refusal.reason is RefusalReason.OTHER


def test_pending_order_approve_cancel_and_amend(erp):
    [pending] = erp.create_orders([_draft(commit=False)])
    assert pending.order.state is ErpOrderState.PENDING_APPROVAL
    amended = erp.amend_order(pending.order.erp_id, [
        ErpOrderLine(sku=SKU, quantity=Decimal(1), unit=CASE, unit_price=Decimal("8.64")),
        ErpOrderLine(sku="SKU-WATER-S", quantity=Decimal(5), unit="Each", unit_price=Decimal("0.45")),
    ])
    assert amended.ok
    [status] = erp.order_status([pending.order.erp_id])
    assert sorted((ln.sku, ln.quantity) for ln in status.lines) == [(SKU, 1), ("SKU-WATER-S", 5)]
    assert erp.approve_order(pending.order.erp_id).ok
    assert erp.approve_order(pending.order.erp_id).detail.get("already")
    cancelled = erp.cancel_order(pending.order.erp_id)
    assert cancelled.ok
    [after] = erp.order_status([pending.order.erp_id])
    assert after.state is ErpOrderState.CANCELLED
    assert all(ln.cancelled_quantity == ln.quantity for ln in after.lines)
    assert erp.cancel_order(pending.order.erp_id).detail.get("already")
    assert erp.approve_order(pending.order.erp_id).refusal.reason is RefusalReason.ALREADY_CANCELLED


def test_committed_order_refused_for_credit_is_kept_pending_with_the_refusal(netsuite, erp):  # noqa: F811
    netsuite.staff.set_preferences(credit_check_on_pending_create=False)
    [result] = erp.create_orders([_draft(account="C1007", commit=True)])
    assert result.refusal.reason is RefusalReason.CREDIT_HOLD
    assert result.order is not None and result.order.state is ErpOrderState.PENDING_APPROVAL
    refused = erp.approve_order(result.order.erp_id)
    assert refused.refusal.reason is RefusalReason.CREDIT_HOLD


def test_hold_set_after_ordering_refuses_approval(netsuite, erp):  # noqa: F811
    [pending] = erp.create_orders([_draft(account="C1003", commit=False)])
    netsuite.set_credit_hold("C1003", "ON")
    try:
        refused = erp.approve_order(pending.order.erp_id)
    finally:
        netsuite.set_credit_hold("C1003", "AUTO")
    assert not refused.ok and refused.refusal.reason is RefusalReason.CREDIT_HOLD
    [status] = erp.order_status([pending.order.erp_id])
    assert status.state is ErpOrderState.PENDING_APPROVAL
    assert erp.approve_order(pending.order.erp_id).ok


def test_order_in_the_customers_foreign_currency(erp):
    euro = demo_data.EURO_CUSTOMER
    [result] = erp.create_orders([_draft(account=euro.account_code, currency="EUR", price="10.00")])
    assert result.order is not None, result.refusal
    [status] = erp.order_status([result.order.erp_id])
    assert status.currency == "EUR"
    [unknown] = erp.create_orders([_draft(currency="USD")])
    assert unknown.order is None and unknown.refusal.reason is RefusalReason.UNKNOWN_CURRENCY


def test_orders_between_uses_the_order_date(erp):
    [result] = erp.create_orders([_draft()])
    today = dt.date.today()
    between = {s.erp_id for s in erp.list_orders_between(today, today + dt.timedelta(days=1))}
    assert result.order.erp_id in between
    before = {s.erp_id for s in erp.list_orders_between(today - dt.timedelta(days=1), today)}
    assert result.order.erp_id not in before


def test_a_batch_cannot_slip_past_the_credit_limit_and_the_refusal_is_typed_limit(netsuite, erp):  # noqa: F811
    code = "C1004"
    exposure = next(c for c in erp.list_customers() if c.account_code == code).open_balance
    netsuite.staff.set_preferences(credit_check_on_pending_create=False)
    netsuite.staff.set_credit_limit(code, float(exposure + 30))  # room for one order of 20.74, not two
    drafts = [_draft(account=code, commit=True), _draft(account=code, commit=True)]
    try:
        first, second = erp.create_orders(drafts)
        later = erp.approve_order(second.order.erp_id)
        [rerun] = erp.create_orders(drafts[1:])  # a re-run answers as the first run did
    finally:
        netsuite.staff.set_credit_limit(code, float(demo_data.customer_by_code(code).credit_limit))
    assert first.refusal is None and first.order.state is ErpOrderState.COMMITTED
    assert second.refusal.reason is RefusalReason.CREDIT_LIMIT
    assert second.order.state is ErpOrderState.PENDING_APPROVAL
    assert later.refusal.reason is RefusalReason.CREDIT_LIMIT
    assert rerun.already_existed and rerun.refusal.reason is RefusalReason.CREDIT_LIMIT
    assert rerun.order.erp_id == second.order.erp_id
    assert erp.approve_order(second.order.erp_id).ok  # the limit is back: approval goes through


def test_two_runs_creating_the_same_purchases_at_once_make_one_order_each(netsuite):  # noqa: F811
    import threading

    drafts = [_draft(commit=i % 2 == 0) for i in range(6)]
    results: list[list] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        with NetSuiteErp(config_from_settings(netsuite.settings("oauth2"))) as adapter:
            barrier.wait()
            results.append(adapter.create_orders(drafts))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2
    for draft, a, b in zip(drafts, *results, strict=True):
        assert a.order.erp_id == b.order.erp_id
        assert _orders_with_external_id(netsuite, draft.purchase_id) == 1
