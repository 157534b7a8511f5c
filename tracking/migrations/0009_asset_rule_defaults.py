"""Default asset status rules and forbidden zones (biomedical engineering edits them on /assets/rules/;
see docs/assets.md): dirty utility -> needs cleaning at once; a patient room -> in use after 10 min from
available; clean utility or equipment storage -> available 2 min after needs cleaning. Assets must not go to
a loading dock, an entrance or an exit zone (any category)."""

from typing import Any

from django.db import migrations

# name, zone kind, from statuses, status, after s, priority
RULES = [
    ("Dirty utility: needs cleaning", "dirty_utility", [], "needs_cleaning", 0, 10),
    ("Patient room: in use after 10 min", "room", ["available"], "in_use", 600, 0),
    ("Clean utility: available after cleaning", "clean_utility", ["needs_cleaning"], "available", 120, 0),
    ("Equipment storage: available after cleaning", "storage", ["needs_cleaning"], "available", 120, 0),
]
FORBIDDEN = [
    ("loading_dock", "assets leave by the loading dock only with biomedical engineering"),
    ("entrance", "equipment does not go out through the main entrance"),
    ("exit", "outside the building"),
]


def add_defaults(apps: Any, schema_editor: Any) -> None:
    StatusRule = apps.get_model("tracking", "StatusRule")
    ForbiddenZone = apps.get_model("tracking", "ForbiddenZone")
    for name, kind, from_statuses, status, after_s, priority in RULES:
        StatusRule.objects.get_or_create(
            name=name, defaults={"zone_kind": kind, "from_statuses": from_statuses, "status": status,
                                 "after_s": after_s, "priority": priority, "enabled": True},
        )
    for kind, note in FORBIDDEN:
        ForbiddenZone.objects.get_or_create(zone=None, zone_kind=kind, category="", defaults={"note": note})


def remove_defaults(apps: Any, schema_editor: Any) -> None:
    StatusRule = apps.get_model("tracking", "StatusRule")
    ForbiddenZone = apps.get_model("tracking", "ForbiddenZone")
    StatusRule.objects.filter(name__in=[name for name, *_ in RULES]).delete()
    ForbiddenZone.objects.filter(zone=None, category="", zone_kind__in=[kind for kind, _ in FORBIDDEN]).delete()


class Migration(migrations.Migration):
    dependencies = [("tracking", "0008_assets")]
    operations = [migrations.RunPython(add_defaults, remove_defaults)]
