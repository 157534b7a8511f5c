"""Writes for tags, tracked objects and assets."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction

from floorplans.models import Zone
from tracking.models import Asset, Tag, TrackedObject


@transaction.atomic
def tracked_object_tag(
    *, kind: str, name: str, tag_id: str, tech: str, tag_model: str = "", home_zone: Zone | None = None
) -> TrackedObject:
    """The tracked object carrying tag `tag_id` (created, or updated if it exists)."""
    tag, _ = Tag.objects.update_or_create(tag_id=tag_id, defaults={"tech": tech, "model": tag_model})
    obj = TrackedObject.objects.select_for_update().filter(tag=tag).first()
    if obj is None:
        return TrackedObject.objects.create(kind=kind, name=name, tag=tag, home_zone=home_zone)
    obj.kind, obj.name, obj.home_zone = kind, name, home_zone
    obj.save(update_fields=["kind", "name", "home_zone"])
    return obj


@transaction.atomic
def asset_register(
    *, asset_number: str, category: str, tag_id: str, tech: str, make: str = "", model: str = "",
    serial_number: str = "", department: Zone | None = None, home_zone: Zone | None = None,
    pm_due_on: date | None = None, pm_interval_days: int | None = None,
    purchased_on: date | None = None, purchase_value: Decimal | None = None,
) -> Asset:
    """Register (or update, by asset number) a piece of equipment and its tag."""
    label = Asset.Category(category).label
    obj = tracked_object_tag(
        kind=TrackedObject.Kind.ASSET, name=f"{label} {asset_number}", tag_id=tag_id, tech=tech, home_zone=home_zone
    )
    asset, _ = Asset.objects.update_or_create(
        asset_number=asset_number,
        defaults={
            "tracked_object": obj, "category": category, "make": make, "model": model,
            "serial_number": serial_number, "department": department, "home_zone": home_zone,
            "pm_due_on": pm_due_on, "pm_interval_days": pm_interval_days,
            "purchased_on": purchased_on, "purchase_value": purchase_value,
        },
    )
    return asset
