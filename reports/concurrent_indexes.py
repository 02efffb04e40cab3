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


def replace_index(model_name: str, old: Any, new: Any) -> Any:
    """A RunPython function that puts index `new` in the place of `old` (same name).

    On PostgreSQL `new` is built CONCURRENTLY under a temporary name, `old` dropped
    concurrently and `new` renamed, so that the table takes writes all along; elsewhere
    the index is dropped and made again."""

    def run(apps: Any, schema_editor: Any) -> None:
        model = apps.get_model("reports", model_name)
        if schema_editor.connection.vendor != "postgresql":
            schema_editor.remove_index(model, old)
            schema_editor.add_index(model, new)
            return
        building = new.clone()
        building.name = f"{new.name}_next"
        sql = str(building.create_sql(model, schema_editor, concurrently=True))
        build_concurrently(schema_editor, building.name, sql)
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {old.name}")
        schema_editor.execute(f"ALTER INDEX {building.name} RENAME TO {new.name}")

    return run
