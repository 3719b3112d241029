"""The ledger's batch writes the order sync uses (one commit per batch), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from sparklayer_erp.ledger import AuditOutcome, AuditSystem, Ledger, SyncState
from sparklayer_erp_tests.pg import require_server, temporary_database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[Ledger]:
    if request.param == "sqlite":
        with Ledger.from_url(f"sqlite:///{tmp_path / 'ledger.sqlite'}") as ledger:
            yield ledger
        return
    with temporary_database("sle_orders", require_server()) as url, \
            Ledger.from_url(url.render_as_string(hide_password=False)) as ledger:
        yield ledger


def test_claim_orders_inserts_each_purchase_once_and_says_which(store: Ledger):
    first = store.claim_orders([{"purchase_id": p, "account_code": "C1001", "payment_method": "invoice",
                                 "total": Decimal("12.50"), "currency": "GBP"} for p in ("a", "b")])
    second = store.claim_orders([{"purchase_id": p, "payment_method": "on_account"} for p in ("b", "c")])

    assert first == {"a", "b"} and second == {"c"}  # "b" was already claimed: left exactly as it was
    b = store.get_order_link("b")
    assert (b.payment_method, b.total, b.sync_state) == ("invoice", Decimal("12.50"), SyncState.CLAIMED)


def test_update_order_links_and_audit_many_write_a_batch(store: Ledger):
    store.claim_orders([{"purchase_id": p, "payment_method": "invoice"} for p in ("a", "b")])

    updated = store.update_order_links({"a": {"erp_order_id": 7, "sync_state": SyncState.COMMITTED},
                                        "b": {"erp_order_number": "SO-2"}, "missing": {"erp_order_id": 9}})
    written = store.audit_many([(AuditSystem.ERP, "create_order", "a", {"lines": 1}, AuditOutcome.OK, {"n": 1}),
                                (AuditSystem.ERP, "create_order", "b", None, AuditOutcome.REFUSED, None)])

    assert updated == 2
    assert (store.get_order_link("a").erp_order_id, store.get_order_link("a").sync_state) == (7, "committed")
    assert store.get_order_link("b").erp_order_number == "SO-2"
    assert written == 2
    assert [(e.key, e.outcome, e.request_digest is None) for e in store.audit_entries(operation="create_order")] == [
        ("a", "ok", False), ("b", "refused", True)]
    with pytest.raises(TypeError):
        store.update_order_links({"a": {"purchase_id": "z"}})
