"""The demo hospital's equipment, tags and patients, derived from its floors. Pure and seeded."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

SEED = 20261122

# (category, make, model, count per ward, tag tech, value)
_FLEET: list[tuple[str, str, str, int, str, str]] = [
    ("infusion_pump", "BD", "Alaris 8100", 8, "ble", "3200.00"),
    ("syringe_pump", "B. Braun", "Perfusor Space", 3, "ble", "2800.00"),
    ("monitor", "Philips", "IntelliVue MX450", 4, "ble", "9500.00"),
    ("wheelchair", "Invacare", "Action 2 NG", 4, "rfid", "650.00"),
    ("ecg", "GE Healthcare", "MAC 2000", 1, "ble", "7400.00"),
    ("bladder_scanner", "Verathon", "BladderScan Prime", 1, "ble", "11800.00"),
    ("defibrillator", "ZOLL", "R Series", 1, "ble", "21500.00"),
    ("feeding_pump", "Fresenius Kabi", "Amika", 2, "ble", "1900.00"),
]

_FAMILY = [
    "Adams",
    "Baker",
    "Chen",
    "Dubois",
    "Evans",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ibrahim",
    "Jones",
    "Kaur",
    "Lewis",
    "Murphy",
    "Novak",
    "Owens",
    "Patel",
    "Quinn",
    "Roberts",
    "Singh",
    "Taylor",
    "Usman",
    "Varga",
    "Walsh",
    "Young",
]
_GIVEN_F = ["Amelia", "Bea", "Chloe", "Dana", "Ella", "Fatima", "Grace", "Hana", "Isla", "Julia", "Leah", "Maya"]
_GIVEN_M = ["Arthur", "Ben", "Carlos", "David", "Ethan", "Finn", "George", "Hamza", "Ivan", "Jack", "Leo", "Omar"]


@dataclass(frozen=True, slots=True)
class DemoAsset:
    asset_number: str
    category: str
    make: str
    model: str
    serial_number: str
    tag_id: str
    tech: str
    department: str  # ward code
    home_zone: str  # zone code
    pm_due_on: date
    pm_interval_days: int
    purchased_on: date
    purchase_value: Decimal


@dataclass(frozen=True, slots=True)
class DemoPatient:
    mrn: str
    family_name: str
    given_name: str
    sex: str
    birth_date: date
    bed: str  # zone code


def _zones(doc: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [
        f["properties"]
        for f in doc["features"]
        if f["properties"]["feature"] == "zone" and f["properties"]["kind"] == kind
    ]


def demo_assets(floors: list[dict[str, Any]], *, today: date) -> list[DemoAsset]:
    """A fleet per ward, homed in the ward's equipment storage (or clean utility); some PM overdue."""
    rng = random.Random(SEED)
    assets: list[DemoAsset] = []
    for doc in floors:
        for ward in _zones(doc, "ward"):
            homes = [
                z for kind in ("storage", "clean_utility") for z in _zones(doc, kind) if z.get("ward") == ward["code"]
            ]
            if not homes:
                continue
            for category, make, model, count, tech, value in _FLEET:
                for _ in range(count):
                    number = len(assets) + 1
                    interval = 365 if category in {"wheelchair", "ecg"} else 180
                    assets.append(
                        DemoAsset(
                            asset_number=f"BME-{number:05d}",
                            category=category,
                            make=make,
                            model=model,
                            serial_number=f"{make[:2].upper()}{rng.randrange(10**7, 10**8)}",
                            tag_id=_tag_id(rng, tech),
                            tech=tech,
                            department=ward["code"],
                            home_zone=homes[0]["code"],
                            pm_due_on=today + timedelta(days=rng.randrange(-30, interval)),  # about 1 in 7 overdue
                            pm_interval_days=interval,
                            purchased_on=today - timedelta(days=rng.randrange(200, 3000)),
                            purchase_value=Decimal(value),
                        )
                    )
    return assets


def _tag_id(rng: random.Random, tech: str) -> str:
    if tech == "rfid":  # a 96-bit EPC, hex as sllurp reports it
        return "3008" + "".join(rng.choice("0123456789ABCDEF") for _ in range(20))
    return "AC233F" + "".join(rng.choice("0123456789ABCDEF") for _ in range(6))  # a BLE tag's MAC


def demo_patients(floors: list[dict[str, Any]], *, today: date) -> list[DemoPatient]:
    """Patients in about four of five beds; on a maternity ward (it has a nursery) mothers, aged 19-42."""
    rng = random.Random(SEED + 1)
    patients: list[DemoPatient] = []
    for doc in floors:
        nurseries = {zone["code"] for zone in _zones(doc, "nursery")}
        maternity = bool(nurseries)
        for bed in (b for b in _zones(doc, "bed") if b.get("parent") not in nurseries):  # cots are for infants
            if rng.random() > 0.8:
                continue
            sex = "F" if maternity or rng.random() < 0.5 else "M"
            age_years = rng.randrange(19, 43) if maternity else rng.randrange(24, 96)
            patients.append(
                DemoPatient(
                    mrn=f"RGH{4_000_000 + len(patients) * 37:07d}",
                    family_name=rng.choice(_FAMILY),
                    given_name=rng.choice(_GIVEN_F if sex == "F" else _GIVEN_M),
                    sex=sex,
                    birth_date=today - timedelta(days=age_years * 365 + rng.randrange(365)),
                    bed=bed["code"],
                )
            )
    return patients


@dataclass(frozen=True, slots=True)
class DemoWearer:
    """A tag worn by a person: a staff badge (BLE) or an infant's ankle tag (UWB)."""

    kind: str  # staff | infant
    name: str
    tag_id: str
    tech: str
    home_zone: str  # zone code


def demo_wearers(floors: list[dict[str, Any]]) -> list[DemoWearer]:
    """Six staff badges per ward (home: the nurse station) and, on a maternity ward, six infants with
    UWB tags (home: the nursery, or a mother room). The demo's rooming-in mothers are in rooms whose doors
    are more than the exit-approach distance (3 m) from an exit: the second to fifth and the seventh room
    (room 201 opens by stair A, room 206 by the lift lobby), so walks to the nursery raise no exit alarm."""
    wearers: list[DemoWearer] = []
    for doc in floors:
        stations = _zones(doc, "nurse_station")
        for ward in _zones(doc, "ward"):
            home = next((z for z in stations if z.get("ward") == ward["code"]), None)
            if home is None:
                continue
            for i in range(1, 7):
                tag = f"AC233FB{len(wearers) + 1:05X}"
                wearers.append(DemoWearer("staff", f"Staff badge {ward['code']}-{i:02d}", tag, "ble", home["code"]))
        nurseries = _zones(doc, "nursery")
        rooms = [z for z in _zones(doc, "room")]
        rooms = rooms[1:5] + rooms[6:7]
        for i, home in enumerate((nurseries[:1] + rooms)[:6] if nurseries else []):
            where = home["name"]
            wearers.append(DemoWearer("infant", f"Infant {i + 1} ({where})", f"B{i + 1:03X}", "uwb", home["code"]))
    return wearers


@dataclass(frozen=True, slots=True)
class DemoBag:
    """An infusion bag pharmacy labelled for a demo patient, with a BLE tag, and how far it has got:
    "infusing" (started at started_at at the ordered rate) or "bedside" (dispensed, waiting at the bed)."""

    tag_id: str
    tech: str
    mrn: str
    ward: str  # ward code
    bed: str  # zone code: the patient's bed, the bag's home zone
    drug: str
    concentration: str
    volume_ml: float
    ordered_rate_ml_h: float
    lot: str
    expires_at: datetime
    stage: str  # infusing | bedside
    started_at: datetime | None


# (drug, concentration, volume mL, ordered rate mL/h, stage, minutes left at the rate, or None if not started)
_ORDERS: dict[str, list[tuple[str, str, float, float, str, float | None]]] = {
    "medical": [
        ("Sodium chloride 0.9%", "9 mg/mL", 1000.0, 83.0, "infusing", 520.0),
        ("Heparin", "25,000 units in 500 mL (50 units/mL)", 500.0, 18.0, "infusing", 1110.0),
        ("Piperacillin/tazobactam", "4.5 g in 100 mL", 100.0, 200.0, "infusing", 12.0),  # near empty
        ("Compound sodium lactate (Hartmann's)", "1000 mL", 1000.0, 125.0, "infusing", 250.0),
        ("Vancomycin", "1 g in 250 mL (4 mg/mL)", 250.0, 125.0, "bedside", None),
        ("Potassium chloride in sodium chloride 0.9%", "20 mmol in 1000 mL", 1000.0, 100.0, "infusing", 430.0),
    ],
    "maternity": [
        ("Oxytocin", "40 units in 500 mL (0.08 units/mL)", 500.0, 125.0, "infusing", 150.0),
        ("Magnesium sulfate", "4 g in 100 mL (40 mg/mL)", 100.0, 25.0, "bedside", None),
    ],
}
BAG_TAG_PREFIX = "AC233FD"  # BLE MACs apart from the staff badges (AC233FB...) and the assets' random ones


def demo_bags(floors: list[dict[str, Any]], patients: list[DemoPatient], *, now: datetime) -> list[DemoBag]:
    """A few bags per ward for admitted demo patients (seeded choice of patients): most infusing at various
    stages, one near empty on the medical ward, one per ward not yet started at the bedside."""
    rng = random.Random(SEED + 2)
    ward_of = {bed["code"]: bed.get("ward") for doc in floors for bed in _zones(doc, "bed")}
    bags: list[DemoBag] = []
    for doc in floors:
        maternity = bool(_zones(doc, "nursery"))
        for ward in _zones(doc, "ward"):
            here = sorted((p for p in patients if ward_of.get(p.bed) == ward["code"]), key=lambda p: p.bed)
            orders = _ORDERS["maternity" if maternity else "medical"]
            chosen = sorted(rng.sample(here, min(len(orders), len(here))), key=lambda p: p.bed)
            for patient, (drug, concentration, volume, rate, stage, left_min) in zip(chosen, orders, strict=False):
                started_at = None
                if left_min is not None:
                    run_s = round((volume / rate * 60.0 - left_min) * 60.0)
                    started_at = now - timedelta(seconds=max(run_s, 0))
                bags.append(DemoBag(
                    tag_id=f"{BAG_TAG_PREFIX}{len(bags) + 1:05X}", tech="ble", mrn=patient.mrn, ward=ward["code"],
                    bed=patient.bed, drug=drug, concentration=concentration, volume_ml=volume,
                    ordered_rate_ml_h=rate, lot=f"{rng.choice('ABCDEFGHJK')}{rng.randrange(10**5, 10**6)}",
                    expires_at=now + timedelta(days=rng.randrange(3, 60)), stage=stage, started_at=started_at,
                ))
    return bags
