"""Order links: claiming a purchase is exactly-once, across threads and across processes."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from sparklayer_erp.domain.models import PaymentMethod
from sparklayer_erp.ledger import Ledger, NotFound, SyncState
from sparklayer_erp_tests.ledger import _workers
from sparklayer_erp_tests.ledger.conftest import Clock


def _row_count(ledger: Ledger) -> int:
    with ledger.engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM order_links")).scalar_one()


def test_claim_is_exactly_once_and_keeps_first_values(ledger: Ledger) -> None:
    assert ledger.claim_order("P-1", "ACC-1", PaymentMethod.ON_ACCOUNT, "hash-1") is True
    assert ledger.claim_order("P-1", "ACC-2", PaymentMethod.INVOICE, "hash-2") is False
    link = ledger.get_order_link("P-1")
    assert link is not None
    assert (link.account_code, link.payment_method, link.content_hash) == ("ACC-1", "on_account", "hash-1")
    assert link.sync_state == SyncState.CLAIMED
    assert link.erp_order_id is None
    assert _row_count(ledger) == 1
    assert ledger.get_order_link("P-unknown") is None


def test_database_itself_refuses_a_second_row(ledger: Ledger) -> None:
    ledger.claim_order("P-1", "ACC-1", "invoice", "h")
    with pytest.raises(sa.exc.IntegrityError), ledger.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO order_links (purchase_id, payment_method, sync_state, created_at, updated_at)"
                " VALUES ('P-1', 'invoice', 'claimed', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )


def test_update_order_link(ledger: Ledger, clock: Clock) -> None:
    ledger.claim_order("P-1", "ACC-1", "invoice", "h")
    created = ledger.get_order_link("P-1")
    clock.advance(minutes=5)
    link = ledger.update_order_link(
        "P-1", erp_order_id=41, erp_order_number="SO-0041", sync_state=SyncState.COMMITTED
    )
    assert (link.erp_order_id, link.erp_order_number, link.sync_state) == (41, "SO-0041", "committed")
    assert created is not None and link.created_at == created.created_at
    assert link.updated_at == clock.now
    assert ledger.get_order_link("P-1") == link

    with pytest.raises(TypeError, match="purchase_id"):
        ledger.update_order_link("P-1", purchase_id="P-2")
    with pytest.raises(NotFound):
        ledger.update_order_link("P-nope", sync_state="committed")


def test_listing_by_state_and_by_ids(ledger: Ledger, clock: Clock) -> None:
    for i, state in enumerate(["claimed", "committed", "quarantined", "committed"]):
        clock.advance(seconds=1)
        ledger.claim_order(f"P-{i}", "ACC-1", "invoice", "h", sync_state=state)
    assert [x.purchase_id for x in ledger.order_links()] == ["P-0", "P-1", "P-2", "P-3"]
    assert [x.purchase_id for x in ledger.order_links(["committed"])] == ["P-1", "P-3"]
    assert [x.purchase_id for x in ledger.order_links({SyncState.QUARANTINED, "claimed"})] == ["P-0", "P-2"]
    assert ledger.order_links([]) == []

    found = ledger.order_links_for(["P-3", "P-0", "P-missing"])
    assert set(found) == {"P-0", "P-3"}
    assert found["P-3"].sync_state == "committed"
    many = ledger.order_links_for([f"P-{i}" for i in range(1200)])  # more than one IN chunk
    assert set(many) == {"P-0", "P-1", "P-2", "P-3"}


def test_two_threads_claiming_the_same_purchases(ledger: Ledger) -> None:
    ids = [f"P-{i}" for i in range(150)]
    workers = 4
    barrier = threading.Barrier(workers)

    def claim_all() -> list[str]:
        barrier.wait(timeout=30)
        return [pid for pid in ids if ledger.claim_order(pid, "ACC-1", "invoice", "h")]

    with ThreadPoolExecutor(workers) as pool:
        results = [f.result() for f in [pool.submit(claim_all) for _ in range(workers)]]
    winners = [pid for wins in results for pid in wins]
    assert sorted(winners) == sorted(ids)  # every id won exactly once
    assert _row_count(ledger) == len(ids)


def test_two_processes_claiming_the_same_purchases(empty_url: str) -> None:
    """Two spawned processes open an *unmigrated* database at once (racing the migration), then race
    to claim the same ids. The unique constraint must let exactly one of them win each id."""
    ids = [f"P-{i}" for i in range(200)]
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    procs = [ctx.Process(target=_workers.claim_all, args=(empty_url, ids, barrier, results)) for _ in range(2)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert all(kind == "ok" for kind, _ in outcomes), outcomes
    first, second = (set(wins) for _, wins in outcomes)
    assert first.isdisjoint(second)
    assert first | second == set(ids)
    with Ledger(empty_url) as ledger:
        assert _row_count(ledger) == len(ids)
        assert len(ledger.order_links()) == len(ids)
