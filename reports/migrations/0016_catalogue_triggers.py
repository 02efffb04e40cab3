from django.db import migrations

from departments import catalogue
install, remove = catalogue.installer(
    ("reports_service", "reports_serviceattribute", "reports_attributevalue")
)


class Migration(migrations.Migration):
    """Writes to the services and their questions change the catalogue's version."""

    dependencies = [
        ("reports", "0015_created_entry_trigger"),
        ("departments", "0005_catalogue_version"),
    ]

    operations = [migrations.RunPython(install, remove)]
