"""Two categories' codes may not differ only in capitals (POTHOLE and pothole): apps treat a
code as an identifier.

The codes are checked first: where two differ only in capitals the migration stops, naming
them, and changes nothing. Renaming one would break the apps that file reports with it, so
the city chooses which to change (in the admin), then migrates again. On SQLite the
constraint is a unique index, which keeps the table (and its triggers) as it is."""

import django.db.models.functions.text
from django.db import migrations, models


def refuse_codes_differing_in_capitals(apps, schema_editor):
    Service = apps.get_model("reports", "Service")
    seen: dict[str, list[str]] = {}
    for code in Service.objects.order_by("service_code").values_list("service_code", flat=True):
        seen.setdefault(code.lower(), []).append(code)
    clashes = [codes for codes in seen.values() if len(codes) > 1]
    if clashes:
        listed = "; ".join(", ".join(codes) for codes in clashes)
        raise RuntimeError(
            "These categories' codes differ only in capitals, which apps treat as one code: "
            f"{listed}. Change all but one of each (in the admin, Reports › Services), then run "
            "migrate again."
        )


class Migration(migrations.Migration):

    dependencies = [
        ("reports", "0033_area_change_triggers"),
    ]

    operations = [
        migrations.RunPython(refuse_codes_differing_in_capitals, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="service",
            name="service_code",
            field=models.SlugField(
                help_text="The category's identifier in the API; unique, capitals ignored.",
                max_length=64,
                unique=True,
            ),
        ),
        migrations.AddConstraint(
            model_name="service",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("service_code"),
                name="service_code_unique_ignoring_case",
                violation_error_message="Another category has this code, in other capitals.",
            ),
        ),
    ]
