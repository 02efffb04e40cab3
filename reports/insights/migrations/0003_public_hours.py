"""The reports not hidden per hour requested (insights_public_hour), kept by the summaries'
triggers, with which the Open311 list finds where a deep page starts (PostgreSQL only; see
reports/insights/rollups.py and reports/api/positions.py). Filled from the reports already
there, with the other summaries, which are recounted with it."""

from django.conf import settings
from django.db import migrations


def install(apps, schema_editor) -> None:
    from reports.insights import rollups

    if schema_editor.connection.vendor == "postgresql":
        rollups.install()


def uninstall(apps, schema_editor) -> None:
    """The triggers of 0002 again (the ones that keep no public counts), and the tables
    gone."""
    from reports.insights import rollups

    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for statement in rollups.trigger_functions_sql(settings.TIME_ZONE, ()):
            cursor.execute(statement)


class Migration(migrations.Migration):
    # Not one transaction: install() builds indexes CONCURRENTLY where they are missing.
    atomic = False

    dependencies = [("insights", "0002_daily_summaries")]

    operations = [migrations.RunPython(install, uninstall)]
