"""Demo buyer: places a realistic mix of orders into the SparkLayer sandbox so the demo shows itself.

The mix: all three payment methods, case quantities, a customer with no ERP account (quarantined for sales
operations), a price the ERP does not agree with (held for finance), a euro buyer (an EU trade customer whose
SparkLayer price list is the ERP's EUR level, so their orders are in EUR), and cancellations — some soon after
the order (before the point of no return), some late. Deterministic (seeded) so two demos look alike.
"""

from __future__ import annotations

import logging
import random
import threading

import httpx

from sparklayer_erp.demo import demo_data
from sparklayer_erp.demo.sandbox.admin import SandboxRejected

log = logging.getLogger(__name__)
METHODS = ("on_account", "invoice", "platform_upfront")


def order_plan(rng: random.Random, n: int) -> dict:
    """The n-th simulated order, as plain data (tested without a sandbox)."""
    if n % 11 == 5:
        customer = demo_data.UNLINKED_SPARKLAYER_CUSTOMER["id"]
    elif n % 10 == 2:
        customer = demo_data.EURO_CUSTOMER.sparklayer_id
    else:
        customer = rng.choice([c for c in demo_data.CUSTOMERS
                               if not c.on_credit_hold and c.currency == demo_data.CURRENCY]).sparklayer_id
    lines = []
    for product in rng.sample(demo_data.PRODUCTS, k=rng.randint(1, 3)):
        lines.append({"sku": product.sku, "quantity": product.pack_size * rng.randint(1, 4)})
    order = {"customer": customer, "lines": lines, "payment_method": METHODS[n % 3], "po_number": f"PO-DEMO-{n:04d}"}
    if n % 13 == 7:  # the shop shows a stale price: the ERP disagrees
        order["unit_price_overrides"] = {lines[0]["sku"]: "0.01"}
    return order


class Simulator:
    def __init__(self, sandbox_url: str, *, every_s: float = 12.0, seed: int = 7, limit: int = 60) -> None:
        from sparklayer_erp.demo.sandbox.admin import SandboxAdmin

        self.admin = SandboxAdmin(sandbox_url)
        self.every_s, self.limit = every_s, limit
        self.rng = random.Random(seed)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="order-simulator", daemon=True)
        self.placed: list[str] = []

    def start(self) -> Simulator:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def step(self, n: int) -> None:
        plan = order_plan(self.rng, n)
        try:
            purchase = self.admin.place_order(**plan)
        except (SandboxRejected, httpx.HTTPError) as exc:  # the shop refused (e.g. over credit), as it would
            log.info("simulated order %s refused by the shop: %s", plan["po_number"], exc)
            return
        pid = purchase["purchase_identifiers"]["sparklayer"]
        self.placed.append(pid)
        if n % 9 == 4:  # a quick change of mind: cancelled before the warehouse allocates it
            self.admin.cancel_order(pid)
        if n % 17 == 16 and len(self.placed) > 10:  # a late cancellation of an older order
            self.admin.cancel_order(self.placed[-10])

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set() and n < self.limit:
            try:
                self.step(n)
            except Exception:  # a demo helper must never die silently mid-demo; log and go on
                log.exception("simulated order %s failed", n)
            n += 1
            self._stop.wait(self.every_s)


def start_simulator(sandbox_url: str) -> Simulator:
    return Simulator(sandbox_url).start()
