"""Trigram indexes for the staff search (PostgreSQL only).

The admin searches reports with `icontains` on the description and the address, which
PostgreSQL runs as UPPER(column) LIKE UPPER('%term%'): a GIN trigram index on exactly those
expressions answers it without reading the table. pg_trgm is a trusted extension, so the
database owner may create it. SQLite has no such index and scans (fine at its sizes)."""

from django.db import migrations

INDEXES = {
    "sr_search_description": "UPPER(description::text)",
    "sr_search_address": "UPPER(address::text)",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON reports_servicerequest "
            f"USING gin (({expression}) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("reports", "0011_list_indexes")]

    operations = [migrations.RunPython(create, drop)]
