"""Sync status: enough to tell a stale or failing sync from a healthy one."""

from __future__ import annotations

import datetime as dt

from sparklayer_erp.ledger import Ledger
from sparklayer_erp_tests.ledger.conftest import Clock


def test_start_success_failure_cycle(ledger: Ledger, clock: Clock) -> None:
    assert ledger.sync_status("prices") is None
    started = clock.now
    ledger.record_sync_start("prices")
    clock.advance(seconds=30)
    ledger.record_sync_success("prices", {"pushed": 12, "unchanged": 988})
    ok_at = clock.now

    status = ledger.sync_status("prices")
    assert status is not None
    assert (status.last_started_at, status.last_success_at, status.last_failure_at) == (started, ok_at, None)
    assert status.last_counts == {"pushed": 12, "unchanged": 988}
    assert not status.failing
    assert not status.is_stale(dt.timedelta(minutes=15), now=clock.now)

    clock.advance(minutes=20)
    ledger.record_sync_start("prices")
    ledger.record_sync_failure("prices", TimeoutError("SparkLayer did not answer in 10 s"))
    status = ledger.sync_status("prices")
    assert status is not None
    assert status.failing and status.last_error == "TimeoutError: SparkLayer did not answer in 10 s"
    assert status.last_success_at == ok_at and status.last_counts == {"pushed": 12, "unchanged": 988}
    assert status.is_stale(dt.timedelta(minutes=15), now=clock.now)

    ledger.record_sync_failure("stock", "x" * 5000)
    names = [s.name for s in ledger.sync_statuses()]
    assert names == ["prices", "stock"]
    stock = ledger.sync_status("stock")
    assert stock is not None and len(stock.last_error or "") == 2000
    assert stock.is_stale(dt.timedelta(days=365), now=clock.now)  # never succeeded
