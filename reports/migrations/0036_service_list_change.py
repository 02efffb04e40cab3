"""When the categories last changed, recorded by the database (reports/service_list_changes.py)
for the open-data catalogue's `modified`. A later migration that rebuilds one of the three
tables on SQLite must make these triggers again, as it must the catalogue's version's.

No earlier change was recorded anywhere complete (the admin's history misses commands and
data migrations), so the existing categories are dated to this migration: at most one
harvest more on the day it runs, never a change a harvester is told did not happen."""

from django.db import migrations, models
from django.utils import timezone

from reports.service_list_changes import drop_statements, trigger_statements


def first_row(apps, schema_editor):
    apps.get_model("reports", "ServiceListChange").objects.create(id=1, changed_at=timezone.now())


def install(apps, schema_editor):
    for statement in trigger_statements(schema_editor.connection.vendor):
        schema_editor.execute(statement)


def remove(apps, schema_editor):
    for statement in drop_statements(schema_editor.connection.vendor):
        schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ('reports', '0035_serviceattribute_active'),
    ]

    operations = [
        migrations.CreateModel(
            name='ServiceListChange',
            fields=[
                ('id', models.PositiveSmallIntegerField(default=1, editable=False, primary_key=True, serialize=False)),
                ('changed_at', models.DateTimeField()),
            ],
        ),
        migrations.RunPython(first_row, migrations.RunPython.noop),
        migrations.RunPython(install, remove),
    ]
