"""The daily summaries keyed by each report's set of areas too (departments.AreaSet, filled
by reports 0032), so that the dashboard's figures for an area count every report inside it.
The two daily tables and the indexes that include the area are made again, and recounted
from the reports (PostgreSQL only; see reports/insights/rollups.py)."""

from django.db import migrations

TABLES = ("insights_received_day", "insights_closed_day")
INDEXES = ("insights_sr_closed_department", "insights_sr_closed_service", "insights_sr_open")


def install(apps, schema_editor) -> None:
    from reports.insights import rollups

    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name in INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")
        for table in TABLES:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
    rollups.install()


class Migration(migrations.Migration):
    # Not one transaction: install() builds the indexes CONCURRENTLY (rollups.py).
    atomic = False

    dependencies = [
        ("insights", "0008_one_alert_per_setting"),
        ("reports", "0032_area_sets"),
    ]

    # One way: the earlier tables, triggers and indexes are not kept to go back to.
    operations = [migrations.RunPython(install)]
