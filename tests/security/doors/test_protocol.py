"""The door protocol's messages: what a controller and the server write, and every kind of garbage."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from security.doors.protocol import (
    Command,
    DoorEvent,
    DoorState,
    ProtocolError,
    command_decode,
    command_encode,
    default_topic,
    event_decode,
    event_encode,
    state_decode,
    state_encode,
    topic_of,
    topic_split,
)

AT = datetime(2026, 3, 4, 10, 0, 0, 123000, tzinfo=UTC)
ID = "6f1c1f5e-8a7c-4c39-9b55-0d7d2b8c1e11"
STATE = {"locked": True, "open": False, "forced": False, "held_open": False, "held": False, "egress": "pending",
         "release_at": "2026-03-04T10:00:15.123Z", "ack": ID, "at": "2026-03-04T10:00:00.123Z"}


def test_a_command_goes_out_as_the_contract_says_and_comes_back() -> None:
    payload = command_encode(Command(id=ID, cmd="lock", reason="Code Pink", at=AT))
    assert json.loads(payload) == {"id": ID, "cmd": "lock", "reason": "Code Pink", "at": "2026-03-04T10:00:00.123Z"}
    assert command_decode(payload) == Command(id=ID, cmd="lock", reason="Code Pink", at=AT)


def test_a_state_round_trips_and_reads_other_spellings_of_time() -> None:
    state = state_decode(json.dumps(STATE).encode())
    assert state == DoorState(locked=True, open=False, forced=False, held_open=False, held=False, egress="pending",
                              release_at=datetime(2026, 3, 4, 10, 0, 15, 123000, tzinfo=UTC), ack=ID, at=AT)
    assert state_decode(state_encode(state)) == state
    other = state_decode(json.dumps(STATE | {"at": "2026-03-04T11:00:00.123+01:00", "ack": None}))
    assert other.at == AT and other.ack is None


def test_unknown_keys_are_ignored() -> None:
    assert state_decode(json.dumps(STATE | {"battery_v": 12.1})).locked
    assert event_decode('{"event": "forced", "at": "2026-03-04T10:00:00.123Z", "zone": 3}').event == "forced"


def test_an_event_round_trips() -> None:
    event = DoorEvent(event="egress_released", at=AT)
    assert json.loads(event_encode(event)) == {"event": "egress_released", "at": "2026-03-04T10:00:00.123Z"}
    assert event_decode(event_encode(event)) == event


GARBAGE: list[tuple[str, bytes, str, str]] = [
    # (case, payload, words the error must contain, problem)
    ("empty", b"", "empty payload", "empty"),
    ("not UTF-8", b"\xff\xfe{", "not UTF-8", "garbled"),
    ("not JSON", b"{locked: true", "not JSON", "garbled"),
    ("NaN is not JSON", json.dumps(STATE).replace('"held": false', '"held": NaN').encode(), "not JSON", "garbled"),
    ("a list", b"[1, 2]", "JSON list, not an object", "wrong_type"),
    ("too long", json.dumps(STATE | {"pad": "x" * 5000}).encode(), "over the 4,096 limit", "garbled"),
    ("missing flag", json.dumps({k: v for k, v in STATE.items() if k != "forced"}).encode(), "missing field 'forced'",
     "missing_field"),
    ("a number for a flag", json.dumps(STATE | {"locked": 1}).encode(), "'locked' must be a bool, not int",
     "wrong_type"),
    ("a string for a flag", json.dumps(STATE | {"open": "false"}).encode(), "'open' must be a bool, not str",
     "wrong_type"),
    ("unknown egress", json.dumps(STATE | {"egress": "open"}).encode(), "'egress' is 'open', not one of",
     "absurd_value"),
    ("pending without a release time", json.dumps(STATE | {"release_at": None}).encode(),
     "pending but 'release_at' is null", "absurd_value"),
    ("release_at missing", json.dumps({k: v for k, v in STATE.items() if k != "release_at"}).encode(),
     "missing field 'release_at'", "missing_field"),
    ("time without zone", json.dumps(STATE | {"at": "2026-03-04T10:00:00"}).encode(), "'at' has no time zone",
     "wrong_type"),
    ("time as a number", json.dumps(STATE | {"at": 1772618400}).encode(), "'at' must be an ISO 8601 string, not int",
     "wrong_type"),
    ("nonsense time", json.dumps(STATE | {"at": "yesterday"}).encode(), "'at' is not an ISO 8601 time",
     "wrong_type"),
    ("ack not a uuid", json.dumps(STATE | {"ack": "cmd-17"}).encode(), "'ack' is not a UUID", "wrong_type"),
    ("ack a number", json.dumps(STATE | {"ack": 17}).encode(), "'ack' must be a command id or null", "wrong_type"),
]


@pytest.mark.parametrize(("case", "payload", "words", "problem"), GARBAGE, ids=[g[0] for g in GARBAGE])
def test_garbage_states_raise_a_protocol_error_naming_the_problem(case: str, payload: bytes, words: str,
                                                                  problem: str) -> None:
    with pytest.raises(ProtocolError, match=words) as caught:
        state_decode(payload)
    assert caught.value.problem == problem


@pytest.mark.parametrize(("payload", "words"), [
    (b'{"event": "opened", "at": "2026-03-04T10:00:00Z"}', "'event' is 'opened', not one of"),
    (b'{"event": "forced"}', "missing field 'at'"),
    (b'{"at": "2026-03-04T10:00:00Z"}', "missing field 'event'"),
    (b'"forced"', "JSON str, not an object"),
])
def test_garbage_events_raise(payload: bytes, words: str) -> None:
    with pytest.raises(ProtocolError, match=words):
        event_decode(payload)


@pytest.mark.parametrize(("obj", "words"), [
    ({"id": ID, "cmd": "open", "at": "2026-03-04T10:00:00Z"}, "'cmd' is 'open', not one of"),
    ({"id": "17", "cmd": "lock", "at": "2026-03-04T10:00:00Z"}, "'id' is not a UUID"),
    ({"cmd": "lock", "at": "2026-03-04T10:00:00Z"}, "missing field 'id'"),
    ({"id": ID, "cmd": "lock", "reason": 5, "at": "2026-03-04T10:00:00Z"}, "'reason' must be a str"),
])
def test_garbage_commands_raise(obj: dict[str, object], words: str) -> None:
    with pytest.raises(ProtocolError, match=words):
        command_decode(json.dumps(obj))


def test_encoders_refuse_what_the_protocol_has_no_word_for() -> None:
    with pytest.raises(ValueError, match="command 'open'"):
        command_encode(Command(id=ID, cmd="open", reason="", at=AT))
    with pytest.raises(ValueError, match="event 'opened'"):
        event_encode(DoorEvent(event="opened", at=AT))
    with pytest.raises(ValueError, match="no time zone"):
        event_encode(DoorEvent(event="forced", at=datetime(2026, 3, 4)))  # noqa: DTZ001 - the point of the test


def test_topics() -> None:
    assert default_topic("maglock-2E-west") == "hospital_iot/doors/maglock-2E-west"
    assert topic_of("hospital_iot/doors/x/", "cmd") == "hospital_iot/doors/x/cmd"
    assert topic_split("site/b1/doors/x/state") == ("site/b1/doors/x", "state")
    with pytest.raises(ProtocolError, match="does not end in /cmd, /state or /event"):
        topic_split("hospital_iot/doors/x/status")
    with pytest.raises(ValueError, match="cannot be an MQTT topic level"):
        default_topic("a/b")
