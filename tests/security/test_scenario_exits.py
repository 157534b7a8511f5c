"""Scenario, end to end on real parts: an infant's UWB band carried along the west corridor and through the
stair door. UWB gateway emulator -> Mosquitto -> uwb_mqtt adapter -> pipeline worker -> security rules ->
door_command -> Mosquitto -> a subscriber on hospital_iot/doors/+/cmd. The lock must arrive within 1 s of
the read that put the infant at the exit; going through starts Code Pink, which locks every exit of the
floor and holds its lifts."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime

import pytest

from security import rules
from security.models import CodePink, DoorCommand
from security.selectors import armed_invalidate
from tests.security.test_rules_helpers import NURSERY, open_alert
from tests.security.test_scenario_helpers import hospital_running, located_near, wait_until
from tests.tracking.store.batches import history_drop_all

pytestmark = pytest.mark.django_db(transaction=True)

START = (16.0, 11.1)  # the west corridor, 7 m from the stair door (x = 9)


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    history_drop_all()
    rules.reset()
    armed_invalidate()
    yield
    rules.reset()
    armed_invalidate()
    history_drop_all()


def test_an_infant_carried_to_the_stairs_locks_the_door_within_a_second_then_code_pink_locks_every_exit() -> None:
    start = {"B001": START, "B002": NURSERY, "A001": (50.0, 15.0), "A002": (56.0, 15.0)}
    with hospital_running(start) as h:
        wait_until(lambda: located_near(h.m.tags["B001"], START, 0.5))
        assert not DoorCommand.objects.exists()
        carried_s = time.time()
        h.walks.carry("B001", [(10.0, 11.1), (8.6, 11.1), (6.5, 11.1)], speed_m_s=1.4)

        def lock(topic: str, doc: dict[str, object]) -> bool:
            return topic.endswith("/maglock-2E-west/cmd") and "exit D-L2-STAIR-A" in str(doc["reason"])

        ((received_s, _, command),) = h.doors.wait_for(lock, timeout_s=15)
        read_s = datetime.fromisoformat(str(command["at"])).timestamp()  # the fix (its reads' time) that did it
        latency_s = received_s - read_s
        print(f"\nread seen_at -> lock received on MQTT: {latency_s * 1000:.0f} ms "
              f"(carried {read_s - carried_s:.2f} s before that read)")
        assert 0.0 <= latency_s < 1.0
        assert command["cmd"] == "lock"
        wait_until(lambda: DoorCommand.objects.filter(command_id=command["id"]).exists())  # ours (sent, then saved)
        true_x, _ = h.walks.at("B001", read_s)
        assert 9.0 <= true_x <= 10.0 + 0.6  # where the band really was: at the door, not yet through

        pink = wait_until(lambda: CodePink.objects.filter(infant=h.m.mary, trigger="exit_breach").first())
        lockdown = h.doors.wait_for(lambda t, d: d["reason"] == f"Code Pink #{pink.pk}", count=4)
        assert {(t.split("/")[-2], d["cmd"]) for _, t, d in lockdown} == {
            ("maglock-2E-west", "lock"), ("maglock-2E-east", "lock"), ("maglock-2E-lifts", "lock"),
            ("lifts-2E", "hold")}
        wait_until(lambda: (a := open_alert(rules.EXIT_ALARM, h.m.mary)) is not None and a.data["level"] == "through")
        assert open_alert(rules.EXIT_ALARM, h.m.jane) is None and CodePink.objects.count() == 1
        through_s = pink.started_at.timestamp()  # the read that put the infant through
        print(f"through read seen_at -> Code Pink lockdown received: {(lockdown[-1][0] - through_s) * 1000:.0f} ms")
        assert lockdown[-1][0] - through_s < 1.0
