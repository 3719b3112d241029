"""Push hashes: bulk save/load of 100k keys must stay fast; only changed keys are rewritten."""

from __future__ import annotations

import hashlib
import time

import pytest

from sparklayer_erp.ledger import Ledger
from sparklayer_erp_tests.ledger.conftest import Clock

N = 100_000


def _hashes(n: int, salt: str = "") -> dict[str, str]:
    return {f"SKU-{i:06d}": hashlib.sha256(f"{i}{salt}".encode()).hexdigest() for i in range(n)}


def test_save_load_delete_small(ledger: Ledger, clock: Clock) -> None:
    ledger.save_push_hashes("price", {"A": "1", "B": "2"})
    ledger.save_push_hashes("stock", {"A": "x"})
    first_push = clock.now
    clock.advance(hours=1)
    ledger.save_push_hashes("price", {"B": "2", "C": "3"})  # B unchanged, C new
    assert ledger.load_push_hashes("price") == {"A": "1", "B": "2", "C": "3"}
    assert ledger.load_push_hashes("stock") == {"A": "x"}
    assert ledger.load_push_hashes("nothing") == {}

    with ledger.engine.connect() as conn:
        pushed = dict(
            conn.exec_driver_sql(
                "SELECT entity_key, pushed_at FROM push_state WHERE entity_kind = 'price'"
            ).all()
        )
    # an unchanged hash keeps the time it was first pushed (the row is not rewritten)
    assert str(pushed["B"]).startswith(first_push.strftime("%Y-%m-%d %H:%M"))
    assert str(pushed["C"]).startswith(clock.now.strftime("%Y-%m-%d %H:%M"))

    assert ledger.delete_push_hashes("price", ["A", "Z"]) == 1
    assert ledger.load_push_hashes("price") == {"B": "2", "C": "3"}
    assert ledger.load_push_hashes("stock") == {"A": "x"}
    ledger.save_push_hashes("price", {})


def test_bulk_100k(ledger: Ledger, capsys: pytest.CaptureFixture[str]) -> None:
    original = _hashes(N)
    timings: dict[str, float] = {}

    def timed(label: str, fn, *args):  # noqa: ANN001, ANN202
        start = time.perf_counter()
        result = fn(*args)
        timings[label] = time.perf_counter() - start
        return result

    timed("save 100k new", ledger.save_push_hashes, "item", original)
    loaded = timed("load 100k", ledger.load_push_hashes, "item")
    assert loaded == original

    timed("save 100k unchanged", ledger.save_push_hashes, "item", original)
    changed = dict(original)
    for i in range(0, N, 10):  # 10% of the keys change
        changed[f"SKU-{i:06d}"] = "changed"
    timed("save 100k, 10% changed", ledger.save_push_hashes, "item", changed)
    assert ledger.load_push_hashes("item") == changed

    gone = [f"SKU-{i:06d}" for i in range(10_000)]
    assert timed("delete 10k", ledger.delete_push_hashes, "item", gone) == 10_000
    assert len(ledger.load_push_hashes("item")) == N - 10_000

    with capsys.disabled():
        line = ", ".join(f"{k} {v:.2f}s" for k, v in timings.items())
        print(f"\n[ledger push_state on {ledger.dialect}] {line}")
    assert timings["save 100k new"] < 30 and timings["load 100k"] < 10  # generous: shared 2-core CI box
