"""One sandbox instance: its store, tokens and fault switches, plus the buyer/admin functions in Python.

The HTTP app (``app.py``) and the ``/_sandbox`` admin routes are thin over this class, so tests and the demo
simulator can drive the same behaviour either in-process or over HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sparklayer_erp.demo.sandbox import checkout, purchases, seed
from sparklayer_erp.demo.sandbox.auth import Credentials, TokenService
from sparklayer_erp.demo.sandbox.db import Database
from sparklayer_erp.demo.sandbox.faults import FaultSwitches

MAX_LOGGED_BODY = 1_000_000  # bytes of a request body kept in the write log


def order_lines(lines: Any) -> Any:
    """Python callers may give ``(sku, quantity)`` pairs; the checkout takes ``{"sku", "quantity"}`` dicts."""
    if not isinstance(lines, (list, tuple)):
        return lines
    return [{"sku": ln[0], "quantity": ln[1]} if isinstance(ln, tuple) and len(ln) == 2 else ln for ln in lines]


class Sandbox:
    def __init__(self, db_path: Path, credentials: Credentials, *, seed_data: bool = True) -> None:
        self.db = Database(Path(db_path))
        self.faults = FaultSwitches()
        self.tokens = TokenService(self.db, credentials, self.faults)
        self._seed_data = seed_data
        if seed_data:
            seed.seed(self.db)

    # -- the buyer ----------------------------------------------------------------------------------------------
    def place_order(self, customer: str, lines: Any, payment_method: str, po_number: str | None = None,
                    unit_price_overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return checkout.place_order(self.db, customer=customer, lines=order_lines(lines), payment_method=payment_method,
                                    po_number=po_number, unit_price_overrides=unit_price_overrides)

    def cancel_order(self, purchase_id: str) -> dict[str, Any]:
        return checkout.cancel_order(self.db, purchase_id)

    def amend_order(self, purchase_id: str, lines: Any,
                    unit_price_overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return checkout.amend_order(self.db, purchase_id, order_lines(lines), unit_price_overrides)

    def get_purchase(self, purchase_id: str) -> dict[str, Any]:
        return purchases.get(self.db, "sparklayer", purchase_id)

    # -- what the integration wrote ------------------------------------------------------------------------------
    def log_write(self, method: str, path: str, query: str, status: int | None, fault: str | None,
                  body: bytes) -> None:
        text = body[:MAX_LOGGED_BODY].decode("utf-8", errors="replace") if body else None
        with self.db.tx() as conn:
            conn.execute("INSERT INTO write_log (at, method, path, query, status, fault, body) VALUES (?,?,?,?,?,?,?)",
                         (self.db.now(), method, path, query, status, fault, text))

    def writes(self, since: int | None = None) -> list[dict[str, Any]]:
        """Every mutating API call after write ``since`` (its ``seq``): method, path, status, time, body."""
        with self.db.tx() as conn:
            rows = conn.execute("SELECT * FROM write_log WHERE seq > ? ORDER BY seq", (since or 0,)).fetchall()
        out = []
        for r in rows:
            try:
                body: Any = json.loads(r["body"]) if r["body"] else None
            except ValueError:
                body = r["body"]
            out.append({"seq": r["seq"], "at": r["at"], "method": r["method"], "path": r["path"],
                        "query": r["query"], "status": r["status"], "fault": r["fault"], "body": body})
        return out

    # -- switches ------------------------------------------------------------------------------------------------
    def set_faults(self, **switches: Any) -> dict[str, Any]:
        return self.faults.set(**switches)

    def clear_faults(self) -> dict[str, Any]:
        return self.faults.clear()

    def revoke_tokens(self) -> int:
        return self.tokens.revoke_all()

    def reset(self) -> None:
        """Back to the freshly seeded shop; tokens stay valid, faults are cleared."""
        self.db.wipe()
        self.faults.clear()
        if self._seed_data:
            seed.seed(self.db)

    def close(self) -> None:
        self.db.close()
