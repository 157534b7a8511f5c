"""Process settings of the long-running servers (run_rtls, daphne): the garbage collector.

Both handle a stream of short-lived, acyclic objects (reads and parsed JSON in run_rtls; websocket messages
in daphne), in which the cyclic collector finds next to nothing. With Python's default thresholds (700, 10, 10)
run_rtls ran a full collection about every 1.5 s at 20,000 reads/s, each 0.1-0.9 s with the GIL held:
measured, the pipeline's p99 latency.
"""

from __future__ import annotations

import gc

GC_THRESHOLDS = (50_000, 20, 100)


def gc_tune() -> None:
    """Freeze what start-up made (modules, functions, settings, caches) out of the collector's way and
    collect the young generation every GC_THRESHOLDS[0] allocations instead of every 700."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
