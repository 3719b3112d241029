"""What a fresh run worker pays before the order sync's first step: loading the code location.

Run in a new interpreter, as Dagster starts each run: alert delivery (Apprise and its plugins) is not loaded
until an alert is sent, and the garbage collector is on again once the definitions are loaded (it is only kept
out of the load itself).
"""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import gc, json, sys
import sparklayer_erp.definitions
print(json.dumps({"loaded": sorted(m for m in ("apprise", "sparklayer_erp.notify.delivery") if m in sys.modules),
                  "gc_on": gc.isenabled(), "frozen": gc.get_freeze_count()}))
"""


def _probe(code: str = PROBE) -> dict:
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_loading_the_code_location_leaves_alert_delivery_unloaded_and_the_collector_on():
    seen = _probe()
    assert seen["loaded"] == []
    assert seen["gc_on"] is True
    assert seen["frozen"] > 0  # what the load left behind is out of the collector's way


def test_a_collector_switched_off_before_the_load_stays_off():
    seen = _probe("import gc; gc.disable()\n" + PROBE)
    assert seen["gc_on"] is False
