"""One atomic unit of work on a SQLite connection, shared by the demo's emulators (the SparkLayer sandbox and
the NetSuite emulator): both serve many requests on threads over one connection."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class UnitsOfWork:
    """``tx()`` over ``self._conn``: a ``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on any error), nested calls
    joining the outer transaction. Subclasses open ``self._conn`` and call ``_init_units()`` first."""

    _conn: sqlite3.Connection

    def _init_units(self) -> None:
        self._lock = threading.RLock()
        self._depth = 0

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit of work; nested calls join the outer transaction."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")
            finally:
                self._depth = 0
