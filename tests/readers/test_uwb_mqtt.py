"""UWB JSON payloads: our ranges, the DWM1001 gateway's location uplink, Sewio feed updates; fuzzing."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from readers.adapters.base import ReaderError, ReaderSettings, adapter_for
from readers.adapters.uwb_dwm1001 import MAX_RANGE_M
from readers.adapters.uwb_mqtt import UwbMqttAdapter, mqtt_host_port, parse_sewio, parse_uwb_json
from readers.drops import DropCounter
from readers.reads import TagRead, Tech

FIXTURES = Path(__file__).parents[1] / "fixtures" / "uwb"
TABLE: dict[str, Any] = json.loads((FIXTURES / "mqtt_payloads.json").read_text(encoding="utf-8"))
ANCHORS: dict[str, str] = TABLE["anchors"]
NOW = datetime.fromisoformat(TABLE["now"])
FUZZ = settings(derandomize=True, max_examples=300, deadline=None)


def _payload(case: dict[str, Any]) -> bytes:
    return case["payload_text"].encode() if "payload_text" in case else json.dumps(case["payload"]).encode()


@pytest.mark.parametrize("case", TABLE["cases"], ids=[c["name"] for c in TABLE["cases"]])
def test_it_parses_recorded_payloads_and_counts_what_it_drops(case: dict[str, Any]) -> None:
    drops = DropCounter()
    reads = parse_uwb_json(case["topic"], _payload(case), anchors=ANCHORS, reader_id=TABLE["reader_id"],
                           drops=drops, now=NOW)
    assert [(r.tag_id, r.reader_id, r.range_m) for r in reads] == [tuple(e) for e in case["expect"]]
    assert drops.counts(TABLE["reader_id"]) == case["drops"]
    assert all(r.tech is Tech.UWB and r.seen_at.tzinfo is UTC for r in reads)
    if "seen_at" in case:
        assert [r.seen_at.isoformat() for r in reads] == case["seen_at"]
    if "positions" in case:
        assert [list(r.raw["position_m"]) for r in reads] == case["positions"]
    if "quality" in case:
        assert [r.raw["quality_pct"] for r in reads] == case["quality"]
    if "accuracy" in case:
        assert [r.raw["accuracy_m"] for r in reads] == case["accuracy"]


def test_it_reads_sewio_times_in_the_servers_zone() -> None:
    case = next(c for c in TABLE["cases"] if c["name"] == "sewio_feed_update")
    cest = timezone(timedelta(hours=2))
    (read,) = parse_sewio(_payload(case), reader_id="w3-sewio", drops=DropCounter(), now=NOW, naive_tz=cest)
    assert read.seen_at == datetime(2024, 5, 1, 8, 0, 0, 142000, tzinfo=UTC)
    assert read.range_m is None and read.raw["format"] == "sewio"


def test_it_is_registered_and_refuses_settings_it_cannot_work_with() -> None:
    assert adapter_for("uwb_mqtt") is UwbMqttAdapter
    assert mqtt_host_port("broker.local") == ("broker.local", 1883)
    assert mqtt_host_port("127.0.0.1:1884") == ("127.0.0.1", 1884)
    for address, topic in (("127.0.0.1:x", "uwb/#"), ("127.0.0.1:1883", "")):
        with pytest.raises(ReaderError) as refused:
            UwbMqttAdapter(ReaderSettings(code="w3-gw", protocol="uwb_mqtt", address=address, topic=topic))
        assert refused.value.permanent


# --- fuzzing -----------------------------------------------------------------------------------------------------

_JSON_SCALAR = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**30), 10**30), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["0CA8", "1151", "", " 4.00", "NaN", "2024-05-01T10:00:00Z", "2017-09-06 15:00:12.142",
                     "0x00205FF02A55", "9999.00", "1714557600250000", "x"]),
)
_JSON = st.recursive(
    _JSON_SCALAR,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["tag", "ranges", "anchor", "range_m", "ts", "position", "x", "y", "z", "quality",
                         "superFrameNumber", "timestamp", "body", "address", "datastreams", "id", "current_value",
                         "at"]), inner, max_size=6),
    max_leaves=20,
)
_TOPICS = st.sampled_from(["uwb/1A2B/ranges", "dwm/node/0d13/uplink/location", "dwm/node", "node", "", "a/node/"])


def _check(reads: list[TagRead]) -> None:
    for read in reads:
        assert read.tech is Tech.UWB and read.seen_at.tzinfo is not None and read.seen_at <= NOW + timedelta(seconds=5)
        if read.range_m is None:
            assert all(v is None or math.isfinite(v) for v in read.raw["position_m"])
        else:
            assert 0.0 <= read.range_m <= MAX_RANGE_M and read.reader_id in ANCHORS.values()


@FUZZ
@given(_TOPICS, _JSON)
def test_it_never_crashes_on_any_json(topic: str, doc: Any) -> None:
    payload = json.dumps(doc).encode()
    _check(parse_uwb_json(topic, payload, anchors=ANCHORS, reader_id="w3-gw", drops=DropCounter(), now=NOW))
    _check(parse_sewio(payload, reader_id="w3-gw", drops=DropCounter(), now=NOW))


@FUZZ
@given(_TOPICS, st.binary(max_size=300))
def test_it_never_crashes_on_any_bytes(topic: str, payload: bytes) -> None:
    _check(parse_uwb_json(topic, payload, anchors=ANCHORS, reader_id="w3-gw", drops=DropCounter(), now=NOW))
    _check(parse_sewio(payload, reader_id="w3-gw", drops=DropCounter(), now=NOW))


@FUZZ
@given(st.sampled_from([c for c in TABLE["cases"] if "payload" in c]), st.data())
def test_it_never_crashes_on_recorded_payloads_with_one_value_replaced(
    case: dict[str, Any], data: st.DataObject,
) -> None:
    payload = _replace_one(case["payload"], data)
    _check(parse_uwb_json(case["topic"], json.dumps(payload).encode(), anchors=ANCHORS, reader_id="w3-gw",
                          drops=DropCounter(), now=NOW))


def _replace_one(doc: Any, data: st.DataObject) -> Any:
    """A copy of doc with one value somewhere inside replaced by an arbitrary JSON value."""
    if isinstance(doc, dict) and doc:
        key = data.draw(st.sampled_from(sorted(doc)))
        replace_here = data.draw(st.booleans())
        return {**doc, key: data.draw(_JSON) if replace_here else _replace_one(doc[key], data)}
    if isinstance(doc, list) and doc:
        i = data.draw(st.integers(0, len(doc) - 1))
        return [*doc[:i], _replace_one(doc[i], data), *doc[i + 1 :]]
    return data.draw(_JSON)
