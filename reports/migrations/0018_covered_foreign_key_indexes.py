"""The report's service and department lose their own indexes: sr_service_requested and
sr_queue begin with them, so lookups and PROTECT checks use those, and each report has one
index fewer to write (two fewer to build after a bulk load).

The indexes are dropped by name rather than by AlterField, which on SQLite rebuilds the
table, and a rebuilt table loses the triggers of reports/document_triggers.py."""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = {
    "reports_servicerequest_service_id_0e815d04": "service_id",
    "reports_servicerequest_department_id_b47c4583": "department_id",
}


class Migration(migrations.Migration):
    dependencies = [
        ("departments", "0005_catalogue_version"),
        ("reports", "0017_radius_gist"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="servicerequest",
                    name="department",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="requests",
                        to="departments.department",
                        verbose_name="routed to",
                    ),
                ),
                migrations.AlterField(
                    model_name="servicerequest",
                    name="service",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="requests",
                        to="reports.service",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {name}",
                    f"CREATE INDEX {name} ON reports_servicerequest ({column})",
                )
                for name, column in INDEXES.items()
            ],
        )
    ]
