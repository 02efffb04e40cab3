"""The "Department staff" group: the Django model permissions every department staff user
needs. Which rows they may change (their own department's) is decided per object in the
admin (departments/permissions.py); this group only opens the doors."""

from django.db import migrations

GROUP = "Department staff"
PERMISSIONS = {
    "departments": ["view_department", "view_boundary", "view_routingrule", "view_staffmembership"],
    "reports": [
        "view_service",
        "change_service",  # managers: their categories' SLA (object-level check in the admin)
        "view_servicerequest",
        "change_servicerequest",  # triage of their own department's reports
        "view_photo",
        "view_requestupdate",
        "view_responsetemplate",
        "add_responsetemplate",  # managers only, checked in the admin
        "change_responsetemplate",
        "delete_responsetemplate",
    ],
}


def create_group(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations ran; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    sync_group(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


def sync_group(Group, Permission):
    """Make the group and give it its permissions; tests call this too, with the real models,
    after a transactional test has flushed the database."""
    group, _ = Group.objects.get_or_create(name=GROUP)
    for app_label, codenames in PERMISSIONS.items():
        perms = Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        assert perms.count() == len(codenames), (app_label, codenames)
        group.permissions.add(*perms)
    return group


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("departments", "0002_initial"),
        ("reports", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
