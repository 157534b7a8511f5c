"""Door test helpers: a fixed clock origin, controllers on the small test floor, a port that records
commands instead of sending them (the one seam: the door hardware), and the state message a controller
would publish for a state machine's snapshot."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from floorplans.models import Door, Floor
from security.doors.egress import Snapshot
from security.doors.port import door_port_install
from security.doors.protocol import Command, DoorState
from security.models import DoorController

T0 = datetime(2026, 3, 4, 10, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def state_of(snapshot: Snapshot, *, at_s: float) -> DoorState:
    """The state message for a DoorMachine snapshot, its seconds counted from T0 (as the emulator does)."""
    release_at = at(snapshot.release_at_s) if snapshot.release_at_s is not None else None
    return DoorState(locked=snapshot.locked, open=snapshot.open, forced=snapshot.forced, held_open=snapshot.held_open,
                     held=snapshot.held, egress=snapshot.egress, release_at=release_at, ack=None, at=at(at_s))


@dataclass
class RecordingPort:
    """A DoorControllerPort that keeps what it is given; `accept=False` plays a full queue."""

    accept: bool = True
    sent: list[tuple[str, Command]] = field(default_factory=list)

    def send(self, *, topic: str, command: Command) -> bool:
        if self.accept:
            self.sent.append((topic, command))
        return self.accept


@pytest.fixture
def recording_port() -> Iterator[RecordingPort]:
    port = RecordingPort()
    previous = door_port_install(port)
    yield port
    door_port_install(previous)


@dataclass
class Controllers:
    floor: Floor
    exit: DoorController  # maglock-3N: the small ward's stairs exit X-1
    store: DoorController  # access-3N-store: the store door, not an exit
    lifts: DoorController  # lifts-3N: the floor's elevator bank


@pytest.fixture
def controllers(floor: Floor) -> Controllers:
    Door.objects.filter(floor=floor, code="D-ST").update(lock_controller="access-3N-store")
    return Controllers(
        floor=floor,
        exit=DoorController.objects.create(code="maglock-3N", name="3N stairs exit", floor=floor,
                                           topic="hospital_iot/doors/maglock-3N"),
        store=DoorController.objects.create(code="access-3N-store", name="3N store", kind="access", topic=""),
        lifts=DoorController.objects.create(code="lifts-3N", name="3N lifts", kind="elevator",
                                            topic="hospital_iot/doors/lifts-3N", floor=floor),
    )
