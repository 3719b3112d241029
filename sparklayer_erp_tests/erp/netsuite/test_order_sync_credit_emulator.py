"""The order sync on NetSuite when NetSuite refuses to enter a Pending Approval order on credit grounds: the
order is held with finance's credit exception (as with Tryton), not an operations "ERP refused"; the next
sweep after credit control releases the hold creates it once, and the follow-up approves it and closes the
exception."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sparklayer_erp.demo import demo_data
from sparklayer_erp.erp.netsuite.adapter import NetSuiteErp
from sparklayer_erp.ledger import Ledger, SyncState
from sparklayer_erp.orders.followup import OrderFollowup
from sparklayer_erp.orders.sync import OrderSync, fetch_requested
from sparklayer_erp_tests import fixtures_erp
from sparklayer_erp_tests.erp.netsuite.support import config_from_settings
from sparklayer_erp_tests.netsuite_fixtures import NetSuiteEmulator, netsuite, netsuite_emulator  # noqa: F401
from sparklayer_erp_tests.orders.shop import Shop

sandbox = fixtures_erp.sandbox
client = fixtures_erp.client
ON_HOLD = next(c.account_code for c in demo_data.CUSTOMERS if c.on_credit_hold)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    store = Ledger.from_url(f"sqlite:///{tmp_path}/ledger-{uuid.uuid4().hex[:6]}.sqlite")
    yield store
    store.close()


def test_a_held_customers_pending_order_raises_the_credit_hold_exception_then_goes_through(
        netsuite: NetSuiteEmulator, sandbox, client, ledger):  # noqa: F811
    with NetSuiteErp(config_from_settings(netsuite.settings("oauth2"))) as erp:
        shop = Shop(sandbox, client, erp, admin=None)  # type: ignore[arg-type]
        buyer = shop.demo(ON_HOLD)
        shop.link(ledger, buyer)
        pid = shop.place(buyer, [("SKU-NUTS-L", 12)], "on_account", po="PO-HELD")

        OrderSync(ledger, erp).run(fetch_requested(client, [pid], None))
        assert ledger.order_links_for([pid])[pid].sync_state == SyncState.QUARANTINED
        [held] = [e for e in ledger.open_exceptions() if e.entity_id == pid]
        assert held.kind == "credit_hold" and held.owner_team == "finance"
        assert erp.find_orders([pid]) == {}

        netsuite.set_credit_hold(ON_HOLD, "AUTO")
        try:
            OrderSync(ledger, erp).run(fetch_requested(client, [pid], None))
            assert ledger.order_links_for([pid])[pid].sync_state == SyncState.PENDING_APPROVAL
            # the credit exception stays until the follow-up approves the order, as with Tryton
            assert [e.kind for e in ledger.open_exceptions() if e.entity_id == pid] == ["credit_hold"]
            OrderFollowup(ledger, erp, client).approve()
        finally:
            netsuite.set_credit_hold(ON_HOLD, "ON")
        assert ledger.order_links_for([pid])[pid].sync_state == SyncState.COMMITTED
        assert not [e for e in ledger.open_exceptions() if e.entity_id == pid]
        assert len(erp.find_orders([pid])) == 1
