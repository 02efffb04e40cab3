"""The public reports counted by hour and by week on SQLite, kept by row triggers, with
which the Open311 list finds where a deep page starts (SQLite only: PostgreSQL's counts are
0003's; see reports/insights/hours.py). Filled from the reports already there."""

from django.db import migrations


def install(apps, schema_editor) -> None:
    from reports.insights import hours

    if schema_editor.connection.vendor == "sqlite":
        with schema_editor.connection.cursor() as cursor:
            hours.install(cursor)


def uninstall(apps, schema_editor) -> None:
    from reports.insights import hours

    if schema_editor.connection.vendor == "sqlite":
        with schema_editor.connection.cursor() as cursor:
            hours.remove(cursor)


class Migration(migrations.Migration):
    dependencies = [("insights", "0004_page_position"), ("reports", "0023_sparse_key_indexes")]

    operations = [migrations.RunPython(install, uninstall)]
