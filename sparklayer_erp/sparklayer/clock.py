"""Time as the client sees it, behind one small interface.

Token expiry, the rate limiter, back-off and ``Retry-After`` all go through a ``Clock`` so that tests can
measure every wait exactly (``ManualClock`` advances on ``sleep`` instead of sleeping) while the HTTP
traffic itself stays real.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards (expiry, rate limiting)."""
        ...

    def now(self) -> dt.datetime:
        """Aware UTC wall-clock time (only to turn an HTTP-date ``Retry-After`` into seconds)."""
        ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class ManualClock:
    """A clock that only moves when told to (or when something sleeps on it); records every sleep.

    Shipped with the package rather than the tests because anything built on the client (sensors, pushes)
    needs the same fake to test its waits without waiting.
    """

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._mono = 1_000.0
        self._wall = start or dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        with self._lock:
            return self._mono

    def now(self) -> dt.datetime:
        with self._lock:
            return self._wall

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock does not go backwards")
        with self._lock:
            self._mono += seconds
            self._wall += dt.timedelta(seconds=seconds)

    @property
    def total_slept(self) -> float:
        return sum(self.sleeps)
