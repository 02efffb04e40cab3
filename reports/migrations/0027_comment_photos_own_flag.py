"""A comment's photos keep their own hidden flag: hiding a comment no longer copies its
state into them (a photo is public only while its comment is too). Photos that only carry
their comment's hiding (the same reason, copied then) are given their own flag back."""

from django.db import migrations
from django.db.models import F


def unflag(apps, schema_editor) -> None:
    Photo = apps.get_model("reports", "Photo")
    copied = Photo.objects.filter(
        hidden=True, comment__hidden=True, hidden_reason=F("comment__hidden_reason")
    )
    Photo.objects.filter(pk__in=list(copied.values_list("pk", flat=True))).update(
        hidden=False, hidden_reason=""
    )


class Migration(migrations.Migration):
    dependencies = [("reports", "0026_master_only_for_duplicate")]

    operations = [migrations.RunPython(unflag, migrations.RunPython.noop)]
