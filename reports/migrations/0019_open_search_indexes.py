"""Trigram indexes over the open reports alone, by department, for the staff search
(PostgreSQL only).

The queue opens on a department's open reports, so that is where staff search first. With
only the whole table's trigram indexes (0012), a search for a common word read every report
that has it, open or closed, whatever the department: at a million reports 122,000 matches
for "pothole", and the department's open reports besides, to intersect them — most of the
search page's time, and ten times the work of 100,000 reports. These partial indexes hold
the open reports only (under a fifth of a city's history), with the department as a first
column (btree_gin gives GIN the B-tree's equality): a search within departments steps over
the other departments' entries instead of reading them, and a search of every department's
open reports reads the second column alone. "Closed" and "all" keep 0012's indexes.

The department's id must reach PostgreSQL as a bigint (ServiceRequestQuerySet.of_departments
types it so): btree_gin's bigint operator class compares a bigint with a bigint only
(PostgreSQL 15, where this was built; cross-type integer operators for btree_gin were
proposed upstream in 2025).

Built CONCURRENTLY like 0017's (reports.concurrent_indexes), so that adding them to a live
table does not hold up submissions."""

from django.db import migrations

from reports.concurrent_indexes import build_concurrently

INDEXES = {
    "sr_search_open_description": "UPPER(description::text)",
    "sr_search_open_address": "UPPER(address::text)",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    for name, expression in INDEXES.items():
        build_concurrently(
            schema_editor,
            name,
            f"CREATE INDEX CONCURRENTLY {name} ON reports_servicerequest "
            f"USING gin (department_id, ({expression}) gin_trgm_ops) WHERE status = 'open'",
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("reports", "0018_covered_foreign_key_indexes")]

    operations = [migrations.RunPython(create, drop)]
