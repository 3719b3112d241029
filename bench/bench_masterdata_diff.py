"""Benchmark: change detection on 3,000,000 price points (200 price lists × 15,000 SKUs).

What one scheduled price sync does after the gate: hash the valid price frame, compare with the hashes of the
last successful push, and build the pricing bodies for what changed. Measured here:

1. first run: hash everything (every key is an upsert);
2. 1 % of the prices change: hash again, diff, build and serialise the changed pricing entries;
3. nothing changes: hash again, diff → nothing to send (0 bytes).

It prints wall times, peak memory (``ru_maxrss``: tracemalloc would slow Python allocation several times
and distort the timings) and the bytes that would be sent versus a full push. Targets: ≤ 20 s for the
incremental run and ≤ 2 GB peak. ``--form dict`` measures the dict API (``row_hashes``) instead of the
compact Series form; ``--with-gate`` also times ``split_valid`` on the whole frame.

The frame is generated column by column as the prices builder lays it out (text columns, ``Decimal``
objects in an object column, one distinct ``str``/``Decimal`` object per row as a JSON-RPC reply would give),
not through 3 million ``PriceEntry`` objects.

Run: ``.venv/bin/python bench/bench_masterdata_diff.py [--lists 200] [--skus 15000] [--form dict]``
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from collections import defaultdict
from decimal import Decimal

import numpy as np
import pandas as pd

from sparklayer_erp.domain.hashing import row_hash_series, row_hashes
from sparklayer_erp.domain.masterdata import PriceBreak, PricingEntry, diff_hashes, pricing_rows
from sparklayer_erp.masterdata.mapper import pricing_body
from sparklayer_erp.sparklayer import wire

KEY = ["price_list_code", "sku"]
VALUES = ["min_quantity", "unit_price", "currency"]
CENT = Decimal("0.01")


def peak_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    return kb / 1024


def generate(lists: int, skus: int, seed: int = 42) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = lists * skus
    list_codes = [f"LEVEL-{i:03d}" for i in range(lists)]
    cents = rng.integers(50, 50_000, n)  # 0.50 .. 500.00
    return pd.DataFrame({
        "price_list_code": pd.Series([list_codes[i // skus] for i in range(n)], dtype="str"),
        "sku": pd.Series([f"SKU-{i % skus:06d}" for i in range(n)], dtype="str"),
        "min_quantity": pd.Series([1] * n, dtype=object),
        "unit_price": pd.Series([Decimal(int(c)).scaleb(-2) for c in cents], dtype=object),
        "currency": pd.Series(["GBP"] * n, dtype="str"),
    })


def bodies_by_list(entries: list[PricingEntry]) -> dict[str, list[dict]]:
    """One ``PATCH /api/v1/price-lists/{slug}/pricing`` body per list."""
    grouped: dict[str, list[dict]] = defaultdict(list)
    for entry in entries:
        grouped[entry.price_list_slug].append(pricing_body(entry))
    return grouped


def sent_bytes(entries: list[PricingEntry]) -> int:
    return sum(len(wire.dumps(body)) for body in bodies_by_list(entries).values())


def full_push_bytes(frame: pd.DataFrame, sample_lists: int | None) -> tuple[int, str]:
    """Bytes of pushing every price (one body per list), built the same way as the incremental bodies.

    With ``sample_lists`` only that many lists are serialised and the total is scaled up by price points
    (every generated list has the same SKUs and the same price distribution); otherwise all are.
    """
    total, counted = 0, 0
    groups = frame.groupby("price_list_code", sort=False)
    for n, (_code, group) in enumerate(groups):
        if sample_lists is not None and n >= sample_lists:
            return round(total * len(frame) / counted), f"extrapolated from {n} lists"
        counted += len(group)
        entries = [PricingEntry(code, sku, (PriceBreak(int(q), p),))
                   for code, sku, q, p in group[[*KEY, "min_quantity", "unit_price"]].itertuples(
                       index=False, name=None)]
        total += sent_bytes(entries)
    return total, "exact"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lists", type=int, default=200)
    parser.add_argument("--skus", type=int, default=15_000)
    parser.add_argument("--change", type=float, default=0.01, help="share of price points changed")
    parser.add_argument("--form", choices=("series", "dict"), default="series",
                        help="hashes as row_hash_series (compact, default) or row_hashes dicts")
    parser.add_argument("--exact-full-push", action="store_true",
                        help="serialise every list for the full-push size (~1 min) instead of 10 lists")
    parser.add_argument("--with-gate", action="store_true", help="also time split_valid on the frame")
    args = parser.parse_args(argv)
    n = args.lists * args.skus
    hashes = row_hash_series if args.form == "series" else row_hashes
    print(f"price points: {n:,} ({args.lists} lists × {args.skus:,} SKUs, 1 break each); "
          f"hashes as {hashes.__name__}")

    t = time.perf_counter()
    frame = generate(args.lists, args.skus)
    print(f"generate frame                 {time.perf_counter() - t:6.2f} s   peak {peak_mb():7.0f} MB")

    if args.with_gate:
        from sparklayer_erp.masterdata.gates import PricesFrame, split_valid

        t = time.perf_counter()
        valid, quarantined = split_valid(frame, PricesFrame)
        print(f"gate split_valid (PricesFrame) {time.perf_counter() - t:6.2f} s   peak {peak_mb():7.0f} MB"
              f"   valid {len(valid):,}, held {len(quarantined):,}")
        del valid, quarantined

    t = time.perf_counter()
    previous = hashes(frame, KEY, VALUES)
    first = diff_hashes({}, previous)
    print(f"run 1: hash + diff (first run) {time.perf_counter() - t:6.2f} s   peak {peak_mb():7.0f} MB"
          f"   upserts {len(first.upserts):,}")
    del first

    # 1 % of the price points change in the ERP
    rng = random.Random(7)
    changed_rows = rng.sample(range(n), int(n * args.change))
    prices = frame["unit_price"].to_numpy(copy=True)
    for i in changed_rows:
        prices[i] = prices[i] + CENT
    frame = frame.assign(unit_price=pd.Series(prices, dtype=object, index=frame.index))
    del prices

    t0 = time.perf_counter()
    current = hashes(frame, KEY, VALUES)
    t1 = time.perf_counter()
    changes = diff_hashes(previous, current)
    t2 = time.perf_counter()
    entries = pricing_rows(frame, changes.upserts | changes.deletes)
    t3 = time.perf_counter()
    incremental = sent_bytes(entries)
    t4 = time.perf_counter()
    print(f"run 2: hash                    {t1 - t0:6.2f} s")
    print(f"       diff                    {t2 - t1:6.2f} s   upserts {len(changes.upserts):,}, "
          f"deletes {len(changes.deletes):,}, unchanged {changes.unchanged:,}")
    print(f"       pricing entries         {t3 - t2:6.2f} s   entries {len(entries):,}")
    print(f"       serialise bodies        {t4 - t3:6.2f} s")
    print(f"       total incremental run   {t4 - t0:6.2f} s   peak {peak_mb():7.0f} MB")
    assert len(changes.upserts) == len(changed_rows) and not changes.deletes
    del previous, entries

    t0 = time.perf_counter()
    again = diff_hashes(current, hashes(frame, KEY, VALUES))
    nothing = pricing_rows(frame, again.upserts | again.deletes)
    no_change_bytes = sent_bytes(nothing)
    print(f"run 3: no change, hash + diff  {time.perf_counter() - t0:6.2f} s   peak {peak_mb():7.0f} MB"
          f"   entries {len(nothing)}, bytes {no_change_bytes}")
    assert again.empty and no_change_bytes == 0
    del current, again

    t = time.perf_counter()
    full, how = full_push_bytes(frame, None if args.exact_full_push else 10)
    print(f"full push size (for comparison){time.perf_counter() - t:6.2f} s   ({how})")
    print(f"bytes sent: incremental {incremental:,} vs full push {full:,} "
          f"({incremental / full:.2%} of a full push); no-change run {no_change_bytes}")
    print(f"peak memory (ru_maxrss): {peak_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
