"""Client-side request pacing: a token bucket.

SparkLayer publishes no rate limit, only "honour 429 + Retry-After". Pacing our own requests keeps a
100k-row push from provoking a storm of 429s (each of which costs a round trip and a forced wait). With the
default burst of 1 the bucket spaces requests exactly ``1/rate`` apart, so no window of any length ever sees
more than ``rate * window + 1`` requests.

``AdaptivePacer`` makes the rate follow the server: a 429 halves it (at most once per ``cooldown_s``, never
below ``floor``) and holds every request of the process until its ``Retry-After`` has passed; successes win
it back step by step (+``recover_step``, 10 %, per ``recover_every`` successes) up to the
configured rate. One pacer per (base URL, site, configured rate, clock) is shared by the whole process, like
the token cache, so a sensor's client and an asset's client slow down together.
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
        self._not_before = self._last  # nothing is sent before this (a Retry-After that holds everyone)
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
            waited = 0.0
            hold = self._not_before - self._clock.monotonic()
            if hold > 0:
                self._clock.sleep(hold)
                waited += hold
            self._refill()
            if self._tokens < 1.0:
                wait = (1.0 - self._tokens) / self.rate
                self._clock.sleep(wait)
                waited += wait
                self._refill()
                # Guard against float dust (0.9999999) after the refill: the wait was exactly enough.
                self._tokens = max(self._tokens, 1.0)
            self._tokens -= 1.0
            self.waited_s += waited
            return waited

    def set_rate(self, rate_per_s: float) -> None:
        """Change the rate from now on (tokens earned so far are kept, at the old rate)."""
        if rate_per_s <= 0:
            raise ValueError("rate_per_s must be positive")
        with self._lock:
            self._refill()
            self.rate = float(rate_per_s)

    def hold_until(self, monotonic_s: float) -> None:
        """Send nothing before ``monotonic_s`` (a ``Retry-After`` applies to every request, not one)."""
        with self._lock:
            self._not_before = max(self._not_before, monotonic_s)


class AdaptivePacer:
    """A token bucket whose rate backs off on 429s and recovers after successes (AIMD-like)."""

    _registry: dict[tuple[str, str, float, int], AdaptivePacer] = {}
    _registry_lock = threading.Lock()

    def __init__(
        self,
        max_rate: float,
        *,
        clock: Clock | None = None,
        floor: float = 0.5,
        decrease_factor: float = 0.5,
        recover_step: float = 0.1,
        recover_every: int = 10,
        cooldown_s: float = 1.0,
    ) -> None:
        if max_rate <= 0 or floor <= 0:
            raise ValueError("rates must be positive")
        if not 0 < decrease_factor < 1 or recover_step <= 0 or recover_every < 1 or cooldown_s < 0:
            raise ValueError("decrease_factor in (0, 1), recover_step > 0, recover_every >= 1, cooldown_s >= 0")
        self.max_rate = float(max_rate)
        self.floor = min(float(floor), self.max_rate)
        self.decrease_factor = decrease_factor
        self.recover_step = recover_step
        self.recover_every = recover_every
        self.cooldown_s = cooldown_s
        self.clock = clock or SystemClock()
        self.bucket = TokenBucket(self.max_rate, clock=self.clock)
        self._lock = threading.Lock()
        self._successes = 0
        self._last_decrease: float | None = None
        self.decreases = 0
        self.increases = 0

    def __repr__(self) -> str:
        return f"AdaptivePacer(rate={self.rate:.3g}/{self.max_rate:.3g} rps)"

    @property
    def rate(self) -> float:
        return self.bucket.rate

    @classmethod
    def shared(cls, base_url: str, site_id: str, max_rate: float, clock: Clock) -> AdaptivePacer:
        """The process's pacer for this SparkLayer site (one per clock too: its waits are on it)."""
        key = (base_url, site_id, float(max_rate), id(clock))
        with cls._registry_lock:
            pacer = cls._registry.get(key)
            if pacer is None or pacer.clock is not clock:
                pacer = cls._registry[key] = cls(max_rate, clock=clock)
            return pacer

    @classmethod
    def clear_all(cls) -> None:
        """Forget every pacer of the process (tests)."""
        with cls._registry_lock:
            cls._registry.clear()

    def acquire(self) -> float:
        return self.bucket.acquire()

    def throttled(self, retry_after_s: float | None) -> None:
        """A 429 arrived: hold everyone for ``Retry-After`` and back the rate off (once per cooldown)."""
        now = self.clock.monotonic()
        if retry_after_s is not None and retry_after_s > 0:
            self.bucket.hold_until(now + retry_after_s)
        with self._lock:
            self._successes = 0
            if self._last_decrease is not None and now - self._last_decrease < self.cooldown_s:
                return  # the same burst of 429s: one back-off is enough
            self._last_decrease = now
            new = max(self.floor, self.bucket.rate * self.decrease_factor)
            if new < self.bucket.rate:
                self.decreases += 1
                self.bucket.set_rate(new)

    def succeeded(self) -> None:
        """A request got through: every ``recover_every`` successes raise the rate by ``recover_step`` (10 %)."""
        with self._lock:
            if self.bucket.rate >= self.max_rate:
                self._successes = 0
                return
            self._successes += 1
            if self._successes < self.recover_every:
                return
            self._successes = 0
            self.increases += 1
            self.bucket.set_rate(min(self.max_rate, self.bucket.rate * (1 + self.recover_step)))
