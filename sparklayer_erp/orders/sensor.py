"""The order sensor: which SparkLayer purchases to sync next, every few seconds, in bounded ticks.

Dagster ticks a sensor once per daemon pass (5 s); within a tick the sensor looks at SparkLayer every
``ORDER_POLL_SECONDS`` until it finds work or the pass is nearly over (``watch_seconds``), so a new order is
seen within about a second, not up to 5 s later. Each look reads purchases of type ``order`` changed since the
cursor's high-water mark minus an overlap window (``ORDER_OVERLAP_SECONDS``) and asks the ledger which versions
were already applied; a tick then requests runs of ``order_sync_job`` for at most ``ORDER_PAGE_SIZE``
purchases (the pure decisions are ``domain.order_polling.plan_tick`` and ``split_new_and_changes``): one for
the new orders, one for changes to orders already in the ERP. Run keys are hashes of the batches, so the same
batch is never launched twice; a backlog drains over consecutive ticks. The cursor records what was
*requested*, never what succeeded: exactly-once lives in the ledger and the ERP lookup, and the sweep schedule
re-reads the last 24 hours whatever the cursor says.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable

import dagster as dg

from sparklayer_erp import settings
from sparklayer_erp.domain.order_polling import (
    PollCursor,
    SeenPurchase,
    TickPlan,
    plan_tick,
    split_new_and_changes,
    window_start,
)
from sparklayer_erp.ledger import Ledger
from sparklayer_erp.orders.assets import NEW_ONLY, ORDER_STATE_KEY, WRITER_TAG
from sparklayer_erp.plumbing import automation
from sparklayer_erp.resources import LedgerResource, PolicyResource, SparkLayerResource
from sparklayer_erp.sparklayer import contract
from sparklayer_erp.sparklayer.client import SparkLayerClient
from sparklayer_erp.sparklayer.models import Purchase

FIRST_LOOKBACK_S = 24 * 3600  # a brand-new cursor starts one day back (older orders: run a sweep by hand)
MAX_PAGES_PER_TICK = 5  # bounded reads: a tick must finish well inside the sensor's gRPC timeout
ORDER_SYNC_JOB = "order_sync_job"  # defined in orders/definitions.py (named here to keep the import one way)


WAITING_STATUSES = [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.QUEUED]


def order_sync_waiting(instance: dg.DagsterInstance) -> bool:
    """Whether a batch of new orders was requested and has not started yet (queued behind the order syncs
    running). A sweep or a batch of changes waiting for the follow-up does not count: new orders must not
    wait for it."""
    return instance.get_runs_count(dg.RunsFilter(job_name=ORDER_SYNC_JOB, statuses=WAITING_STATUSES,
                                                 tags={ORDER_STATE_KEY: NEW_ONLY})) > 0


DAEMON_PASS_S = 5  # Dagster's sensor daemon evaluates its sensors once per 5 s pass (fixed in Dagster 1.13)
WATCH_S = 4.0  # how long one tick keeps looking: ends inside the pass, so the next pass starts a fresh tick


def poll_seconds() -> int:
    """``ORDER_POLL_SECONDS`` (0 means its default): how often the sensor looks at SparkLayer. Also the sensor's
    ``minimum_interval_seconds``; below the daemon's 5 s pass, every pass ticks."""
    seconds = int(str(settings.read("ORDER_POLL_SECONDS")))  # checked: a whole number, never negative
    return seconds or int(str(settings.SETTINGS["ORDER_POLL_SECONDS"].default))


def watch_seconds(every_s: int) -> float:
    """How long a tick that finds nothing new keeps looking (every ``every_s``): Dagster ticks a sensor at most
    once per daemon pass (5 s), so a tick looks again within the pass instead of leaving a new order unseen
    until the next one. 0 (one look per tick) when the interval is a pass or more."""
    return WATCH_S if every_s < DAEMON_PASS_S else 0.0


def _seen(purchases: Iterable[Purchase]) -> list[SeenPurchase]:
    return [SeenPurchase(p.last_updated_at, p.sparklayer_id) for p in purchases
            if p.sparklayer_id and p.last_updated_at is not None]


def plan_order_tick(client: SparkLayerClient, ledger: Ledger, cursor: PollCursor, *, now: dt.datetime,
                    overlap_s: int, max_batch: int, max_pages: int = MAX_PAGES_PER_TICK) -> TickPlan:
    """Read at most ``max_pages`` pages from the window start and plan the next batch.

    Pages are read until enough purchases need work, a short page ends the listing, or the page bound is
    hit (the overlap window can hold many already-applied purchases; they are skipped, not counted).
    """
    page_size = max(1, min(max_batch, contract.PURCHASES_MAX_LIMIT))
    start = window_start(cursor, now=now, overlap_s=overlap_s, first_lookback_s=FIRST_LOOKBACK_S)
    rows: list[SeenPurchase] = []
    applied: dict[str, dt.datetime | None] = {}
    more = False
    for page_no in range(max_pages):
        page = _seen(client.fetch_purchases_page(start, page_size, page_no * page_size))
        links = ledger.order_links_for(p.purchase_id for p in page)
        applied.update({pid: link.sparklayer_updated_at for pid, link in links.items()})
        rows.extend(page)
        more = len(page) == page_size
        pending = [r for r in rows if not _done(r, applied, cursor)]
        if not more or len(pending) >= max_batch:
            break
    return plan_tick(cursor, rows, applied, max_batch=max_batch, overlap_s=overlap_s, more_rows_exist=more)


def _done(row: SeenPurchase, applied: dict[str, dt.datetime | None], cursor: PollCursor) -> bool:
    version = applied.get(row.purchase_id)
    return (version is not None and version >= row.last_updated) or (
        cursor.requested.get(row.purchase_id) == row.last_updated.isoformat())


SEEN_TAG, REQUESTED_TAG = "orders/seen_at", "orders/requested_at"  # stage timings (ISO 8601, UTC) for the run


def run_request_for(plan: TickPlan, *, new_only: bool = False, seen_at: dt.datetime | None = None) -> dg.RunRequest:
    """``new_only``: no purchase of the batch has an ERP order yet, so the run cannot change one and need not
    queue behind the follow-up (the ``erp/order-state`` limit); it still queues behind other order syncs."""
    updated_from = min(p.last_updated for p in plan.batch)
    config = {"purchase_ids": plan.purchase_ids, "updated_from": updated_from.isoformat()}
    timing = {REQUESTED_TAG: dt.datetime.now(dt.UTC).isoformat()}
    if seen_at is not None:
        timing[SEEN_TAG] = seen_at.isoformat()
    return dg.RunRequest(run_key=plan.run_key, run_config={"ops": {"erp_sales_orders": {"config": config}}},
                         tags={**WRITER_TAG, **({ORDER_STATE_KEY: NEW_ONLY} if new_only else {}),
                               "orders/batch_size": str(len(plan.batch)), **timing})


def in_erp(ledger: Ledger, purchase_ids: Iterable[str]) -> set[str]:
    """The purchases of the batch that the ledger links to an ERP order (changes, not creations)."""
    return {pid for pid, link in ledger.order_links_for(purchase_ids).items() if link.erp_order_id is not None}


@dg.sensor(
    name="order_sensor",
    job_name=ORDER_SYNC_JOB,
    minimum_interval_seconds=poll_seconds(),
    default_status=automation.sensor_status(automation.ORDERS),  # ORDER_AUTOMATION; else STOPPED
    description="Looks for new, cancelled and changed SparkLayer orders every ORDER_POLL_SECONDS and starts "
                "the order sync for them (at most ORDER_PAGE_SIZE per run).",
)
def order_sensor(context: dg.SensorEvaluationContext, sparklayer: SparkLayerResource, ledger: LedgerResource,
                 policy: PolicyResource) -> dg.SensorResult:
    cursor = PollCursor.from_json(context.cursor)
    every = poll_seconds()
    deadline = time.monotonic() + watch_seconds(every)
    store = ledger.ledger()
    with sparklayer.session() as client:
        while True:
            if order_sync_waiting(context.instance):
                # Order syncs run two at a time; a run per look would queue one small batch behind another
                # (each paying a run worker's start-up). Holding off while a batch waits to start lets the next
                # tick take everything seen meanwhile in one run.
                return dg.SensorResult(skip_reason="an order sync is waiting to start; what is new now goes in "
                                                   "the next one", cursor=cursor.to_json())
            now = dt.datetime.now(dt.UTC)
            plan = plan_order_tick(client, store, cursor, now=now,
                                   overlap_s=policy.overlap(), max_batch=policy.orders_per_tick())
            if plan.run_key is not None or time.monotonic() + every > deadline:
                break
            time.sleep(every)  # nothing new yet: look again within this pass
    if plan.run_key is None:
        return dg.SensorResult(skip_reason="no new or changed orders", cursor=plan.cursor.to_json())
    # New orders and changes to existing ERP orders go in separate runs: a status echo or a cancellation in the
    # same tick must not make new orders wait for the follow-up (changes are serialised with it).
    new, changes = split_new_and_changes(plan, in_erp(store, plan.purchase_ids))
    requests = [run_request_for(part, new_only=part is new, seen_at=now) for part in (new, changes) if part]
    return dg.SensorResult(run_requests=requests, cursor=plan.cursor.to_json())
