"""One emulated NetSuite account: database, record store, business context, authentication, faults."""

from __future__ import annotations

from dataclasses import asdict, fields, replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sparklayer_erp.demo import demo_data
from sparklayer_erp.demo.netsuite import customers, seed, suiteql
from sparklayer_erp.demo.netsuite.async_jobs import Jobs
from sparklayer_erp.demo.netsuite.auth import Authenticator
from sparklayer_erp.demo.netsuite.context import Context, Preferences
from sparklayer_erp.demo.netsuite.credentials import EmulatorCredentials
from sparklayer_erp.demo.netsuite.db import Database
from sparklayer_erp.demo.netsuite.faults import FaultSwitches
from sparklayer_erp.demo.netsuite.store import Store


class Emulator:
    def __init__(self, db_path: Path, credentials: EmulatorCredentials | None = None, *, seed_data: bool = True,
                 tax_rate: Decimal | None = None) -> None:
        self.db = Database(Path(db_path))
        suiteql.register_functions(self.db.connection, self.db)
        self.store = Store(self.db)
        self.ctx = Context(self.db, self.store, demo_data.VAT_RATE if tax_rate is None else tax_rate)
        self.credentials = credentials or EmulatorCredentials()
        self.auth = Authenticator(self.db, self.credentials)
        self.faults = FaultSwitches()
        self.jobs = Jobs()
        self._seed_data = seed_data
        with self.db.tx() as conn:
            empty = conn.execute("SELECT COUNT(*) FROM ns_record").fetchone()[0] == 0
        if empty and seed_data:
            self.seed()

    def seed(self) -> None:
        with self.db.tx() as conn:
            seed.seed(self.store, conn)
            for customer_id in self.store.ids(conn, "customer"):
                customers.refresh(self.ctx, customer_id)

    def reset(self) -> None:
        """Wipe every record and re-seed the demo company (tokens and fault switches survive)."""
        self.db.wipe()
        self.ctx.prefs = Preferences()
        if self._seed_data:
            self.seed()

    def preferences(self) -> dict[str, Any]:
        return asdict(self.ctx.prefs)

    def set_preferences(self, **changes: Any) -> None:
        known = {f.name for f in fields(Preferences)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown preference(s): {', '.join(sorted(unknown))}")
        self.ctx.prefs = replace(self.ctx.prefs, **changes)

    def set_clock(self, offset_days: int) -> None:
        """Move the business date; balances and holds of every customer are recomputed for it."""
        self.db.clock_offset = timedelta(days=offset_days)
        with self.db.tx() as conn:
            for customer_id in self.store.ids(conn, "customer"):
                customers.refresh(self.ctx, customer_id)

    def set_token_lifetime(self, seconds: int) -> None:
        self.auth.token_lifetime_s = seconds

    def close(self) -> None:
        self.db.close()
