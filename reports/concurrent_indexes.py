"""Adding an index to a live reports table without holding up its writers (PostgreSQL).

For migrations that run outside a transaction (atomic = False): CREATE INDEX CONCURRENTLY
builds while submissions go on. A build that failed half-way leaves an invalid index of
that name, which is dropped and built again here; a valid one is kept."""

from __future__ import annotations

from typing import Any


def build_concurrently(schema_editor: Any, name: str, definition: str) -> None:
    """Run `definition` (CREATE INDEX CONCURRENTLY `name` …) unless `name` is built."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [name])
        found = cursor.fetchone()
    if found and found[0]:
        return
    if found:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY {name}")
    schema_editor.execute(definition)
