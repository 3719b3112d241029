"""The demo's simulated buyers place a realistic mix, and the shop really takes their orders."""

import logging
import random

from sparklayer_erp.demo import demo_data
from sparklayer_erp.demo.simulator import Simulator, order_plan


def test_the_mix_covers_every_scenario_the_demo_promises():
    rng = random.Random(7)
    plans = [order_plan(rng, n) for n in range(40)]
    assert {p["payment_method"] for p in plans} == {"on_account", "invoice", "platform_upfront"}
    assert any(p["customer"] == demo_data.UNLINKED_SPARKLAYER_CUSTOMER["id"] for p in plans)
    assert any("unit_price_overrides" in p for p in plans)
    packs = {p.sku: p.pack_size for p in demo_data.PRODUCTS}
    assert all(line["quantity"] % packs[line["sku"]] == 0 for p in plans for line in p["lines"])
    assert any(packs[line["sku"]] > 1 for p in plans for line in p["lines"])


def test_orders_the_shop_refuses_do_not_stop_the_simulated_buyers(tmp_path, caplog):
    from sparklayer_erp.demo.sandbox.server import run_sandbox

    caplog.set_level(logging.INFO, logger="sparklayer_erp.demo.simulator")
    with run_sandbox(tmp_path / "sandbox.sqlite") as sandbox:  # no prices pushed yet: the shop refuses
        simulator = Simulator(sandbox.base_url, every_s=0)
        for n in range(3):
            simulator.step(n)
    assert simulator.placed == []
    assert caplog.text.count("refused by the shop") == 3
