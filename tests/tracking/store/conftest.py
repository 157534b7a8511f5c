"""Fixtures of the store tests: a floor with zones, doors and tags; an empty history table."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from floorplans.models import Door, Floor, Zone
from tracking.models import Tag

from .batches import World, history_drop_all


@pytest.fixture
def world(floor: Floor) -> World:
    tags = Tag.objects.bulk_create([Tag(tag_id=f"E2801170{i:06d}", tech=Tag.Tech.BLE) for i in range(6)])
    return World(
        floor=floor,
        zones=dict(Zone.objects.filter(floor=floor).values_list("code", "pk")),
        doors=dict(Door.objects.filter(floor=floor).values_list("code", "pk")),
        tags=[t.pk for t in tags],
    )


@pytest.fixture
def empty_history(db: None) -> Iterator[None]:
    """No partitions before, none left after (transactional tests commit them; flush does not know them)."""
    history_drop_all()
    yield
    history_drop_all()
