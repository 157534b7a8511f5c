"""TagRead: the normalized read every adapter makes, and what it refuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from readers.reads import TagRead, TagStatus, Tech

AT = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def test_it_keeps_every_field_by_name() -> None:
    status = TagStatus(battery_pct=80, tamper=False)
    read = TagRead("AC233F000001", "GW-1", Tech.BLE, AT, rssi_dbm=-61.5, antenna=2, range_m=None, phase_rad=1.5,
                   status=status, raw={"payload": 1})
    assert (read.tag_id, read.reader_id, read.tech, read.seen_at) == ("AC233F000001", "GW-1", Tech.BLE, AT)
    assert (read.rssi_dbm, read.antenna, read.range_m, read.phase_rad) == (-61.5, 2, None, 1.5)
    assert read.status is status and read.raw == {"payload": 1}


def test_it_cannot_be_changed_after_it_is_made() -> None:
    read = TagRead(tag_id="T", reader_id="R", tech=Tech.UWB, seen_at=AT, range_m=2.0)
    with pytest.raises(AttributeError):
        read.range_m = 3.0  # type: ignore[misc]
    assert read._replace(range_m=3.0).range_m == 3.0 and read.range_m == 2.0


def test_it_accepts_any_zero_offset_zone_as_utc() -> None:
    assert TagRead(tag_id="T", reader_id="R", tech=Tech.BLE, seen_at=AT.replace(tzinfo=timezone(timedelta(0))))


@pytest.mark.parametrize(("changes", "message"), [
    ({"seen_at": AT.replace(tzinfo=None)}, "timezone-aware UTC"),
    ({"seen_at": AT.astimezone(timezone(timedelta(hours=1)))}, "timezone-aware UTC"),
    ({"rssi_dbm": float("nan")}, "rssi_dbm must be finite"),
    ({"range_m": float("inf")}, "range_m must be finite"),
    ({"phase_rad": float("-inf")}, "phase_rad must be finite"),
])
def test_it_refuses_local_times_and_values_that_are_not_finite(changes: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {"tag_id": "T", "reader_id": "R", "tech": Tech.BLE, "seen_at": AT} | changes
    with pytest.raises(ValueError, match=message):
        TagRead(**fields)  # type: ignore[arg-type]
