"""Misbehaviour on purpose: the failures the SparkLayer docs tell clients to survive, switchable at run time.

Deterministic by design: "next N" counters fire on exactly the next N matching requests, and rates draw from
a seeded ``random.Random``, so the same request sequence always meets the same faults and tests are
reproducible. Which failure wins when several are armed: drop, then 429, then 5xx, then the concurrent-update
409 (writes only); latency is added before any of them.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import asdict, dataclass, fields, replace
from decimal import Decimal
from typing import Any

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
TOKEN_PATH = "/api/auth/token"


@dataclass(frozen=True)
class FaultConfig:
    """Every switch, with its meaning. Counters count down as they fire; rates are 0..1."""

    rate_limit_next: int = 0  # answer the next N requests with 429
    rate_limit_rate: float = 0.0  # ... or this fraction of requests
    retry_after_s: int = 1  # Retry-After (seconds) sent with the 429
    server_error_next: int = 0  # answer the next N requests with ``server_error_status``
    server_error_rate: float = 0.0
    server_error_status: int = 503
    latency_ms: int = 0  # added before every matching request is handled
    conflict_next: int = 0  # 409 concurrent-update on the next N writes (POST/PUT/PATCH/DELETE)
    drop_next: int = 0  # close the connection without any response for the next N requests
    drop_rate: float = 0.0
    token_lifetime_s: int | None = None  # tokens issued from now on die after this (still advertise 3600)
    path_prefix: str = "/api/"  # only requests under this path meet faults
    include_token_endpoint: bool = False  # whether POST /api/auth/token meets faults too
    seed: int = 0

    def validated(self) -> FaultConfig:
        for name in ("rate_limit_next", "server_error_next", "conflict_next", "drop_next", "latency_ms"):
            value = getattr(self, name)
            if type(value) is not int or value < 0:
                raise ValueError(f"{name} must be a non-negative integer")
        for name in ("rate_limit_rate", "server_error_rate", "drop_rate"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ValueError(f"{name} must be a number between 0 and 1")
        if type(self.retry_after_s) is not int or self.retry_after_s < 0:
            raise ValueError("retry_after_s must be a non-negative integer")
        if type(self.server_error_status) is not int or not 500 <= self.server_error_status <= 599:
            raise ValueError("server_error_status must be a 5xx status")
        if self.token_lifetime_s is not None and (type(self.token_lifetime_s) is not int
                                                  or self.token_lifetime_s < 0):
            raise ValueError("token_lifetime_s must be a non-negative integer or null")
        if not isinstance(self.path_prefix, str) or not isinstance(self.include_token_endpoint, bool):
            raise ValueError("path_prefix must be a string and include_token_endpoint a boolean")
        if type(self.seed) is not int:
            raise ValueError("seed must be an integer")
        return self


FAULT_KEYS = tuple(f.name for f in fields(FaultConfig))
RATE_KEYS = ("rate_limit_rate", "server_error_rate", "drop_rate")


@dataclass(frozen=True)
class Fault:
    kind: str  # "drop" | "rate_limit" | "server_error" | "conflict"
    status: int = 0
    retry_after_s: int = 0


class FaultSwitches:
    """The live switches, shared by the middleware, the admin routes and Python callers (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._config = FaultConfig()
        self._rng = random.Random(0)
        self.injected: Counter[str] = Counter()

    @property
    def config(self) -> FaultConfig:
        return self._config

    def set(self, **changes: Any) -> dict[str, Any]:
        """Change the named switches (others keep their value); ``seed`` restarts the random sequence."""
        unknown = set(changes) - set(FAULT_KEYS)
        if unknown:
            raise ValueError(f"unknown fault switch(es): {', '.join(sorted(unknown))}")
        for name in RATE_KEYS:  # JSON bodies arrive with Decimal numbers; a rate is a probability, not money
            if isinstance(changes.get(name), Decimal):
                changes[name] = float(changes[name])
        with self._lock:
            config = replace(self._config, **changes).validated()
            self._config = config
            if "seed" in changes:
                self._rng = random.Random(config.seed)
        return self.snapshot()

    def clear(self) -> dict[str, Any]:
        with self._lock:
            self._config = FaultConfig()
            self._rng = random.Random(0)
            self.injected.clear()
        return self.snapshot()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {**asdict(self._config), "injected": dict(self.injected)}

    def applies_to(self, method: str, path: str) -> bool:
        config = self._config
        if path == TOKEN_PATH and not config.include_token_endpoint:
            return False
        return path.startswith(config.path_prefix)

    def latency_s(self, method: str, path: str) -> float:
        return self._config.latency_ms / 1000 if self.applies_to(method, path) else 0.0

    def decide(self, method: str, path: str) -> Fault | None:
        """The fault this request meets, if any; consumes one "next N" or one random draw per armed rate."""
        if not self.applies_to(method, path):
            return None
        with self._lock:
            c = self._config
            fault: Fault | None = None
            if self._fires("drop_next", c.drop_rate):
                fault = Fault("drop")
            elif self._fires("rate_limit_next", c.rate_limit_rate):
                fault = Fault("rate_limit", 429, c.retry_after_s)
            elif self._fires("server_error_next", c.server_error_rate):
                fault = Fault("server_error", c.server_error_status)
            elif method in WRITE_METHODS and self._fires("conflict_next", 0.0):
                fault = Fault("conflict", 409)
            if fault:
                self.injected[fault.kind] += 1
            return fault

    def _fires(self, counter: str, rate: float) -> bool:
        remaining = getattr(self._config, counter)
        if remaining > 0:
            self._config = replace(self._config, **{counter: remaining - 1})
            return True
        return rate > 0 and self._rng.random() < rate
