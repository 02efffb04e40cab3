"""Every area drawn, redrawn or deleted is recorded by the database (reports_areachange),
whoever writes it, for the relocation of the reports around it (reports/services/areas.py).
A later migration that rebuilds departments_boundary on SQLite must make these triggers
again, as it must the catalogue's."""

import django.db.models.functions.datetime
from django.db import migrations, models

from reports.services.areas import AREA_CHANGE_DROP, AREA_CHANGE_TRIGGERS


def install(apps, schema_editor):
    for statement in AREA_CHANGE_TRIGGERS[schema_editor.connection.vendor]:
        schema_editor.execute(statement)


def remove(apps, schema_editor):
    for statement in AREA_CHANGE_DROP[schema_editor.connection.vendor]:
        schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ('departments', '0008_area_sets_in_catalogue'),
        ('reports', '0032_area_sets'),
    ]

    operations = [
        migrations.AlterField(
            model_name='areachange',
            name='created',
            field=models.DateTimeField(db_default=django.db.models.functions.datetime.Now()),
        ),
        migrations.RunPython(install, remove),
    ]
