"""Housekeeping runs give the processor to the order sync.

On a small machine a follow-up, master-data or monitoring run and an order sync compete for the same cores;
the order sync is the one a buyer waits for. Jobs that do housekeeping carry ``BACKGROUND_TAG``, and their run
worker lowers its own scheduling priority (Unix ``nice``) as its resources are set up, before any step does
work: it still gets every idle cycle, but yields whenever an order sync (normal priority) wants the processor.
This is the operating system's own mechanism applied from inside the run; the run queue is untouched.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

CPU_TAG_KEY = "erp/cpu"
BACKGROUND = "background"
BACKGROUND_TAG = {CPU_TAG_KEY: BACKGROUND}
BACKGROUND_NICENESS = 10  # of 19: well behind normal work, not starved

_lowered = False  # once per process: resources are set up again for each step in some executors


def yield_cpu_if_background(tags: Mapping[str, str] | None) -> bool:
    """Lower this process's priority when ``tags`` mark a housekeeping run; True when it did (or had)."""
    global _lowered
    if not tags or tags.get(CPU_TAG_KEY) != BACKGROUND or not hasattr(os, "nice"):
        return False
    if not _lowered:
        os.nice(BACKGROUND_NICENESS)
        _lowered = True
    return True
