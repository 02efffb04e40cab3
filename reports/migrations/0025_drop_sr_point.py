"""The reports' point index over all reports (sr_point) goes: sr_public_point answers the
same boxes for the public reports, and every box the code asks for is of public reports
(nearby reports, alerts, the map, the lists, the radius search).

Checked before dropping it: of the 87 different statements with a box that the test suite
runs on SQLite, none used sr_point (55 read sr_public_point); on PostgreSQL at a million
reports one of 41 did (the nearby reports of the report form), and without it read
sr_public_point in the same time (0.86 against 0.87 ms). The bench's PostgreSQL statistics
showed no scan of it at all. It held 30 MB at a million reports, written by every filing.
On PostgreSQL it is dropped (and made again on the way back) CONCURRENTLY."""

from django.db import migrations, models

from reports.concurrent_indexes import build_concurrently

POINT = models.Index(fields=["lat", "long"], name="sr_point")


def forwards(apps, schema_editor):
    concurrently = " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f"DROP INDEX{concurrently} IF EXISTS {POINT.name}")


def backwards(apps, schema_editor):
    model = apps.get_model("reports", "ServiceRequest")
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.add_index(model, POINT)
        return
    sql = str(POINT.create_sql(model, schema_editor, concurrently=True))
    build_concurrently(schema_editor, POINT.name, sql)


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("reports", "0024_circle_page")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forwards, backwards)],
            state_operations=[migrations.RemoveIndex(model_name="servicerequest", name="sr_point")],
        )
    ]
