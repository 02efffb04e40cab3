"""A new set of areas changes the catalogue's version, so that every process's copy of the
routing rows (which holds the sets: routing.py) takes it in (see catalogue.py)."""

from django.db import migrations

from departments import catalogue

install, remove = catalogue.installer(("departments_areaset",))


class Migration(migrations.Migration):
    dependencies = [("departments", "0007_routingrule_xor_message")]

    operations = [migrations.RunPython(install, remove)]
