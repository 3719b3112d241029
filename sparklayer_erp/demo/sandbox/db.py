"""The sandbox's state: one SQLite file, one connection, one lock.

Why one connection behind an ``RLock``: the ASGI handlers (event-loop thread) and Python-side admin calls
(test threads) share the store; serialising every transaction is simpler than SQLite's own locking and the
sandbox is never the bottleneck. Documents are stored as JSON text next to the indexed columns that the
API looks up or sorts by.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

from sparklayer_erp.demo.sqlite_units import UnitsOfWork

STAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
    token_hash TEXT PRIMARY KEY, site_id TEXT NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS customer_groups (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, slug TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
    parent_slug TEXT, settings TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS customers (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, legacy_id TEXT UNIQUE,
    external_id TEXT UNIQUE, email_key TEXT UNIQUE, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS price_lists (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, slug TEXT NOT NULL UNIQUE, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS prices (
    slug TEXT NOT NULL, sku TEXT NOT NULL, quantity INTEGER NOT NULL, price TEXT NOT NULL,
    unit_of_measure TEXT, tax_type TEXT, display_tax_rate TEXT,
    PRIMARY KEY (slug, sku, quantity));
CREATE INDEX IF NOT EXISTS prices_by_sku ON prices (sku);
CREATE TABLE IF NOT EXISTS stock_locations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, external_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stock_levels (
    location_id TEXT NOT NULL, sku TEXT NOT NULL, stock_level INTEGER NOT NULL, restock_date TEXT,
    min_stock_level INTEGER, PRIMARY KEY (location_id, sku));
CREATE TABLE IF NOT EXISTS variants (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, external_id TEXT NOT NULL UNIQUE,
    sku TEXT NOT NULL UNIQUE, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS purchases (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, sparklayer_id TEXT NOT NULL UNIQUE, platform_id TEXT UNIQUE,
    internal_id TEXT UNIQUE, visible_id TEXT UNIQUE, type TEXT NOT NULL, customer_id TEXT,
    placed TEXT, last_updated TEXT NOT NULL, balance_charge TEXT NOT NULL DEFAULT '0', doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS purchases_by_update ON purchases (last_updated, seq);
CREATE TABLE IF NOT EXISTS purchase_history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, purchase_seq INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS purchase_transactions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, purchase_seq INTEGER NOT NULL, platform_id TEXT NOT NULL,
    applied TEXT NOT NULL, doc TEXT NOT NULL, UNIQUE (purchase_seq, platform_id));
CREATE TABLE IF NOT EXISTS sync_logs (
    integration TEXT NOT NULL, data_type TEXT NOT NULL, doc TEXT NOT NULL, errors TEXT NOT NULL,
    PRIMARY KEY (integration, data_type));
CREATE TABLE IF NOT EXISTS write_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL,
    query TEXT NOT NULL, status INTEGER, fault TEXT, body TEXT);
"""

# Tables wiped by a reset (tokens survive: a reset of the shop's data does not log the integration out).
DATA_TABLES = ("meta", "customer_groups", "customers", "price_lists", "prices", "stock_locations",
               "stock_levels", "variants", "purchases", "purchase_history", "purchase_transactions",
               "sync_logs", "write_log")


def json_number(value: Any) -> float:
    """``Decimal`` → JSON number. Exact because validation caps numbers at 15 significant digits, which a
    double round-trips (``repr`` gives back the same digits); ``loads`` reads them back as ``Decimal``."""
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"cannot store {type(value).__name__} as JSON")


def dumps(doc: Any) -> str:
    """JSON text for storage; ASCII-escaped so odd code points (lone surrogates) can never break SQLite."""
    return json.dumps(doc, separators=(",", ":"), default=json_number)


def loads(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)


def format_stamp(moment: dt.datetime) -> str:
    """Fixed-width UTC text with microseconds: sorts lexically in time order."""
    return moment.astimezone(dt.UTC).strftime(STAMP_FORMAT)


class Database(UnitsOfWork):
    """The SQLite file plus a strictly increasing clock for ``dates.last_updated``."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._init_units()
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")  # WAL-safe; a fake shop needs no fsync per write
        self._conn.execute("PRAGMA busy_timeout=5000")
        self._conn.executescript(SCHEMA)
        self._last_stamp = ""

    def now(self) -> str:
        """Current UTC time, strictly later than any stamp handed out before by this process.

        Incremental polling by ``dates.last_updated`` must never see two writes share a stamp out of order,
        so a clock that did not move (or moved back) is nudged forward by a microsecond.
        """
        with self._lock:
            stamp = format_stamp(dt.datetime.now(dt.UTC))
            if stamp <= self._last_stamp:
                last = dt.datetime.strptime(self._last_stamp, STAMP_FORMAT).replace(tzinfo=dt.UTC)
                stamp = format_stamp(last + dt.timedelta(microseconds=1))
            self._last_stamp = stamp
            return stamp

    def next_number(self, name: str, start: int) -> int:
        """A persistent counter (visible order numbers, platform ids): ``start``, ``start + 1``, ..."""
        with self.tx() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (f"counter:{name}",)).fetchone()
            value = int(row["value"]) + 1 if row else start
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (f"counter:{name}", str(value)))
            return value

    def get_meta(self, key: str) -> str | None:
        with self.tx() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            return row["value"] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.tx() as conn:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def wipe(self) -> None:
        with self.tx() as conn:
            for table in DATA_TABLES:
                conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names

    def close(self) -> None:
        with self._lock:
            self._conn.close()
