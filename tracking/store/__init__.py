"""The storage end of the live pipeline (current location, history, zone presence, portal crossings).

    fixes      FixBatch, ZoneEvents, Crossings: one window as numpy columns          (pure numpy)
    gate       HistoryGate: which fixes go to history                                (pure numpy)
    partitions history_partitions_maintain / _ensure: daily partitions of the history table
    writer     locations_write -> WriteResult: one window in one transaction (upsert, COPY, stays, crossings)
    buffer     BufferedLocationWriter: submit() survives a database outage, batches wait and are written in order

`fixes` and `gate` never import Django (a test checks it), so this package imports the Django-bound modules
only when one of their names is asked for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .fixes import Crossings, FixBatch, ZoneEvents
from .gate import HistoryGate

if TYPE_CHECKING:
    from .buffer import BufferedLocationWriter
    from .partitions import history_partitions_ensure, history_partitions_maintain
    from .writer import WriteResult, locations_write

_LAZY = {
    "BufferedLocationWriter": "buffer", "history_partitions_ensure": "partitions",
    "history_partitions_maintain": "partitions", "WriteResult": "writer", "locations_write": "writer",
}

__all__ = [
    "BufferedLocationWriter", "Crossings", "FixBatch", "HistoryGate", "WriteResult", "ZoneEvents",
    "history_partitions_ensure", "history_partitions_maintain", "locations_write",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
