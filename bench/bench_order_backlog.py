"""Draining an order backlog: orders/s through the order-sync flow vs the same ERP calls made directly.

Starts a local Tryton (a fresh copy of the demo company) and the SparkLayer sandbox, places two equal sets of
orders (half pay on account, half by invoice, customers without a credit limit), then:

- **direct**: ``create_orders`` on drafts prepared beforehand (translation and prices not timed), in batches
  of ``--batch`` — the floor: what the ERP itself costs;
- **flow**: the integration as the sensor drives it — read the batch from SparkLayer, translate, check prices
  with the ERP, claim in the ledger, ``create_orders``, read the ERP orders back to check totals, record
  links and audit — in batches of ``--batch``.

The ratio flow/direct is the integration's efficiency (goal ≥ 0.95). The output splits what the flow adds to
the direct calls: the ERP reads it needs (items once per run, prices in bulk, the status read-back that checks
totals), the SparkLayer read, and the rest (ledger writes, translation, Python). Orders are timed per side; on this shared
2-core machine 2,000 orders per side may take too long, so ``--orders`` runs fewer and the output states the
projection for 2,000 at the measured rate.

    .venv/bin/python bench/bench_order_backlog.py --orders 400
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from sparklayer_erp.demo import demo_data
from sparklayer_erp.demo.sandbox.server import run_sandbox
from sparklayer_erp.demo.tryton_local import start_server
from sparklayer_erp.domain.models import ErpOrderDraft
from sparklayer_erp.domain.money import round_unit_price
from sparklayer_erp.domain.orders import ItemInfo, PricePolicy, translate_order
from sparklayer_erp.erp.tryton.adapter import TrytonErp
from sparklayer_erp.ledger import Ledger
from sparklayer_erp.orders.mapper import order_in
from sparklayer_erp.orders.sync import DEFAULT_TAX_PERCENT, OrderSync, SyncSettings, fetch_requested
from sparklayer_erp.settings import SETTINGS
from sparklayer_erp.sparklayer.client import SparkLayerClient
from sparklayer_erp.sparklayer.wire import parse_datetime

CUSTOMERS = [c for c in demo_data.CUSTOMERS if c.credit_limit is None and not c.on_credit_hold]
SKUS = [p for p in demo_data.PRODUCTS if p.pack_size in (6, 12)]
TARGET = 2000


PREFETCH_WALL = [0.0]
_prefetch = OrderSync._prefetch_prices


def _timed_prefetch(self, batch):  # wall-clock time of the (parallel) price reads
    started = time.perf_counter()
    try:
        return _prefetch(self, batch)
    finally:
        PREFETCH_WALL[0] += time.perf_counter() - started


OrderSync._prefetch_prices = _timed_prefetch  # type: ignore[method-assign]


class Timed:
    """Wraps the ERP port and adds up the time spent in each of its calls."""

    def __init__(self, inner: TrytonErp) -> None:
        self._inner = inner
        self.seconds: dict[str, float] = {}

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return attr(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

        return timed


def place_orders(sandbox, erp: TrytonErp, n: int, tag: str, price_of: Callable) -> dict[str, dt.datetime]:
    """``n`` orders through the sandbox checkout (in-process), 1–2 lines each at the ERP's prices.
    Returns purchase id → ``last_updated``, which the sensor would hand to the run as ``updated_from``."""
    pids = {}
    for i in range(n):
        customer = CUSTOMERS[i % len(CUSTOMERS)]
        picks = [SKUS[(i * 7) % len(SKUS)]] + ([SKUS[(i * 11 + 3) % len(SKUS)]] if i % 2 else [])
        lines = list({p.sku: (p.sku, p.pack_size * (1 + i % 3)) for p in picks}.values())
        prices = {sku: str(price_of(customer.account_code, sku, qty)) for sku, qty in lines}
        order = sandbox.place_order(customer.sparklayer_id, [{"sku": s, "quantity": q} for s, q in lines],
                                    "on_account" if i % 2 else "invoice", po_number=f"{tag}-{i:05d}",
                                    unit_price_overrides=prices)
        pids[order["purchase_identifiers"]["sparklayer"]] = parse_datetime(order["dates"]["last_updated"])
    return pids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=TARGET, help="orders per side (default 2000)")
    page_size = int(str(SETTINGS["ORDER_PAGE_SIZE"].default))
    parser.add_argument("--batch", type=int, default=page_size,
                        help=f"orders per sensor run (ORDER_PAGE_SIZE, default {page_size})")
    parser.add_argument("--create-batch", type=int, default=SyncSettings().create_batch,
                        help="drafts per create_orders call, on both sides")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="bench-orders-"))
    server = start_server(db_copy_dir=tmp)
    raw_erp = TrytonErp(server.url, server.db_name, server.login, server.password)
    items = {i.sku: i for i in raw_erp.list_items()}
    cache: dict[tuple, Decimal] = {}

    def case_price(account: str, sku: str, cases: Decimal) -> Decimal:
        key = (account, sku, cases)
        if key not in cache:
            cache[key] = raw_erp.customer_price(account, sku, cases, items[sku].sale_unit.name)
        return cache[key]

    def unit_price(account: str, sku: str, units: int) -> Decimal:
        pack = items[sku].pack_size
        return round_unit_price(case_price(account, sku, Decimal(units // pack)) / pack)

    try:
        with run_sandbox(tmp / "shop.sqlite") as handle:
            client = SparkLayerClient(handle.base_url, "demo-site", "demo-client", "demo-secret",
                                      requests_per_second=None)
            ledger = Ledger.from_url(f"sqlite:///{tmp}/ledger.sqlite")
            for c in CUSTOMERS:  # what the master-data push provides: the link, and credit in SparkLayer
                ledger.upsert_customer_link(c.account_code, c.sparklayer_id, c.platform_id, c.email)
                raw = dict(client.get_customer("sparklayer", c.sparklayer_id).raw)
                raw["payment_on_account"] = {"credit_limit": 10**9, "balance": 0, "currency_code": "GBP"}
                client.upsert_customer("sparklayer", c.sparklayer_id, raw)
            t0 = time.perf_counter()
            direct_ids = list(place_orders(handle.sandbox, raw_erp, args.orders, "DIRECT", unit_price))
            flow_versions = place_orders(handle.sandbox, raw_erp, args.orders, "FLOW", unit_price)
            flow_ids = list(flow_versions)
            print(f"placed {2 * args.orders} orders in the sandbox in {time.perf_counter() - t0:.1f} s")

            # direct: drafts prepared outside the clock (same translation the flow does)
            infos = {sku: ItemInfo.from_erp_item(i) for sku, i in items.items()}
            accounts = {c.sparklayer_id: c.account_code for c in CUSTOMERS}
            drafts: list[ErpOrderDraft] = []
            for purchase in fetch_requested(client, direct_ids, None):
                order = order_in(purchase)
                t = translate_order(order, account_code=accounts[order.customer_sparklayer_id], items=infos,
                                    erp_price=lambda a, s, q, u: case_price(a, s, q), policy=PricePolicy.HOLD_FOR_FINANCE,
                                    tolerance=Decimal("0.01"), tax_rate_erp=DEFAULT_TAX_PERCENT)
                assert t.draft is not None, t.problems
                drafts.append(t.draft)
            # Batches alternate between the two sides, so a busy moment on this shared machine (or the ERP
            # database growing) weighs on both alike.
            timed = Timed(TrytonErp(server.url, server.db_name, server.login, server.password))
            direct_s = flow_s = fetch_s = 0.0
            created = 0
            for n, i in enumerate(range(0, args.orders, args.batch)):
                def direct(i: int = i) -> float:
                    started = time.perf_counter()
                    for j in range(i, min(i + args.batch, len(drafts)), args.create_batch):
                        results = raw_erp.create_orders(drafts[j:j + args.create_batch])
                        assert all(r.order is not None for r in results)
                    return time.perf_counter() - started

                def flow(i: int = i) -> tuple[float, float, int]:
                    started = time.perf_counter()  # what one sensor-requested run does
                    batch = flow_ids[i:i + args.batch]
                    since = min(flow_versions[pid] for pid in batch)  # as the sensor's run request says
                    purchases = fetch_requested(client, batch, since)
                    read = time.perf_counter() - started
                    sync = OrderSync(ledger, timed, SyncSettings(create_batch=args.create_batch))  # type: ignore[arg-type]
                    report = sync.run(purchases)
                    return time.perf_counter() - started, read, report.counts["created"]

                if n % 2:  # who goes first alternates too
                    (f_s, r_s, made), d_s = flow(), direct()
                else:
                    d_s, (f_s, r_s, made) = direct(), flow()
                direct_s, flow_s, fetch_s, created = direct_s + d_s, flow_s + f_s, fetch_s + r_s, created + made
            assert created == len(flow_ids), f"only {created} of {len(flow_ids)} orders were created"
    finally:
        server.stop()

    n = args.orders
    direct_rate, flow_rate = n / direct_s, n / flow_s
    print(f"\norders per side: {n}  (runs of {args.batch}, create_orders calls of {args.create_batch}; "
          "half on account, half by invoice)")
    print(f"direct create_orders: {direct_s:8.1f} s  {direct_rate:6.2f} orders/s")
    print(f"through the flow:     {flow_s:8.1f} s  {flow_rate:6.2f} orders/s")
    print(f"ratio flow/direct:    {flow_rate / direct_rate:8.2f}   (goal >= 0.95)")
    own = timed.seconds.get("create_orders", 0.0)
    print(f"the flow's own create_orders / its wall time: {own / flow_s:.2f}   (the same ERP calls timed inside the "
          "flow: what the flow adds, without the noise between the two sides)")
    print("flow: ERP calls " + ", ".join(f"{k} {v:.1f} s" for k, v in sorted(timed.seconds.items()))
          + f" (the price prefetch, items included, takes {PREFETCH_WALL[0]:.1f} s), SparkLayer reads {fetch_s:.1f} s")
    reads = {k: v for k, v in timed.seconds.items() if k != "create_orders"}
    rest = flow_s - sum(timed.seconds.values()) - fetch_s
    print(f"flow - direct = {flow_s - direct_s:+.1f} s: create_orders {timed.seconds.get('create_orders', 0) - direct_s:+.1f} s, "
          + ", ".join(f"{k} {v:+.1f} s" for k, v in sorted(reads.items()))
          + f", SparkLayer {fetch_s:+.1f} s, ledger/translation/Python {rest:+.1f} s")
    if n < TARGET:
        print(f"projection for {TARGET} orders at these rates (measured on {n}, extrapolated): direct "
              f"{TARGET / direct_rate / 60:.1f} min, flow {TARGET / flow_rate / 60:.1f} min")


if __name__ == "__main__":
    main()
