"""Decide every registry row against the database before anything is written (importer.py writes).

Reads in bulk: all zones, the assets the rows name, the tags they name and who carries them, and the
serial numbers already registered. A row becomes a `RowPlan` (created / updated / unchanged, with the
model values to write) or `RowError`s. Rows are also checked against each other: an asset number, a tag
or a (make, model, serial number) may appear once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tracking.assets.registry.columns import IMPORT_NAMES, AssetRow, RowError
from tracking.assets.registry.zonecodes import ZoneIndex
from tracking.models import Asset, Tag

_ASSET_FIELDS = ("category", "make", "model", "serial_number", "pm_due_on", "pm_interval_days", "purchased_on",
                 "purchase_value")
_ZONE_FIELDS = {"department": "department_id", "home_zone": "home_zone_id"}


@dataclass
class RowPlan:
    row: AssetRow
    action: str  # created | updated | unchanged
    asset: Asset | None  # the existing asset (updated / unchanged)
    values: dict[str, Any]  # model field (attname) -> new value: all given (created), the changed ones (updated)
    tag_id: str | None = None  # the tag to put on it (None: leave the tag as it is)
    status_to: str | None = None  # the status to set (None: unchanged)

    @property
    def fields(self) -> tuple[str, ...]:
        names = [name.removesuffix("_id") for name in self.values]
        if self.tag_id is not None:
            names.append("tag_id")
        if self.status_to is not None:
            names.append("status")
        return tuple(sorted(names, key=IMPORT_NAMES.index))


@dataclass
class Plan:
    rows: list[RowPlan] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    new_tags: dict[str, str] = field(default_factory=dict)  # tag_id -> tech
    tech_changes: dict[str, str] = field(default_factory=dict)  # known tag_id -> corrected tech
    tag_pks: dict[str, int] = field(default_factory=dict)  # known tag_id -> pk


@dataclass(frozen=True, slots=True)
class _Carrier:
    tag_pk: int
    tech: str
    object_name: str
    object_kind: str
    asset_number: str | None


def plan_rows(rows: Sequence[AssetRow], *, columns: frozenset[str], lock: bool) -> Plan:
    """Every row's plan or errors. `lock` takes row locks on the existing assets (inside the import's
    transaction), so two imports of the same assets run one after the other."""
    plan = Plan()
    zones = ZoneIndex.load()
    numbers = [row.asset_number for row in rows]
    existing_qs = Asset.objects.filter(asset_number__in=numbers).select_related("tracked_object__tag")
    if lock:
        existing_qs = existing_qs.select_for_update(of=("self",)).order_by("pk")
    existing = {asset.asset_number: asset for asset in existing_qs}
    carriers = _carriers({row.values["tag_id"] for row in rows if "tag_id" in row.values})
    plan.tag_pks = {tag_id: c.tag_pk for tag_id, c in carriers.items()}
    first_row: dict[str, int] = {}
    in_file = frozenset(numbers)
    for row in rows:
        if row.asset_number in first_row:
            plan.errors.append(RowError(row.row, "asset_number", row.asset_number,
                                        f"also in row {first_row[row.asset_number]}"))
            continue
        first_row[row.asset_number] = row.row
        errors: list[RowError] = []
        row_plan = _row_plan(row, existing.get(row.asset_number), zones, errors)
        if row_plan is not None:
            _tag_plan(row_plan, carriers, numbers=in_file, errors=errors, plan=plan)
        if errors:
            plan.errors.extend(errors)
        elif row_plan is not None:
            plan.rows.append(row_plan)
    _check_unique_tags(plan)
    _check_unique_serials(plan, numbers=numbers)
    return plan


def _row_plan(row: AssetRow, asset: Asset | None, zones: ZoneIndex, errors: list[RowError]) -> RowPlan | None:
    values: dict[str, Any] = {name: row.values[name] for name in _ASSET_FIELDS if name in row.values}
    for column, attname in _ZONE_FIELDS.items():
        if column not in row.values:
            continue
        code = row.values[column]
        if code is None:
            values[attname] = None
            continue
        try:
            zone = zones.find(code)
        except ValueError as exc:
            errors.append(RowError(row.row, column, code, str(exc)))
            continue
        if column == "department" and zone.kind != "ward":
            errors.append(RowError(row.row, column, code, f"is a {zone.kind} zone; a department is a ward"))
            continue
        values[attname] = zone.pk
    status = row.values.get("status")
    if asset is None:
        if "category" not in values:
            errors.append(RowError(row.row, "category", "", "required for a new asset"))
            return None
        return RowPlan(row, "created", None, values, status_to=status if status not in (None, Asset.Status.AVAILABLE)
                       else None)
    changed = {name: value for name, value in values.items() if getattr(asset, name) != value}
    action = "updated" if changed or (status is not None and status != asset.status) else "unchanged"
    return RowPlan(row, action, asset, changed, status_to=status if status not in (None, asset.status) else None)


def _carriers(tag_ids: set[str]) -> dict[str, _Carrier]:
    """The known tags among `tag_ids` and what carries each (one query)."""
    rows = Tag.objects.filter(tag_id__in=sorted(tag_ids)).values_list(
        "tag_id", "pk", "tech", "tracked_object__name", "tracked_object__kind", "tracked_object__asset__asset_number"
    )
    return {tag_id: _Carrier(pk, tech, name or "", kind or "", number) for tag_id, pk, tech, name, kind, number in rows}


def _tag_plan(p: RowPlan, carriers: dict[str, _Carrier], *, numbers: frozenset[str], errors: list[RowError],
              plan: Plan) -> None:
    """Which tag the row's asset gets: its own (maybe with the technology corrected), a new one, a free
    known one, or one that an asset of this same file gives up."""
    row, given, tech = p.row, p.row.values.get("tag_id"), p.row.values.get("tag_tech")
    current = p.asset.tracked_object.tag if p.asset is not None else None
    if given is None or (current is not None and given == current.tag_id):
        if current is None:
            if tech is not None:
                errors.append(RowError(row.row, "tag_tech", tech, "the asset has no tag: give its tag_id"))
        elif tech is not None and tech != current.tech:
            plan.tech_changes[current.tag_id] = tech
            plan.tag_pks[current.tag_id] = current.pk
            p.action = "updated"
        return
    carrier = carriers.get(given)
    if carrier is None:
        if tech is None:
            errors.append(RowError(row.row, "tag_tech", "", "required for a tag new to the system (rfid, ble, uwb)"))
            return
        plan.new_tags[given] = tech
    elif carrier.asset_number is not None and carrier.asset_number not in numbers:
        errors.append(RowError(row.row, "tag_id", given, f"is carried by asset {carrier.asset_number}: give that "
                               "asset another tag first (in the registry or in this file)"))
        return
    elif carrier.asset_number is None and carrier.object_kind:
        errors.append(RowError(row.row, "tag_id", given,
                               f"is carried by {carrier.object_name!r} ({carrier.object_kind}), not by an asset"))
        return
    elif tech is not None and tech != carrier.tech:
        plan.tech_changes[given] = tech
    p.tag_id = given
    if p.action == "unchanged":
        p.action = "updated"


def _final_tag(p: RowPlan) -> str | None:
    if p.tag_id is not None:
        return p.tag_id
    tag = p.asset.tracked_object.tag if p.asset is not None else None
    return tag.tag_id if tag is not None else None


def _check_unique_tags(plan: Plan) -> None:
    """No two rows may end up with the same tag (a swap within the file is fine; a duplicate is not)."""
    seen: dict[str, int] = {}
    keep: list[RowPlan] = []
    for p in plan.rows:
        tag_id = _final_tag(p)
        if tag_id is not None and tag_id in seen:
            plan.errors.append(RowError(p.row.row, "tag_id", tag_id, f"row {seen[tag_id]} has this tag too"))
            continue
        if tag_id is not None:
            seen[tag_id] = p.row.row
        keep.append(p)
    plan.rows = keep


def _serial_key(p: RowPlan) -> tuple[str, str, str]:
    def final(name: str) -> str:
        if name in p.values:
            return str(p.values[name])
        return str(getattr(p.asset, name)) if p.asset is not None else ""

    return final("make").lower(), final("model").lower(), final("serial_number")


def _check_unique_serials(plan: Plan, *, numbers: Sequence[str]) -> None:
    """(make, model, serial number) is unique: within the file and against assets the file does not touch."""
    keys = {p.row.row: _serial_key(p) for p in plan.rows}
    others = Asset.objects.exclude(asset_number__in=numbers).exclude(serial_number="").filter(
        serial_number__in=sorted({key[2] for key in keys.values() if key[2]})
    ).values_list("make", "model", "serial_number", "asset_number")
    taken = {(make.lower(), model.lower(), serial): number for make, model, serial, number in others}
    seen: dict[tuple[str, str, str], int] = {}
    keep: list[RowPlan] = []
    for p in plan.rows:
        key = keys[p.row.row]
        if key[2] and key in taken:
            plan.errors.append(RowError(p.row.row, "serial_number", key[2],
                                        f"asset {taken[key]} has this serial number (same make and model)"))
            continue
        if key[2] and key in seen:
            plan.errors.append(RowError(p.row.row, "serial_number", key[2],
                                        f"row {seen[key]} has this serial number (same make and model)"))
            continue
        if key[2]:
            seen[key] = p.row.row
        keep.append(p)
    plan.rows = keep
