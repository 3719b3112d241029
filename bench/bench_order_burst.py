"""A burst of orders drained by the real order sync, with and without SparkLayer throttling, side by side.

One stack for both phases (``bench_order_latency.order_stack``: Tryton, the sandbox, the ledger and Dagster with
the order sensor and the order schedules on; ``dagster dev`` on SQLite, or ``--postgres`` for the multi-process
PostgreSQL shape). Each phase places ``--orders`` orders at once (in-process checkout, no time between orders)
and waits until every purchase has its ERP order:

1. **no faults**;
2. **throttled**: the sandbox answers ``--rate-limit`` of all API requests with 429 (``Retry-After``
   ``--retry-after`` s) and ``--server-errors`` of all with 503 (its fault switches, seeded), from before the
   burst until the phase ends. The follow-up schedule keeps running, so status write-backs for the first phase's
   orders meet the same throttling.

Each phase also launches a follow-up run as the burst is placed (it overlaps the drain: new orders must not
wait for it) and another as soon as the burst has drained (approvals, card payments and the status of every
burst order written back, under the phase's faults), so both phases carry the same housekeeping whatever the
2-minute schedule happens to do. After the drain, the phase waits (``--settle``, faults still on) until the
order-sync and follow-up runs under way at that moment have ended, so each has its final status. Per phase it prints the drain time (first order placed -> last
ERP order seen), duplicates (purchase ids with more than one ERP order), lost orders (no ERP order when the
phase timed out), the runs by job and status, the runs that failed as a whole, runs still under way when the
settle time ran out, and the follow-up writes left for a next run (``failed_writes``); then the ratio of the
drain times (bar: throttled <= 4 x no faults).

    .venv/bin/python bench/bench_order_burst.py --orders 300
    .venv/bin/python bench/bench_order_burst.py --orders 20      # smoke run
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the shared stack lives beside this file

from bench_order_latency import FOLLOWUP_JOB, ErpWatcher, OrderStack, order_stack, print_runs  # noqa: E402

from sparklayer_erp.erp.tryton import conventions as conv  # noqa: E402

RATIO_BAR = 4.0
IN_FLIGHT = ("QUEUED", "NOT_STARTED", "STARTING", "STARTED")
SETTLE_JOBS = ("order_sync_job", "order_followup_job")
FOLLOWUP_ASSETS = ("erp_order_approvals", "erp_card_payments", "sparklayer_order_status")


@dataclass
class Phase:
    name: str
    faults: dict[str, object]
    drain_s: float | None = None
    place_s: float = 0.0
    placed: int = 0
    duplicates: int = 0
    lost: int = 0
    failed_runs: int = 0
    in_flight: int = 0  # runs under way at the drain that had not ended when the settle time ran out
    failed_writes: int = 0  # follow-up writes left for the next run (each run's ``failed_writes``)
    runs: dict[str, dict[str, int]] = field(default_factory=dict)
    injected: dict[str, int] = field(default_factory=dict)
    followups: list[str] = field(default_factory=list)  # the follow-up runs the phase launched
    followup_s: list[float | None] = field(default_factory=list)  # how long each ran (None: not ended)


def erp_orders_per_purchase(stack: OrderStack, pids: list[str]) -> Counter[str]:
    """How many ERP sales orders carry each purchase id (exactly-once means 1 each)."""
    counts: Counter[str] = Counter()
    for i in range(0, len(pids), 200):
        rows = stack.erp.rpc.search_read("sale.sale", [(conv.PURCHASE_ID_FIELD, "in", pids[i:i + 200])],
                                         [conv.PURCHASE_ID_FIELD])
        counts.update(row[conv.PURCHASE_ID_FIELD] for row in rows)
    return counts


def followup_failed_writes(instance: Any, since: float) -> int:
    """Writes the follow-up runs of the phase left for their next run (summed ``failed_writes`` metadata)."""
    import dagster as dg

    total = 0
    for asset in FOLLOWUP_ASSETS:
        records = instance.fetch_materializations(dg.AssetKey(asset), limit=10_000).records
        for record in records:
            entry = record.asset_materialization.metadata.get("failed_writes") if record.asset_materialization else None
            if entry is not None and record.timestamp >= since:
                total += int(entry.value)
    return total


def wait_for_runs(stack: OrderStack, timeout_s: float) -> int:
    """Until the order-sync and follow-up runs under way when the burst had drained have ended, so each has its
    final status (the faults stay on meanwhile; runs the schedules start later are not waited for). Returns how
    many of them are still under way at the timeout."""
    import dagster as dg

    statuses = [dg.DagsterRunStatus(s) for s in IN_FLIGHT]
    deadline = time.monotonic() + timeout_s
    with stack.instance() as instance:
        waiting = {r.run_id for job in SETTLE_JOBS
                   for r in instance.get_runs(filters=dg.RunsFilter(job_name=job, statuses=statuses))}
        while waiting and time.monotonic() < deadline:
            time.sleep(2)
            waiting = {r.run_id for r in instance.get_runs(filters=dg.RunsFilter(run_ids=list(waiting),
                                                                                 statuses=statuses))}
        return len(waiting)


def run_phase(stack: OrderStack, phase: Phase, n: int, tag: str, timeout_s: float, settle_s: float) -> None:
    stack.sandbox.admin.clear_faults()
    if phase.faults:
        stack.sandbox.admin.set_faults(**phase.faults)
    for i in range(n):
        stack.order_spec(i)  # the ERP prices of every order, read before the clock starts
    since = time.time()
    with ErpWatcher(stack.erp, every_s=0.5) as watcher:
        started = time.monotonic()
        pids = []
        for i in range(n):
            pid = stack.place(i, tag, in_process=True)
            watcher.placed[pid] = time.monotonic()
            pids.append(pid)
        phase.place_s, phase.placed = time.monotonic() - started, len(pids)
        phase.followups.append(stack.launch(FOLLOWUP_JOB))  # housekeeping in flight during the drain
        drained = watcher.wait_all(timeout_s)
        if drained:
            phase.drain_s = max(watcher.seen.values()) - started
    phase.followups.append(stack.launch(FOLLOWUP_JOB))  # the burst's approvals, payments and statuses
    print(f"{phase.name}: {n} orders placed in {phase.place_s:.1f} s; "
          + (f"drained in {phase.drain_s:.1f} s" if drained else f"NOT drained within {timeout_s:g} s"))
    phase.in_flight = wait_for_runs(stack, settle_s)
    phase.injected = dict(stack.sandbox.admin.faults().get("injected", {}))
    stack.sandbox.admin.clear_faults()
    counts = erp_orders_per_purchase(stack, pids)
    phase.duplicates = sum(1 for pid in pids if counts[pid] > 1)
    phase.lost = sum(1 for pid in pids if counts[pid] == 0)
    with stack.instance() as instance:
        phase.runs = print_runs(instance, since=since)
        phase.failed_writes = followup_failed_writes(instance, since)
        for run_id in phase.followups:
            record = instance.get_run_record_by_id(run_id)
            ended = record is not None and record.end_time and record.start_time
            phase.followup_s.append(record.end_time - record.start_time if ended else None)
    phase.failed_runs = sum(by.get("FAILURE", 0) for by in phase.runs.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300, help="orders per burst (default 300)")
    parser.add_argument("--rate-limit", type=float, default=0.5, help="share of API requests answered 429")
    parser.add_argument("--server-errors", type=float, default=0.1, help="share of API requests answered 503")
    parser.add_argument("--retry-after", type=int, default=1, help="Retry-After seconds sent with each 429")
    parser.add_argument("--timeout", type=float, default=1800.0, help="give up on a phase after this long")
    parser.add_argument("--settle", type=float, default=600.0,
                        help="after a drain, wait this long at most for the order-sync and follow-up runs still "
                             "under way to end (so every run has its final status)")
    parser.add_argument("--postgres", action="store_true", help="the multi-process PostgreSQL deployment")
    args = parser.parse_args()

    # The sandbox draws 503 only for requests that escaped the 429 draw: scale it so both shares are of all requests.
    share_503 = min(1.0, args.server_errors / (1 - args.rate_limit)) if args.rate_limit < 1 else 0.0
    throttled = {"rate_limit_rate": args.rate_limit, "server_error_rate": share_503,
                 "server_error_status": 503, "retry_after_s": args.retry_after, "seed": 13}
    phases = [Phase("no faults", {}),
              Phase(f"{args.rate_limit:.0%} 429 + {args.server_errors:.0%} 503", throttled)]
    with order_stack(postgres=args.postgres, prefix="bench-burst-") as stack:
        for k, phase in enumerate(phases):
            run_phase(stack, phase, args.orders, f"BURST{k}", args.timeout, args.settle)
        mode = stack.mode

    clean, faulted = phases
    print(f"\n{mode}; bursts of {args.orders} orders, customers and payment methods rotating")
    print(f"{'':<34}" + "".join(f"{p.name:>32}" for p in phases))
    rows = [
        ("drain time (placed -> all in ERP)", lambda p: f"{p.drain_s:.1f} s" if p.drain_s is not None else "timeout"),
        ("placing the burst took", lambda p: f"{p.place_s:.1f} s"),
        ("duplicates (ERP orders > 1)", lambda p: str(p.duplicates)),
        ("lost (no ERP order)", lambda p: str(p.lost)),
        ("runs failed as a whole", lambda p: str(p.failed_runs)),
        ("runs still under way at the end", lambda p: str(p.in_flight)),
        ("follow-up writes left to next run", lambda p: str(p.failed_writes)),
        ("launched follow-ups ran (during, after)", lambda p: ", ".join(
            f"{s:.0f} s" if s is not None else "not ended" for s in p.followup_s)),
        ("faults injected", lambda p: ", ".join(f"{k} {v}" for k, v in sorted(p.injected.items())) or "-"),
    ]
    for label, cell in rows:
        print(f"{label:<34}" + "".join(f"{cell(p):>32}" for p in phases))
    if clean.drain_s and faulted.drain_s:
        ratio = faulted.drain_s / clean.drain_s
        verdict = "within" if ratio <= RATIO_BAR else "OVER"
        print(f"ratio throttled / no faults: {ratio:.2f} x  ({verdict} the bar of {RATIO_BAR:g} x)")
    else:
        print("ratio: n/a (a phase did not drain)")
    ok = all(p.drain_s is not None and not p.duplicates and not p.lost and not p.failed_runs for p in phases)
    pending = sum(p.in_flight for p in phases)
    print("exactly once, nothing lost, no run failed as a whole: " + ("yes" if ok else "NO")
          + (f" ({pending} run(s) had not ended when --settle ran out: their outcome is not counted)" if pending else ""))


if __name__ == "__main__":
    main()
