"""The content hash of one record: SHA-256 over canonical JSON (see ``hashing`` for the whole idea).

Apart from ``hashing`` because that module needs pandas and numpy for whole frames, and the order path
(which hashes one order at a time) should not load them: every order-sync run worker imports this.
"""

from __future__ import annotations

import hashlib
import json

from sparklayer_erp.domain.money import to_plain

__all__ = ["canonical_json", "content_hash"]


def canonical_json(obj: object) -> str:
    """The one spelling of ``obj`` that hashes use: sorted keys, compact, Decimals by value, ISO dates.

    Floats are refused (``MoneyError``): a float in data we compare means an amount already lost its cents.
    """
    plain = to_plain(obj, decimals_by_value=True)
    return json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(obj: object) -> str:
    """SHA-256 (hex) of ``canonical_json(obj)``: equal meaning → equal hash, in any process, on any day."""
    return hashlib.sha256(canonical_json(obj).encode("utf-8")).hexdigest()
