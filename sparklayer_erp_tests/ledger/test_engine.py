"""URL handling and the per-database settings that make concurrent use safe."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from sparklayer_erp.ledger import Ledger, make_engine, normalise_url
from sparklayer_erp.ledger.engine import safe_url


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgresql://u:p@db:5432/ledger", "postgresql+psycopg2"),
        ("postgres://u:p@db/ledger", "postgresql+psycopg2"),
        ("postgresql+psycopg2://u@db/ledger", "postgresql+psycopg2"),
        ("sqlite:///.data/ledger.sqlite", "sqlite"),
    ],
)
def test_bare_postgres_url_gets_psycopg2(given: str, driver: str) -> None:
    assert normalise_url(given).drivername == driver


def test_safe_url_hides_password() -> None:
    shown = safe_url("postgresql://ledger:s3cr3t-pw@db/ledger")
    assert "s3cr3t-pw" not in shown
    assert shown == "postgresql+psycopg2://ledger:***@db/ledger"


def test_sqlite_engine_uses_wal_and_busy_timeout(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'sub' / 'ledger.sqlite'}")  # parent dir is created
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    finally:
        engine.dispose()


def test_in_memory_sqlite_is_one_database() -> None:
    with Ledger.from_url("sqlite://") as ledger:
        assert ledger.claim_order("P-1", "ACC-1", "invoice", "h")
        assert ledger.get_order_link("P-1") is not None


def test_timestamps_are_utc_aware_and_naive_is_refused(ledger: Ledger) -> None:
    plus_two = dt.timezone(dt.timedelta(hours=2))
    ledger.claim_order(
        "P-1", "ACC-1", "invoice", "h", sparklayer_updated_at=dt.datetime(2026, 2, 1, 1, 30, tzinfo=plus_two)
    )
    link = ledger.get_order_link("P-1")
    assert link is not None
    assert link.sparklayer_updated_at == dt.datetime(2026, 1, 31, 23, 30, tzinfo=dt.UTC)
    assert link.sparklayer_updated_at.utcoffset() == dt.timedelta(0)
    assert link.created_at.tzinfo is not None
    with pytest.raises(ValueError, match="timezone-aware"):
        ledger.update_order_link("P-1", sparklayer_updated_at=dt.datetime(2026, 2, 1, 1, 30))


def test_money_is_exact_decimal_and_never_rounded_silently(ledger: Ledger) -> None:
    ledger.claim_order("P-1", "ACC-1", "invoice", "h", total=Decimal("1234567890.10"), currency="GBP")
    link = ledger.get_order_link("P-1")
    assert link is not None and link.total == Decimal("1234567890.10")
    assert isinstance(link.total, Decimal) and str(link.total) == "1234567890.10"
    with pytest.raises(ValueError, match="two decimal places"):
        ledger.update_order_link("P-1", total=Decimal("10.005"))
    with pytest.raises(TypeError, match="Decimal"):
        ledger.update_order_link("P-1", total=10.5)
