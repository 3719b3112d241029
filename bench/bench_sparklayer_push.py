"""What batching buys on a large master-data push through the SparkLayer client.

Starts the local sandbox on a temporary database, creates the price lists and stock locations, then pushes
100,000 pricing rows (one SKU on one list each) and 25,000 stock rows through ``SparkLayerClient`` with
batching, and again with batching off (batch size 1). The unbatched push is measured on a sample and
extrapolated — the output says so — because the full run would take many minutes.

    .venv/bin/python bench/bench_sparklayer_push.py            # pacing off: client + sandbox throughput
    .venv/bin/python bench/bench_sparklayer_push.py --rps 10   # the client's default pacing
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from sparklayer_erp.demo.sandbox.server import run_sandbox
from sparklayer_erp.sparklayer.client import SparkLayerClient
from sparklayer_erp.sparklayer.models import PriceList, PricingRow, StockLevelRow

SITE, CLIENT_ID, SECRET = "demo-site", "demo-client", "demo-secret"
DEFAULT_RPS = 10.0  # the client's default, for the projection line


def pricing_rows(total: int, lists: list[str]) -> list[PricingRow]:
    per_list = total // len(lists)
    rows = []
    for n, slug in enumerate(lists):
        for i in range(per_list + (1 if n < total % len(lists) else 0)):
            base = Decimal(100 + i % 900) / 100
            case_price = (base * Decimal("0.9")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            rows.append(PricingRow(f"BENCH-{i:06d}", slug, ((1, base), (12, case_price))))
    return rows


def stock_rows(total: int, locations: list[str]) -> list[StockLevelRow]:
    per_location = total // len(locations)
    return [
        StockLevelRow(f"BENCH-{i:06d}", (i * 7) % 5000, stock_location_external_id=loc)
        for loc in locations
        for i in range(per_location)
    ]


def push(
    client: SparkLayerClient, prices: list[PricingRow], stock: list[StockLevelRow], batch: int
) -> tuple[float, int]:
    """Seconds taken and HTTP requests made for one pricing + stock push."""
    before = client.stats.requests
    started = time.perf_counter()
    client.batch_update_pricing(prices, batch_size=batch)
    client.batch_update_stock(stock, batch_size=batch)
    return time.perf_counter() - started, client.stats.requests - before


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pricing-rows", type=int, default=100_000)
    parser.add_argument("--stock-rows", type=int, default=25_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--sample", type=int, default=2_000, help="rows pushed unbatched (then extrapolated)")
    parser.add_argument("--lists", type=int, default=10)
    parser.add_argument("--rps", type=float, default=None, help="client-side pacing (default: off)")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # prints and progress in order
    logging.basicConfig(level=logging.INFO, format="    progress: %(message)s", stream=sys.stdout)
    logging.getLogger("httpx").setLevel(logging.WARNING)

    slugs = [f"bench-{n:02d}" for n in range(args.lists)]
    locations = ["WH", "WH2"]
    prices = pricing_rows(args.pricing_rows, slugs)
    stock = stock_rows(args.stock_rows, locations)
    total_rows = len(prices) + len(stock)

    with tempfile.TemporaryDirectory() as tmp, run_sandbox(Path(tmp) / "bench.db") as sandbox:
        client = SparkLayerClient(
            sandbox.base_url, SITE, CLIENT_ID, SECRET, requests_per_second=args.rps, progress_every=100
        )
        existing_lists = {p.slug for p in client.iter_price_lists()}
        for slug in slugs:
            if slug not in existing_lists:
                client.create_price_list(PriceList(slug, slug.title(), "GBP"))
        existing_locations = {loc.external_id for loc in client.list_stock_locations()}
        for loc in locations:
            if loc not in existing_locations:
                client.create_stock_location(f"Warehouse {loc}", loc)
        client.get_token()

        print(f"pacing: {'off' if args.rps is None else f'{args.rps:g} requests/s'}")
        print(f"batched push (batch size {args.batch_size}): "
              f"{len(prices):,} pricing + {len(stock):,} stock rows")
        batched_s, batched_requests = push(client, prices, stock, args.batch_size)
        print(f"  {batched_s:8.2f} s  {total_rows / batched_s:10,.0f} rows/s  {batched_requests:,} requests")

        # unbatched: a sample in the same pricing:stock proportion, extrapolated to the full push
        sample = min(args.sample, total_rows)
        sample_prices = round(sample * len(prices) / total_rows)
        sample_stock = sample - sample_prices
        full_run = sample >= total_rows
        print(f"unbatched push (batch size 1): {'all' if full_run else 'a sample of'} {sample:,} rows "
              f"({sample_prices:,} pricing + {sample_stock:,} stock)")
        unbatched_sample_s, unbatched_requests = push(client, prices[:sample_prices], stock[:sample_stock], 1)
        unbatched_rate = sample / unbatched_sample_s
        unbatched_s = total_rows / unbatched_rate
        print(f"  {unbatched_sample_s:8.2f} s  {unbatched_rate:10,.0f} rows/s  "
              f"{unbatched_requests:,} requests")
        if not full_run:
            print(f"  EXTRAPOLATED from the {sample:,}-row sample to {total_rows:,} rows: "
                  f"{unbatched_s:,.0f} s ({unbatched_s / 60:.1f} min), {total_rows:,} requests")
        print(f"batching speed-up: {unbatched_s / batched_s:,.1f}x faster, "
              f"{total_rows / batched_requests:,.0f}x fewer requests")
        print(f"at the client's default pacing of {DEFAULT_RPS:g} requests/s the request count alone sets a "
              f"floor of {batched_requests / DEFAULT_RPS:,.0f} s batched vs "
              f"{total_rows / DEFAULT_RPS / 3600:,.1f} h unbatched")
        client.close()


if __name__ == "__main__":
    main()
