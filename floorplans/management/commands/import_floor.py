"""manage.py import_floor FILE: make a floor equal a floor GeoJSON file (docs/floor-geojson.md)."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from floorplans.floorfile import FloorFileError
from floorplans.floorfile.parse import load_floor_document
from floorplans.plans import plan_render_for_floor
from floorplans.services import floor_file_check, floor_import, floor_set_plan_image, plan_image_check

T = TypeVar("T")
PROGRESS_FROM_FEATURES = 200  # smaller files are done before a bar would be seen


class Command(BaseCommand):
    help = "Import a floor GeoJSON file: zones, doors and readers; all or nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="check and report the changes, write nothing")
        parser.add_argument("--plan-image", type=Path, help="PNG plan image to attach to the floor")
        parser.add_argument("--render-plan", action="store_true", help="draw a plan image from the zones")
        parser.add_argument("--no-progress", action="store_true", help="never show a progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        plan: bytes | None = None
        if options["plan_image"]:
            try:
                plan = options["plan_image"].read_bytes()
                plan_image_check(plan)
            except (OSError, ValueError) as exc:
                raise CommandError(f"{options['plan_image']}: {exc}\nNothing was written.") from exc
        document = self._load(path)
        count = len(document.get("features", [])) if isinstance(document, dict) else 0
        show = not options["no_progress"] and count >= PROGRESS_FROM_FEATURES

        def bar(items: Iterable[T], what: str) -> Iterable[T]:
            wrapped: Iterable[T] = tqdm(items, desc=what, unit="feature", disable=not show, file=sys.stderr)
            return wrapped

        try:
            floor_file = floor_file_check(document, progress=lambda items: bar(items, "checking"))
            report = floor_import(
                floor_file=floor_file, dry_run=options["dry_run"], progress=lambda items: bar(items, "writing")
            )
        except FloorFileError as exc:
            raise CommandError(f"{path}: {exc}\nNothing was written.") from exc
        for line in report.lines():
            self.stdout.write(line)
        if options["dry_run"]:
            return
        if plan is not None:
            floor_set_plan_image(floor=report.floor, image=plan)
            self.stdout.write(f"plan image: {report.floor.plan_image.name}")
        elif options["render_plan"]:
            plan_render_for_floor(floor=report.floor)
            self.stdout.write(f"plan image rendered: {report.floor.plan_image.name}")

    def _load(self, path: Path) -> Any:
        try:
            return load_floor_document(path)
        except FloorFileError as exc:
            raise CommandError(f"{exc}\nNothing was written.") from exc
