"""What every business operation needs: the store, the clock, the tax rate and the account preferences."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from sparklayer_erp.demo.netsuite import not_confirmed as nc
from sparklayer_erp.demo.netsuite.db import Database
from sparklayer_erp.demo.netsuite.store import Doc, Store

CENT = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def dec(value: object) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


@dataclass
class Preferences:
    """Account preferences that change behaviour (Accounting Preferences > Accounts Receivable)."""

    credit_limit_handling: str = nc.CREDIT_LIMIT_HANDLING
    credit_limit_includes_orders: bool = nc.CREDIT_LIMIT_INCLUDES_ORDERS
    credit_check_on_pending_create: bool = nc.CREDIT_CHECK_ON_PENDING_CREATE
    default_order_status: str = nc.DEFAULT_ORDER_STATUS
    days_overdue_for_hold: int | None = None  # None: overdue balances never put a customer on hold


@dataclass
class Context:
    db: Database
    store: Store
    tax_rate: Decimal = Decimal(0)
    prefs: Preferences = field(default_factory=Preferences)

    def conn(self) -> sqlite3.Connection:
        return self.db.connection

    def load(self, type_name: str, record_id: int | None) -> Doc:
        return self.store.require(self.db.connection, type_name, record_id)

    def default_location(self) -> int | None:
        row = self.db.connection.execute("SELECT MIN(id) FROM location WHERE isinactive = 'F'").fetchone()
        return row[0] if row and row[0] is not None else None
