from django.db import migrations


def forwards(apps, schema_editor):
    """The search matches street names by trigrams and then finds an address by the start
    of its text: the addresses' trigram index gives way to a prefix index (PostgreSQL only;
    SQLite searches with LIKE)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS places_addresspoint_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS places_addresspoint_prefix ON places_addresspoint "
        "(search_text varchar_pattern_ops)"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS places_addresspoint_prefix")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS places_addresspoint_trgm ON places_addresspoint "
        "USING gin (search_text gin_trgm_ops)"
    )


class Migration(migrations.Migration):
    dependencies = [("places", "0001_gazetteer")]

    operations = [migrations.RunPython(forwards, backwards)]
