"""The bus shelter asset type, so that a city can import its shelters at once, and the
permissions department staff need to see the programme (coverage, adoptions, care visits)
and to end an adoption with a reason."""

from django.db import migrations

BUS_SHELTER = {
    "name": "Bus shelter",
    "cadence_days": 30,
    "icon": "bus-shelter",
    "care_instructions": (
        "Once a month: pick up litter in and around the shelter, wipe the bench and the "
        "glass, and empty the bin if it is full (bags go in the nearest public bin). Wear "
        "gloves. Do not touch needles or broken glass, and do not climb on the shelter: "
        "report them with “Report a problem” and the city will come."
    ),
    "checklist": [
        "Picked up litter",
        "Wiped the bench",
        "Cleaned the glass",
        "Emptied the bin",
        "Removed flyers and stickers",
    ],
}
PERMISSIONS = [
    "view_assettype",
    "view_asset",
    "view_adoption",
    "change_adoption",  # ending an adoption with a reason (the admin allows nothing else)
    "view_carelog",
]
GROUP = "Department staff"


def forwards(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    AssetType = apps.get_model("adoptions", "AssetType")
    Service = apps.get_model("reports", "Service")
    if not AssetType.objects.filter(slug="bus-shelter").exists():
        AssetType.objects.create(
            slug="bus-shelter",
            service=Service.objects.filter(service_code="bus-shelter").first(),
            **BUS_SHELTER,
        )
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    sync_group(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


def sync_group(Group, Permission):
    """Give the staff group its adoption permissions; tests call this with the real models."""
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="adoptions", codename__in=PERMISSIONS)
    )
    return group


class Migration(migrations.Migration):
    dependencies = [
        ("adoptions", "0001_initial"),
        ("departments", "0003_staff_group"),
        ("reports", "0004_photo_files"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
