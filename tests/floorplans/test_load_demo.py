"""The demo hospital loads through the real importer, completely, and loading it again changes nothing."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from floorplans.models import Door, Floor, Zone
from infusion.bags import bag_infused_ml
from infusion.models import BagEvent, InfusionBag, Patient
from readers.models import Antenna, Reader
from tracking.models import Asset, Tag, TrackedObject

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    models = (Floor, Zone, Door, Reader, Antenna, Tag, Asset, Patient, User, InfusionBag, BagEvent, TrackedObject)
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
    _assert_demo_bags()

    before = _counts()
    again = io.StringIO()
    call_command("load_demo", stdout=again)
    assert _counts() == before
    assert again.getvalue().count("plan unchanged") == 3
    assert {f.code: f.plan_image.name for f in Floor.objects.all()} == plan_names
    assert "8 demo bags, 8 registered now" in out.getvalue() and "8 demo bags, 0 registered now" in again.getvalue()
    _assert_demo_bags()  # the same bags, not a second set

    # the demo is started again a day later: the old bags are ended (their timelines kept), the tags on new bags
    first = set(InfusionBag.objects.values_list("pk", flat=True))
    InfusionBag.objects.update(created_at=timezone.now() - timedelta(days=1))
    later = io.StringIO()
    call_command("load_demo", stdout=later)
    assert "8 demo bags, 8 registered now" in later.getvalue()
    old = InfusionBag.objects.filter(pk__in=first)
    assert set(old.values_list("status", flat=True)) <= {InfusionBag.Status.COMPLETED, InfusionBag.Status.RETURNED}
    assert all(bag.events.filter(note="demo: bag replaced by a new one").exists() for bag in old)
    with_tags = InfusionBag.objects.filter(tracked_object__tag__isnull=False)
    assert set(with_tags.values_list("pk", flat=True)).isdisjoint(first) and with_tags.count() == 8


def _assert_demo_bags() -> None:
    """Bags for admitted patients on 4W and 2E, tagged and homed at the patient's bed: most infusing with
    progress, one near empty, one per ward at the bedside, not started."""
    S = InfusionBag.Status
    bags = list(InfusionBag.objects.select_related("patient", "ward", "started_by", "tracked_object__tag",
                                                   "tracked_object__home_zone"))
    assert {bag.ward.code for bag in bags if bag.ward} == {"4W", "2E"}
    assert sum(bag.ward.code == "4W" for bag in bags if bag.ward) >= 5
    for bag in bags:
        assert bag.patient.discharged_at is None and bag.ward == bag.patient.ward
        obj = bag.tracked_object
        assert obj.kind == TrackedObject.Kind.BAG and obj.home_zone == bag.patient.bed
        assert obj.tag is not None and obj.tag.tech == Tag.Tech.BLE
    infusing = [bag for bag in bags if bag.status == S.INFUSING]
    waiting = [bag for bag in bags if bag.status == S.AT_BEDSIDE]
    assert len(infusing) == len(bags) - 2 and sorted(bag.ward.code for bag in waiting if bag.ward) == ["2E", "4W"]
    assert all(bag.started_by is not None and bag.started_by.username == "nurse" for bag in infusing)
    now = timezone.now()
    minutes = sorted((bag.volume_ml - bag_infused_ml(bag, now)) / bag.ordered_rate_ml_h * 60 for bag in infusing)
    assert 0 < minutes[0] <= 15 < 60 <= minutes[1]
    assert all(0 < bag_infused_ml(bag, now) < bag.volume_ml for bag in infusing)
    steps = list(BagEvent.objects.filter(bag=infusing[0]).order_by("at", "pk").values_list("action", flat=True))
    assert steps == ["registered", "dispensed", "arrived_ward", "at_bedside", "started"]


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
