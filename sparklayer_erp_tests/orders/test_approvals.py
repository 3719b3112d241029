"""Pay-on-account approval: the integration's credit check, the ERP's own check, and a person in the ERP."""

from __future__ import annotations

from decimal import Decimal

from sparklayer_erp.domain.models import ErpOrderState
from sparklayer_erp.ledger import ExceptionStatus, SyncState
from sparklayer_erp.orders.followup import OrderFollowup
from sparklayer_erp.orders.sync import OrderSync, Outcome, fetch_requested
from sparklayer_erp_tests.erp import warehouse
from sparklayer_erp_tests.orders.shop import Buyer, Shop, rounding_agrees

SKU = "SKU-OJ-S"  # sold by the unit


def _units_worth(shop: Shop, buyer: Buyer, net: Decimal) -> int:
    """A quantity whose order is worth about ``net`` before tax, rounded alike by the ERP and the shop."""
    price = shop.erp_unit_price(buyer.account_code, SKU, 1)
    quantity = int(net / price)
    while not rounding_agrees([(price, quantity)]):
        quantity += 1
    return quantity


def _sync(ledger, erp, client, pids):
    return {r.purchase_id: r for r in OrderSync(ledger, erp).run(fetch_requested(client, pids, None)).results}


def test_integration_approves_within_the_limit_holds_over_it_and_a_person_can_approve(
        shop: Shop, ledger, erp, client, operator):
    buyer = shop.new_customer(credit_limit=Decimal("200"))
    shop.link(ledger, buyer)
    quantity = _units_worth(shop, buyer, Decimal("100"))  # ~120 with VAT: one order fits the limit, two do not
    first = shop.place(buyer, [(SKU, quantity)], "on_account", po="PO-FITS")
    second = shop.place(buyer, [(SKU, quantity)], "on_account", po="PO-OVER")
    created = _sync(ledger, erp, client, [first, second])
    assert {r.outcome for r in created.values()} == {Outcome.PENDING_APPROVAL}

    followup = OrderFollowup(ledger, erp, client)
    steps = {s.purchase_id: s for s in followup.approve().steps}

    assert steps[first].outcome == "approved"
    assert steps[second].outcome == "held for finance"
    links = ledger.order_links_for([first, second])
    statuses = {s.purchase_id: s for s in erp.order_status([link.erp_order_id for link in links.values()])}
    assert statuses[first].state is ErpOrderState.COMMITTED
    assert statuses[second].state is ErpOrderState.PENDING_APPROVAL  # no ledger impact
    (held,) = ledger.open_exceptions(kind="over_credit_limit")
    assert held.entity_id == second and held.owner_team == "finance"
    assert "PO-OVER" in held.message and "200.00" in held.message
    # the open balance counts the order approved a moment ago in the same run
    assert Decimal(held.detail["open_balance"]) == statuses[first].total
    followup.write_back_status()
    assert shop.purchase(second).status == "on_hold"
    assert shop.purchase(first).status == "processing"

    # finance decides: a person approves the held order in the ERP, over the credit warning
    assert warehouse.approve_as_person(operator, links[second].erp_order_id, override_credit_warning=True) in (
        "confirmed", "processing")
    steps = {s.purchase_id: s for s in followup.approve().steps}

    assert steps[second].outcome == "approved in ERP"
    assert ledger.get_order_link(second).sync_state == SyncState.COMMITTED
    assert ledger.get_exception(held.id).status == ExceptionStatus.RESOLVED
    followup.write_back_status()
    assert shop.purchase(second).status == "processing"
    assert shop.erp_order_count([first, second]) == {first: 1, second: 1}


def test_a_customer_on_credit_hold_is_not_approved(shop: Shop, ledger, erp, client):
    # C1007 is on hold in the ERP; this order was placed before the hold reached SparkLayer.
    on_hold = shop.demo("C1007")
    shop.link(ledger, on_hold)
    on_account = shop.place(on_hold, [("SKU-FLAP-L", 12)], "on_account", po="PO-HOLD-ACC")
    # A customer put on hold in the ERP who still pays by invoice: the ERP's own check refuses to commit.
    fresh = shop.new_customer(credit_limit=None, on_hold=True)
    shop.link(ledger, fresh)
    by_invoice = shop.place(fresh, [("SKU-FLAP-L", 12)], "invoice", po="PO-HOLD-INV")

    created = _sync(ledger, erp, client, [on_account, by_invoice])
    steps = {s.purchase_id: s for s in OrderFollowup(ledger, erp, client).approve().steps}

    assert created[on_account].outcome is Outcome.PENDING_APPROVAL
    assert created[by_invoice].outcome is Outcome.PENDING_APPROVAL  # created, but the ERP would not commit it
    assert created[by_invoice].exception_kinds == ("credit_hold",)
    assert steps[on_account].outcome == "held for finance"
    held = {e.entity_id: e for e in ledger.open_exceptions(kind="credit_hold")}
    assert set(held) == {on_account, by_invoice}
    assert all(e.owner_team == "finance" for e in held.values())
    links = ledger.order_links_for([on_account, by_invoice])
    assert {s.state for s in erp.order_status([link.erp_order_id for link in links.values()])} == {
        ErpOrderState.PENDING_APPROVAL}
