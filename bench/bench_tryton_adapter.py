"""Benchmark: committed orders per second through TrytonErp vs the same work as bare JSON-RPC calls.

    .venv/bin/python bench/bench_tryton_adapter.py [--orders 500] [--one-by-one 500] [--batch 50]

Four runs, each on its own server over a fresh copy of the seeded database (Tryton's credit check reads
every open sale of the customer, so a database that already holds the previous run's orders would slow
the next one down):

  adapter, batched     create_orders(50 drafts, commit=True) per call
  bare RPC, batched    sale.sale create(50) + quote(50 ids) + confirm(50 ids), lookups done beforehand
  adapter, one by one  create_orders([draft])
  bare RPC, one by one create + quote + confirm for one sale

The adapter also looks the purchase ids up before creating, validates customers/SKUs/units, re-reads the
states, and confirms at most one order per credit-limited customer per call (Tryton's batch confirm
checks all credit limits before confirming any order); bare RPC does none of that. Orders are spread over
every customer not on hold (1 case of 12 each, far below their limits).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sparklayer_erp.demo import demo_data  # noqa: E402
from sparklayer_erp.demo.tryton_local import TrytonServer, start_server  # noqa: E402
from sparklayer_erp.domain.models import ErpOrderDraft, ErpOrderLine, PaymentMethod  # noqa: E402
from sparklayer_erp.erp.tryton import conventions as conv  # noqa: E402
from sparklayer_erp.erp.tryton.adapter import TrytonErp  # noqa: E402
from sparklayer_erp.erp.tryton.rpc import TrytonRpc  # noqa: E402

SKUS = [p.sku for p in demo_data.PRODUCTS if p.pack_size == 12]
CUSTOMERS = [c.account_code for c in demo_data.CUSTOMERS if not c.on_credit_hold]


def drafts(n: int, tag: str) -> list[ErpOrderDraft]:
    out = []
    for i in range(n):
        sku = SKUS[i % len(SKUS)]
        price = demo_data.product_by_sku(sku).list_price * 12
        out.append(ErpOrderDraft(
            purchase_id=f"bench-{tag}-{i}", account_code=CUSTOMERS[i % len(CUSTOMERS)], po_number=f"PO-{tag}-{i}",
            payment_method=PaymentMethod.INVOICE,
            lines=(ErpOrderLine(sku=sku, quantity=Decimal(1), unit="Case of 12", unit_price=price),),
            commit=True,
        ))
    return out


class BareRpc:
    """What a hand-written integration would send: ids resolved once up front, then create/quote/confirm."""

    def __init__(self, server: TrytonServer) -> None:
        self.rpc = TrytonRpc(server.url, server.db_name, server.login, server.password)
        parties = self.rpc.search_read("party.party", [("code", "in", CUSTOMERS)],
                                       ["code", "customer_payment_term", "sale_price_list", "addresses"])
        self.parties = {p["code"]: p for p in parties}
        products = self.rpc.search_read("product.product", [("code", "in", SKUS)],
                                        ["code", "account_category.customer_taxes_used"])
        self.products = {p["code"]: p for p in products}
        self.case12 = self.rpc.model("product.uom", "search", [("name", "=", "Case of 12")], 0, 1, None)[0]
        self.shop = self.rpc.model("web.shop", "search", [("name", "=", conv.WEB_SHOP_NAME)], 0, 1, None)[0]

    def values(self, d: ErpOrderDraft) -> dict:
        party = self.parties[d.account_code]
        ln = d.lines[0]
        product = self.products[ln.sku]
        taxes = (product.get("account_category.") or {}).get("customer_taxes_used") or []
        return {
            "party": party["id"], "invoice_address": party["addresses"][0],
            "shipment_address": party["addresses"][0], "payment_term": party["customer_payment_term"],
            "price_list": party["sale_price_list"], "reference": d.po_number,
            conv.WEB_SHOP_FIELD: self.shop, conv.PURCHASE_ID_FIELD: d.purchase_id,
            "lines": [["create", [{"type": "line", "product": product["id"], "quantity": float(ln.quantity),
                                   "unit": self.case12, "unit_price": ln.unit_price,
                                   "taxes": [["add", taxes]]}]]],
        }

    def create_commit(self, batch: Sequence[ErpOrderDraft]) -> None:
        ids = self.rpc.model("sale.sale", "create", [self.values(d) for d in batch])
        self.rpc.model("sale.sale", "quote", ids)
        self.rpc.model("sale.sale", "confirm", ids)


def run(label: str, n: int, batch: int, make: Callable[[TrytonServer], Callable[[list], None]],
        check: bool = True) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-tryton-") as tmp:
        server = start_server(db_copy_dir=Path(tmp))
        try:
            send = make(server)
            work = drafts(n, uuid.uuid4().hex[:6])
            per_call = []
            started = time.perf_counter()
            for i in range(0, n, batch):
                t0 = time.perf_counter()
                send(work[i:i + batch])
                per_call.append(time.perf_counter() - t0)
            elapsed = time.perf_counter() - started
            if check:
                verify(server, work)
        finally:
            server.stop()
    rate = n / elapsed
    print(f"{label:<24} {n:>5} orders  {elapsed:7.1f} s  {rate:6.2f} orders/s  "
          f"(median call {statistics.median(per_call) * 1000:6.0f} ms, batch {batch})", flush=True)
    return rate


def verify(server: TrytonServer, work: list[ErpOrderDraft]) -> None:
    """Every purchase became exactly one committed sale (a benchmark that loses orders measures nothing)."""
    rpc = TrytonRpc(server.url, server.db_name, server.login, server.password)
    rows = rpc.search_read("sale.sale", [(conv.PURCHASE_ID_FIELD, "like", "bench-%")], ["state", "shipments"])
    states = {r["state"] for r in rows}
    assert len(rows) == len(work) and states == {"processing"}, (len(rows), states)
    assert all(r["shipments"] for r in rows), "a committed sale without its shipment"
    rpc.close()


CALL_TIMES: dict[str, list[float]] = {}


def timed(rpc: TrytonRpc) -> TrytonRpc:
    """Record the wall time of every JSON-RPC call by method (to show where the adapter's time goes)."""
    call = rpc.call

    def wrapper(method: str, params: Sequence) -> object:
        t0 = time.perf_counter()
        try:
            return call(method, params)
        finally:
            CALL_TIMES.setdefault(method, []).append(time.perf_counter() - t0)

    rpc.call = wrapper  # type: ignore[method-assign]
    return rpc


def print_call_times(label: str) -> None:
    total = sum(sum(v) for v in CALL_TIMES.values())
    print(f"  where the time of '{label}' went (JSON-RPC wall time by method):")
    for method, times in sorted(CALL_TIMES.items(), key=lambda kv: -sum(kv[1]))[:8]:
        print(f"    {method:<40} {len(times):>5} calls {sum(times):7.1f} s  {100 * sum(times) / total:5.1f} %")
    CALL_TIMES.clear()


def adapter_sender(server: TrytonServer) -> Callable[[list], None]:
    erp = TrytonErp(server.url, server.db_name, server.login, server.password)
    timed(erp.rpc)

    def send(batch: list) -> None:
        results = erp.create_orders(batch)
        bad = [r for r in results if r.refusal or r.order is None]
        assert not bad, bad[:3]
    return send


def bare_sender(server: TrytonServer) -> Callable[[list], None]:
    bare = BareRpc(server)
    timed(bare.rpc)
    CALL_TIMES.clear()  # the up-front lookups are not part of the measured work
    return bare.create_commit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=500, help="orders for the batched runs (0: skip)")
    parser.add_argument("--one-by-one", type=int, default=500, help="orders for the one-by-one runs (0: skip)")
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args(argv)
    print(f"Tryton adapter benchmark: {len(CUSTOMERS)} customers, {len(SKUS)} SKUs, 1 line per order", flush=True)
    a_batch = 0.0
    if args.orders:
        a_batch = run("adapter, batched", args.orders, args.batch, adapter_sender)
        print_call_times("adapter, batched")
        b_batch = run("bare RPC, batched", args.orders, args.batch, bare_sender)
        print_call_times("bare RPC, batched")
        print(f"adapter overhead, batched:    {b_batch / a_batch:.2f}x the bare time", flush=True)
    if args.one_by_one:
        a_one = run("adapter, one by one", args.one_by_one, 1, adapter_sender)
        print_call_times("adapter, one by one")
        b_one = run("bare RPC, one by one", args.one_by_one, 1, bare_sender)
        print_call_times("bare RPC, one by one")
        print(f"adapter overhead, one by one: {b_one / a_one:.2f}x the bare time", flush=True)
        if a_batch:
            print(f"batching speed-up (adapter):  {a_batch / a_one:.1f}x", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
