"""Audit helpers: a digest that proves what was sent without keeping it, and scrubbing of secrets.

The audit log must let us show *that* a request was made and match it to a copy elsewhere, but it must
never become a second store of order bodies or a place credentials leak to. So only a SHA-256 of the
request body is kept, and detail dictionaries have secret-looking keys masked before they are written.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from sparklayer_erp.ledger.engine import json_dumps

_SECRET_KEY = re.compile(
    r"pass(word)?|secret|token|authori[sz]ation|api[_-]?key|credential|cookie|session", re.IGNORECASE
)
REDACTED = "***"


def canonical_json(value: Any) -> bytes:
    """Deterministic JSON (sorted keys, no whitespace) so equal documents digest equally."""
    return json_dumps(value, sort_keys=True, separators=(",", ":")).encode("utf-8")


def request_digest(body: bytes | str | Mapping[str, Any] | list[Any] | None) -> str | None:
    """SHA-256 hex of the request body; None when there was no body.

    Pass the exact bytes sent when you have them; a dict/list is digested as canonical JSON, which
    matches the bytes on the wire only if the client serialised it the same way.
    """
    if body is None:
        return None
    if isinstance(body, bytes | bytearray | memoryview):
        data = bytes(body)
    elif isinstance(body, str):
        data = body.encode("utf-8")
    else:
        data = canonical_json(body)
    return hashlib.sha256(data).hexdigest()


def redact(value: Any) -> Any:
    """A copy of ``value`` with the values of secret-looking keys replaced by ``***`` (recursively)."""
    if isinstance(value, Mapping):
        return {
            str(k): REDACTED if _SECRET_KEY.search(str(k)) else redact(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def to_json_doc(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Round-trip through JSON so what we return from a write equals what a later read returns."""
    if value is None:
        return None
    return json.loads(json_dumps(dict(value)))
