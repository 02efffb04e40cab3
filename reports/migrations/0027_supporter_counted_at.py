"""A supporter counts once its address confirms by the emailed link. Those already counted
(when a click alone counted) keep counting: their time is when they were added."""

from django.db import migrations, models
from django.db.models import F


def counted_already(apps, schema_editor) -> None:
    Supporter = apps.get_model("reports", "Supporter")
    Supporter.objects.update(counted_at=F("created"))


class Migration(migrations.Migration):
    dependencies = [("reports", "0026_master_only_for_duplicate")]

    operations = [
        migrations.AddField(
            model_name="supporter",
            name="counted_at",
            field=models.DateTimeField(
                blank=True,
                help_text="Empty until the address confirms by the emailed link.",
                null=True,
            ),
        ),
        migrations.RunPython(counted_already, migrations.RunPython.noop),
    ]
