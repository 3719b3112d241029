"""Month-end reconciliation at scale: 1,000,000 SparkLayer orders with 5,000,000 lines, and their ERP side.

Generates one month (seeded, so every run is the same data) with every reconciliation class represented:
orders (order totals = their lines + shipping; a tenth in euros), ERP orders (some pending, missing, cancelled,
mismatched, duplicated, by hand, claiming unknown purchases, part-shipped, credited; euro orders with the
ERP's rate, a few without), invoices (some split, paid, part-paid, overdue), payments (card orders recorded in
the ERP but a few not) and refunds in the shop. Money is ``int64`` minor units of each row's currency, as the
extraction hands it over (``reconciliation.minor_unit_frames`` converts each record's ``Decimal`` once, at
the edge); exchange rates are ``Decimal``.

Measures, each separately: the pandera gates on the input frames, ``reconcile_month`` (with the lines),
the bare pandas merge of the same frames (orders ⟕ ERP orders ⟕ invoices ⟕ payments) as a yardstick —
what any reconciliation must at least do — and, apart, building ``ReconResult.orders`` for people
(``Decimal`` money and a sentence per order; done when first read, e.g. by the export, not by
``reconcile_month``). Peak memory is the process's ``ru_maxrss`` after each step.
Targets (2 cores): ``reconcile_month`` ≤ 3 × the bare merge, gates + reconciliation ≤ 20 s, peak ≤ 3 GB.

    .venv/bin/python bench/bench_reconciliation.py                   # 1,000,000 orders
    .venv/bin/python bench/bench_reconciliation.py --orders 200000   # quick look
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import time
from decimal import Decimal

import numpy as np
import pandas as pd

from sparklayer_erp.domain.reconciliation import close_ready, reconcile_month
from sparklayer_erp.month_end.gates import INPUT_SCHEMAS

MONTH_START, MONTH_END, AS_OF = dt.date(2026, 10, 1), dt.date(2026, 11, 1), dt.date(2026, 11, 5)
RATIO_TARGET, TOTAL_TARGET_S, TARGET_GB = 3.0, 20.0, 3.0
EUR_RATE = Decimal("0.8571")


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024  # Linux: KiB


def ids(prefix: str, numbers: np.ndarray) -> np.ndarray:
    out = np.empty(len(numbers), dtype=object)
    out[:] = [f"{prefix}{i:08d}" for i in numbers.tolist()]
    return out


def generate(n: int, lines_per_order: int, seed: int = 7) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    pid = ids("P", np.arange(n))

    # --- SparkLayer lines: exactly n × lines_per_order, 1..9 per order ---------------------------------------
    counts = np.full(n, lines_per_order)
    half = n // 2
    shift = rng.integers(-(lines_per_order - 1), lines_per_order, half)
    counts[:half] += shift
    counts[half:2 * half] -= shift
    line_order = np.repeat(np.arange(n), counts)
    line_minor = rng.integers(100, 20_000, len(line_order))
    line_qty = rng.integers(1, 48, len(line_order))
    skus = np.array([f"SKU-{i:04d}" for i in range(2000)], dtype=object)
    lines = pd.DataFrame({
        "purchase_id": pid[line_order],
        "sku": skus[rng.integers(0, len(skus), len(line_order))],
        "quantity": line_qty,
        "line_total_gross": line_minor,
    })
    lines_total = np.bincount(line_order, weights=line_minor, minlength=n).astype(np.int64)
    qty_total = np.bincount(line_order, weights=line_qty, minlength=n).astype(np.int64)

    # --- SparkLayer orders ------------------------------------------------------------------------------------
    shipping = np.where(rng.random(n) < 0.4, 995, 0)
    total = lines_total + shipping
    total[rng.random(n) < 0.0005] += 1  # header disagrees with its lines
    method = np.array(["invoice", "on_account", "platform_upfront"], dtype=object)[
        rng.choice(3, n, p=[0.5, 0.3, 0.2])]
    card = method == "platform_upfront"
    cancelled = rng.random(n) < 0.03
    status = np.array(["processing", "shipped", "complete"], dtype=object)[rng.integers(0, 3, n)]
    status[cancelled] = "cancelled"
    month_s = (MONTH_END - MONTH_START).days * 86400
    offset = rng.integers(0, month_s, n)
    outside = rng.random(n) < 0.01  # a few orders of the neighbouring months
    offset[outside] = np.where(rng.random(outside.sum()) < 0.5, -3600, month_s + 3600)
    placed = pd.to_datetime(pd.Timestamp(MONTH_START, tz="UTC").value // 10**9 + offset, unit="s", utc=True)
    n_customers = max(10, n // 200)
    cust = rng.integers(0, n_customers, n)
    codes = ids("C", np.arange(n_customers))
    account = codes[cust].copy()
    account[rng.random(n) < 0.005] = None
    euro = rng.random(n) < 0.1
    currency = np.where(euro, "EUR", "GBP").astype(object)
    sl_rate = np.full(n, None, dtype=object)
    priced = euro & (rng.random(n) < 0.5)  # half the euro orders say the rate they were priced at
    sl_rate[priced] = EUR_RATE
    sl_rate[priced & (rng.random(n) < 0.02)] = Decimal("0.8600")  # within 1 %
    sl_rate[priced & (rng.random(n) < 0.002)] = Decimal("0.9500")  # outside
    refunded = np.where(rng.random(n) < 0.01, np.minimum(total, rng.integers(100, 5000, n)), 0)
    sl_orders = pd.DataFrame({
        "purchase_id": pid, "visible_id": ids("#", np.arange(n) + 100_000), "account_code": account,
        "customer_sparklayer_id": ids("cust-", cust), "payment_method": method, "placed_at": placed,
        "status": status, "total_gross": total, "total_paid": np.where(card, total, 0),
        "shipping_gross": shipping, "currency": currency, "refunded": refunded, "company_currency_rate": sl_rate,
    })

    # --- ERP orders ---------------------------------------------------------------------------------------
    u = rng.random(n)
    has_erp = np.where(cancelled, u < 0.8, u < 0.995)
    o = np.flatnonzero(has_erp)
    erp_total = total[o].copy()
    erp_total[rng.random(len(o)) < 0.002] += rng.integers(1, 500)
    state = np.where(rng.random(len(o)) < 0.5, "done", "committed").astype(object)
    state[(method[o] == "on_account") & (rng.random(len(o)) < 0.05)] = "pending_approval"
    state[cancelled[o] & (rng.random(len(o)) < 0.75)] = "cancelled"
    state[~cancelled[o] & (rng.random(len(o)) < 0.002)] = "cancelled"
    erp_account = codes[cust[o]].copy()
    erp_account[rng.random(len(o)) < 0.0005] = codes[0]
    erp_pid = pid[o]
    dup = o[rng.random(len(o)) < 0.0005]
    extra_unknown = max(1, n // 1000)
    extra_manual = max(1, n // 20)
    extra = extra_unknown + extra_manual
    all_pid = np.concatenate([erp_pid, pid[dup], ids("GHOST", np.arange(extra_unknown)),
                              np.full(extra_manual, None, dtype=object)])
    all_total = np.concatenate([erp_total, total[dup], rng.integers(1000, 90_000, extra)])
    all_state = np.concatenate([state, np.full(len(dup), "committed", dtype=object),
                                np.full(extra, "committed", dtype=object)])
    all_account = np.concatenate([erp_account, codes[cust[dup]], codes[rng.integers(0, n_customers, extra)]])
    all_currency = np.concatenate([currency[o], currency[dup], np.full(extra, "GBP", dtype=object)])
    all_qty = np.concatenate([qty_total[o], qty_total[dup], np.full(extra, 10)])
    m = len(all_pid)
    erp_rate = np.full(m, None, dtype=object)
    erp_rate[all_currency == "EUR"] = EUR_RATE
    erp_rate[(all_currency == "EUR") & (rng.random(m) < 0.001)] = None  # the ERP has no rate that day
    credited = np.concatenate([refunded[o], refunded[dup], np.zeros(extra, dtype=np.int64)])
    credited[(credited > 0) & (rng.random(m) < 0.1)] = 0  # refunded in the shop, no credit note yet
    credited[(credited == 0) & (rng.random(m) < 0.001)] = 500  # a credit note the shop does not show
    erp_ids = np.arange(1, m + 1)
    placed_day = placed.tz_localize(None).to_numpy().astype("datetime64[D]")
    order_day = np.concatenate([placed_day[o], placed_day[dup],
                                (np.datetime64(MONTH_START) + rng.integers(0, 31, extra))]).astype("datetime64[D]")

    # --- invoices and payments ----------------------------------------------------------------------------
    invoiced = (all_state == "done") | ((all_state == "committed") & (rng.random(m) < 0.6))
    inv_orders = np.flatnonzero(invoiced)
    split = rng.random(len(inv_orders)) < 0.05
    first_part = np.where(split, all_total[inv_orders] // 2, all_total[inv_orders])
    # part-shipped: one invoice for the shipped half (a tenth of them invoiced differently)
    part = ~split & (all_state[inv_orders] == "committed") & (rng.random(len(inv_orders)) < 0.04)
    first_part[part] = all_total[inv_orders[part]] // 2
    shipped_total = all_total.copy()
    shipped = all_qty.copy()
    shipped_total[~invoiced] = 0
    shipped[~invoiced] = 0
    shipped_total[inv_orders[part]] = first_part[part] + np.where(rng.random(part.sum()) < 0.1, 100, 0)
    shipped[inv_orders[part]] = np.maximum(1, all_qty[inv_orders[part]] // 2)
    inv_order = np.concatenate([inv_orders, inv_orders[split]])
    inv_total = np.concatenate([first_part, all_total[inv_orders[split]] - first_part[split]])
    k = len(inv_order)
    inv_day = order_day[inv_order] + rng.integers(0, 10, k)
    outcome = rng.random(k)
    paid = np.where(outcome < 0.6, inv_total, np.where(outcome < 0.7, inv_total // 2, 0))
    all_card = np.concatenate([card[o], card[dup], np.zeros(extra, dtype=bool)])
    is_card = all_card[inv_order]
    card_paid = is_card & (rng.random(k) < 0.995)
    paid = np.where(is_card, np.where(card_paid, inv_total, 0), paid)
    numbers = ids("INV", np.arange(k))
    erp_orders = pd.DataFrame({
        "erp_id": erp_ids, "number": ids("SO", erp_ids), "purchase_id": all_pid, "account_code": all_account,
        "state": all_state, "total": all_total, "order_date": order_day, "currency": all_currency,
        "company_currency_rate": erp_rate, "credited": credited, "quantity_ordered": all_qty,
        "quantity_shipped": shipped, "shipped_total": shipped_total,
    })
    erp_invoices = pd.DataFrame({
        "erp_id": erp_ids[inv_order], "number": numbers, "state": np.where(paid == inv_total, "paid", "posted"),
        "total": inv_total, "amount_due": inv_total - paid, "invoice_date": inv_day, "due_date": inv_day + 30,
    })
    pay = np.flatnonzero(paid > 0)
    paid_on = inv_day + np.where(is_card, 0, rng.integers(0, 20, k))  # card: recorded when invoiced
    erp_payments = pd.DataFrame({
        "invoice_number": numbers[pay], "amount": paid[pay], "paid_on": paid_on[pay],
    })
    return {"sl_orders": sl_orders, "sl_lines": lines, "erp_orders": erp_orders, "erp_invoices": erp_invoices,
            "erp_payments": erp_payments}


def bare_merge(f: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The yardstick: joins only, no money conversion, no classification, no totals."""
    return (f["sl_orders"].merge(f["erp_orders"], on="purchase_id", how="left", suffixes=("", "_erp"))
            .merge(f["erp_invoices"], on="erp_id", how="left", suffixes=("", "_inv"))
            .merge(f["erp_payments"], left_on="number_inv", right_on="invoice_number", how="left"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--lines-per-order", type=int, default=5)
    ap.add_argument("--no-validate", action="store_true", help="skip the pandera gates")
    args = ap.parse_args()

    t0 = time.perf_counter()
    frames = generate(args.orders, args.lines_per_order)
    t_gen = time.perf_counter() - t0
    sizes = ", ".join(f"{k} {len(v):,}" for k, v in frames.items())
    print(f"generated in {t_gen:.1f} s: {sizes}; peak so far {peak_gb():.2f} GB")

    t_val = c_val = 0.0
    if not args.no_validate:
        t0, c0 = time.perf_counter(), time.process_time()
        frames = {k: INPUT_SCHEMAS[k].validate(v, lazy=True) for k, v in frames.items()}
        t_val, c_val = time.perf_counter() - t0, time.process_time() - c0
        print(f"pandera gates (all five frames): {t_val:.1f} s (CPU {c_val:.1f} s); peak so far {peak_gb():.2f} GB")

    t0, c0 = time.perf_counter(), time.process_time()
    result = reconcile_month(frames["sl_orders"], frames["erp_orders"], frames["erp_invoices"],
                             frames["erp_payments"], sl_lines=frames["sl_lines"], as_of=AS_OF,
                             month_start=MONTH_START, month_end=MONTH_END, company_currency="GBP")
    t_rec, c_rec = time.perf_counter() - t0, time.process_time() - c0
    print(f"reconcile_month: {t_rec:.1f} s (CPU {c_rec:.1f} s) for {result.totals['orders']:,} orders of the month; "
          f"peak {peak_gb():.2f} GB")

    t0, c0 = time.perf_counter(), time.process_time()
    merged = bare_merge(frames)
    t_merge, c_merge = time.perf_counter() - t0, time.process_time() - c0
    ratio = t_rec / t_merge
    print(f"bare pandas merge (3 left joins, {len(merged):,} rows): {t_merge:.1f} s (CPU {c_merge:.1f} s); "
          f"reconcile_month / merge = {ratio:.1f}x (CPU {c_rec / c_merge:.1f}x)")
    del merged

    t0, c0 = time.perf_counter(), time.process_time()
    shown = result.orders  # built when first read: Decimal money and a sentence per order, for people
    t_show, c_show = time.perf_counter() - t0, time.process_time() - c0
    print(f"orders frame for people (Decimal + reasons, built on first read, e.g. by the export): {t_show:.1f} s "
          f"(CPU {c_show:.1f} s) "
          f"for {len(shown):,} rows; peak {peak_gb():.2f} GB")
    del shown

    counts = result.by_class.set_index("recon_class")["orders"]
    print("classes: " + ", ".join(f"{c} {v:,}" for c, v in counts.items() if v))
    ready = close_ready(result)
    t = result.totals
    print(f"close-ready: {ready.ready} ({len(ready.blockers)} blocking classes); in {result.company_currency}: "
          f"SparkLayer {t['sl_total']}, ERP {t['erp_total']}, difference {t['difference']}")
    print("per currency: " + "; ".join(f"{r.currency} {r.orders:,} orders, SparkLayer {r.sl_total}"
                                       for r in result.by_currency.itertuples(index=False)))
    peak = peak_gb()
    ok = ratio <= RATIO_TARGET and t_val + t_rec <= TOTAL_TARGET_S and peak <= TARGET_GB
    print(f"targets: reconcile_month / merge {ratio:.1f}x <= {RATIO_TARGET:.0f}x, gates + reconcile_month "
          f"{t_val + t_rec:.1f} s (CPU {c_val + c_rec:.1f} s) <= {TOTAL_TARGET_S:.0f} s, peak RSS {peak:.2f} GB <= "
          f"{TARGET_GB:.0f} GB: {'MET' if ok else 'NOT MET'} (wall times stretch when other work shares the cores; "
          f"the CPU figures do not)")


if __name__ == "__main__":
    main()
