"""A process's copy of the rows every submission reads (the catalogue: departments, areas,
routing rules, services and their questions), kept while the database's catalogue version
stands.

Why: filing a report read them with four queries (the service, its questions, the rules
that may route it, the areas around the point), about a third of a submission's time in
ORM work. Now a submission reads one number, the version, and uses the copy it has.

The version is a random number in a one-row table (CatalogueVersion). Database triggers,
installed by migrations for PostgreSQL and SQLite, replace it on any write to a catalogue
table, whatever made the write (the admin, a queryset update, a data migration, a fixture,
TRUNCATE), so the copy is never older than the version it is kept under: the version is
read first, the rows after it. Random rather than counted: a change rolled back leaves the
version it replaced, and a number a rolled-back change once wrote is never seen again.

Apps register what they keep (`register`): departments the routing rows, reports its
services. What `current` returns is shared by every request of the process: read it, never
change it (callers copy the model instances they hand on).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from django.db import connection

# Writes to these tables change the version (reports adds its own in its migrations).
TABLES = ("departments_department", "departments_boundary", "departments_routingrule")
VERSION_TABLE = "departments_catalogueversion"

_loaders: dict[str, Callable[[], Any]] = {}
_kept: tuple[int, dict[str, Any]] | None = None


def register(name: str, loader: Callable[[], Any]) -> None:
    """`loader` reads one part of the catalogue (with as many queries as it needs)."""
    _loaders[name] = loader


def current(name: str) -> Any:
    """The part `name` as of the database's catalogue version now (one query)."""
    global _kept
    version = read_version()
    kept = _kept
    if kept is None or kept[0] != version:
        kept = (version, {})
        _kept = kept
    parts = kept[1]
    if name not in parts:
        parts[name] = _loaders[name]()
    return parts[name]


def forget() -> None:
    """Drop the copy (the next `current` reads the rows again)."""
    global _kept
    _kept = None


def read_version() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT version FROM {VERSION_TABLE} WHERE id = 1")
        row = cursor.fetchone()
        if row is not None:
            return int(row[0])
        # The row is gone (a test database flushed, say): a new random version.
        version = secrets.randbits(62)
        conflict = "ON CONFLICT (id) DO NOTHING" if connection.vendor == "postgresql" else ""
        ignore = "OR IGNORE " if connection.vendor == "sqlite" else ""
        cursor.execute(
            f"INSERT {ignore}INTO {VERSION_TABLE} (id, version) VALUES (1, %s) {conflict}",
            [version],
        )
        cursor.execute(f"SELECT version FROM {VERSION_TABLE} WHERE id = 1")
        return int(cursor.fetchone()[0])


# --- triggers ------------------------------------------------------------------------------

# PostgreSQL's random() gives 52 random bits of a double; SQLite's random() 64 bits. The
# row is written whether or not it is there: with it gone (a flushed database), a reader
# that made a new one meanwhile waits for this write and keeps its number, not its own.
PG_FUNCTION = f"""
    CREATE OR REPLACE FUNCTION catalogue_version_bump() RETURNS trigger AS $$
    BEGIN
        INSERT INTO {VERSION_TABLE} (id, version)
        VALUES (1, floor(random() * 4503599627370496)::bigint)
        ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version;
        RETURN NULL;
    END $$ LANGUAGE plpgsql
"""
SQLITE_BUMP = f"INSERT OR REPLACE INTO {VERSION_TABLE} (id, version) VALUES (1, abs(random() / 2));"


def trigger_statements(vendor: str, tables: tuple[str, ...]) -> list[str]:
    """The statements that make writes to `tables` change the version."""
    if vendor == "postgresql":
        return [PG_FUNCTION] + [
            f"CREATE TRIGGER {table}_catalogue AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION catalogue_version_bump()"
            for table in tables
        ]
    if vendor == "sqlite":
        return [
            f"CREATE TRIGGER {table}_catalogue_{event.lower()} AFTER {event} ON {table} "
            f"BEGIN {SQLITE_BUMP} END"
            for table in tables
            for event in ("INSERT", "UPDATE", "DELETE")
        ]
    raise NotImplementedError(f"The catalogue's version needs PostgreSQL or SQLite, not {vendor}.")


def drop_statements(vendor: str, tables: tuple[str, ...]) -> list[str]:
    if vendor == "postgresql":
        # The function stays while another app's tables use it; CREATE OR REPLACE remakes it.
        return [f"DROP TRIGGER IF EXISTS {table}_catalogue ON {table}" for table in tables]
    return [
        f"DROP TRIGGER IF EXISTS {table}_catalogue_{event}"
        for table in tables
        for event in ("insert", "update", "delete")
    ]


def installer(tables: tuple[str, ...]) -> tuple[Callable[..., None], Callable[..., None]]:
    """RunPython's forward and backward functions for `tables`' triggers."""

    def install(apps: Any, schema_editor: Any) -> None:
        for statement in trigger_statements(schema_editor.connection.vendor, tables):
            schema_editor.execute(statement)

    def remove(apps: Any, schema_editor: Any) -> None:
        for statement in drop_statements(schema_editor.connection.vendor, tables):
            schema_editor.execute(statement)

    return install, remove
