"""A BLE tag heard through the ceiling stays on its floor unless another floor is clearly stronger."""

from __future__ import annotations

import numpy as np
import pytest

from tracking.pipeline.floorchoice import floors_choose
from tracking.pipeline.windows import ReadArrays, route

from .synthetic import T0_S, ble_reads, config, layout

UPSTAIRS = 8


def heard_on_both(shift_upstairs_db: float, current: dict[str, int]) -> dict[int, list[str]]:
    """Tag t at (5, 5) on floor 7; floor 8's gateways hear it shift_upstairs_db stronger or weaker."""
    rng = np.random.default_rng(11)
    floors = config(layout(), layout(floor_id=UPSTAIRS, prefix="F8-"), tags={"t": "ble", "u": "ble"})
    reads = ble_reads("t", (5.0, 5.0), T0_S, rng) + ble_reads("t", (5.0, 5.0), T0_S, rng, prefix="F8-",
                                                                shift_db=shift_upstairs_db)
    reads += ble_reads("u", (20.0, 15.0), T0_S, rng, prefix="F8-")  # heard upstairs only
    routed, _ = route(ReadArrays.from_reads(reads), floors)
    chosen, _ = floors_choose(routed, current, margin_db=6.0)
    return {f: sorted(set(r.ble.tag_id.tolist())) for f, r in chosen.items()}


@pytest.mark.parametrize(("shift_db", "current", "expected_t"), [
    (-15.0, {}, 7),  # new tag: the floor of its strongest reading
    (+15.0, {}, UPSTAIRS),
    (+3.0, {"t": 7}, 7),  # upstairs a little stronger: not enough to leave its floor
    (+15.0, {"t": 7}, UPSTAIRS),  # clearly stronger: it moved
])
def test_it_keeps_each_ble_tag_on_one_floor(shift_db: float, current: dict[str, int], expected_t: int) -> None:
    got = heard_on_both(shift_db, current)
    assert ["t" in got[7], "t" in got[UPSTAIRS]] == [expected_t == 7, expected_t == UPSTAIRS]
    assert "u" in got[UPSTAIRS]  # a tag heard on one floor only is left alone
