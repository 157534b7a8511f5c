"""manage.py export_assets: the asset registry as CSV (the import's columns, then where each asset is now)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from floorplans.models import Zone
from tracking.assets.registry import assets_export
from tracking.assets.registry.selectors import AssetFilter, Pm, assets_filtered
from tracking.models import Asset


class Command(BaseCommand):
    help = "Export the asset registry as CSV (to a file or standard output)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("-o", "--output", type=Path, help="write here (default: standard output)")
        parser.add_argument("--category", choices=Asset.Category.values)
        parser.add_argument("--status", choices=Asset.Status.values)
        parser.add_argument("--department", help="a ward's zone code")
        parser.add_argument("--pm", choices=[value for value, _ in Pm.CHOICES], help="PM overdue or due soon")
        parser.add_argument("--no-progress", action="store_true", help="never show a progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        department = None
        if options["department"]:
            ward = Zone.objects.filter(kind=Zone.Kind.WARD, code__iexact=options["department"]).first()
            if ward is None:
                raise CommandError(f"no ward with the code {options['department']!r}")
            department = ward.pk
        spec = AssetFilter(category=options["category"] or "", status=options["status"] or "",
                           department=department, pm=options["pm"] or "")
        assets = assets_filtered(spec=spec, today=timezone.localdate())
        total = assets.count()
        output: Path | None = options["output"]
        show = not options["no_progress"] and output is not None
        with tqdm(total=total, desc="exporting", unit="asset", file=sys.stderr, disable=not show) as bar:
            if output is None:
                assets_export(assets=assets, out=self.stdout, progress=bar.update)
                return
            try:
                with output.open("w", encoding="utf-8", newline="") as out:
                    count = assets_export(assets=assets, out=out, progress=bar.update)
            except OSError as exc:
                raise CommandError(f"{output}: {exc.strerror or exc}") from exc
        self.stderr.write(f"{count} assets written to {output}")
