"""The door-controller protocol over MQTT (docs/doors.md): topics and the three JSON messages, encoded and
decoded with validation. Pure: no Django, no network.

    <topic>/cmd    server -> controller  {"id": uuid, "cmd": "lock|unlock|hold|release|reset", "reason", "at"}
    <topic>/state  controller -> server  retained; {"locked", "open", "forced", "held_open", "held", "egress",
                                          "release_at", "ack", "at"}
    <topic>/event  controller -> server  {"event": "forced|held_open|closed|egress_push|egress_released", "at"}

`<topic>` defaults to `hospital_iot/doors/<controller code>`. Times are ISO 8601 with a zone (written in
UTC with milliseconds and a Z). Keys we do not know are ignored (a newer controller may add some); a
missing or mistyped known key, a payload that is not a UTF-8 JSON object, or one over MAX_PAYLOAD_BYTES
raises ProtocolError naming the problem.
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from security.doors.egress import EVENTS, IDLE, PENDING, RELEASED

TOPIC_PREFIX: Final = "hospital_iot/doors"
CMD, STATE, EVENT = "cmd", "state", "event"
COMMANDS: Final = ("lock", "unlock", "hold", "release", "reset")
EGRESS_STATES: Final = (IDLE, PENDING, RELEASED)
HEARTBEAT_S: Final = 10.0  # a controller republishes its state this often; silent for 3x: offline
MAX_PAYLOAD_BYTES: Final = 4096
MAX_REASON_CHARS: Final = 200


class ProtocolError(ValueError):
    """A message that does not follow the protocol; `problem` is a short category for drop counts."""

    def __init__(self, message: str, *, problem: str = "garbled") -> None:
        super().__init__(message)
        self.problem = problem


@dataclass(frozen=True)
class Command:
    id: str
    cmd: str
    reason: str
    at: datetime


@dataclass(frozen=True)
class DoorState:
    locked: bool
    open: bool
    forced: bool
    held_open: bool
    held: bool
    egress: str
    release_at: datetime | None
    ack: str | None
    at: datetime


@dataclass(frozen=True)
class DoorEvent:
    event: str
    at: datetime


# --- topics -------------------------------------------------------------------------------------------

def default_topic(code: str) -> str:
    if not code or any(c in code for c in "/+#") or code != code.strip():
        raise ValueError(f"controller code {code!r} cannot be an MQTT topic level")
    return f"{TOPIC_PREFIX}/{code}"


def topic_of(base: str, leaf: str) -> str:
    """`<base>/cmd`, `<base>/state` or `<base>/event`."""
    if leaf not in (CMD, STATE, EVENT):
        raise ValueError(f"topic leaf {leaf!r}: one of cmd, state, event")
    return f"{base.rstrip('/')}/{leaf}"


def topic_split(topic: str) -> tuple[str, str]:
    """`hospital_iot/doors/x/state` -> ("hospital_iot/doors/x", "state"); ProtocolError for another leaf."""
    base, _, leaf = topic.rpartition("/")
    if not base or leaf not in (CMD, STATE, EVENT):
        raise ProtocolError(f"topic {topic[:200]!r} does not end in /cmd, /state or /event", problem="unknown_topic")
    return base, leaf


# --- times ----------------------------------------------------------------------------------------------

def iso_z(at: datetime) -> str:
    """An aware datetime as ISO 8601 UTC with milliseconds and a Z."""
    if at.tzinfo is None:
        raise ValueError(f"{at!r} has no time zone")
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _time(obj: dict[str, Any], key: str) -> datetime:
    if obj.get(key) is None:
        raise ProtocolError(f"missing field {key!r}", problem="missing_field")
    value = obj[key]
    if not isinstance(value, str):
        raise ProtocolError(f"{key!r} must be an ISO 8601 string, not {type(value).__name__}", problem="wrong_type")
    try:
        at = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ProtocolError(f"{key!r} is not an ISO 8601 time: {value[:40]!r}", problem="wrong_type") from None
    if at.tzinfo is None:
        raise ProtocolError(f"{key!r} has no time zone: {value[:40]!r}", problem="wrong_type")
    return at.astimezone(UTC)


def _time_or_none(obj: dict[str, Any], key: str) -> datetime | None:
    """A time that may be null (the key itself must be there)."""
    if key not in obj:
        raise ProtocolError(f"missing field {key!r}", problem="missing_field")
    return None if obj[key] is None else _time(obj, key)


# --- fields ----------------------------------------------------------------------------------------------

def _object(payload: bytes | str) -> dict[str, Any]:
    raw = payload.encode() if isinstance(payload, str) else payload
    if not raw:
        raise ProtocolError("empty payload", problem="empty")
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise ProtocolError(f"payload of {len(raw):,} bytes, over the {MAX_PAYLOAD_BYTES:,} limit")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError("payload is not UTF-8") from None
    try:
        obj = json.loads(text, parse_constant=_no_constant)
    except ValueError as error:
        raise ProtocolError(f"payload is not JSON: {error}") from None
    if not isinstance(obj, dict):
        raise ProtocolError(f"payload is a JSON {type(obj).__name__}, not an object", problem="wrong_type")
    return obj


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _field(obj: dict[str, Any], key: str, kind: type) -> Any:
    if key not in obj:
        raise ProtocolError(f"missing field {key!r}", problem="missing_field")
    value = obj[key]
    if type(value) is not kind:  # exact: True is an int in Python, and 1 is no boolean here
        raise ProtocolError(f"{key!r} must be a {kind.__name__}, not {type(value).__name__}", problem="wrong_type")
    return value


def _choice(obj: dict[str, Any], key: str, choices: tuple[str, ...]) -> str:
    value: str = _field(obj, key, str)
    if value not in choices:
        raise ProtocolError(f"{key!r} is {value[:40]!r}, not one of {', '.join(choices)}", problem="absurd_value")
    return value


def _uuid(value: str, key: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ProtocolError(f"{key!r} is not a UUID: {value[:40]!r}", problem="wrong_type") from None


def _dump(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":"), allow_nan=False).encode()


# --- messages ----------------------------------------------------------------------------------------------

def command_encode(command: Command) -> bytes:
    if command.cmd not in COMMANDS:
        raise ValueError(f"command {command.cmd!r}: one of {', '.join(COMMANDS)}")
    return _dump({"id": _uuid(command.id, "id"), "cmd": command.cmd, "reason": command.reason[:MAX_REASON_CHARS],
                  "at": iso_z(command.at)})


def command_decode(payload: bytes | str) -> Command:
    obj = _object(payload)
    reason = obj.get("reason", "")
    if not isinstance(reason, str):
        raise ProtocolError(f"'reason' must be a str, not {type(reason).__name__}", problem="wrong_type")
    return Command(id=_uuid(_field(obj, "id", str), "id"), cmd=_choice(obj, "cmd", COMMANDS),
                   reason=reason[:MAX_REASON_CHARS], at=_time(obj, "at"))


def state_encode(state: DoorState) -> bytes:
    if state.egress not in EGRESS_STATES:
        raise ValueError(f"egress {state.egress!r}: one of {', '.join(EGRESS_STATES)}")
    return _dump({
        "locked": state.locked, "open": state.open, "forced": state.forced, "held_open": state.held_open,
        "held": state.held, "egress": state.egress,
        "release_at": iso_z(state.release_at) if state.release_at is not None else None,
        "ack": state.ack or None, "at": iso_z(state.at),
    })


def state_decode(payload: bytes | str) -> DoorState:
    obj = _object(payload)
    flags = {key: _field(obj, key, bool) for key in ("locked", "open", "forced", "held_open", "held")}
    egress = _choice(obj, "egress", EGRESS_STATES)
    release_at = _time_or_none(obj, "release_at")
    if egress == PENDING and release_at is None:
        raise ProtocolError("egress is pending but 'release_at' is null", problem="absurd_value")
    ack = obj.get("ack")
    if ack is not None and not isinstance(ack, str):
        raise ProtocolError(f"'ack' must be a command id or null, not {type(ack).__name__}", problem="wrong_type")
    return DoorState(**flags, egress=egress, release_at=release_at, ack=_uuid(ack, "ack") if ack else None,
                     at=_time(obj, "at"))


def event_encode(event: DoorEvent) -> bytes:
    if event.event not in EVENTS:
        raise ValueError(f"event {event.event!r}: one of {', '.join(EVENTS)}")
    return _dump({"event": event.event, "at": iso_z(event.at)})


def event_decode(payload: bytes | str) -> DoorEvent:
    obj = _object(payload)
    return DoorEvent(event=_choice(obj, "event", EVENTS), at=_time(obj, "at"))


def seconds_to_datetime(t_s: float) -> datetime:
    """Unix seconds -> aware UTC datetime (the emulator's clock to protocol times)."""
    if not math.isfinite(t_s):
        raise ValueError(f"time {t_s!r} is not finite")
    return datetime.fromtimestamp(t_s, tz=UTC)
