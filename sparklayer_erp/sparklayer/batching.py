"""Splitting a large push into requests, and telling the operator how it is going.

SparkLayer documents no batch-size cap; 500 rows per request is what a public integration uses and what we
default to (the benchmark in ``bench/bench_sparklayer_push.py`` shows what batching buys).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import TypeVar

from sparklayer_erp.sparklayer.clock import Clock

T = TypeVar("T")

DEFAULT_BATCH_SIZE = 500
DEFAULT_PROGRESS_EVERY = 20  # batches between progress lines

log = logging.getLogger("sparklayer_erp.sparklayer")


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    if size < 1:
        raise ValueError("batch size must be at least 1")
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


@dataclass(frozen=True)
class PushReport:
    """What one batched push did: rows sent, requests it took (one per batch), seconds on the clock."""

    label: str
    rows: int
    batches: int
    seconds: float

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("inf")


class ProgressLog:
    """Logs ``rows done / total, rows/s`` every ``every`` batches (and at the end of long pushes)."""

    def __init__(self, label: str, total: int | None, *, every: int, clock: Clock) -> None:
        self.label = label
        self.total = total
        self.every = max(1, every)
        self._clock = clock
        self._start = clock.monotonic()
        self.rows = 0
        self.batches = 0
        self._logged_at = 0  # batch count at the last progress line

    def batch_done(self, rows: int) -> None:
        self.rows += rows
        self.batches += 1
        if self.batches % self.every == 0:
            self._log()

    def _log(self) -> None:
        self._logged_at = self.batches
        elapsed = self._clock.monotonic() - self._start
        rate = self.rows / elapsed if elapsed > 0 else 0.0
        of_total = f"/{self.total}" if self.total is not None else ""
        log.info(
            "%s: %d%s rows in %d batches, %.0f rows/s", self.label, self.rows, of_total, self.batches, rate
        )

    def finish(self) -> PushReport:
        if self.batches >= self.every and self._logged_at != self.batches:
            self._log()
        return PushReport(self.label, self.rows, self.batches, self._clock.monotonic() - self._start)


def known_length(items: Iterable[object]) -> int | None:
    return len(items) if isinstance(items, Sequence) else None
