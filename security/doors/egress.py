"""One door controller as a state machine on explicit time: lock, unlock, reset; the door contact; the push
bar with delayed egress; forced and held-open doors; an elevator bank's hold output. No Django, no clock:
every input carries its time `at_s` (seconds on any steady scale; the emulator uses Unix seconds).

Delayed egress (NFPA 101 7.2.1.6.1). A locked exit must still let people out in a fire. Pushing the bar
for `egress_push_s` (at most 3 s) starts an irreversible delay: a local sounder goes on at once and the
lock releases `egress_delay_s` later (15 s; 30 s where the authority having jurisdiction allows it),
whatever happens to the bar in between. Once released the door stays released until staff reset it (or
unlock it); a lock command cannot take the release back.

State:
  locked     the commanded lock (secure mode). While egress is released the maglock is off all the same.
  open       the door contact.
  forced     the door opened while locked and not released; true until it closes or staff reset it.
  held_open  open for `held_open_s` while locked (a door propped open); ends when it closes or is unlocked.
             An unlocked door is in free passage: it may stand open without an alarm.
  held       elevator bank: cars held at this floor.
  egress     idle | pending (the delay runs until release_at_s) | released.

Inputs that the controller's kind cannot take (a lock for an elevator bank, a push bar on one), and time
going backwards, raise DoorRefused. Inputs that change nothing (lock when locked, a second "open" from a
bouncing contact) are no-ops: they return a Step with changed=False and a note saying why, and are kept
in `history` like every other input (the last HISTORY_STEPS).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Final, Literal

Kind = Literal["maglock", "access", "elevator"]
KINDS: Final = ("maglock", "access", "elevator")
IDLE, PENDING, RELEASED = "idle", "pending", "released"
# what a controller reports on its event topic (protocol.EVENTS)
FORCED, HELD_OPEN, CLOSED = "forced", "held_open", "closed"
EGRESS_PUSH, EGRESS_RELEASED = "egress_push", "egress_released"
EVENTS: Final = (FORCED, HELD_OPEN, CLOSED, EGRESS_PUSH, EGRESS_RELEASED)

MAX_EGRESS_PUSH_S: Final = 3.0  # NFPA 101 7.2.1.6.1.1: the release starts with a push of not more than 3 s
MAX_EGRESS_DELAY_S: Final = 30.0  # 15 s, or 30 s where the authority having jurisdiction approves it
CLOCK_SLACK_S: Final = 1e-6
HISTORY_STEPS: Final = 200

DOOR_COMMANDS: Final = ("lock", "unlock", "reset")
ELEVATOR_COMMANDS: Final = ("hold", "release")


class DoorRefused(ValueError):
    """An input this controller cannot take; the message says why."""


@dataclass(frozen=True)
class EgressSettings:
    egress_delay_s: float = 15.0
    egress_push_s: float = 1.0
    held_open_s: float = 30.0

    def __post_init__(self) -> None:
        if not (0.0 < self.egress_delay_s <= MAX_EGRESS_DELAY_S):
            raise ValueError(f"egress_delay_s {self.egress_delay_s}: must be > 0 and <= {MAX_EGRESS_DELAY_S:g} s")
        if not (0.0 <= self.egress_push_s <= MAX_EGRESS_PUSH_S):
            raise ValueError(f"egress_push_s {self.egress_push_s}: must be between 0 and {MAX_EGRESS_PUSH_S:g} s")
        if not (self.held_open_s > 0.0 and math.isfinite(self.held_open_s)):
            raise ValueError(f"held_open_s {self.held_open_s}: must be a positive number of seconds")


@dataclass(frozen=True)
class Snapshot:
    locked: bool = False
    open: bool = False
    forced: bool = False
    held_open: bool = False
    held: bool = False
    egress: str = IDLE
    release_at_s: float | None = None
    pushing: bool = False

    @property
    def sounder(self) -> bool:
        """The local alarm at the door: an egress cycle started, or the door was forced."""
        return self.egress != IDLE or self.forced

    @property
    def secure(self) -> bool:
        """Locked and the lock actually holding (not released by delayed egress)."""
        return self.locked and self.egress != RELEASED


@dataclass(frozen=True)
class Step:
    """What one input (or the passing of time) did: the events to report, each at the time it happened."""

    input: str
    at_s: float
    changed: bool
    events: tuple[tuple[str, float], ...] = ()
    note: str = ""


@dataclass
class _Timers:
    push_from_s: float | None = None  # the bar has been held since (a push that may start the egress delay)
    open_from_s: float | None = None  # the held-open timer counts from (door open and locked)


@dataclass
class DoorMachine:
    """The state machine of one controller. Not thread-safe: one owner (or a lock) drives it."""

    kind: str
    settings: EgressSettings = field(default_factory=EgressSettings)
    now_s: float = 0.0
    state: Snapshot = field(default_factory=Snapshot)
    history: deque[Step] = field(default_factory=lambda: deque(maxlen=HISTORY_STEPS), repr=False)
    _timers: _Timers = field(default_factory=_Timers)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"controller kind {self.kind!r}: one of {', '.join(KINDS)}")

    # --- commands ---------------------------------------------------------------------------------

    def command(self, name: str, at_s: float) -> Step:
        """A command by its protocol name (lock, unlock, reset, hold, release)."""
        handlers: dict[str, Callable[[float], Step]] = {
            "lock": self.lock, "unlock": self.unlock, "reset": self.reset, "hold": self.hold, "release": self.release,
        }
        if name not in handlers:
            raise DoorRefused(f"unknown command {name!r}; one of {', '.join(handlers)}")
        return handlers[name](at_s)

    def lock(self, at_s: float) -> Step:
        due = self._begin("lock", at_s, elevator=False)
        if self.state.egress == RELEASED:
            return self._step("lock", at_s, due, noop="released by delayed egress: stays released until reset")
        if self.state.locked:
            return self._step("lock", at_s, due, noop="already locked")
        self.state = replace(self.state, locked=True)
        if self.state.open:
            self._timers.open_from_s = at_s  # a door locked while open is held open from now
        if self.state.pushing:
            self._timers.push_from_s = at_s
        return self._step("lock", at_s, due + self._fire(at_s))

    def unlock(self, at_s: float) -> Step:
        due = self._begin("unlock", at_s, elevator=False)
        if not self.state.locked:
            return self._step("unlock", at_s, due, noop="already unlocked")
        self.state = replace(self.state, locked=False, egress=IDLE, release_at_s=None, held_open=False)
        self._timers.open_from_s = None
        return self._step("unlock", at_s, due)

    def reset(self, at_s: float) -> Step:
        """Staff reset: ends an egress cycle (pending or released) and the forced alarm."""
        due = self._begin("reset", at_s, elevator=False)
        if self.state.egress == IDLE and not self.state.forced:
            return self._step("reset", at_s, due, noop="no egress cycle or forced alarm to reset")
        self.state = replace(self.state, egress=IDLE, release_at_s=None, forced=False)
        if self.state.pushing:
            self._timers.push_from_s = at_s  # someone still pushing starts a new cycle from now
        return self._step("reset", at_s, due + self._fire(at_s))

    def hold(self, at_s: float) -> Step:
        due = self._begin("hold", at_s, elevator=True)
        if self.state.held:
            return self._step("hold", at_s, due, noop="already held")
        self.state = replace(self.state, held=True)
        return self._step("hold", at_s, due)

    def release(self, at_s: float) -> Step:
        due = self._begin("release", at_s, elevator=True)
        if not self.state.held:
            return self._step("release", at_s, due, noop="not held")
        self.state = replace(self.state, held=False)
        return self._step("release", at_s, due)

    # --- inputs from the door -------------------------------------------------------------------------

    def door_open(self, at_s: float) -> Step:
        due = self._begin("door_open", at_s, elevator=False)
        if self.state.open:
            return self._step("door_open", at_s, due, noop="already open")
        forced = self.state.secure
        self.state = replace(self.state, open=True, forced=self.state.forced or forced)
        self._timers.open_from_s = at_s if self.state.locked else None
        return self._step("door_open", at_s, due + (((FORCED, at_s),) if forced else ()))

    def door_close(self, at_s: float) -> Step:
        due = self._begin("door_close", at_s, elevator=False)
        if not self.state.open:
            return self._step("door_close", at_s, due, noop="already closed")
        self.state = replace(self.state, open=False, forced=False, held_open=False)
        self._timers.open_from_s = None
        return self._step("door_close", at_s, (*due, (CLOSED, at_s)))

    def push_start(self, at_s: float) -> Step:
        """The push bar (request to exit) is pressed."""
        due = self._begin("push_start", at_s, elevator=False)
        if self.state.pushing:
            return self._step("push_start", at_s, due, noop="bar already pushed")
        note = "" if self.state.locked and self.state.egress == IDLE else {
            PENDING: "egress delay already running", RELEASED: "already released",
        }.get(self.state.egress, "door unlocked: free egress")
        self.state = replace(self.state, pushing=True)
        self._timers.push_from_s = at_s
        return self._step("push_start", at_s, due + self._fire(at_s), note=note)

    def push_end(self, at_s: float) -> Step:
        """The bar is let go. A push sustained up to now has already started the delay (in _begin)."""
        due = self._begin("push_end", at_s, elevator=False)
        if not self.state.pushing:
            return self._step("push_end", at_s, due, noop="bar not pushed")
        self.state = replace(self.state, pushing=False)
        self._timers.push_from_s = None
        return self._step("push_end", at_s, due)

    # --- time ---------------------------------------------------------------------------------------

    def advance(self, at_s: float) -> Step:
        """Let time pass to at_s: fire every timer due by then, in time order (not kept in history)."""
        self._tick(at_s)
        events = self._fire(at_s)
        return Step("advance", at_s, bool(events), events)

    def next_due_s(self) -> float | None:
        """When the next timer fires (None: nothing pending), for a driver that sleeps until then."""
        due = self._next_timer()
        return None if due is None else due[0]

    def _next_timer(self) -> tuple[float, Callable[[float], tuple[str, float]]] | None:
        s, t, cfg = self.state, self._timers, self.settings
        timers: list[tuple[float, Callable[[float], tuple[str, float]]]] = []
        if s.pushing and s.locked and s.egress == IDLE and t.push_from_s is not None:
            timers.append((t.push_from_s + cfg.egress_push_s, self._egress_start))
        if s.egress == PENDING and s.release_at_s is not None:
            timers.append((s.release_at_s, self._egress_release))
        if s.open and not s.held_open and t.open_from_s is not None:
            timers.append((t.open_from_s + cfg.held_open_s, self._held_open))
        return min(timers, key=lambda timer: timer[0], default=None)

    def _egress_start(self, at_s: float) -> tuple[str, float]:
        self.state = replace(self.state, egress=PENDING, release_at_s=at_s + self.settings.egress_delay_s)
        return EGRESS_PUSH, at_s

    def _egress_release(self, at_s: float) -> tuple[str, float]:
        self.state = replace(self.state, egress=RELEASED)
        return EGRESS_RELEASED, at_s

    def _held_open(self, at_s: float) -> tuple[str, float]:
        self.state = replace(self.state, held_open=True)
        return HELD_OPEN, at_s

    def _fire(self, at_s: float) -> tuple[tuple[str, float], ...]:
        events: list[tuple[str, float]] = []
        while (due := self._next_timer()) is not None and due[0] <= at_s:
            due_s, fire = due
            events.append(fire(due_s))
        return tuple(events)

    # --- helpers --------------------------------------------------------------------------------------

    def _begin(self, name: str, at_s: float, *, elevator: bool) -> tuple[tuple[str, float], ...]:
        """Check the input fits the kind and the clock, then fire the timers due by at_s (their events
        lead the step's)."""
        self._tick(at_s)
        if elevator != (self.kind == "elevator"):
            allowed = ELEVATOR_COMMANDS if self.kind == "elevator" else DOOR_COMMANDS
            why = f"{name}: a{'n' if self.kind[0] in 'aeiou' else ''} {self.kind} controller takes only " \
                  f"{' / '.join(allowed)}" + ("" if self.kind == "elevator" else " and door inputs")
            self.history.append(Step(name, at_s, False, note=f"refused: {why}"))
            raise DoorRefused(why)
        return self._fire(at_s)

    def _tick(self, at_s: float) -> None:
        if not math.isfinite(at_s):
            raise DoorRefused(f"time {at_s!r} is not a finite number of seconds")
        if at_s < self.now_s - CLOCK_SLACK_S:
            raise DoorRefused(f"time went back: {at_s:.6f} s is before {self.now_s:.6f} s")
        self.now_s = max(self.now_s, at_s)

    def _step(self, name: str, at_s: float, events: tuple[tuple[str, float], ...], *, noop: str = "",
              note: str = "") -> Step:
        """Record the input's step. A no-op (noop says why) changed nothing itself; timers that fired
        before it still report their events."""
        step = Step(name, at_s, not noop, events, noop or note)
        self.history.append(step)
        return step
