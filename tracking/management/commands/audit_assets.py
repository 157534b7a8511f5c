"""manage.py audit_assets: audit a department's or some zones' equipment from the shell, with a progress bar,
and write the report as CSV and/or PDF (docs/assets.md).

    audit_assets --department 4W --csv audit.csv --pdf audit.pdf          hands-free, from the RTLS
    audit_assets --zone 4W-EQ --zone 4W-CU --seen-within-h 8                 a zone set
    audit_assets --department 4W --handheld HH-1 --seconds 300               a sweep with a mobile reader
    audit_assets --department 4W --reads sweep.csv                           a sweep from a reads file

Zones and departments are given by code (FLOOR:CODE where a code exists on several floors) or id.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q
from django.utils import timezone
from tqdm import tqdm

from floorplans.models import Zone
from tracking.assets.audit_classify import Result, result_label
from tracking.assets.audit_exceptions import AuditError
from tracking.assets.audit_selectors import audit_progress
from tracking.assets.audits import audit_finish, audit_run_hands_free, audit_start_handheld, handheld_reads_record
from tracking.assets.handheld import HandheldSweep, redis_client
from tracking.assets.mobile_readers import mobile_reader_get, mobile_reader_settings
from tracking.assets.reads_files import reads_file_parse
from tracking.assets.reports import audit_report_csv, audit_report_pdf
from tracking.models import Audit

POLL_S = 0.5


def zone_find(text: str, *, ward: bool = False) -> Zone:
    """A zone by id, code or FLOOR:CODE; a ward when `ward`."""
    zones = Zone.objects.select_related("floor")
    if ward:
        zones = zones.filter(kind=Zone.Kind.WARD)
    if text.isdigit():
        found = list(zones.filter(pk=int(text)))
    elif ":" in text:
        floor, _, code = text.partition(":")
        found = list(zones.filter(floor__code=floor, code=code))
    else:
        found = list(zones.filter(Q(code=text) | Q(name=text)))
    if not found:
        raise CommandError(f"no {'ward' if ward else 'zone'} {text!r}")
    if len(found) > 1:
        raise CommandError(f"{text!r} is on several floors; say which: "
                           + ", ".join(f"{z.floor.code}:{z.code}" for z in found))
    return found[0]


class Command(BaseCommand):
    help = "Audit a department's or zones' equipment (hands-free, or a handheld sweep) and write CSV/PDF reports."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--department", help="ward code, name or id")
        parser.add_argument("--zone", action="append", default=[], help="zone code or id (repeat for several)")
        parser.add_argument("--seen-within-h", type=int, default=24, help="found if seen in place within (h)")
        parser.add_argument("--missing-after-days", type=int, default=3, help="missing if seen nowhere for (days)")
        parser.add_argument("--handheld", metavar="READER", help="sweep with this mobile reader (its code)")
        parser.add_argument("--seconds", type=float, default=300.0, help="how long the handheld sweep lasts at most")
        parser.add_argument("--reads", type=Path, help="a sweep from this reads file (CSV or LLRP tag-report JSON)")
        parser.add_argument("--csv", type=Path, help="write the report as CSV here")
        parser.add_argument("--pdf", type=Path, help="write the report as PDF here (with utilization charts)")
        parser.add_argument("--user", help="the username the audit is recorded for")
        parser.add_argument("--no-progress", action="store_true", help="never show a progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["handheld"] and options["reads"]:
            raise CommandError("--handheld and --reads are two ways of sweeping; choose one")
        department = zone_find(options["department"], ward=True) if options["department"] else None
        zones = [zone_find(text) for text in options["zone"]]
        scope: dict[str, Any] = {
            "department_id": department.pk if department else None, "zone_ids": [z.pk for z in zones],
            "seen_within_h": options["seen_within_h"], "missing_after_days": options["missing_after_days"],
            "user": self._user(options["user"]),
        }
        show = not options["no_progress"]
        try:
            if options["handheld"]:
                audit = self._sweep(scope, options["handheld"], options["seconds"], show=show)
            elif options["reads"]:
                audit = self._reads_file(scope, options["reads"])
            else:
                audit = self._hands_free(scope, show=show)
        except AuditError as exc:
            raise CommandError(str(exc)) from exc
        self._report(audit, csv_path=options["csv"], pdf_path=options["pdf"])

    def _hands_free(self, scope: dict[str, Any], *, show: bool) -> Audit:
        with tqdm(desc="auditing", unit="asset", file=sys.stderr, disable=not show) as bar:
            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done)

            return audit_run_hands_free(**scope, progress=progress)

    def _sweep(self, scope: dict[str, Any], code: str, seconds: float, *, show: bool) -> Audit:
        reader = mobile_reader_settings(mobile_reader_get(code))
        audit = audit_start_handheld(**scope, reader_code=code)
        sweep = HandheldSweep(audit_id=audit.pk, reader=reader, client=redis_client())
        if not sweep.start():
            raise CommandError(f"audit {audit.pk}: another process already sweeps with {code}")
        expected = int(audit.summary["expected"])
        self.stdout.write(f"audit {audit.pk}: sweep with {code} ({reader.address}) for up to {seconds:g} s; "
                          f"{expected} assets expected. Ctrl-C finishes early.")
        deadline = time.monotonic() + seconds
        try:
            with tqdm(total=expected, desc="found", unit="asset", file=sys.stderr, disable=not show) as bar:
                while time.monotonic() < deadline and not sweep.ended:
                    time.sleep(POLL_S)
                    found = audit_progress(Audit.objects.get(pk=audit.pk), limit=0)["found"]
                    bar.update(found - bar.n)
                    bar.set_postfix(connected=sweep.connected, reads=sweep.reads)
                    if expected and found >= expected:
                        break
        except KeyboardInterrupt:
            self.stdout.write("finishing the sweep")
        finally:
            sweep.stop()
        if sweep.error:
            self.stderr.write(f"reader {code}: {sweep.error}")
        return audit_finish(audit_id=audit.pk, user=scope["user"])

    def _reads_file(self, scope: dict[str, Any], path: Path) -> Audit:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror or exc}") from exc
        parsed = reads_file_parse(data, filename=path.name, reader_id="upload", now=timezone.now())
        for error in parsed.errors:
            self.stderr.write(f"{path}: {error}")
        audit = audit_start_handheld(**scope)
        recorded = handheld_reads_record(audit_id=audit.pk, reads=parsed.reads, dropped=parsed.dropped)
        self.stdout.write(f"{path}: {recorded.reads} reads, {parsed.dropped} dropped, {recorded.unknown_tags} "
                          "unknown tags")
        return audit_finish(audit_id=audit.pk, user=scope["user"])

    def _report(self, audit: Audit, *, csv_path: Path | None, pdf_path: Path | None) -> None:
        counts = audit.summary.get("counts", {})
        not_seen = result_label(Result.NOT_SEEN, sweep=audit.kind == Audit.Kind.HANDHELD)
        self.stdout.write(
            f"audit {audit.pk}: {audit.summary.get('expected', 0)} expected: {counts.get('found', 0)} found, "
            f"{counts.get('misplaced', 0)} misplaced, {counts.get('not_seen', 0)} {not_seen}, "
            f"{counts.get('missing', 0)} missing; {counts.get('unexpected', 0)} of elsewhere found here; "
            f"PM due {counts.get('pm_due', 0)}, overdue {counts.get('pm_overdue', 0)}")
        try:
            if csv_path is not None:
                csv_path.write_text(audit_report_csv(audit), encoding="utf-8")
                self.stdout.write(f"wrote {csv_path}")
            if pdf_path is not None:
                pdf_path.write_bytes(audit_report_pdf(audit))
                self.stdout.write(f"wrote {pdf_path}")
        except OSError as exc:
            raise CommandError(f"cannot write the report: {exc.strerror or exc}") from exc

    def _user(self, username: str | None) -> User | None:
        if not username:
            return None
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        return user
