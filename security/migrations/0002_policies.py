"""Escalation policies for the infant-protection alerts (docs/security.md; an administrator edits them in the
admin). One policy per kind: its exact pattern is more specific than the generic "security.*" one, and its
min_severity is INFO so it applies at whatever severity the kind is raised.

Who hears first is the alert's audience (security, or nurses for mismatch, loose strap and low battery);
the steps add audiences while nobody has acknowledged. A Code Pink reaches every audience within seconds.
"""

from django.db import migrations

INFO = 10
NURSES, CHARGE, SECURITY, BIOMED, ADMINS = "nurses", "charge_nurses", "security", "biomed", "administrators"


def _steps(*pairs):
    return [{"after_s": after_s, "audience": audience} for after_s, audience in pairs]


POLICIES = [
    # name, kind, steps, audible reminder every s (0: none)
    ("Code Pink", "security.code_pink",
     _steps((0, NURSES), (1, CHARGE), (2, ADMINS), (3, BIOMED)), 30),
    ("Infant band cut", "security.tamper",
     _steps((0, NURSES), (30, CHARGE), (60, ADMINS)), 30),
    ("Infant at an exit", "security.exit_alarm",
     _steps((0, NURSES), (30, CHARGE), (60, ADMINS)), 30),
    ("Infant tag silent", "security.supervision_lost",
     _steps((0, NURSES), (60, CHARGE), (120, ADMINS)), 30),
    ("Infant off the ward", "security.outside_ward",
     _steps((0, NURSES), (60, CHARGE), (180, ADMINS)), 60),
    ("Infant at the lifts", "security.elevator_hold",
     _steps((30, NURSES), (60, CHARGE), (180, ADMINS)), 60),
    ("Mother-infant mismatch", "security.mismatch",
     _steps((30, SECURITY), (60, CHARGE), (180, ADMINS)), 30),
    ("Exit door forced", "security.door_forced",
     _steps((60, CHARGE), (180, ADMINS)), 60),
    ("Infant near an exit", "security.exit_approach",
     _steps((120, CHARGE),), 0),
    ("Infant escort overdue", "security.escort_expired",
     _steps((120, CHARGE), (600, ADMINS)), 0),
    ("Infant band loose", "security.strap_loose",
     _steps((300, CHARGE),), 0),
    ("Door held open", "security.door_held_open",
     _steps((300, CHARGE), (900, ADMINS)), 0),
    ("Door controller offline", "security.door_offline",
     _steps((300, ADMINS),), 0),
    ("Infant tag battery low", "security.low_battery",
     _steps((3600, BIOMED),), 0),
]


def add_policies(apps, schema_editor):
    EscalationPolicy = apps.get_model("alerts", "EscalationPolicy")
    for name, pattern, steps, reminder_every_s in POLICIES:
        EscalationPolicy.objects.get_or_create(
            name=name,
            defaults={"kind_pattern": pattern, "min_severity": INFO, "steps": steps,
                      "reminder_every_s": reminder_every_s, "active": True},
        )


def remove_policies(apps, schema_editor):
    EscalationPolicy = apps.get_model("alerts", "EscalationPolicy")
    EscalationPolicy.objects.filter(name__in=[name for name, *_ in POLICIES]).delete()


class Migration(migrations.Migration):
    dependencies = [("security", "0001_initial"), ("alerts", "0002_default_policies")]
    operations = [migrations.RunPython(add_policies, remove_policies)]
