"""A category's target time is at most five years.

On SQLite, adding (or removing) a CHECK rebuilds the table, and a rebuilt table loses its
triggers (the catalogue's version, the Open311 documents'): they are read before the
rebuild and made again after it, as they were."""

import django.core.validators
from django.db import migrations, models

TABLE = "reports_service"
_kept: list[tuple[str, str]] = []


def cap_target_times(apps, schema_editor):
    """A target time past the limit (a typo: every new report of its category failed) is
    cut to the limit, which the constraint then holds to."""
    Service = apps.get_model("reports", "Service")
    Service.objects.filter(sla_hours__gt=43920).update(sla_hours=43920)


def keep_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                [TABLE],
            )
            _kept[:] = cursor.fetchall()


def make_triggers_again(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for name, sql in _kept:
            schema_editor.execute(f'DROP TRIGGER IF EXISTS "{name}"')
            schema_editor.execute(sql)


class Migration(migrations.Migration):

    dependencies = [
        ('departments', '0005_catalogue_version'),
        ('reports', '0029_api_idempotency_keys'),
    ]

    operations = [
        migrations.AlterField(
            model_name='service',
            name='sla_hours',
            field=models.PositiveIntegerField(blank=True, help_text='How long the city aims to take to close a report of this kind (at most 43,920 hours, five years).', null=True, validators=[django.core.validators.MaxValueValidator(43920)], verbose_name='target time (hours)'),
        ),
        migrations.RunPython(cap_target_times, migrations.RunPython.noop),
        migrations.RunPython(keep_triggers, make_triggers_again),
        migrations.AddConstraint(
            model_name='service',
            constraint=models.CheckConstraint(condition=models.Q(('sla_hours__lte', 43920)), name='service_sla_hours_max'),
        ),
        migrations.RunPython(make_triggers_again, keep_triggers),
    ]
