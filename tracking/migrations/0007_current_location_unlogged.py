"""Current locations in an UNLOGGED table: see CurrentLocation's docstring and current_locations_restore."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("tracking", "0006_method_smoothed"),
    ]

    operations = [
        migrations.RunSQL("ALTER TABLE tracking_currentlocation SET UNLOGGED",
                          reverse_sql="ALTER TABLE tracking_currentlocation SET LOGGED"),
    ]
