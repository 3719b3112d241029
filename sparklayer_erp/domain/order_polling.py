"""Which SparkLayer purchases an order-sync tick should hand to a run, and where the next tick starts.

A cursor alone is never trusted: every tick re-reads an overlap window behind its high-water mark, so a
purchase written late (or with a clock skew) is still seen. What keeps the overlap from re-running work is
(a) the ledger, which knows which ``last_updated`` of each purchase was already applied, and (b) the list
of purchases this sensor already requested, kept in the cursor while they are inside the window.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class SeenPurchase:
    last_updated: dt.datetime
    purchase_id: str


@dataclass(frozen=True)
class PollCursor:
    high_water: dt.datetime | None = None
    requested: dict[str, str] = field(default_factory=dict)  # purchase id -> last_updated (ISO) requested

    def to_json(self) -> str:
        return json.dumps({"high_water": self.high_water.isoformat() if self.high_water else None,
                           "requested": dict(sorted(self.requested.items()))}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> PollCursor:
        if not text:
            return cls()
        data = json.loads(text)
        hw = data.get("high_water")
        return cls(dt.datetime.fromisoformat(hw) if hw else None, dict(data.get("requested") or {}))


@dataclass(frozen=True)
class TickPlan:
    batch: tuple[SeenPurchase, ...]
    cursor: PollCursor
    run_key: str | None  # None when there is nothing to do

    @property
    def purchase_ids(self) -> list[str]:
        return [p.purchase_id for p in self.batch]


def split_new_and_changes(plan: TickPlan, in_erp: Iterable[str]) -> tuple[TickPlan | None, TickPlan | None]:
    """The batch as (purchases with no ERP order yet, purchases ``in_erp``), each with its own run key (or None
    when empty), so brand-new orders go in a run that never waits for the follow-up while changes to existing
    ERP orders wait their turn. Both keep the tick's cursor."""
    linked = set(in_erp)

    def part(purchases: list[SeenPurchase]) -> TickPlan | None:
        return TickPlan(tuple(purchases), plan.cursor, run_key_for(purchases)) if purchases else None

    return (part([p for p in plan.batch if p.purchase_id not in linked]),
            part([p for p in plan.batch if p.purchase_id in linked]))


def window_start(cursor: PollCursor, *, now: dt.datetime, overlap_s: int, first_lookback_s: int) -> dt.datetime:
    """Where this tick starts reading: overlap behind the high-water mark (or a look-back on the first tick)."""
    if cursor.high_water is None:
        return now - dt.timedelta(seconds=first_lookback_s)
    return cursor.high_water - dt.timedelta(seconds=overlap_s)


def run_key_for(batch: Iterable[SeenPurchase]) -> str:
    """Deterministic: the same purchases at the same versions always give the same run key."""
    text = "|".join(f"{p.purchase_id}@{p.last_updated.isoformat()}" for p in sorted(batch))
    return "orders-" + hashlib.sha256(text.encode()).hexdigest()[:20]


def plan_tick(
    cursor: PollCursor,
    rows: Iterable[SeenPurchase],
    applied: Mapping[str, dt.datetime | None],
    *,
    max_batch: int,
    overlap_s: int,
    more_rows_exist: bool,
) -> TickPlan:
    """Pick at most ``max_batch`` purchases needing work, in ``last_updated`` order.

    ``rows`` are what the tick read (ascending); ``applied`` maps purchase ids known to the ledger to the
    ``last_updated`` of the version it last processed. ``more_rows_exist`` is true when the read stopped
    at its page bound, so the high-water mark may only move to the last row actually examined.
    """
    ordered = sorted(set(rows))
    batch: list[SeenPurchase] = []
    last_examined: dt.datetime | None = None
    stopped_early = False
    for row in ordered:
        if len(batch) >= max_batch:
            stopped_early = True
            break
        last_examined = row.last_updated
        done_version = applied.get(row.purchase_id)
        if done_version is not None and done_version >= row.last_updated:
            continue
        if cursor.requested.get(row.purchase_id) == row.last_updated.isoformat():
            continue
        batch.append(row)

    high_water = cursor.high_water
    if last_examined is not None and (high_water is None or last_examined > high_water):
        high_water = last_examined
    if stopped_early or more_rows_exist:
        # the rest is read by the next tick; never jump past what was not examined
        high_water = min(h for h in (high_water, last_examined) if h is not None) if last_examined else high_water

    requested = dict(cursor.requested)
    for row in batch:
        requested[row.purchase_id] = row.last_updated.isoformat()
    if high_water is not None:
        horizon = high_water - dt.timedelta(seconds=overlap_s)
        requested = {pid: ts for pid, ts in requested.items() if dt.datetime.fromisoformat(ts) >= horizon}

    return TickPlan(tuple(batch), PollCursor(high_water, requested), run_key_for(batch) if batch else None)
