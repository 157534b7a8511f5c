"""Escalation and reminders with a controlled clock (`now` passed in), and how a policy is chosen."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from alerts.models import Alert, EscalationPolicy
from alerts.policies import PolicyRow, policy_choose, specificity, steps_parse
from alerts.services import alert_acknowledge, alert_resolve, alerts_escalate_due
from tests.alerts.conftest import T0, Raise, Sent


def _policy(**fields: object) -> EscalationPolicy:
    defaults: dict[str, object] = {"name": "test", "kind_pattern": "infusion.*", "min_severity": 10,
                                   "steps": [{"after_s": 120, "audience": "charge_nurses"},
                                             {"after_s": 600, "audience": "administrators"}],
                                   "reminder_every_s": 0}
    return EscalationPolicy.objects.create(**(defaults | fields))


@pytest.mark.usefixtures("no_policies")
def test_it_escalates_each_step_exactly_when_it_is_due(raise_alert: Raise, sent: Sent) -> None:
    _policy()
    alert = raise_alert()
    assert alerts_escalate_due(now=T0 + timedelta(seconds=119.9)) == 0
    assert alerts_escalate_due(now=T0 + timedelta(seconds=120)) == 1
    alert.refresh_from_db()
    assert (alert.escalation_level, alert.audiences) == (1, ["nurses", "charge_nurses"])
    assert alert.next_escalation_at == T0 + timedelta(seconds=600)
    assert alerts_escalate_due(now=T0 + timedelta(seconds=599)) == 0
    assert alerts_escalate_due(now=T0 + timedelta(seconds=600)) == 1
    alert.refresh_from_db()
    assert (alert.escalation_level, alert.audiences) == (2, ["nurses", "charge_nurses", "administrators"])
    assert alert.next_escalation_at is None
    assert alerts_escalate_due(now=T0 + timedelta(hours=5)) == 0
    escalations = alert.timeline.filter(action="escalated")
    assert [(e.audience, e.at) for e in escalations] == [("charge_nurses", T0 + timedelta(seconds=120)),
                                                        ("administrators", T0 + timedelta(seconds=600))]
    escalated = [(groups, m) for groups, m in sent.calls if m["action"] == "escalated"]
    assert escalated[0][0] == ["alerts.charge_nurses", "alerts.charge_nurses.nowhere", "alerts.nurses",
                               "alerts.nurses.nowhere"]  # the new audience and those already told
    assert all(m["sound"] for _, m in escalated)


@pytest.mark.usefixtures("no_policies")
def test_it_fires_every_overdue_step_after_the_runner_was_stopped(raise_alert: Raise) -> None:
    _policy()
    alert = raise_alert()
    assert alerts_escalate_due(now=T0 + timedelta(hours=1)) == 1
    alert.refresh_from_db()
    assert alert.escalation_level == 2 and alert.timeline.filter(action="escalated").count() == 2


@pytest.mark.usefixtures("no_policies")
def test_an_acknowledged_or_resolved_alert_never_escalates(raise_alert: Raise, nurse: User) -> None:
    _policy(reminder_every_s=30)
    acknowledged = raise_alert(key="a")
    resolved = raise_alert(key="b")
    alert_acknowledge(alert_id=acknowledged.pk, user=nurse, at=T0 + timedelta(seconds=100))
    alert_resolve(alert_id=resolved.pk, user=nurse, at=T0 + timedelta(seconds=100))
    assert alerts_escalate_due(now=T0 + timedelta(hours=1)) == 0
    assert not Alert.objects.filter(escalation_level__gt=0).exists()


@pytest.mark.usefixtures("no_policies")
def test_it_reminds_with_sound_every_period_until_acknowledged(raise_alert: Raise, nurse: User, sent: Sent) -> None:
    _policy(steps=[], reminder_every_s=30)
    alert = raise_alert(severity=Alert.Severity.WARNING)
    assert alerts_escalate_due(now=T0 + timedelta(seconds=29)) == 0
    assert alerts_escalate_due(now=T0 + timedelta(seconds=30)) == 1
    assert alerts_escalate_due(now=T0 + timedelta(seconds=45)) == 0
    assert alerts_escalate_due(now=T0 + timedelta(seconds=60)) == 1
    alert_acknowledge(alert_id=alert.pk, user=nurse, at=T0 + timedelta(seconds=61))
    assert alerts_escalate_due(now=T0 + timedelta(seconds=90)) == 0
    reminders = [m for m in sent.messages if m["type"] == "reminder"]
    assert len(reminders) == 2 and all(m["sound"] and m["action"] == "reminded" for m in reminders)
    assert alert.timeline.filter(action="reminded").count() == 2


@pytest.mark.usefixtures("no_policies")
def test_missed_reminders_are_not_replayed_in_a_burst(raise_alert: Raise) -> None:
    _policy(steps=[], reminder_every_s=30)
    alert = raise_alert()
    assert alerts_escalate_due(now=T0 + timedelta(seconds=100)) == 1
    alert.refresh_from_db()
    assert alert.next_reminder_at == T0 + timedelta(seconds=120)
    assert alert.timeline.filter(action="reminded").count() == 1


@pytest.mark.usefixtures("no_policies")
def test_an_alert_no_policy_matches_never_escalates(raise_alert: Raise) -> None:
    alert = raise_alert(kind="assets.missing")
    assert alert.escalation_plan == {"policy": "", "reminder_every_s": 0, "steps": []}
    assert alert.next_escalation_at is None and alert.next_reminder_at is None


@pytest.mark.usefixtures("no_policies")
def test_a_policy_edited_later_does_not_change_an_alert_already_raised(raise_alert: Raise) -> None:
    policy = _policy()
    alert = raise_alert()
    policy.steps = [{"after_s": 5, "audience": "security"}]
    policy.save()
    alerts_escalate_due(now=T0 + timedelta(seconds=130))
    alert.refresh_from_db()
    assert alert.audiences == ["nurses", "charge_nurses"]


@pytest.mark.usefixtures("no_policies")
def test_a_broken_policy_does_not_stop_the_alert(raise_alert: Raise) -> None:
    _policy(steps=[{"after_s": "soon", "audience": "charge_nurses"}], reminder_every_s=60)
    alert = raise_alert()
    assert alert.pk is not None and alert.next_escalation_at is None
    assert alert.next_reminder_at == T0 + timedelta(seconds=60)


ROWS = [
    PolicyRow(pk=1, name="any", kind_pattern="*", min_severity=10),
    PolicyRow(pk=2, name="any high", kind_pattern="*", min_severity=30),
    PolicyRow(pk=3, name="infusion", kind_pattern="infusion.*", min_severity=20),
    PolicyRow(pk=4, name="infusion high", kind_pattern="infusion.*", min_severity=30),
    PolicyRow(pk=5, name="wrong patient", kind_pattern="infusion.wrong_patient", min_severity=10),
    PolicyRow(pk=6, name="infusion twin", kind_pattern="infusion.*", min_severity=30),
]


@pytest.mark.parametrize(("kind", "severity", "expected"), [
    ("infusion.wrong_patient", 10, "wrong patient"),   # the exact kind beats every wildcard
    ("infusion.wrong_patient", 40, "wrong patient"),
    ("infusion.near_empty", 20, "infusion"),            # the longer literal part beats "*"
    ("infusion.near_empty", 30, "infusion high"),       # same pattern: the higher min_severity; tie: older pk
    ("infusion.near_empty", 10, "any"),                 # below infusion's minimum: the fallback
    ("security.code_pink", 40, "any high"),
    ("security.code_pink", 20, "any"),
])
def test_it_chooses_the_most_specific_matching_policy(kind: str, severity: int, expected: str) -> None:
    chosen = policy_choose(ROWS, kind=kind, severity=severity)
    assert chosen is not None and chosen.name == expected


def test_no_policy_matches_when_none_fits() -> None:
    assert policy_choose(ROWS[2:5], kind="readers.offline", severity=40) is None
    assert (specificity("*"), specificity("infusion.*"), specificity("a?c")) == (0, 9, 2)


@pytest.mark.parametrize(("steps", "error"), [
    ("later", "must be a list"),
    ([{"after_s": 10}], "unknown audience"),
    ([{"after_s": -1, "audience": "nurses"}], ">= 0"),
    ([{"after_s": 1.5, "audience": "nurses"}], "whole number"),
    ([{"after_s": True, "audience": "nurses"}], "whole number"),
    ([{"after_s": 60, "audience": "nurses"}, {"after_s": 60, "audience": "security"}], "later than"),
    ([{"after_s": 60, "audience": "nurses", "page": 1}], "expected"),
])
def test_it_refuses_malformed_steps(steps: object, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        steps_parse(steps)


@pytest.mark.django_db
def test_the_admin_form_refuses_malformed_steps() -> None:
    policy = EscalationPolicy(name="bad", kind_pattern="*", steps=[{"after_s": 1, "audience": "janitors"}])
    with pytest.raises(ValidationError, match="unknown audience"):
        policy.full_clean()


@pytest.mark.django_db
def test_the_default_policies_are_seeded_and_valid() -> None:
    policies = list(EscalationPolicy.objects.all())
    assert {p.kind_pattern for p in policies} >= {"*", "infusion.*", "security.*", "readers.*"}
    for policy in policies:
        policy.full_clean()
