"""A GiST index for the radius search (PostgreSQL only).

The search bounds the circle by a box and keeps the reports of the time window. A B-tree on
(lat, long) reads the whole latitude band of the box, every longitude and every date: at a
million reports about a thousand index pages for a 500 m circle. This index is searched by
the box and the window together (btree_gist gives GiST its timestamp operators), and holds
what the search filters on, so the page's ids come from it alone. btree_gist, like pg_trgm,
is a trusted extension: the database owner may create it. SQLite keeps its B-tree.

Built CONCURRENTLY (outside a transaction), so that adding it to a live table of a million
reports does not hold up submissions while it builds; a build that failed half-way leaves an
invalid index, which the next run of this migration drops and builds again."""

from django.db import migrations

from reports.concurrent_indexes import build_concurrently

NAME = "sr_public_near"
DEFINITION = (
    f"CREATE INDEX CONCURRENTLY {NAME} ON reports_servicerequest "
    "USING gist (point(long, lat), requested_datetime) "
    "INCLUDE (lat, long, published_at, id, status) WHERE NOT hidden"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    build_concurrently(schema_editor, NAME, DEFINITION)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("reports", "0016_catalogue_triggers")]

    operations = [migrations.RunPython(create, drop)]
