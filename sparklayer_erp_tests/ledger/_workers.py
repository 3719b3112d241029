"""Entry points for the multi-process tests (spawned, so they must live in an importable module)."""

from __future__ import annotations

from typing import Any


def claim_all(url: str, purchase_ids: list[str], barrier: Any, results: Any) -> None:
    """Open the ledger (migrating on first use, racing the other process), then claim every id."""
    try:
        from sparklayer_erp.ledger import Ledger

        ledger = Ledger.from_url(url, migrate=True)
        barrier.wait(timeout=120)
        wins = [pid for pid in purchase_ids if ledger.claim_order(pid, "ACC-1", "invoice", "hash")]
        ledger.close()
        results.put(("ok", wins))
    except BaseException as exc:  # report to the parent instead of dying silently
        results.put(("error", f"{type(exc).__name__}: {exc}"))
