"""One rule, for every asset, on which failures are retried and which stop the run.

- *Transient* failures (SparkLayer 429/5xx/unavailable, a dropped connection, the ERP unreachable) are
  retried by Dagster with ``TRANSIENT_RETRY``: every flow is safe to repeat (the ledger and the ERP lookup by
  purchase id make writes exactly once).
- A SparkLayer *refusal* (a 4xx that sending again cannot fix) stops the step without retries.
- Anything else is raised as it is (a bug or an unknown failure; Dagster's run-failure sensor alerts on it).

Every failure is recorded on the ledger's sync status when the caller names one, so the operating guide's
"last error" column shows it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import httpx

from sparklayer_erp.erp.port import ErpTechnicalError
from sparklayer_erp.ledger import Ledger
from sparklayer_erp.sparklayer.errors import (
    SparkLayerError,
    SparkLayerRateLimited,
    SparkLayerServerError,
    SparkLayerUnavailable,
    is_refusal,
)
from sparklayer_erp.sparklayer.retry import TransportFailure

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    SparkLayerRateLimited, SparkLayerServerError, SparkLayerUnavailable, TransportFailure,
    ErpTechnicalError, httpx.TransportError,
)
TRANSIENT_RETRY = dg.RetryPolicy(max_retries=3, delay=5, backoff=dg.Backoff.EXPONENTIAL,
                                 jitter=dg.Jitter.PLUS_MINUS)


@contextmanager
def failures_handled(ledger: Ledger | None = None, sync_name: str | None = None) -> Iterator[None]:
    """Apply the rule above to the ``with`` block; record the failure under ``sync_name`` when given."""
    def record(exc: BaseException) -> None:
        if ledger is not None and sync_name is not None:
            ledger.record_sync_failure(sync_name, exc)

    try:
        yield
    except TRANSIENT_ERRORS as exc:
        record(exc)
        raise
    except SparkLayerError as exc:
        record(exc)
        if is_refusal(exc):
            raise dg.Failure(description=f"SparkLayer refused a request: {exc}", allow_retries=False) from exc
        raise
    except Exception as exc:
        record(exc)
        raise
