"""Which escalation policy applies to an alert, and what it plans. Pure except `policy_for`.

A plan is the policy frozen into the alert when it is raised (`Alert.escalation_plan`):
    {"policy": "Infusion", "steps": [{"after_s": 120, "audience": "charge_nurses"}], "reminder_every_s": 60}
Steps count from the alert's raise time; escalation level n means steps[0..n-1] have fired.
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from alerts.audiences import AUDIENCES
from alerts.models import EscalationPolicy

logger = logging.getLogger(__name__)

@dataclass(frozen=True)
class Step:
    after_s: int
    audience: str


@dataclass(frozen=True)
class Plan:
    policy_id: int | None = None
    policy_name: str = ""
    steps: tuple[Step, ...] = ()
    reminder_every_s: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"policy": self.policy_name, "reminder_every_s": self.reminder_every_s,
                "steps": [{"after_s": s.after_s, "audience": s.audience} for s in self.steps]}

    @classmethod
    def from_json(cls, plan: dict[str, Any], policy_id: int | None = None) -> Plan:
        return cls(policy_id=policy_id, policy_name=str(plan.get("policy", "")),
                   steps=steps_parse(plan.get("steps", [])), reminder_every_s=int(plan.get("reminder_every_s", 0)))

    def next_escalation_at(self, raised_at: datetime, level: int) -> datetime | None:
        """When step `level` (0-based) fires, or None when every step has fired."""
        return raised_at + timedelta(seconds=self.steps[level].after_s) if level < len(self.steps) else None

    def first_reminder_at(self, raised_at: datetime) -> datetime | None:
        return raised_at + timedelta(seconds=self.reminder_every_s) if self.reminder_every_s > 0 else None


NO_PLAN = Plan()


@dataclass(frozen=True)
class PolicyRow:
    """The fields of an EscalationPolicy that matching needs (so matching is testable without a DB)."""

    pk: int
    name: str
    kind_pattern: str
    min_severity: int
    steps: Sequence[dict[str, Any]] = field(default_factory=list)
    reminder_every_s: int = 0


def steps_parse(raw: Any) -> tuple[Step, ...]:
    """Validated steps: a list of {"after_s": int >= 0, "audience": known}, strictly later each time."""
    if not isinstance(raw, list):
        raise ValueError("steps must be a list of {after_s, audience}")
    steps: list[Step] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or set(item) - {"after_s", "audience"}:
            raise ValueError(f"step {index}: expected {{after_s, audience}}, got {item!r}")
        after_s, audience = item.get("after_s"), item.get("audience")
        if not isinstance(after_s, int) or isinstance(after_s, bool) or after_s < 0:
            raise ValueError(f"step {index}: after_s must be a whole number of seconds >= 0")
        if audience not in AUDIENCES:
            raise ValueError(f"step {index}: unknown audience {audience!r}; one of {', '.join(AUDIENCES)}")
        if steps and after_s <= steps[-1].after_s:
            raise ValueError(f"step {index}: after_s {after_s} must be later than the step before "
                             f"({steps[-1].after_s})")
        steps.append(Step(after_s=after_s, audience=str(audience)))
    return tuple(steps)


def specificity(pattern: str) -> int:
    """How specific an fnmatch pattern is: its literal characters ("infusion.*" 9, "*" 0)."""
    return sum(1 for char in pattern if char not in "*?[]")


def policy_choose(policies: Iterable[PolicyRow], *, kind: str, severity: int) -> PolicyRow | None:
    """The most specific policy matching kind and severity (ties: higher min_severity, then lower pk)."""
    matching = [p for p in policies if severity >= p.min_severity and fnmatch.fnmatchcase(kind, p.kind_pattern)]
    if not matching:
        return None
    return max(matching, key=lambda p: (specificity(p.kind_pattern), p.min_severity, -p.pk))


def policy_for(*, kind: str, severity: int) -> Plan:
    """The escalation plan for a new alert from the active policies (NO_PLAN when none matches)."""
    rows = [
        PolicyRow(pk=p.pk, name=p.name, kind_pattern=p.kind_pattern, min_severity=p.min_severity, steps=p.steps,
                  reminder_every_s=p.reminder_every_s)
        for p in EscalationPolicy.objects.filter(active=True)
    ]
    chosen = policy_choose(rows, kind=kind, severity=severity)
    if chosen is None:
        return NO_PLAN
    try:
        steps = steps_parse(chosen.steps)
    except ValueError as error:  # a policy edited outside the admin's checks must not stop an alert
        logger.error("escalation policy %s has bad steps (%s); alerts it matches will not escalate", chosen.name, error)
        steps = ()
    return Plan(policy_id=chosen.pk, policy_name=chosen.name, steps=steps, reminder_every_s=chosen.reminder_every_s)
