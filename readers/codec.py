"""TagReads to and from flat text fields, for the Redis stream between reader and locate processes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from readers.reads import TagRead, TagStatus, Tech

_OPTIONAL = ("rssi_dbm", "antenna", "range_m", "phase_rad")


def read_to_fields(read: TagRead) -> dict[str, str]:
    """A TagRead as the field/value pairs of one stream entry (the raw payload is not carried)."""
    fields = {
        "tag": read.tag_id, "reader": read.reader_id, "tech": read.tech.value,
        "at_us": str(int(read.seen_at.timestamp() * 1_000_000)),
    }
    for name in _OPTIONAL:
        value = getattr(read, name)
        if value is not None:
            fields[name] = repr(value)
    if read.status is not None:
        fields["status"] = json.dumps({k: getattr(read.status, k) for k in TagStatus.__slots__})
    return fields


def read_from_fields(fields: Mapping[Any, Any]) -> TagRead:
    """The inverse of read_to_fields; accepts bytes or str values (as Redis returns them)."""
    text = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
            for k, v in fields.items()}
    status = TagStatus(**json.loads(text["status"])) if "status" in text else None
    return TagRead(
        tag_id=text["tag"], reader_id=text["reader"], tech=Tech(text["tech"]),
        seen_at=datetime.fromtimestamp(int(text["at_us"]) / 1_000_000, tz=UTC),
        rssi_dbm=float(text["rssi_dbm"]) if "rssi_dbm" in text else None,
        antenna=int(text["antenna"]) if "antenna" in text else None,
        range_m=float(text["range_m"]) if "range_m" in text else None,
        phase_rad=float(text["phase_rad"]) if "phase_rad" in text else None,
        status=status,
    )
