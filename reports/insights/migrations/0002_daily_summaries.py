"""The dashboard's daily summary tables, their triggers and the indexes their readers use
(PostgreSQL only; see reports/insights/rollups.py). Filled from the reports already there."""

from django.db import migrations


def install(apps, schema_editor) -> None:
    from reports.insights import rollups

    if schema_editor.connection.vendor == "postgresql":
        rollups.install()


def uninstall(apps, schema_editor) -> None:
    from reports.insights import rollups

    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            for statement in rollups.uninstall_sql():
                cursor.execute(statement)


class Migration(migrations.Migration):
    # Not one transaction: the indexes on the reports are built CONCURRENTLY (rollups.py).
    atomic = False

    dependencies = [
        ("insights", "0001_area_alerts"),
        ("reports", "0012_search_indexes"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
