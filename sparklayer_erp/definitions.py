"""The one ``Definitions`` object: each flow's definitions merged, with the shared resources and executor."""

from __future__ import annotations

import gc

import dagster as dg

_GC_WAS_ON = gc.isenabled()
try:
    # Every run worker loads this module before its first step: the imports below leave some 400,000
    # long-lived objects and no garbage, yet each full collection during them walks them all (a few hundred
    # ms per process). Collect nothing while loading, then move what was loaded out of the collector's way.
    gc.disable()
    from sparklayer_erp.masterdata.definitions import defs as masterdata_defs
    from sparklayer_erp.monitoring.definitions import defs as monitoring_defs
    from sparklayer_erp.month_end.definitions import defs as month_end_defs
    from sparklayer_erp.orders.definitions import defs as orders_defs
    from sparklayer_erp.plumbing.handoff import handoff_io_manager
    from sparklayer_erp.resources import build_resources
finally:
    gc.freeze()
    if _GC_WAS_ON:
        gc.enable()

defs = dg.Definitions.merge(
    masterdata_defs,
    orders_defs,
    monitoring_defs,
    month_end_defs,
    dg.Definitions(
        # Outputs one run hands to the next live in the ledger database, never on a run's local disk.
        resources={**build_resources(), "io_manager": handoff_io_manager()},
        # One process per run: the default multiprocess executor costs ~3 s of start-up per step on a
        # 2-core box, and order sync must take seconds, not minutes.
        executor=dg.in_process_executor,
    ),
)
