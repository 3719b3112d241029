"""What a fresh run worker pays before the order sync's first step: loading the code location.

Run in a new interpreter, as Dagster starts each run: alert delivery (Apprise and its plugins) is not loaded
until an alert is sent; the data libraries of master data and month-end (pandas, numpy, pandera and the
hypothesis package it pulls in, the workbook writer) and Alembic (only needed when the ledger is behind) are not
loaded until a run needs them, because together they are about a third of the load; and the garbage collector is on again once the definitions are loaded (it is only kept
out of the load itself).
"""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import gc, json, sys
from sparklayer_erp.definitions import defs
defs.get_repository_def().get_job("order_sync_job")  # what a run worker resolves before its first step
LAZY = ("apprise", "sparklayer_erp.notify.delivery", "pandas", "numpy", "pandera", "hypothesis", "openpyxl",
        "alembic")
print(json.dumps({"loaded": sorted(m for m in LAZY if m in sys.modules),
                  "gc_on": gc.isenabled(), "frozen": gc.get_freeze_count()}))
"""


def _probe(code: str = PROBE) -> dict:
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_loading_the_code_location_leaves_alerts_and_data_libraries_unloaded_and_the_collector_on():
    seen = _probe()
    assert seen["loaded"] == []
    assert seen["gc_on"] is True
    assert seen["frozen"] > 0  # what the load left behind is out of the collector's way


def test_a_collector_switched_off_before_the_load_stays_off():
    seen = _probe("import gc; gc.disable()\n" + PROBE)
    assert seen["gc_on"] is False
