"""pytest fixtures for the NetSuite emulator: one emulator per test session, plus back-office helpers.

Use with ``pytest_plugins = ["sparklayer_erp_tests.netsuite_fixtures"]`` (or import the fixtures).
``netsuite_emulator`` (session) serves a freshly seeded emulator on a free port; ``netsuite`` (function)
is the same object, with fault switches, token lifetime and account preferences put back after the test.
Back-office helpers act as NetSuite staff through the documented REST API itself.

Every test of the session shares the one emulator: use fresh external ids, assert stock and balances as
differences (or read the expected value from the emulator first), and put back customer settings you change.
``reset()`` re-seeds the demo company when a test needs pristine data.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from sparklayer_erp.demo.netsuite import credentials as creds
from sparklayer_erp.demo.netsuite.server import EmulatorHandle, run_emulator
from sparklayer_erp.demo.netsuite.service import Emulator
from sparklayer_erp.demo.netsuite.staff import NetSuiteStaff


@dataclass
class NetSuiteEmulator:
    """A running emulator: where it is, how to log in, and staff actions."""

    handle: EmulatorHandle
    staff: NetSuiteStaff

    @property
    def base_url(self) -> str:
        return self.handle.base_url

    @property
    def account_id(self) -> str:
        return self.handle.account_id

    @property
    def client_id(self) -> str:
        return self.emulator.credentials.client_id

    @property
    def certificate_id(self) -> str:
        return next(iter(self.emulator.credentials.certificates))

    @property
    def private_key_pem(self) -> str:
        return creds.private_key_pem()

    @property
    def emulator(self) -> Emulator:
        return self.handle.emulator

    def settings(self, auth: str = "oauth2") -> dict[str, str]:
        """``NETSUITE_*`` settings for an adapter (oauth2 or tba)."""
        return self.handle.adapter_settings(auth)

    # back office, through REST
    def ship(self, order_id: int, tracking: Sequence[str] = ("1Z999AA10123456784",),
             lines: Mapping[int, float] | None = None, ship_status: str = "C") -> int:
        return self.staff.ship(order_id, tracking, lines, ship_status)

    def invoice(self, order_id: int) -> int:
        return self.staff.invoice(order_id)

    def pay(self, invoice_id: int, amount: float | None = None) -> int:
        return self.staff.pay(invoice_id, amount)

    def set_credit_hold(self, account_code: str, hold: str = "ON") -> None:
        self.staff.set_credit_hold(account_code, hold)

    def set_faults(self, **switches: Any) -> dict[str, Any]:
        return self.staff.set_faults(**switches)

    def clear_faults(self) -> None:
        self.staff.clear_faults()

    def set_clock(self, offset_days: int) -> None:
        """Move the emulator's business date (due dates pass, invoices become overdue)."""
        self.staff.http.put(f"{self.base_url}/_emulator/clock", json={"offset_days": offset_days}).raise_for_status()

    def expire_tokens(self) -> None:
        self.staff.expire_tokens()

    def wait_idle(self, timeout_s: float = 10.0) -> None:
        """Wait until no request is in flight (a delayed answer from an earlier test would count)."""
        deadline = time.monotonic() + timeout_s
        while self.emulator.faults.in_flight and time.monotonic() < deadline:
            time.sleep(0.02)

    def reset(self) -> None:
        """Wipe every record and re-seed the demo company."""
        self.staff.reset()


@pytest.fixture(scope="session")
def netsuite_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NetSuiteEmulator]:
    with run_emulator(tmp_path_factory.mktemp("netsuite") / "netsuite.sqlite") as handle:
        staff = NetSuiteStaff(handle.base_url)
        try:
            yield NetSuiteEmulator(handle, staff)
        finally:
            staff.close()


@pytest.fixture
def netsuite(netsuite_emulator: NetSuiteEmulator) -> Iterator[NetSuiteEmulator]:
    """The session's emulator, with faults, token lifetime and preferences restored after the test."""
    yield netsuite_emulator
    emulator = netsuite_emulator.emulator
    emulator.faults.clear()  # latency and delays end here; requests still held finish on their own
    netsuite_emulator.wait_idle()
    emulator.set_token_lifetime(3600)
    emulator.ctx.prefs = type(emulator.ctx.prefs)()
    if emulator.db.clock_offset:
        emulator.set_clock(0)
