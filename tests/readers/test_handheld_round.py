"""The demo's handheld reader on its audit round: it stands a while at each store, utility and room of its
floor and hears the RFID tags within reach there, and nothing else."""

from __future__ import annotations

from typing import Any

import pytest

from readers.emulators.floorgraph import FloorGraph
from readers.emulators.handheld import HandheldRound
from readers.emulators.scenario import TagPosition


def _round(doc: dict[str, Any], tags: list[TagPosition]) -> HandheldRound:
    return HandheldRound(FloorGraph(doc), "L3", lambda t_s: tags, stop_s=20.0, reach_m=3.0, seed=3)


def test_it_visits_the_equipment_places_in_turn_and_hears_only_rfid_tags_within_reach(
    floor_doc: dict[str, Any],
) -> None:
    probe = _round(floor_doc, [])
    assert [code for code, *_ in probe.stops] == ["3N-101", "3N-102", "3N-DU", "3N-ST"]  # no corridor, stairs
    _, x_m, y_m = probe.carrier_at(60.0)  # the fourth stop: the store
    tags = [TagPosition("E2801160600002040000A001", "rfid", "L3", x_m + 1.0, y_m, "3N-ST"),
            TagPosition("E2801160600002040000A002", "rfid", "L3", x_m + 3.5, y_m, "3N-ST"),  # out of reach
            TagPosition("AC233F000001", "ble", "L3", x_m, y_m, "3N-ST"),  # not a UHF tag
            TagPosition("E2801160600002040000A003", "rfid", "L4", x_m, y_m, "4W-ST")]  # another floor
    heard = _round(floor_doc, tags)(60.0)
    assert [s.epc_hex for s in heard] == ["E2801160600002040000A001"]
    assert heard[0].antenna == 1 and -56.0 < heard[0].rssi_dbm < -40.0
    assert _round(floor_doc, tags).carrier_at(60.0 + 4 * 20.0) == probe.carrier_at(60.0)  # round and round


def test_a_floor_with_nowhere_to_audit_is_refused(floor_doc: dict[str, Any]) -> None:
    floor_doc["features"] = [f for f in floor_doc["features"] if f["properties"].get("kind") not in
                             {"room", "storage", "dirty_utility"}]
    with pytest.raises(ValueError, match="no storage"):
        _round(floor_doc, [])
