"""Spatial lookups in floor metres on the real PostGIS: contains, nearest (KNN), dwithin, Distance."""

from __future__ import annotations

import pytest
from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.measure import D

from floorplans.models import Floor, Zone
from floorplans.selectors import KnnDistance, floor_point, zone_nearest, zones_containing, zones_within

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("x_m", "y_m", "codes"),
    [
        (1.5, 13.0, ["3N-101-A", "3N-101", "3N"]),  # on bed 101A: bed, its room, the ward
        (3.5, 13.0, ["3N-101", "3N"]),  # in room 101 beside the bed
        (12.0, 9.5, ["3N-C", "3N"]),  # corridor
        (28.0, 12.0, ["ST-1"]),  # stairs, outside the ward
        (5.0, 13.0, ["3N-101", "3N-102", "3N"]),  # on the wall between two rooms: both cover it
        (29.5, 2.0, []),  # outside every zone
    ],
)
def test_it_finds_the_zones_containing_a_point_most_specific_first(
    floor: Floor, x_m: float, y_m: float, codes: list[str]
) -> None:
    found = [zone.code for zone in zones_containing(floor=floor, x_m=x_m, y_m=y_m)]
    assert found[0:1] == codes[0:1] and sorted(found) == sorted(codes)


@pytest.mark.parametrize(
    ("x_m", "y_m", "kinds", "code"),
    [
        (28.0, 4.0, None, "3N"),  # 2 m right of the ward, 4 m below the stairs
        (28.0, 7.0, None, "ST-1"),  # 1 m below the stairs, 2 m right of the ward
        (28.0, 4.0, ["storage"], "3N-ST"),
        (11.0, 5.0, ["storage", "dirty_utility"], "3N-DU"),
        (7.5, 17.0, ["bed"], "3N-102-A"),
    ],
)
def test_it_finds_the_nearest_zone_with_knn(
    floor: Floor, x_m: float, y_m: float, kinds: list[str] | None, code: str
) -> None:
    zone = zone_nearest(floor=floor, x_m=x_m, y_m=y_m, kinds=kinds)
    assert zone is not None and zone.code == code


def test_knn_ordering_agrees_with_true_distance(floor: Floor) -> None:
    point = floor_point(17.0, 17.5)
    knn = list(
        Zone.objects.filter(floor=floor).order_by(KnnDistance("polygon", point), "pk").values_list("code", flat=True)
    )
    true = list(
        Zone.objects.filter(floor=floor)
        .annotate(d=Distance("polygon", point))
        .order_by("d", "pk")
        .values_list("code", flat=True)
    )
    assert knn == true


def test_it_finds_zones_within_a_distance_in_metres_nearest_first(floor: Floor) -> None:
    zones = zones_within(floor=floor, x_m=12.0, y_m=17.0, distance_m=6.0)
    found = [(z.code, round(z.distance.m, 3)) for z in zones]  # type: ignore[attr-defined]
    # inside the ward; 2 m right of and 1 m above room 102's corner (10, 16); bed 102B's corner (9, 14.2)
    assert found == [
        ("3N", 0.0),
        ("3N-102", round(5**0.5, 3)),
        ("3N-102-B", round((9 + 2.8**2) ** 0.5, 3)),
        ("3N-102-A", round((25 + 2.8**2) ** 0.5, 3)),
        ("3N-C", 6.0),
    ]


def test_dwithin_and_distance_take_metre_units(floor: Floor) -> None:
    point = floor_point(28.0, 4.0)
    stairs = Zone.objects.filter(floor=floor, code="ST-1")
    assert stairs.filter(polygon__dwithin=(point, D(m=4.0))).exists()
    assert not stairs.filter(polygon__dwithin=(point, D(m=3.9))).exists()
    assert stairs.filter(polygon__distance_lte=(point, D(m=4.0))).exists()
    (distance,) = stairs.annotate(d=Distance("polygon", point)).values_list("d", flat=True)
    assert distance.m == pytest.approx(4.0)
