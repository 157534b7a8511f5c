"""The demo hospital loads through the real importer, completely, and loading it again changes nothing."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from floorplans.models import Door, Floor, Zone
from infusion.models import Patient
from readers.models import Antenna, Reader
from tracking.models import Asset, Tag

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    models = (Floor, Zone, Door, Reader, Antenna, Tag, Asset, Patient, User)
    return {model.__name__: model.objects.count() for model in models}


def test_it_loads_a_plausible_hospital_and_reloads_idempotently(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    floors = {f.code: f for f in Floor.objects.all()}
    assert set(floors) == {"L0", "L2", "L4"}
    assert all(f.plan_image and f.plan_affine for f in floors.values())
    l4 = floors["L4"]
    assert Zone.objects.filter(floor=l4, kind=Zone.Kind.ROOM).count() >= 12
    assert (
        Zone.objects.filter(floor=l4, kind__in=["clean_utility", "dirty_utility", "storage", "nurse_station"])
        .values("kind")
        .distinct()
        .count()
        == 4
    )
    l2 = floors["L2"]
    assert Zone.objects.filter(floor=l2, kind=Zone.Kind.NURSERY).exists()
    maternity_exits = Door.objects.filter(floor=l2, is_exit=True)
    assert maternity_exits.count() >= 3 and all(door.lock_controller for door in maternity_exits)
    for door in maternity_exits:  # an installer puts an inside and an outside antenna at every exit
        assert set(Antenna.objects.filter(door=door).values_list("side", flat=True)) == {"inside", "outside"}
    assert Reader.objects.filter(floor=l2, kind=Reader.Kind.UWB_ANCHOR).count() >= 4
    beds = Zone.objects.filter(kind=Zone.Kind.BED).exclude(parent__kind=Zone.Kind.NURSERY)
    admitted = Patient.objects.filter(discharged_at__isnull=True)
    assert 0.6 * beds.count() <= admitted.count() <= beds.count()
    assert all(p.bed is not None and p.ward is not None and p.bed.ward_id == p.ward.pk for p in admitted)
    assert not admitted.filter(bed__parent__kind=Zone.Kind.NURSERY).exists()  # mothers are not put in cots
    assert Asset.objects.filter(category="infusion_pump").count() >= 8
    assert all(
        a.home_zone is not None and a.home_zone.kind in {"storage", "clean_utility"} for a in Asset.objects.all()
    )
    assert {u.username for u in User.objects.all()} >= {"nurse", "charge_nurse", "biomed", "security", "admin"}
    plan_names = {f.code: f.plan_image.name for f in floors.values()}

    before = _counts()
    again = io.StringIO()
    call_command("load_demo", stdout=again)
    assert _counts() == before
    assert again.getvalue().count("plan unchanged") == 3
    assert {f.code: f.plan_image.name for f in Floor.objects.all()} == plan_names


def test_the_demo_machine_token_reads_the_api(settings: Any, tmp_path: Any, api: APIClient) -> None:
    settings.MEDIA_ROOT = tmp_path
    call_command("load_demo", stdout=io.StringIO())
    token = Token.objects.get(user__username="nurse-call")
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    floors = api.get("/api/floors/").json()["results"]
    assert [f["code"] for f in floors] == ["L0", "L2", "L4"]
    out = io.StringIO()
    call_command("demo_logins", "--url", "http://127.0.0.1:8000/", stdout=out)
    assert "nurse" in out.getvalue() and "demo-nurse" in out.getvalue() and token.key in out.getvalue()
