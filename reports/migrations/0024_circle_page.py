"""The database function that reads the first page of a radius search without reading every
report of the circle's cells (PostgreSQL only; see reports/api/circles.py)."""

from django.db import migrations


def install(apps, schema_editor) -> None:
    from reports.api import circles

    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(circles.FUNCTION_SQL)


def uninstall(apps, schema_editor) -> None:
    from reports.api import circles

    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(circles.DROP_SQL)


class Migration(migrations.Migration):
    dependencies = [("reports", "0023_sparse_key_indexes")]

    operations = [migrations.RunPython(install, uninstall)]
