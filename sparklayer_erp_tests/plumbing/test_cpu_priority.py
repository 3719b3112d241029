"""Housekeeping run workers lower their own priority once; other runs are left alone. Each case runs in a fresh
interpreter: a process cannot take its priority back, and the test process must keep its own. (A job run
in-process, as some tests do, lowers the calling process too: it is that run's worker.)"""

import subprocess
import sys

import pytest

PROBE = """
import os
from sparklayer_erp.plumbing.cpu_priority import yield_cpu_if_background
before = os.nice(0)  # a test process that ran a background job in-process is lowered already
answers = [yield_cpu_if_background(tags) for tags in TAGS]
print(os.nice(0) - min(19, before + 10) if any(answers) else os.nice(0) - before, answers)
"""


def _probe(tags: list) -> str:
    done = subprocess.run([sys.executable, "-c", f"TAGS = {tags!r}" + PROBE], capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.mark.skipif(not hasattr(__import__("os"), "nice"), reason="Unix scheduling priority")
def test_a_background_run_lowers_its_priority_once_by_ten():
    # 0: the process ends exactly 10 lower (capped at 19), not 20 after two calls
    assert _probe([{"erp/cpu": "background"}, {"erp/cpu": "background"}]) == "0 [True, True]"


def test_an_order_sync_or_a_run_without_tags_keeps_its_priority():
    assert _probe([None, {}, {"erp/orders": "sync"}, {"erp/cpu": "interactive"}]) == "0 [False, False, False, False]"
