# One history row per tag and instant: the writer inserts with ON CONFLICT DO NOTHING against this index, so
# writing a batch again (a retry after a lost commit acknowledgement, a worker failover) adds nothing.
# It replaces the plain (tag_id, seen_at DESC) index of 0002, which served the same trail queries.

from django.db import migrations

FORWARD_SQL = """
DELETE FROM tracking_locationhistory a USING tracking_locationhistory b
    WHERE a.tag_id = b.tag_id AND a.seen_at = b.seen_at AND a.id > b.id;
DROP INDEX tracking_lochist_tag_seen;
CREATE UNIQUE INDEX tracking_lochist_tag_seen ON tracking_locationhistory (tag_id, seen_at DESC);
"""

REVERSE_SQL = """
DROP INDEX tracking_lochist_tag_seen;
CREATE INDEX tracking_lochist_tag_seen ON tracking_locationhistory (tag_id, seen_at DESC);
"""


class Migration(migrations.Migration):

    dependencies = [
        ("tracking", "0002_locations"),
    ]

    operations = [
        migrations.RunSQL(FORWARD_SQL, reverse_sql=REVERSE_SQL),
    ]
