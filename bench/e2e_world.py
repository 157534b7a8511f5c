"""The end-to-end benchmark's hospital: the demo, with every BLE gateway speaking Minew JSON on one topic,
the non-BLE readers switched off (nothing emulates them in this run), N bench tags registered as tracked
objects, and a logged-in browser session. Runs inside the bench's scratch database only."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.db import transaction

from bench.e2e_load import PATH_LOSS_EXPONENT, TX_1M_DBM
from floorplans.models import Floor, Zone
from readers.models import Reader
from tracking.models import Tag, TrackedObject

WALKABLE = ("room", "corridor", "bay", "nursery", "waiting", "lobby", "storage", "treatment_room")
KINDS = (TrackedObject.Kind.ASSET, TrackedObject.Kind.ASSET, TrackedObject.Kind.STAFF, TrackedObject.Kind.PATIENT)


def _mac(prefix: int, i: int) -> str:
    return f"{prefix:04X}{i:08X}"


@transaction.atomic
def bench_world(*, tags: int, topic: str, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    Reader.objects.exclude(kind=Reader.Kind.BLE_GATEWAY).update(enabled=False)
    floors_out = []
    floors = list(Floor.objects.order_by("level"))
    for floor in floors:
        gateways = []
        for n, reader in enumerate(Reader.objects.filter(floor=floor, kind=Reader.Kind.BLE_GATEWAY).order_by("code")):
            reader.protocol, reader.topic = "ble_minew", topic
            reader.hardware_id = _mac(0xBE00 + floor.pk % 256, n)
            # the load's radio is free space (no walls): calibrated to its law, not the demo building's survey
            reader.calibration = {"rssi_at_1m_dbm": TX_1M_DBM, "path_loss_exponent": PATH_LOSS_EXPONENT,
                                  "rssi_offset_db": 0.0}
            reader.save(update_fields=["protocol", "topic", "hardware_id", "calibration"])
            gateways.append({"mac": reader.hardware_id,
                             "xyz_m": [reader.position.x, reader.position.y, reader.height_m]})
        if gateways:
            floors_out.append({"id": floor.pk, "gateways": gateways, "waypoints_m": _waypoints(floor, rng)})
    tag_rows = [Tag(tag_id=_mac(0xAC23, i), tech=Tag.Tech.BLE) for i in range(tags)]
    Tag.objects.bulk_create(tag_rows, batch_size=2000)
    saved = {t.tag_id: t for t in Tag.objects.filter(tag_id__in=[t.tag_id for t in tag_rows])}
    TrackedObject.objects.bulk_create(
        [TrackedObject(kind=KINDS[i % len(KINDS)], name=f"Bench {KINDS[i % len(KINDS)]} {i:05d}",
                       tag=saved[_mac(0xAC23, i)]) for i in range(tags)], batch_size=2000)
    floor_of_tag = [floors_out[i % len(floors_out)]["id"] for i in range(tags)]
    return {"floors": floors_out, "cookie": _session_cookie(),
            "tags": [{"mac": _mac(0xAC23, i), "floor": floor_of_tag[i]} for i in range(tags)]}


def _waypoints(floor: Floor, rng: np.random.Generator, per_zone: int = 4) -> list[list[float]]:
    points: list[list[float]] = []
    for zone in Zone.objects.filter(floor=floor, kind__in=WALKABLE):
        polygon = shapely.from_wkb(bytes(zone.polygon.wkb))
        x0, y0, x1, y1 = polygon.bounds
        candidates = np.column_stack([rng.uniform(x0, x1, per_zone * 8), rng.uniform(y0, y1, per_zone * 8)])
        inside = shapely.contains_xy(polygon, candidates[:, 0], candidates[:, 1])
        points += [[round(float(x), 2), round(float(y), 2)] for x, y in candidates[inside][:per_zone]]
    return points


def _session_cookie() -> str:
    user, _ = get_user_model().objects.get_or_create(username="bench-e2e", defaults={"is_superuser": True,
                                                                                    "is_staff": True})
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"
