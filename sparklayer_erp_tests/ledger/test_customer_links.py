"""Customer links: ERP account ⇄ SparkLayer customer, one-to-one, enforced by the database."""

from __future__ import annotations

import pytest

from sparklayer_erp.ledger import Ledger, LedgerConflict
from sparklayer_erp_tests.ledger.conftest import Clock


def test_upsert_and_lookups(ledger: Ledger, clock: Clock) -> None:
    made = ledger.upsert_customer_link("ACC-1", "sl-cust-1", "shopify-9", "buyer@acme.test")
    assert made.created_at == made.updated_at == clock.now
    assert ledger.customer_link_by_account_code("ACC-1") == made
    assert ledger.customer_link_by_sparklayer_id("sl-cust-1") == made
    assert ledger.customer_link_by_sparklayer_id("sl-nope") is None

    clock.advance(hours=1)
    changed = ledger.upsert_customer_link("ACC-1", "sl-cust-1", None, "ap@acme.test")
    assert (changed.email, changed.platform_customer_id) == ("ap@acme.test", None)
    assert changed.created_at == made.created_at and changed.updated_at == clock.now

    ledger.upsert_customer_link("ACC-0", None)
    assert [c.account_code for c in ledger.customer_links()] == ["ACC-0", "ACC-1"]


def test_sparklayer_customer_cannot_map_to_two_accounts(ledger: Ledger) -> None:
    ledger.upsert_customer_link("ACC-1", "sl-cust-1")
    with pytest.raises(LedgerConflict, match="sl-cust-1"):
        ledger.upsert_customer_link("ACC-2", "sl-cust-1")
    assert ledger.customer_link_by_account_code("ACC-2") is None
    ledger.upsert_customer_link("ACC-2", None)  # several accounts may be not-yet-linked
    ledger.upsert_customer_link("ACC-3", None)
    assert len(ledger.customer_links()) == 3
