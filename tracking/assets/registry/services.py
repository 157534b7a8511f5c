"""One asset written from the API or a page: the same plan and checks as a CSV row (importer.py), so the
rules (tags, zones, serial numbers) and their messages are the same everywhere."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from tracking.assets.registry.columns import AssetRow
from tracking.assets.registry.importer import assets_import_rows
from tracking.models import Asset, AssetStatusChange


class AssetWriteError(ValueError):
    """What is wrong, by field: {"tag_id": ["is carried by ..."]}."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{field}: {', '.join(reasons)}" for field, reasons in errors.items()))
        self.errors = errors


def _write(*, asset_number: str, values: dict[str, Any], user: Any) -> Asset:
    row = AssetRow(row=1, asset_number=asset_number, values=values)
    report = assets_import_rows(rows=[row], columns=["asset_number", *values], dry_run=False, user=user,
                                source=AssetStatusChange.Source.MANUAL)
    if report.errors:
        errors: dict[str, list[str]] = defaultdict(list)
        for error in report.errors:
            errors[error.column or "non_field_errors"].append(error.reason)
        raise AssetWriteError(dict(errors))
    return Asset.objects.select_related("tracked_object__tag", "department", "home_zone").get(
        pk=report.asset_ids[asset_number])


def asset_create(*, asset_number: str, values: dict[str, Any], user: Any) -> Asset:
    """Register a new asset (values as an AssetRow's; "status" other than available is set as a manual
    change by `user`). AssetWriteError when the number is taken or a value is refused."""
    if Asset.objects.filter(asset_number=asset_number).exists():
        raise AssetWriteError({"asset_number": ["is registered already: change that asset instead"]})
    return _write(asset_number=asset_number, values=values, user=user)


def asset_update(*, asset: Asset, values: dict[str, Any], user: Any) -> Asset:
    """Change the given fields of an asset (not its number; its status through asset_status_set)."""
    if "status" in values:
        raise AssetWriteError({"status": ["is set on its own: POST /api/assets/<id>/status/"]})
    return _write(asset_number=asset.asset_number, values=values, user=user)
