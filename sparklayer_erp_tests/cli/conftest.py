"""Command-line fixtures: a real SQLite ledger per test, named by LEDGER_DATABASE_URL as in production."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from sparklayer_erp.ledger import Ledger


@pytest.fixture
def ledger_url(tmp_path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    monkeypatch.setenv("LEDGER_DATABASE_URL", url)
    return url


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[Ledger]:
    with Ledger.from_url(ledger_url) as store:
        yield store


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
