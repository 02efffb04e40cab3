"""The page position's function as positions.py writes it now: within the page's hour it
counts from whichever end of the hour is nearer (PostgreSQL only; see
reports/api/positions.py)."""

from django.db import migrations


def install(apps, schema_editor) -> None:
    from reports.api import positions

    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(positions.FUNCTION_SQL)


class Migration(migrations.Migration):
    dependencies = [("insights", "0006_public_weeks")]

    # The way back keeps this function: it reads the same tables as 0006's and gives the
    # same positions.
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
