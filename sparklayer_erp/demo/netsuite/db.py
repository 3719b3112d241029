"""The emulator's state: one SQLite file, one connection, one lock.

Two kinds of tables live side by side. ``ns_*`` tables are private: the record documents the REST record
service reads and writes (the source of truth), counters, tokens. Every other table is a SuiteQL table with
NetSuite's table and column names, a projection of the documents rewritten in the same SQLite transaction as
every record write, so SuiteQL always sees what the record service committed. SuiteQL can never reach the
private tables (``suiteql.py`` refuses their names).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from sparklayer_erp.demo.netsuite.not_confirmed import DATETIME_FORMAT
from sparklayer_erp.demo.sqlite_units import UnitsOfWork

PRIVATE_PREFIX = "ns_"

PRIVATE_SCHEMA = """
CREATE TABLE IF NOT EXISTS ns_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ns_record (
    type TEXT NOT NULL, id INTEGER NOT NULL, grp TEXT NOT NULL, eid_key TEXT, doc TEXT NOT NULL,
    PRIMARY KEY (type, id));
CREATE UNIQUE INDEX IF NOT EXISTS ns_record_eid ON ns_record (grp, eid_key) WHERE eid_key IS NOT NULL;
CREATE TABLE IF NOT EXISTS ns_token (token_hash TEXT PRIMARY KEY, expires_at REAL NOT NULL);
"""

# SuiteQL-visible tables: NetSuite names; ids INTEGER, amounts/quantities NUMERIC, flags 'T'/'F', dates TEXT.
SUITEQL_SCHEMA = """
CREATE TABLE IF NOT EXISTS currency (
    id INTEGER PRIMARY KEY, name TEXT, symbol TEXT, isbasecurrency TEXT, exchangerate NUMERIC,
    isinactive TEXT);
CREATE TABLE IF NOT EXISTS term (id INTEGER PRIMARY KEY, name TEXT, daysuntilnetdue INTEGER, isinactive TEXT);
CREATE TABLE IF NOT EXISTS subsidiary (id INTEGER PRIMARY KEY, name TEXT, currency INTEGER, isinactive TEXT);
CREATE TABLE IF NOT EXISTS location (
    id INTEGER PRIMARY KEY, name TEXT, fullname TEXT, externalid TEXT, subsidiary INTEGER, isinactive TEXT,
    lastmodifieddate TEXT);
CREATE TABLE IF NOT EXISTS pricelevel (
    id INTEGER PRIMARY KEY, name TEXT, discountpct NUMERIC, externalid TEXT, isonline TEXT, isinactive TEXT,
    lastmodifieddate TEXT);
CREATE TABLE IF NOT EXISTS unitstype (id INTEGER PRIMARY KEY, name TEXT, externalid TEXT, isinactive TEXT);
CREATE TABLE IF NOT EXISTS unitstypeuom (
    internalid INTEGER PRIMARY KEY, unitstype INTEGER, unitname TEXT, pluralname TEXT, abbreviation TEXT,
    pluralabbreviation TEXT, conversionrate NUMERIC, baseunit TEXT, inuse TEXT);
CREATE TABLE IF NOT EXISTS item (
    id INTEGER PRIMARY KEY, itemid TEXT, displayname TEXT, fullname TEXT, description TEXT, itemtype TEXT,
    externalid TEXT, isinactive TEXT, unitstype INTEGER, baseunit INTEGER, saleunit INTEGER, stockunit INTEGER,
    purchaseunit INTEGER, quantityavailable NUMERIC, quantityonhand NUMERIC, quantitycommitted NUMERIC,
    createddate TEXT, lastmodifieddate TEXT);
CREATE TABLE IF NOT EXISTS pricing (
    item INTEGER, pricelevel INTEGER, currency INTEGER, quantity NUMERIC, saleunit INTEGER, unitprice NUMERIC);
CREATE TABLE IF NOT EXISTS inventoryitemlocations (
    item INTEGER, location INTEGER, quantityonhand NUMERIC, quantityavailable NUMERIC,
    quantitycommitted NUMERIC, quantitybackordered NUMERIC, quantityonorder NUMERIC, quantityintransit NUMERIC,
    averagecostmli NUMERIC, lastmodifieddate TEXT);
CREATE TABLE IF NOT EXISTS customer (
    id INTEGER PRIMARY KEY, entityid TEXT, companyname TEXT, email TEXT, externalid TEXT, isperson TEXT,
    subsidiary INTEGER, currency INTEGER, terms INTEGER, pricelevel INTEGER, creditlimit NUMERIC,
    creditholdoverride TEXT, oncredithold TEXT, balancesearch NUMERIC, overduebalancesearch NUMERIC,
    unbilledorderssearch NUMERIC, isinactive TEXT, datecreated TEXT, lastmodifieddate TEXT);
CREATE TABLE IF NOT EXISTS customeritempricing (
    customer INTEGER, item INTEGER, level INTEGER, price NUMERIC, currency INTEGER);
CREATE TABLE IF NOT EXISTS "transaction" (
    id INTEGER PRIMARY KEY, tranid TEXT, type TEXT, recordtype TEXT, externalid TEXT, entity INTEGER,
    status TEXT, trandate TEXT, duedate TEXT, otherrefnum TEXT, memo TEXT, currency INTEGER, terms INTEGER,
    foreigntotal NUMERIC, foreignamountpaid NUMERIC, foreignamountunpaid NUMERIC, exchangerate NUMERIC,
    void TEXT, createddate TEXT, lastmodifieddate TEXT);
CREATE TABLE IF NOT EXISTS transactionline (
    id INTEGER, "transaction" INTEGER, linesequencenumber INTEGER, mainline TEXT, taxline TEXT, item INTEGER,
    quantity NUMERIC, rate NUMERIC, foreignamount NUMERIC, units INTEGER, location INTEGER, memo TEXT,
    isclosed TEXT, createdfrom INTEGER, entity INTEGER, quantitycommitted NUMERIC, quantitybackordered NUMERIC,
    quantitypicked NUMERIC, quantitypacked NUMERIC, quantityshiprecv NUMERIC, quantitybilled NUMERIC,
    isfullyshipped TEXT, linelastmodifieddate TEXT, PRIMARY KEY ("transaction", id));
CREATE TABLE IF NOT EXISTS NextTransactionLink (
    previousdoc INTEGER, nextdoc INTEGER, linktype TEXT, previoustype TEXT, nexttype TEXT,
    linkcreateddate TEXT);
CREATE TABLE IF NOT EXISTS TrackingNumber (id INTEGER PRIMARY KEY, trackingnumber TEXT);
CREATE TABLE IF NOT EXISTS TrackingNumberMap ("transaction" INTEGER, trackingnumber INTEGER);
CREATE TABLE IF NOT EXISTS DeletedRecord (deleteddate TEXT, type TEXT, recordid INTEGER, name TEXT);
"""

# Columns added to SUITEQL_SCHEMA after files were first written: (table, column, type).
ADDED_COLUMNS = (("transaction", "exchangerate", "NUMERIC"),)

SUITEQL_TABLES = ("currency", "term", "subsidiary", "location", "pricelevel", "unitstype", "unitstypeuom", "item",
                  "pricing", "inventoryitemlocations", "customer", "customeritempricing", "transaction",
                  "transactionline", "NextTransactionLink", "TrackingNumber", "TrackingNumberMap",
                  "DeletedRecord")
DATA_TABLES = ("ns_meta", "ns_record", *SUITEQL_TABLES)


class Database(UnitsOfWork):
    """The SQLite file plus a second-resolution clock (NetSuite's ``lastmodifieddate`` has seconds)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._init_units()
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(PRIVATE_SCHEMA + SUITEQL_SCHEMA)
        self._add_missing_columns()
        self.clock_offset = dt.timedelta(0)  # tests move time forward (token expiry, overdue invoices)

    def _add_missing_columns(self) -> None:
        """A file written by an older emulator gains the columns added since (its rows keep NULL there
        until the next re-seed)."""
        for table, column, kind in ADDED_COLUMNS:
            have = {row[1] for row in self._conn.execute(f'PRAGMA table_info("{table}")')}
            if column not in have:
                self._conn.execute(f'ALTER TABLE "{table}" ADD COLUMN {column} {kind}')

    @property
    def connection(self) -> sqlite3.Connection:
        return self._conn

    def utcnow(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC).replace(microsecond=0) + self.clock_offset

    def now(self) -> str:
        """Current UTC time as SuiteQL datetime text."""
        return self.utcnow().strftime(DATETIME_FORMAT)

    def today(self) -> str:
        return self.utcnow().date().isoformat()

    def next_id(self, counter: str, start: int) -> int:
        """Increasing internal ids with small gaps, like NetSuite's; one counter per record group, always
        above the group's highest id (seeded records carry fixed ids)."""
        with self.tx() as conn:
            row = conn.execute("SELECT value FROM ns_meta WHERE key = ?", (f"counter:{counter}",)).fetchone()
            value = int(row["value"]) + 1 + int(row["value"]) % 2 if row else start
            highest = conn.execute("SELECT MAX(id) FROM ns_record WHERE grp = ?", (counter,)).fetchone()[0]
            value = max(value, (highest or 0) + 1)
            conn.execute("INSERT OR REPLACE INTO ns_meta (key, value) VALUES (?, ?)",
                         (f"counter:{counter}", str(value)))
            return value

    def next_number(self, counter: str, start: int) -> int:
        """A plain sequence (document numbers such as ``SO1001``)."""
        with self.tx() as conn:
            row = conn.execute("SELECT value FROM ns_meta WHERE key = ?", (f"seq:{counter}",)).fetchone()
            value = int(row["value"]) + 1 if row else start
            conn.execute("INSERT OR REPLACE INTO ns_meta (key, value) VALUES (?, ?)", (f"seq:{counter}", str(value)))
            return value

    def wipe(self) -> None:
        with self.tx() as conn:
            for table in DATA_TABLES:
                conn.execute(f'DELETE FROM "{table}"')  # noqa: S608 - fixed table names

    def close(self) -> None:
        with self._lock:
            self._conn.close()
