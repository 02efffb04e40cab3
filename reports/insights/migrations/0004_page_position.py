"""The database function that finds where a deep page of the Open311 list starts, from the
hourly counts of 0003 (PostgreSQL only; see reports/api/positions.py)."""

from django.db import migrations


def install(apps, schema_editor) -> None:
    from reports.api import positions

    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(positions.FUNCTION_SQL)


def uninstall(apps, schema_editor) -> None:
    from reports.api import positions

    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(positions.DROP_SQL)


class Migration(migrations.Migration):
    dependencies = [("insights", "0003_public_hours")]

    operations = [migrations.RunPython(install, uninstall)]
