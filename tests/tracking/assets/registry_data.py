"""Test data for the registry tests: CSV text from rows, and a seeded inventory of any size on the test floor
(3 North: ward 3N, store 3N-ST, dirty utility 3N-DU, rooms 3N-101 / 3N-102)."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Sequence
from datetime import date, timedelta

from tracking.assets.registry.columns import IMPORT_NAMES

HEADER = ",".join(IMPORT_NAMES)
TODAY = date(2026, 3, 2)


def csv_text(rows: Sequence[dict[str, str]], *, columns: Sequence[str] = IMPORT_NAMES, delimiter: str = ",") -> str:
    """A CSV with these columns; cells a row does not give are blank."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    return out.getvalue()


def pump(number: int, **cells: str) -> dict[str, str]:
    """A good row: an infusion pump homed in the 3 North store with a new BLE tag."""
    return {
        "asset_number": f"BME-{number:05d}", "category": "infusion_pump", "make": "BD", "model": "Alaris 8100",
        "serial_number": f"BD{number:08d}", "tag_id": f"AC233F{number:06X}", "tag_tech": "ble", "department": "3N",
        "home_zone": "3N-ST", "status": "available", "pm_due_on": "2026-06-30", "pm_interval_days": "180",
        "purchased_on": "2021-04-01", "purchase_value": "3200.00", **cells,
    }


_FLEET = (("infusion_pump", "BD", "Alaris 8100", "ble"), ("syringe_pump", "B. Braun", "Perfusor Space", "ble"),
          ("monitor", "Philips", "IntelliVue MX450", "ble"), ("wheelchair", "Invacare", "Action 2 NG", "rfid"),
          ("bed", "Hill-Rom", "Centrella", "rfid"))
_STATUSES = ("available",) * 8 + ("in_use", "needs_cleaning")


def inventory(count: int, *, seed: int = 8) -> list[dict[str, str]]:
    """`count` plausible rows (seeded): mixed categories, RFID and BLE tags, PM dates around TODAY."""
    rng = random.Random(seed)
    rows = []
    for i in range(1, count + 1):
        category, make, model, tech = _FLEET[rng.randrange(len(_FLEET))]
        tag = f"3008{i:020X}" if tech == "rfid" else f"AC233F{i:06X}"
        rows.append({
            "asset_number": f"INV-{i:06d}", "category": category, "make": make, "model": model,
            "serial_number": f"{make[:2].upper()}{i:09d}", "tag_id": tag, "tag_tech": tech, "department": "3N",
            "home_zone": rng.choice(("3N-ST", "3N-DU", "3N-101")), "status": rng.choice(_STATUSES),
            "pm_due_on": (TODAY + timedelta(days=rng.randrange(-30, 365))).isoformat(),
            "pm_interval_days": str(rng.choice((180, 365))),
            "purchased_on": (TODAY - timedelta(days=rng.randrange(100, 3000))).isoformat(),
            "purchase_value": f"{rng.randrange(500, 25000)}.00",
        })
    return rows
