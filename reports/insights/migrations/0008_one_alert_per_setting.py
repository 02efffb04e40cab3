"""One live area alert per address and setting.

Signing up twice for the same alert made two, and every report was emailed twice. Before
the constraint holds to one, the extra copies are cancelled: the oldest confirmed alert of
each setting stays (the oldest of all if none is confirmed), so nobody who gets the emails
stops getting them, and each report now comes once."""

import django.db.models.functions.comparison
from django.db import migrations, models
from django.utils import timezone


def cancel_duplicates(apps, schema_editor):
    AreaAlert = apps.get_model("insights", "AreaAlert")
    fields = ("email", "frequency", "area_id", "lat", "long", "radius_m", "service_id")
    kept: set[tuple] = set()
    extra: list[int] = []
    live = AreaAlert.objects.filter(cancelled__isnull=True).values("pk", "confirmed", *fields)
    # Confirmed ones first, then oldest first: the first of each setting is kept.
    for row in sorted(live, key=lambda r: (r["confirmed"] is None, r["pk"])):
        key = tuple(row[name] for name in fields)
        if key in kept:
            extra.append(row["pk"])
        else:
            kept.add(key)
    if extra:
        AreaAlert.objects.filter(pk__in=extra).update(cancelled=timezone.now())


class Migration(migrations.Migration):

    dependencies = [
        ('departments', '0005_catalogue_version'),
        ('insights', '0007_page_position_nearer_end'),
        ('reports', '0030_service_sla_hours_max'),
    ]

    operations = [
        migrations.RunPython(cancel_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='areaalert',
            constraint=models.UniqueConstraint(models.F('email'), models.F('frequency'), django.db.models.functions.comparison.Coalesce('area', -1, output_field=models.BigIntegerField()), django.db.models.functions.comparison.Coalesce('lat', 999.0, output_field=models.FloatField()), django.db.models.functions.comparison.Coalesce('long', 999.0, output_field=models.FloatField()), django.db.models.functions.comparison.Coalesce('radius_m', -1, output_field=models.BigIntegerField()), django.db.models.functions.comparison.Coalesce('service', -1, output_field=models.BigIntegerField()), condition=models.Q(('cancelled__isnull', True)), name='areaalert_one_per_setting'),
        ),
    ]
