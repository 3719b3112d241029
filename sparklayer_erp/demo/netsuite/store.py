"""Record documents (the source of truth) and their SuiteQL projection, always written together.

A document is the record as the REST service would return it with every sublist expanded, in canonical
field names: references as ``{"id": "12"}``, enums as bare letters, numbers as ``Decimal``. ``save``
rewrites the record's SuiteQL rows in the caller's transaction, so no write is ever visible to one API and
not the other.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from sparklayer_erp.demo.netsuite import errors
from sparklayer_erp.demo.netsuite import not_confirmed as nc
from sparklayer_erp.demo.netsuite.db import Database
from sparklayer_erp.demo.netsuite.record_types import RecordType, record_type

Doc = dict[str, Any]


def _dump_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        return int(value) if isinstance(exponent, int) and exponent >= 0 else float(value)
    raise TypeError(f"cannot store {type(value).__name__}")


def dumps(doc: Any) -> str:
    return json.dumps(doc, separators=(",", ":"), default=_dump_default)


def loads(text: str) -> Any:
    return json.loads(text, parse_float=Decimal, parse_int=Decimal)


def ref_id(value: Any) -> int | None:
    """``{"id": "12"}`` / ``"12"`` / ``12`` → 12; anything else → None."""
    if isinstance(value, dict):
        value = value.get("id")
    if value is None or value == "":
        return None
    try:
        return int(str(value))
    except ValueError:
        return None


def ref(value: int | str | None) -> dict[str, str] | None:
    return None if value is None else {"id": str(value)}


class Store:
    """Documents by (type, internal id), external-id uniqueness per record group, projection on save."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def load(self, conn: sqlite3.Connection, type_name: str, record_id: int) -> Doc | None:
        row = conn.execute("SELECT doc FROM ns_record WHERE type = ? AND id = ?", (type_name, record_id)).fetchone()
        return loads(row["doc"]) if row else None

    def require(self, conn: sqlite3.Connection, type_name: str, record_id: int | None) -> Doc:
        doc = self.load(conn, type_name, record_id) if record_id is not None else None
        if doc is None:
            raise errors.nonexistent()
        return doc

    def id_for_eid(self, conn: sqlite3.Connection, type_name: str, external_id: str) -> int | None:
        rtype = record_type(type_name)
        assert rtype is not None
        row = conn.execute("SELECT id, type FROM ns_record WHERE grp = ? AND eid_key = ?",
                           (rtype.group, external_id.lower())).fetchone()
        return int(row["id"]) if row and row["type"] == type_name else None

    def resolve(self, conn: sqlite3.Connection, type_name: str, token: str) -> int | None:
        """A path id: ``123`` or ``eid:WS-1``; None when no such record exists."""
        if token.lower().startswith("eid:"):
            return self.id_for_eid(conn, type_name, token[4:])
        try:
            record_id = int(token)
        except ValueError:
            return None
        exists = conn.execute("SELECT 1 FROM ns_record WHERE type = ? AND id = ?", (type_name, record_id)).fetchone()
        return record_id if exists else None

    def ids(self, conn: sqlite3.Connection, type_name: str) -> list[int]:
        return [r["id"] for r in conn.execute("SELECT id FROM ns_record WHERE type = ? ORDER BY id", (type_name,))]

    def docs(self, conn: sqlite3.Connection, type_name: str) -> Iterator[Doc]:
        for row in conn.execute("SELECT doc FROM ns_record WHERE type = ? ORDER BY id", (type_name,)).fetchall():
            yield loads(row["doc"])

    def _check_eid(self, conn: sqlite3.Connection, rtype: RecordType, doc: Doc, record_id: int) -> str | None:
        eid = doc.get("externalId")
        if eid in (None, ""):
            return None
        key = str(eid).lower()
        row = conn.execute("SELECT type, id FROM ns_record WHERE grp = ? AND eid_key = ?",
                           (rtype.group, key)).fetchone()
        if row and (row["type"], row["id"]) != (rtype.name, record_id):
            raise errors.NsError(nc.DUPLICATE_EXTERNAL_ID_STATUS, nc.DUPLICATE_EXTERNAL_ID_CODE,
                                 nc.DUPLICATE_EXTERNAL_ID_DETAIL)
        return key

    def insert(self, conn: sqlite3.Connection, type_name: str, doc: Doc, record_id: int | None = None) -> int:
        rtype = record_type(type_name)
        assert rtype is not None
        if record_id is None:
            record_id = self.db.next_id(rtype.group, rtype.id_start)
        doc["id"] = str(record_id)
        now = self.db.now()
        doc.setdefault("createdDate" if "createdDate" in rtype.fields else "dateCreated", now)
        self._write(conn, rtype, doc, record_id, insert=True)
        return record_id

    def save(self, conn: sqlite3.Connection, type_name: str, doc: Doc) -> None:
        rtype = record_type(type_name)
        assert rtype is not None
        self._write(conn, rtype, doc, int(doc["id"]), insert=False)

    def _write(self, conn: sqlite3.Connection, rtype: RecordType, doc: Doc, record_id: int, *, insert: bool) -> None:
        from sparklayer_erp.demo.netsuite import projection

        key = self._check_eid(conn, rtype, doc, record_id)
        if "lastModifiedDate" in rtype.fields:
            doc["lastModifiedDate"] = self.db.now()
        text = dumps(doc)
        if insert:
            conn.execute("INSERT INTO ns_record (type, id, grp, eid_key, doc) VALUES (?, ?, ?, ?, ?)",
                         (rtype.name, record_id, rtype.group, key, text))
        else:
            conn.execute("UPDATE ns_record SET eid_key = ?, doc = ? WHERE type = ? AND id = ?",
                         (key, text, rtype.name, record_id))
        projection.project(conn, rtype.name, loads(text))

    def delete(self, conn: sqlite3.Connection, type_name: str, record_id: int) -> None:
        from sparklayer_erp.demo.netsuite import projection

        conn.execute("DELETE FROM ns_record WHERE type = ? AND id = ?", (type_name, record_id))
        projection.unproject(conn, type_name, record_id)
        conn.execute("INSERT INTO DeletedRecord (deleteddate, type, recordid) VALUES (?, ?, ?)",
                     (self.db.now(), type_name.lower(), record_id))
