"""Sensible default escalation policies (an administrator edits them in the admin; see docs/alerts.md)."""

from django.db import migrations

INFO, WARNING, HIGH, CRITICAL = 10, 20, 30, 40

DEFAULTS = [
    # name, kind pattern, min severity, steps, reminder every s
    ("Any alert (fallback)", "*", WARNING, [{"after_s": 900, "audience": "administrators"}], 0),
    ("Any high alert (fallback)", "*", HIGH,
     [{"after_s": 300, "audience": "administrators"}], 120),
    ("Infusion", "infusion.*", WARNING,
     [{"after_s": 180, "audience": "charge_nurses"}, {"after_s": 900, "audience": "administrators"}], 120),
    ("Infusion, high", "infusion.*", HIGH,
     [{"after_s": 60, "audience": "charge_nurses"}, {"after_s": 300, "audience": "administrators"}], 30),
    ("Security", "security.*", WARNING,
     [{"after_s": 60, "audience": "charge_nurses"}, {"after_s": 180, "audience": "administrators"}], 30),
    ("Readers", "readers.*", INFO, [{"after_s": 1800, "audience": "administrators"}], 0),
]


def add_defaults(apps, schema_editor):
    EscalationPolicy = apps.get_model("alerts", "EscalationPolicy")
    for name, pattern, min_severity, steps, reminder_every_s in DEFAULTS:
        EscalationPolicy.objects.get_or_create(
            name=name,
            defaults={"kind_pattern": pattern, "min_severity": min_severity, "steps": steps,
                      "reminder_every_s": reminder_every_s, "active": True},
        )


def remove_defaults(apps, schema_editor):
    EscalationPolicy = apps.get_model("alerts", "EscalationPolicy")
    EscalationPolicy.objects.filter(name__in=[name for name, *_ in DEFAULTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("alerts", "0001_initial")]
    operations = [migrations.RunPython(add_defaults, remove_defaults)]
