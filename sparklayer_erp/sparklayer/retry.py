"""When to send a request again, and how long to wait first (the reference's retry rules, on tenacity).

- 429 → wait exactly ``Retry-After`` (delta-seconds or HTTP-date); back off if the header is missing.
- 409 with the concurrent-update code → back off and retry; any other 409 is a genuine conflict: never.
- 5xx, and timeouts/connection drops after the request may have reached the server → back off and retry,
  but only for idempotent calls (PUT/PATCH/GET and the batch-stock upsert); a non-idempotent POST is only
  re-sent when the server provably did not act on it (429, concurrent-update 409, connection refused).
- any other 4xx → never (sending it unchanged fails the same way).
Every wait goes through the injected clock, and retrying stops at ``max_attempts`` or when the next wait
would take the total waited past ``max_total_wait_s`` — the last error is then raised as it was.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass

import tenacity

from sparklayer_erp.sparklayer.clock import Clock
from sparklayer_erp.sparklayer.errors import (
    SparkLayerConflict,
    SparkLayerRateLimited,
    SparkLayerServerError,
    SparkLayerUnavailable,
)

log = logging.getLogger("sparklayer_erp.sparklayer")


class TransportFailure(SparkLayerUnavailable):
    """No HTTP answer for one attempt. ``maybe_processed`` is False only when the connection was never
    made (refused, connect timeout), i.e. the server cannot have acted on the request."""

    def __init__(self, message: str, *, maybe_processed: bool, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.maybe_processed = maybe_processed


def parse_retry_after(value: str | None, now: dt.datetime) -> float | None:
    """``Retry-After`` in seconds from now: delta-seconds (``"7"``) or an HTTP-date; None if unusable."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(int(text))
    try:  # not RFC 9110, but some servers send "1.5"; a negative or non-finite value is unusable
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if 0 <= seconds < float("inf") else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:  # RFC 9110 HTTP-dates are GMT
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


def is_retryable(exc: BaseException, *, idempotent: bool) -> bool:
    if isinstance(exc, SparkLayerRateLimited):
        return True
    if isinstance(exc, SparkLayerConflict):
        return exc.retryable
    if isinstance(exc, SparkLayerServerError):
        return idempotent
    if isinstance(exc, TransportFailure):
        return idempotent or not exc.maybe_processed
    return False


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    max_total_wait_s: float = 120.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.max_total_wait_s < 0 or self.backoff_initial_s < 0 or self.backoff_max_s < 0:
            raise ValueError("waits cannot be negative")

    def backoff(self, attempt_number: int, rng: random.Random) -> float:
        """Exponential back-off with jitter: a uniform draw in [cap/2, cap], cap = initial·2^(n-1)."""
        cap = min(self.backoff_max_s, self.backoff_initial_s * (2 ** (attempt_number - 1)))
        return rng.uniform(cap / 2, cap)

    def retrying(
        self,
        *,
        idempotent: bool,
        clock: Clock,
        rng: random.Random,
        describe: str,
        on_retry: Callable[[float], None] | None = None,
    ) -> tenacity.Retrying:
        def wait(state: tenacity.RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, SparkLayerRateLimited) and exc.retry_after_s is not None:
                return exc.retry_after_s
            return self.backoff(state.attempt_number, rng)

        def stop(state: tenacity.RetryCallState) -> bool:
            if state.attempt_number >= self.max_attempts:
                return True
            return state.idle_for + state.upcoming_sleep > self.max_total_wait_s

        def before_sleep(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.warning(
                "%s failed (%s); retry %d/%d in %.2fs",
                describe,
                _short(exc),
                state.attempt_number,
                self.max_attempts - 1,
                state.upcoming_sleep,
            )
            if on_retry is not None:
                on_retry(state.upcoming_sleep)

        return tenacity.Retrying(
            retry=tenacity.retry_if_exception(lambda exc: is_retryable(exc, idempotent=idempotent)),
            wait=wait,
            stop=stop,
            sleep=clock.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )


def _short(exc: BaseException | None) -> str:
    if exc is None:
        return "no error"
    status = getattr(exc, "status", None)
    return f"{type(exc).__name__}" + (f" {status}" if status else "")
