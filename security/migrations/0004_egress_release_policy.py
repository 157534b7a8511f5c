"""The escalation policy of the delayed-egress release alert (security.door_egress_released, migration 0003's
door controllers): a protected exit unlocked by a sustained push is a security event, so the charge nurse
hears of it within a minute and administrators within three if nobody has acknowledged it."""

from django.db import migrations

INFO = 10
POLICY = ("Exit released by a push", "security.door_egress_released",
          [{"after_s": 60, "audience": "charge_nurses"}, {"after_s": 180, "audience": "administrators"}], 60)


def add_policy(apps, schema_editor):
    EscalationPolicy = apps.get_model("alerts", "EscalationPolicy")
    name, pattern, steps, reminder_every_s = POLICY
    EscalationPolicy.objects.get_or_create(
        name=name,
        defaults={"kind_pattern": pattern, "min_severity": INFO, "steps": steps,
                  "reminder_every_s": reminder_every_s, "active": True},
    )


def remove_policy(apps, schema_editor):
    apps.get_model("alerts", "EscalationPolicy").objects.filter(name=POLICY[0]).delete()


class Migration(migrations.Migration):
    dependencies = [("security", "0003_doorcontroller_held_open_s"), ("security", "0002_policies")]
    operations = [migrations.RunPython(add_policy, remove_policy)]
