"""Client-side request pacing: a token bucket.

SparkLayer publishes no rate limit, only "honour 429 + Retry-After". Pacing our own requests keeps a
100k-row push from provoking a storm of 429s (each of which costs a round trip and a forced wait). With the
default burst of 1 the bucket spaces requests exactly ``1/rate`` apart, so no window of any length ever sees
more than ``rate * window + 1`` requests.
"""

from __future__ import annotations

import threading

from sparklayer_erp.sparklayer.clock import Clock, SystemClock


class TokenBucket:
    """``acquire()`` blocks (via the clock's ``sleep``) until a request may be sent."""

    def __init__(self, rate_per_s: float, *, burst: int = 1, clock: Clock | None = None) -> None:
        if rate_per_s <= 0:
            raise ValueError("rate_per_s must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate = float(rate_per_s)
        self.burst = burst
        self._clock = clock or SystemClock()
        self._tokens = float(burst)
        self._last = self._clock.monotonic()
        self._lock = threading.Lock()
        self.waited_s = 0.0

    def _refill(self) -> None:
        now = self._clock.monotonic()
        self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.rate)
        self._last = now

    def acquire(self) -> float:
        """Take one token, sleeping first if none is available; returns the seconds waited."""
        # Holding the lock while sleeping is deliberate: waiters are served in turn, never all at once.
        with self._lock:
            self._refill()
            waited = 0.0
            if self._tokens < 1.0:
                waited = (1.0 - self._tokens) / self.rate
                self._clock.sleep(waited)
                self._refill()
                # Guard against float dust (0.9999999) after the refill: the wait was exactly enough.
                self._tokens = max(self._tokens, 1.0)
            self._tokens -= 1.0
            self.waited_s += waited
            return waited
