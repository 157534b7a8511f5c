"""Zones as the registry CSV names them: by code ("4W-EQUIP"), or FLOOR/CODE ("L4/4W-EQUIP") where a
code is used on more than one floor (codes are unique per floor only). Loaded in one query."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from floorplans.models import Zone


@dataclass(frozen=True, slots=True)
class ZoneRef:
    pk: int
    code: str
    kind: str
    floor_code: str


class ZoneIndex:
    def __init__(self, zones: list[ZoneRef]) -> None:
        self.by_pk = {zone.pk: zone for zone in zones}
        self.by_code: dict[str, list[ZoneRef]] = defaultdict(list)
        for zone in zones:
            self.by_code[zone.code.lower()].append(zone)
            self.by_code[f"{zone.floor_code}/{zone.code}".lower()].append(zone)

    @classmethod
    def load(cls) -> ZoneIndex:
        rows = Zone.objects.values_list("pk", "code", "kind", "floor__code").order_by("floor__code", "code")
        return cls([ZoneRef(pk, code, kind, floor_code) for pk, code, kind, floor_code in rows])

    def find(self, text: str) -> ZoneRef:
        """The zone a cell names (case does not matter); ValueError saying why there is none."""
        found = self.by_code.get(text.strip().lower(), [])
        if not found:
            raise ValueError("no zone has this code")
        if len(found) > 1:
            floors = ", ".join(sorted(z.floor_code for z in found))
            raise ValueError(f"this code is used on floors {floors}: write FLOOR/CODE")
        return found[0]

    def label(self, pk: int | None) -> str:
        """How the export writes a zone: its code, or FLOOR/CODE when the code alone is ambiguous."""
        if pk is None or pk not in self.by_pk:
            return ""
        zone = self.by_pk[pk]
        return zone.code if len(self.by_code[zone.code.lower()]) == 1 else f"{zone.floor_code}/{zone.code}"
