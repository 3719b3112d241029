"""Misbehaviour on purpose, switchable at run time: the failures NetSuite's docs tell clients to survive.

Deterministic: "next N" counters fire on exactly the next N matching requests; rates draw from a seeded
``random.Random``. Order when several are armed: drop, then 429, then 500; ``drop_after_commit`` (writes
only) lets the write commit and then closes the connection without an answer, the case a client must
repair by re-reading ``eid:``. Only ``/services/rest`` paths (not the token endpoint) meet faults.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from sparklayer_erp.demo.netsuite import not_confirmed as nc

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
READ_ONLY_POSTS = ("/services/rest/query/",)
REST_PREFIX = "/services/rest/"


@dataclass(frozen=True)
class FaultConfig:
    rate_limit_next: int = 0  # answer the next N requests with 429 CONCURRENCY_LIMIT_EXCEEDED
    rate_limit_rate: float = 0.0  # ... or this share of requests
    server_error_next: int = 0  # 500 UNEXPECTED_ERROR on the next N requests
    server_error_rate: float = 0.0
    drop_next: int = 0  # close the connection without an answer (nothing done)
    drop_rate: float = 0.0
    drop_after_commit_next: int = 0  # writes: commit, then close the connection without an answer
    drop_after_commit_rate: float = 0.0
    delay_after_commit_ms: int = 0  # writes: commit, then wait this long before answering
    latency_ms: int = 0  # added to every request (inside the concurrency count)
    concurrency_limit: int = nc.DEFAULT_CONCURRENCY_LIMIT  # in-flight requests before 429
    token_lifetime_s: int = nc.TOKEN_LIFETIME_S  # lifetime of tokens issued from now on (expires_in stays 3600)
    seed: int = 0

    def validated(self) -> FaultConfig:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type == "float" or f.name.endswith("_rate"):
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                    raise ValueError(f"{f.name} must be a number between 0 and 1")
            elif type(value) is not int or value < 0:
                raise ValueError(f"{f.name} must be a non-negative integer")
        if self.concurrency_limit < 1:
            raise ValueError("concurrency_limit must be at least 1")
        return self


FAULT_KEYS = tuple(f.name for f in fields(FaultConfig))


class FaultSwitches:
    """The live switches plus the in-flight request count (governance), thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._config = FaultConfig()
        self._rng = random.Random(0)
        self.injected: Counter[str] = Counter()
        self.in_flight = 0
        self.peak_in_flight = 0

    @property
    def config(self) -> FaultConfig:
        return self._config

    def set(self, **changes: Any) -> dict[str, Any]:
        unknown = set(changes) - set(FAULT_KEYS)
        if unknown:
            raise ValueError(f"unknown fault switch(es): {', '.join(sorted(unknown))}")
        with self._lock:
            self._config = replace(self._config, **changes).validated()
            if "seed" in changes:
                self._rng = random.Random(self._config.seed)
        return self.snapshot()

    def clear(self) -> dict[str, Any]:
        with self._lock:
            self._config = FaultConfig()
            self._rng = random.Random(0)
            self.injected.clear()
            self.peak_in_flight = 0
        return self.snapshot()

    def snapshot(self) -> dict[str, Any]:
        return {**asdict(self._config), "injected": dict(self.injected), "in_flight": self.in_flight,
                "peak_in_flight": self.peak_in_flight}

    def enter(self) -> bool:
        """Count a request in; False (and not counted) when the concurrency limit is already reached."""
        with self._lock:
            if self.in_flight >= self._config.concurrency_limit:
                self.injected["concurrency_limit"] += 1
                return False
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            return True

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def decide(self, method: str, path: str) -> str | None:
        """"drop" | "rate_limit" | "server_error" | "drop_after_commit" | None; consumes counters/draws."""
        write = method in WRITE_METHODS and not path.startswith(READ_ONLY_POSTS)
        with self._lock:
            c = self._config
            kind = None
            if self._fires("drop_next", c.drop_rate):
                kind = "drop"
            elif self._fires("rate_limit_next", c.rate_limit_rate):
                kind = "rate_limit"
            elif self._fires("server_error_next", c.server_error_rate):
                kind = "server_error"
            elif write and self._fires("drop_after_commit_next", c.drop_after_commit_rate):
                kind = "drop_after_commit"
            if kind:
                self.injected[kind] += 1
            return kind

    def _fires(self, counter: str, rate: float) -> bool:
        remaining = getattr(self._config, counter)
        if remaining > 0:
            self._config = replace(self._config, **{counter: remaining - 1})
            return True
        return rate > 0 and self._rng.random() < rate
