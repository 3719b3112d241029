"""The order sensor: bounded ticks, deterministic run keys, a cursor that is never trusted alone."""

from __future__ import annotations

import threading
import time
import uuid

import dagster as dg
import pytest
from dagster._daemon.sensor import MIN_INTERVAL_LOOP_TIME

from sparklayer_erp.domain.order_polling import PollCursor
from sparklayer_erp.ledger import SyncState
from sparklayer_erp.orders.assets import NEW_ONLY, ORDER_STATE_KEY, WRITER_TAG
from sparklayer_erp.orders.definitions import ORDER_ASSETS, ORDER_JOBS, ORDER_SCHEDULES, ORDER_SENSORS
from sparklayer_erp.orders.sensor import DAEMON_PASS_S, WATCH_S, order_sensor, poll_seconds
from sparklayer_erp.resources import build_resources
from sparklayer_erp.settings import SettingError
from sparklayer_erp_tests.orders.conftest import resources_for
from sparklayer_erp_tests.orders.shop import Shop

SYNC = [a for a in ORDER_ASSETS if a.key.path[-1] == "erp_sales_orders"]


def _tick(instance, resources, cursor: str | None) -> dg.SensorResult:
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources) as context:
        return order_sensor(context)


def _run(request: dg.RunRequest, resources) -> dict:
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(SYNC, resources=resources, instance=instance, run_config=request.run_config,
                                tags=request.tags)
    assert result.success
    return result.get_asset_materialization_events()[0].materialization.metadata


def test_ticks_drain_a_backlog_in_bounded_batches_and_never_request_twice(shop: Shop, ledger, ledger_url,
                                                                         sandbox, tryton_server):
    buyer = shop.demo("C1024")
    shop.link(ledger, buyer)
    resources = resources_for(ledger_url, sandbox, tryton_server, page_size=2)

    with dg.DagsterInstance.ephemeral() as instance:
        # whatever earlier tests left in the shop: requested, so out of the way
        earlier = _tick(instance, resources_for(ledger_url, sandbox, tryton_server), None)
        pids = [shop.place(buyer, [("SKU-FLAP-L", 12)], "on_account", po=f"PO-TICK-{n}") for n in range(3)]
        first = _tick(instance, resources, earlier.cursor)
        second = _tick(instance, resources, first.cursor)
        third = _tick(instance, resources, second.cursor)
        again = _tick(instance, resources, earlier.cursor)  # a cursor restored from before plans the same batch ...

    (r1,), (r2,) = first.run_requests, second.run_requests
    ids1 = r1.run_config["ops"]["erp_sales_orders"]["config"]["purchase_ids"]
    ids2 = r2.run_config["ops"]["erp_sales_orders"]["config"]["purchase_ids"]
    assert (ids1, ids2) == (pids[:2], pids[2:])  # oldest change first, at most ORDER_PAGE_SIZE per run
    assert r1.tags["erp/orders"] == "sync" and r1.run_key != r2.run_key
    assert r1.tags["erp/order-state"] == "new-only"  # only creations: it need not wait for a follow-up run
    assert r1.tags["orders/seen_at"] <= r1.tags["orders/requested_at"]
    assert not third.run_requests  # already requested: the cursor remembers what it asked for
    assert again.run_requests[0].run_key == r1.run_key  # ... with the same run key, which Dagster dedupes
    assert PollCursor.from_json(third.cursor).high_water is not None

    created = sum(_run(r, resources)["created"].value for r in (r1, r2))
    assert created == 3 and shop.erp_order_count(pids) == {pid: 1 for pid in pids}

    with dg.DagsterInstance.ephemeral() as instance:
        fresh = _tick(instance, resources, earlier.cursor)  # cursor from before: the ledger knows they were applied
        shop.cancel(pids[1])  # the buyer changes their mind: a new version of one purchase
        newer = shop.place(buyer, [("SKU-FLAP-L", 12)], "on_account", po="PO-TICK-NEW")  # ... as another orders
        later = _tick(instance, resources, third.cursor)
    assert not fresh.run_requests
    # one tick, two runs: the new order never waits behind a change (which is serialised with the follow-up)
    by_state = {r.tags["erp/order-state"]: r for r in later.run_requests}
    assert set(by_state) == {"new-only", "writes"} and len(later.run_requests) == 2
    assert by_state["new-only"].run_config["ops"]["erp_sales_orders"]["config"]["purchase_ids"] == [newer]
    r3 = by_state["writes"]
    assert r3.run_config["ops"]["erp_sales_orders"]["config"]["purchase_ids"] == [pids[1]]
    assert r3.tags["erp/order-state"] == "writes"  # changes a linked ERP order: serialised with the follow-up
    assert _run(r3, resources)["cancelled"].value == 1
    assert ledger.get_order_link(pids[1]).sync_state == SyncState.CANCELLED


def test_the_order_definitions_load_with_writer_tags_and_schedules(monkeypatch):
    defs = dg.Definitions(assets=ORDER_ASSETS, jobs=ORDER_JOBS, schedules=ORDER_SCHEDULES, sensors=ORDER_SENSORS,
                          resources=build_resources(), executor=dg.in_process_executor)
    dg.Definitions.validate_loadable(defs)
    sync, followup = (defs.resolve_job_def(job).tags for job in ("order_sync_job", "order_followup_job"))
    assert (sync["erp/orders"], followup["erp/followup"]) == ("sync", "orders")
    assert "erp/followup" not in sync and "erp/orders" not in followup
    assert sync["erp/order-state"] == followup["erp/order-state"] == "writes"
    assert {s.name: s.cron_schedule for s in ORDER_SCHEDULES} == {
        "order_followup_schedule": "*/2 * * * *", "order_sweep_schedule": "*/10 * * * *"}
    monkeypatch.delenv("ORDER_POLL_SECONDS")  # the sensor was defined with the default
    assert order_sensor.minimum_interval_seconds == poll_seconds()


def test_the_poll_interval_comes_from_order_poll_seconds_and_ticks_on_every_daemon_pass(monkeypatch):
    monkeypatch.delenv("ORDER_POLL_SECONDS", raising=False)
    default = poll_seconds()
    assert DAEMON_PASS_S == MIN_INTERVAL_LOOP_TIME  # how often Dagster's sensor daemon ticks a sensor
    assert 0 < default < DAEMON_PASS_S  # below a pass: every pass ticks, and a tick looks again within it
    monkeypatch.setenv("ORDER_POLL_SECONDS", "7")
    assert poll_seconds() == 7
    monkeypatch.setenv("ORDER_POLL_SECONDS", "0")
    assert poll_seconds() == default
    monkeypatch.setenv("ORDER_POLL_SECONDS", "soon")
    with pytest.raises(SettingError, match="ORDER_POLL_SECONDS"):
        poll_seconds()
    assert all(a.op.retry_policy is not None and a.op.retry_policy.max_retries >= 1 for a in ORDER_ASSETS)
    assert {a.key.path[-1]: a.group_names_by_key[a.key] for a in ORDER_ASSETS} == {
        "erp_sales_orders": "orders", "erp_order_approvals": "orders", "erp_card_payments": "orders",
        "erp_credit_notes": "orders", "sparklayer_order_status": "orders"}


def test_while_a_new_order_batch_waits_to_start_the_sensor_holds_and_the_next_tick_takes_everything(
        shop: Shop, ledger, ledger_url, sandbox, tryton_server):
    from dagster._core.storage.dagster_run import DagsterRun

    buyer = shop.demo("C1024")
    shop.link(ledger, buyer)
    resources = resources_for(ledger_url, sandbox, tryton_server)
    with dg.DagsterInstance.ephemeral() as instance:
        first = _tick(instance, resources, None)  # whatever earlier tests left: requested, so out of the way
        # a sweep waiting for the follow-up (erp/order-state=writes) does not hold new orders back ...
        sweep = DagsterRun(job_name="order_sync_job", run_id=str(uuid.uuid4()), tags=dict(WRITER_TAG),
                           status=dg.DagsterRunStatus.NOT_STARTED)  # (QUEUED needs a code-location origin)
        instance.add_run(sweep)
        early = shop.place(buyer, [("SKU-FLAP-L", 12)], "on_account", po="PO-HOLD-SWEEP")
        passed = _tick(instance, resources, first.cursor)
        assert [early] == passed.run_requests[0].run_config["ops"]["erp_sales_orders"]["config"]["purchase_ids"]
        # ... a batch of new orders waiting for a slot does: the next tick takes everything seen meanwhile
        waiting = DagsterRun(job_name="order_sync_job", run_id=str(uuid.uuid4()),
                             tags={**WRITER_TAG, ORDER_STATE_KEY: NEW_ONLY}, status=dg.DagsterRunStatus.NOT_STARTED)
        instance.add_run(waiting)
        first = passed
        pids = [shop.place(buyer, [("SKU-FLAP-L", 12)], "on_account", po=f"PO-HOLD-{n}") for n in range(2)]
        held = _tick(instance, resources, first.cursor)
        assert not held.run_requests and "waiting to start" in held.skip_reason.skip_message
        assert held.cursor == first.cursor  # nothing planned, nothing forgotten
        instance.delete_run(waiting.run_id)  # it started (and left the queue)
        (request,) = _tick(instance, resources, held.cursor).run_requests
    assert set(pids) <= set(request.run_config["ops"]["erp_sales_orders"]["config"]["purchase_ids"])


def test_a_tick_that_finds_nothing_keeps_looking_within_the_daemon_pass(shop: Shop, ledger, ledger_url, sandbox,
                                                                      tryton_server, monkeypatch):
    buyer = shop.demo("C1024")
    shop.link(ledger, buyer)
    resources = resources_for(ledger_url, sandbox, tryton_server)
    with dg.DagsterInstance.ephemeral() as instance:
        first = _tick(instance, resources, None)  # whatever earlier tests left: requested, so out of the way
        monkeypatch.setenv("ORDER_POLL_SECONDS", "1")
        placed: list[str] = []
        timer = threading.Timer(1.5, lambda: placed.append(
            shop.place(buyer, [("SKU-FLAP-L", 12)], "on_account", po="PO-WATCH")))
        started = time.monotonic()
        timer.start()
        watched = _tick(instance, resources, first.cursor)  # nothing new at its first look
        took = time.monotonic() - started
        timer.join()
        quiet = time.monotonic()
        empty = _tick(instance, resources, watched.cursor)  # nothing comes: it gives up inside the pass
        quiet = time.monotonic() - quiet
        monkeypatch.setenv("ORDER_POLL_SECONDS", "5")
        once = time.monotonic()
        _tick(instance, resources, watched.cursor)  # a pass or more: one look per tick
        once = time.monotonic() - once
    (request,) = watched.run_requests
    assert request.run_config["ops"]["erp_sales_orders"]["config"]["purchase_ids"] == placed
    assert 1.5 <= took < DAEMON_PASS_S  # seen at a later look of the same tick, not at the next pass
    assert not empty.run_requests and WATCH_S - 1 <= quiet < DAEMON_PASS_S
    assert once < 1.5
