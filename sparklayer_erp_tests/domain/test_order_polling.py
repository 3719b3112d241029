import datetime as dt

from sparklayer_erp.domain.order_polling import (
    PollCursor,
    SeenPurchase,
    plan_tick,
    run_key_for,
    split_new_and_changes,
    window_start,
)

T0 = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)


def seen(pid: str, seconds: float) -> SeenPurchase:
    return SeenPurchase(T0 + dt.timedelta(seconds=seconds), pid)


def test_first_tick_requests_everything_new_and_sets_the_high_water_mark():
    plan = plan_tick(PollCursor(), [seen("a", 1), seen("b", 2)], {}, max_batch=10, overlap_s=60,
                     more_rows_exist=False)
    assert plan.purchase_ids == ["a", "b"]
    assert plan.cursor.high_water == T0 + dt.timedelta(seconds=2)
    assert plan.run_key and plan.run_key.startswith("orders-")


def test_overlap_rereads_do_not_request_the_same_version_twice():
    first = plan_tick(PollCursor(), [seen("a", 1)], {}, max_batch=10, overlap_s=60, more_rows_exist=False)
    # next tick re-reads "a" (inside the overlap) before its run has written the ledger
    second = plan_tick(first.cursor, [seen("a", 1), seen("b", 5)], {}, max_batch=10, overlap_s=60,
                       more_rows_exist=False)
    assert second.purchase_ids == ["b"]


def test_a_changed_purchase_is_requested_again():
    first = plan_tick(PollCursor(), [seen("a", 1)], {}, max_batch=10, overlap_s=60, more_rows_exist=False)
    second = plan_tick(first.cursor, [seen("a", 30)], {"a": T0 + dt.timedelta(seconds=1)}, max_batch=10,
                       overlap_s=60, more_rows_exist=False)
    assert second.purchase_ids == ["a"]


def test_versions_already_applied_in_the_ledger_are_skipped():
    plan = plan_tick(PollCursor(), [seen("a", 1), seen("b", 2)], {"a": T0 + dt.timedelta(seconds=1)},
                     max_batch=10, overlap_s=60, more_rows_exist=False)
    assert plan.purchase_ids == ["b"]


def test_nothing_to_do_gives_no_run_key_but_still_advances():
    plan = plan_tick(PollCursor(), [seen("a", 1)], {"a": T0 + dt.timedelta(seconds=1)}, max_batch=10,
                     overlap_s=60, more_rows_exist=False)
    assert plan.run_key is None and plan.batch == ()
    assert plan.cursor.high_water == T0 + dt.timedelta(seconds=1)


def test_backlog_drains_over_several_ticks_without_skipping():
    rows = [seen(f"p{i:03d}", i) for i in range(25)]
    cursor, got = PollCursor(), []
    for _ in range(10):
        start = window_start(cursor, now=T0, overlap_s=5, first_lookback_s=3600)
        page = [r for r in rows if r.last_updated >= start]
        plan = plan_tick(cursor, page, {}, max_batch=10, overlap_s=5, more_rows_exist=False)
        got += plan.purchase_ids
        cursor = plan.cursor
    assert got == [r.purchase_id for r in rows]


def test_high_water_does_not_pass_unexamined_rows_when_the_read_was_bounded():
    plan = plan_tick(PollCursor(), [seen("a", 1), seen("b", 2)], {}, max_batch=1, overlap_s=0,
                     more_rows_exist=True)
    assert plan.purchase_ids == ["a"]
    assert plan.cursor.high_water == T0 + dt.timedelta(seconds=1)


def test_run_key_is_deterministic_and_order_independent():
    a, b = seen("a", 1), seen("b", 2)
    assert run_key_for([a, b]) == run_key_for([b, a])
    assert run_key_for([a]) != run_key_for([seen("a", 3)])


def test_cursor_round_trips_through_json_and_prunes_old_requests():
    plan = plan_tick(PollCursor(), [seen("a", 1), seen("b", 500)], {}, max_batch=10, overlap_s=60,
                     more_rows_exist=False)
    assert "a" not in plan.cursor.requested  # far behind the window: the ledger covers it
    assert PollCursor.from_json(plan.cursor.to_json()) == plan.cursor
    assert PollCursor.from_json(None) == PollCursor()


def test_first_window_uses_the_lookback():
    assert window_start(PollCursor(), now=T0, overlap_s=60, first_lookback_s=3600) == T0 - dt.timedelta(hours=1)
    cursor = PollCursor(high_water=T0)
    assert window_start(cursor, now=T0, overlap_s=60, first_lookback_s=3600) == T0 - dt.timedelta(minutes=1)


def test_new_orders_and_changes_to_erp_orders_are_split_into_their_own_batches():
    plan = plan_tick(PollCursor(), [seen("new1", 1), seen("echo", 2), seen("new2", 3)], {}, max_batch=10,
                     overlap_s=60, more_rows_exist=False)
    new, changes = split_new_and_changes(plan, {"echo", "not-in-this-batch"})
    assert (new.purchase_ids, changes.purchase_ids) == (["new1", "new2"], ["echo"])
    assert new.cursor == changes.cursor == plan.cursor  # one tick, one cursor
    assert len({new.run_key, changes.run_key, plan.run_key}) == 3  # each batch its own deterministic key
    assert new.run_key == run_key_for(new.batch)
    only_new, none = split_new_and_changes(plan, [])
    assert none is None and only_new.purchase_ids == plan.purchase_ids and only_new.run_key == plan.run_key
    assert split_new_and_changes(plan, ["new1", "echo", "new2"])[0] is None
