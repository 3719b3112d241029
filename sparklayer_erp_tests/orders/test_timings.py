"""Each order-sync run says where its seconds went: placed → seen → requested → started → ERP → ledger."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from sparklayer_erp.orders.assets import STAGES
from sparklayer_erp.orders.definitions import ORDER_ASSETS
from sparklayer_erp.orders.sensor import order_sensor
from sparklayer_erp_tests.orders.conftest import resources_for
from sparklayer_erp_tests.orders.shop import Shop

SYNC = [a for a in ORDER_ASSETS if a.key.path[-1] == "erp_sales_orders"]


def test_a_sensor_launched_run_records_every_stage_in_order(shop: Shop, ledger, ledger_url, sandbox, tryton_server):
    buyer = shop.demo("C1024")
    shop.link(ledger, buyer)
    pids = [shop.place(buyer, [("SKU-FLAP-L", 12)], "invoice", po=f"PO-TIME-{n}") for n in range(2)]
    resources = resources_for(ledger_url, sandbox, tryton_server, page_size=10)
    with dg.DagsterInstance.ephemeral() as instance:
        with dg.build_sensor_context(instance=instance, resources=resources) as context:
            (request,) = order_sensor(context).run_requests
        result = dg.materialize(SYNC, resources=resources, instance=instance, run_config=request.run_config,
                                tags=request.tags)
    assert result.success
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert set(pids) <= set(request.run_config["ops"]["erp_sales_orders"]["config"]["purchase_ids"])
    assert metadata["created"].value >= len(pids)  # the shared sandbox may hold other tests' orders too
    timings = {k: dt.datetime.fromisoformat(v) for k, v in metadata["stage_timings"].value.items()}
    assert list(timings) == list(STAGES)  # every stage present, in pipeline order
    assert all(t.tzinfo is not None for t in timings.values())
    ordered = [timings[k] for k in STAGES[1:]]  # placed_earliest <= placed_latest <= seen <= ... <= ledger
    assert timings["placed_earliest"] <= ordered[0]
    assert ordered == sorted(ordered), timings


def test_a_run_that_creates_nothing_has_no_erp_stages(shop: Shop, ledger, ledger_url, sandbox, tryton_server):
    buyer = shop.demo("C1024")
    shop.link(ledger, buyer)
    pid = shop.place(buyer, [("SKU-FLAP-L", 12)], "invoice", po="PO-TIME-AGAIN")
    resources = resources_for(ledger_url, sandbox, tryton_server)
    config = {"ops": {"erp_sales_orders": {"config": {"purchase_ids": [pid]}}}}
    runs = []
    for _ in range(2):  # the second run finds the version applied: nothing to send to the ERP
        with dg.DagsterInstance.ephemeral() as instance:
            result = dg.materialize(SYNC, resources=resources, instance=instance, run_config=config)
        assert result.success
        runs.append(result.get_asset_materialization_events()[0].materialization.metadata)
    assert runs[0]["created"].value == 1 and runs[1]["created"].value == 0
    timings = runs[1]["stage_timings"].value
    assert "run_started" in timings and "placed_earliest" in timings
    assert not {"erp_create_sent", "erp_confirmed", "ledger_recorded", "seen_by_sensor"} & set(timings)
