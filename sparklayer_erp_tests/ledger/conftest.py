"""Ledger fixtures: every ledger test runs on SQLite (a temp file) and on a real PostgreSQL database.

The PostgreSQL database comes from ``pg_url`` (sparklayer_erp_tests/conftest.py): the named server, else
127.0.0.1:5432, else a throw-away cluster the session starts itself (sparklayer_erp_tests/pg.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from sparklayer_erp.ledger import Ledger

START = dt.datetime(2026, 1, 31, 23, 0, tzinfo=dt.UTC)


class Clock:
    """A hand-moved UTC clock so timestamps in assertions are exact."""

    def __init__(self, start: dt.datetime = START) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """URL of an empty (unmigrated) ledger database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(empty_url: str, clock: Clock) -> Iterator[Ledger]:
    led = Ledger.from_url(empty_url, clock=clock)
    yield led
    led.close()
