"""Every report keeps the set of areas its point lies in (departments.AreaSet), so that a
filter by any area finds exactly the reports inside it (a district crossed by a
neighbourhood's line, a service area along a greenway). The sets of the reports already
filed are found here from their points, a few thousand reports per transaction."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from reports.services.areas import relocate


def locate_reports(apps, schema_editor):
    relocate(
        apps.get_model("reports", "ServiceRequest").objects.all(),
        boundaries=apps.get_model("departments", "Boundary").objects.all(),
        area_sets=apps.get_model("departments", "AreaSet"),
    )


def analyze(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ANALYZE reports_servicerequest")


class Migration(migrations.Migration):

    dependencies = [
        ('departments', '0006_area_sets'),
        ('reports', '0031_outbox_reports_shown'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AreaChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('area_id', models.BigIntegerField()),
                ('created', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'ordering': ['pk'],
            },
        ),
        migrations.RemoveIndex(
            model_name='servicerequest',
            name='sr_area_status_requested',
        ),
        migrations.AddField(
            model_name='servicerequest',
            name='area_set',
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='departments.areaset'),
        ),
        migrations.AddIndex(
            model_name='servicerequest',
            index=models.Index(condition=models.Q(('hidden', False)), fields=['area_set', 'status', 'requested_datetime'], include=('published_at',), name='sr_area_set_status_requested'),
        ),
        migrations.AddIndex(
            model_name='servicerequest',
            index=models.Index(condition=models.Q(('hidden', False), ('status', 'closed')), fields=['area_set', 'closed_datetime'], include=('published_at',), name='sr_area_set_closed'),
        ),
        # One way: the summaries and their triggers (insights 0009) read the new column.
        migrations.RunPython(locate_reports),
        # Every row changed: the planner's statistics are made again (PostgreSQL).
        migrations.RunPython(analyze),
    ]
