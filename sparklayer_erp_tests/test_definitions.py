"""The code location loads, names its resources and validates."""

import dagster as dg

from sparklayer_erp.definitions import defs


def test_definitions_load_and_validate():
    dg.Definitions.validate_loadable(defs)


def test_resources_are_wired():
    assert set(defs.resources) >= {"ledger", "sparklayer", "erp", "policy"}


def test_secrets_are_shown_by_name_not_value():
    text = repr(defs.resources)
    assert "SPARKLAYER_CLIENT_SECRET" in text and "ERP_PASSWORD" in text


def test_the_code_location_loads_nothing_from_the_demo():
    """Production code never imports the local stand-ins (sandbox, local Tryton, demo data, simulator)."""
    import subprocess
    import sys

    probe = ("import sys, sparklayer_erp.definitions; "
             "print(sorted(m for m in sys.modules if m.startswith('sparklayer_erp.demo')))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_each_flow_brings_its_own_definitions():
    from sparklayer_erp.masterdata.definitions import defs as masterdata
    from sparklayer_erp.monitoring.definitions import defs as monitoring
    from sparklayer_erp.month_end.definitions import defs as month_end
    from sparklayer_erp.orders.definitions import defs as orders

    flows = (masterdata, orders, monitoring, month_end)
    assert sum(len(list(d.assets or ())) for d in flows) == len(list(defs.assets or ()))
    assert {j.name for d in flows for j in d.jobs or ()} == {j.name for j in defs.jobs or ()}
    assert {s.name for d in flows for s in d.schedules or ()} == {s.name for s in defs.schedules or ()}
    assert {s.name for d in flows for s in d.sensors or ()} == {"order_sensor", "sync_failure_alerts"}
