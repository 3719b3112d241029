"""Exceptions: one live row per problem, counted; a person's acceptance sticks; gone means resolved."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from sparklayer_erp.domain.models import OwnerTeam
from sparklayer_erp.ledger import ExceptionStatus, Ledger, LedgerError, NotFound
from sparklayer_erp_tests.ledger.conftest import Clock

KIND = "missing_customer_mapping"


def _raise(ledger: Ledger, entity_id: str, message: str = "No ERP account code", **kw) -> object:
    return ledger.raise_exception(
        kw.pop("kind", KIND),
        kw.pop("owner_team", OwnerTeam.SALES_OPERATIONS),
        kw.pop("entity_type", "customer"),
        entity_id,
        message,
        "Add the ERP account code to the SparkLayer customer",
        **kw,
    )


def test_first_raise_opens_a_row(ledger: Ledger, clock: Clock) -> None:
    row = _raise(ledger, "C-1", detail={"email": "buyer@example.com"})
    assert row.is_new and row.count == 1 and row.status == ExceptionStatus.OPEN
    assert row.first_seen == row.last_seen == clock.now
    assert row.owner_team == "sales_operations"
    assert row.detail == {"email": "buyer@example.com"}
    assert [r.id for r in ledger.open_exceptions()] == [row.id]


def test_re_raise_bumps_count_and_refreshes_text(ledger: Ledger, clock: Clock) -> None:
    first = _raise(ledger, "C-1", detail={"n": 1})
    clock.advance(minutes=3)
    again = _raise(ledger, "C-1", "Still no ERP account code", detail={"n": 2})
    assert again.id == first.id and not again.is_new
    assert again.count == 2
    assert again.first_seen == first.first_seen and again.last_seen == clock.now
    assert (again.message, again.detail) == ("Still no ERP account code", {"n": 2})
    assert len(ledger.open_exceptions(KIND)) == 1


def test_one_live_row_per_kind_and_entity(ledger: Ledger) -> None:
    a = _raise(ledger, "C-1")
    b = _raise(ledger, "C-2")
    c = _raise(ledger, "C-1", kind="credit_hold_conflict", owner_team=OwnerTeam.FINANCE)
    d = _raise(ledger, "C-1", entity_type="order")
    assert len({a.id, b.id, c.id, d.id}) == 4
    assert {r.id for r in ledger.open_exceptions(owner_team="finance")} == {c.id}
    assert {r.id for r in ledger.open_exceptions(kind=KIND)} == {a.id, b.id, d.id}


def test_accepted_stays_accepted_when_raised_again(ledger: Ledger, clock: Clock) -> None:
    row = _raise(ledger, "C-1")
    clock.advance(hours=1)
    accepted = ledger.accept(row.id, "Guest account on purpose; no ERP account needed", by="anna@finance")
    assert accepted.status == ExceptionStatus.ACCEPTED
    assert (accepted.accepted_by, accepted.accepted_at) == ("anna@finance", clock.now)
    assert ledger.open_exceptions() == []

    clock.advance(hours=1)
    again = _raise(ledger, "C-1")
    assert again.id == row.id and not again.is_new
    assert again.status == ExceptionStatus.ACCEPTED and again.count == 2 and again.last_seen == clock.now
    assert again.accepted_reason == "Guest account on purpose; no ERP account needed"
    assert ledger.open_exceptions() == []
    assert [r.id for r in ledger.open_exceptions(include_accepted=True)] == [row.id]


def test_resolve_unseen_resolves_only_what_was_not_seen(ledger: Ledger, clock: Clock) -> None:
    kept = _raise(ledger, "C-1")
    gone = _raise(ledger, "C-2")
    kept_by_bare_id = _raise(ledger, "C-3")
    accepted_gone = _raise(ledger, "C-4")
    ledger.accept(accepted_gone.id, "known", by="ops")
    other_kind = _raise(ledger, "C-2", kind="unknown_sku", owner_team="ecommerce")

    clock.advance(minutes=10)
    resolved = ledger.resolve_unseen(KIND, {("customer", "C-1"), "C-3", ("order", "C-2")}, now=clock.now)
    assert resolved == 2  # C-2 (seen only as an *order*) and the accepted C-4

    by_id = {r.id: r for r in ledger.open_exceptions(include_accepted=True)}
    assert set(by_id) == {kept.id, kept_by_bare_id.id, other_kind.id}
    gone_now = ledger.get_exception(gone.id)
    assert gone_now is not None
    assert gone_now.status == ExceptionStatus.RESOLVED and gone_now.resolved_at == clock.now
    assert ledger.resolve_unseen(KIND, {("customer", "C-1"), "C-3"}) == 0  # nothing left to do
    assert ledger.resolve_unseen(KIND, set()) == 2


def test_resolved_then_seen_again_opens_a_new_row(ledger: Ledger, clock: Clock) -> None:
    old = _raise(ledger, "C-1")
    _raise(ledger, "C-1")
    clock.advance(days=1)
    assert ledger.resolve(KIND, "customer", "C-1") is True
    assert ledger.resolve(KIND, "customer", "C-1") is False
    clock.advance(days=1)
    new = _raise(ledger, "C-1")
    assert new.is_new and new.id != old.id and new.count == 1 and new.first_seen == clock.now
    history = ledger.get_exception(old.id)
    assert history is not None and history.status == "resolved" and history.count == 2


def test_accept_refusals(ledger: Ledger) -> None:
    row = _raise(ledger, "C-1")
    with pytest.raises(ValueError):
        ledger.accept(row.id, "   ", by="ops")
    ledger.resolve(KIND, "customer", "C-1")
    with pytest.raises(LedgerError, match="already resolved"):
        ledger.accept(row.id, "fine", by="ops")
    with pytest.raises(NotFound):
        ledger.accept(999_999, "fine", by="ops")
    with pytest.raises(ValueError):
        _raise(ledger, "C-9", owner_team="marketing")  # not a team that owns exceptions


def test_database_enforces_one_live_row(ledger: Ledger) -> None:
    """The partial unique index, not code, stops a second live row; resolved rows may repeat."""
    insert = sa.text(
        "INSERT INTO exceptions (kind, owner_team, entity_type, entity_id, message, action, first_seen,"
        " last_seen, count, status, resolved_at) VALUES ('k', 'finance', 'order', 'O-1', 'm', 'a',"
        " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1, :status, CURRENT_TIMESTAMP)"
    )
    with ledger.engine.begin() as conn:
        conn.execute(insert, {"status": "resolved"})
        conn.execute(insert, {"status": "resolved"})
        conn.execute(insert, {"status": "open"})
    for status in ("open", "accepted"):
        with pytest.raises(sa.exc.IntegrityError), ledger.engine.begin() as conn:
            conn.execute(insert, {"status": status})


def test_mark_alerted(ledger: Ledger, clock: Clock) -> None:
    a = _raise(ledger, "C-1")
    b = _raise(ledger, "C-2")
    assert a.alerted_at is None
    clock.advance(minutes=1)
    assert ledger.mark_alerted([a.id, a.id, 424242]) == 1
    rows = {r.id: r for r in ledger.open_exceptions()}
    assert rows[a.id].alerted_at == clock.now and rows[b.id].alerted_at is None


def test_secret_looking_detail_keys_are_masked(ledger: Ledger) -> None:
    row = _raise(ledger, "C-1", detail={"access_token": "tok-123", "nested": {"password": "pw"}, "n": 1})
    assert row.detail == {"access_token": "***", "nested": {"password": "***"}, "n": 1}


def test_concurrent_raises_count_every_sighting_once(ledger: Ledger) -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    workers, each = 4, 25
    barrier = threading.Barrier(workers)

    def raise_many() -> list[bool]:
        barrier.wait(timeout=30)
        return [_raise(ledger, "C-1").is_new for _ in range(each)]

    with ThreadPoolExecutor(workers) as pool:
        flags = [flag for f in [pool.submit(raise_many) for _ in range(workers)] for flag in f.result()]
    assert flags.count(True) == 1
    (row,) = ledger.open_exceptions()
    assert row.count == workers * each
