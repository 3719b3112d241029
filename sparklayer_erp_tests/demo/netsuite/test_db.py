"""The emulator's SQLite file: a file written by an older emulator gains the SuiteQL columns added since."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sparklayer_erp.demo.netsuite.db import ADDED_COLUMNS, Database


def test_an_older_file_gains_the_columns_added_since(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute('CREATE TABLE "transaction" (id INTEGER PRIMARY KEY, tranid TEXT)')
        conn.execute("INSERT INTO \"transaction\" (id, tranid) VALUES (1, 'SO1')")
    db = Database(path)
    try:
        for table, column, _kind in ADDED_COLUMNS:
            columns = {row[1] for row in db.connection.execute(f'PRAGMA table_info("{table}")')}
            assert column in columns
        row = db.connection.execute('SELECT tranid, exchangerate FROM "transaction"').fetchone()
        assert tuple(row) == ("SO1", None)
    finally:
        db.close()
    Database(path).close()  # opening it again changes nothing
