import numpy as np
import pytest

from tracking.localization.rfid import PortalDetector, phase_range_change_m, zone_presence

INSIDE, OUTSIDE = 1, 2


@pytest.mark.parametrize(("antennas", "times", "expected"), [
    ([INSIDE, INSIDE, OUTSIDE], [0.0, 0.5, 1.0], ["out"]),
    ([OUTSIDE, INSIDE], [0.0, 0.8], ["in"]),
    ([INSIDE, OUTSIDE], [0.0, 9.0], []),  # too far apart: two visits, not a crossing
    ([OUTSIDE, INSIDE], [1.0, 0.0], ["out"]),  # out of order inside the window
    ([INSIDE, INSIDE], [0.0, 1.0], []),
])
def test_portal_direction(antennas: list[int], times: list[float], expected: list[str]) -> None:
    portal = PortalDetector(inside_antenna=INSIDE, outside_antenna=OUTSIDE, max_gap_s=5.0)
    got = portal.update(np.array(["infant-7"] * len(times)), np.array(antennas), np.array(times))
    assert [c.direction for c in got] == expected


def test_portal_remembers_the_side_across_windows() -> None:
    portal = PortalDetector(inside_antenna=INSIDE, outside_antenna=OUTSIDE)
    assert portal.update(np.array(["b"]), np.array([INSIDE]), np.array([0.0])) == []
    assert [c.direction for c in portal.update(np.array(["b"]), np.array([OUTSIDE]), np.array([1.0]))] == ["out"]


def test_zone_presence_uses_the_strongest_antenna() -> None:
    tags, zones = zone_presence(np.array(["a", "a", "b"]), np.array([0, 1, 1]), np.array([-70.0, -50.0, -60.0]),
                                antenna_zone=np.array([10, 20]))
    assert dict(zip(tags.tolist(), zones.tolist(), strict=True)) == {"a": 20, "b": 20}


def test_phase_gives_the_range_change() -> None:
    f_hz, d_m = 915e6, np.linspace(1.0, 1.5, 50)
    phase = np.mod(4 * np.pi * f_hz * d_m / 299_792_458.0, 2 * np.pi)
    np.testing.assert_allclose(phase_range_change_m(phase, f_hz), d_m - d_m[0], atol=1e-9)


def test_zone_presence_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="need equal"):
        zone_presence(np.array(["a"]), np.array([0, 1]), np.array([-50.0]), np.array([1]))
