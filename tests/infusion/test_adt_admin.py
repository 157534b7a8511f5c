"""The ADT feed's log in the admin: administrators read it; nobody edits or adds messages by hand."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from infusion.models import AdtMessage


@pytest.mark.django_db
def test_it_lists_adt_messages_read_only_for_the_administrator(administrator: User) -> None:
    message = AdtMessage.objects.create(control_id="CTRL-77", event="A02", received_at=timezone.now(), mrn="RGH1",
                                        outcome=AdtMessage.Outcome.REJECTED, ack_code="AE", error="unknown bed 9Z",
                                        raw="MSH|^~\\&|...")
    client = Client()
    client.force_login(administrator)
    listing = client.get("/admin/infusion/adtmessage/?outcome=rejected")
    assert listing.status_code == 200 and b"CTRL-77" in listing.content
    assert client.get("/admin/infusion/adtmessage/add/").status_code == 403
    detail = client.get(f"/admin/infusion/adtmessage/{message.pk}/change/")
    assert detail.status_code == 200 and b"unknown bed 9Z" in detail.content
    assert client.post(f"/admin/infusion/adtmessage/{message.pk}/change/", {"mrn": "X"}).status_code == 403
    message.refresh_from_db()
    assert message.mrn == "RGH1"
