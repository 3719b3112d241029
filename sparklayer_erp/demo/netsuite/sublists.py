"""Sublist write semantics of the record service (keyed merge, non-keyed append, ``?replace=``)."""

from __future__ import annotations

from typing import Any

from sparklayer_erp.demo.netsuite.record_types import Sublist
from sparklayer_erp.demo.netsuite.store import Doc, ref_id


def _key(sub: Sublist, line: Doc) -> tuple[Any, ...] | None:
    if not sub.key or any(line.get(k) is None for k in sub.key):
        return None
    return tuple(str(ref_id(line[k]) if isinstance(line[k], dict) else line[k]) for k in sub.key)


def merge(sub: Sublist, existing: list[Doc], request: Doc | None, *, replace: bool) -> tuple[list[Doc], list[Doc]]:
    """(resulting lines, lines removed). ``request`` None (``{"sub": null}`` or ``items: null``) removes all.

    Keyed: a request line whose key matches an existing line updates it, others are added; with ``replace``
    every existing line not matched is removed. Non-keyed: request lines are appended, or replace all.
    """
    if request is None:
        return [], list(existing)
    incoming = request.get("items") or []
    if not sub.key:
        return ([dict(line) for line in incoming], list(existing)) if replace else \
            ([*existing, *(dict(line) for line in incoming)], [])
    by_key = {_key(sub, line): i for i, line in enumerate(existing)}
    result = [dict(line) for line in existing]
    matched: set[int] = set()
    added: list[Doc] = []
    for line in incoming:
        index = by_key.get(_key(sub, line))
        if index is not None and _key(sub, line) is not None:
            result[index].update(line)
            matched.add(index)
        else:
            added.append(dict(line))
    removed = [existing[i] for i in range(len(existing)) if replace and i not in matched]
    kept = [line for i, line in enumerate(result) if not replace or i in matched]
    return [*kept, *added], removed
