"""Writing many rows at once, for the data generators.

Why: a benchmark database holds a million reports, and the ORM's bulk_create spends most of
its time compiling values one by one. Here rows are plain tuples in a fixed column order:
PostgreSQL receives them through COPY (psycopg's `cursor.copy`), SQLite through one
prepared multi-row INSERT run many times. Ids are reserved up front, so that rows can point
at each other (a duplicate at its master, a timeline entry at its report) before anything
is written. Callers run inside a transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC
from typing import Any

from django.db import connection, models
from psycopg.types.json import Jsonb


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` primary keys nobody else will be given, in increasing order."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return sorted(row[0] for row in cursor.fetchall())
        if connection.vendor == "sqlite":
            # Moving the AUTOINCREMENT counter is itself a write: it takes the database's
            # write lock, so the range is ours until the transaction ends.
            cursor.execute(
                "UPDATE sqlite_sequence SET seq = seq + %s WHERE name = %s", [count, table]
            )
            if cursor.rowcount == 0:
                quoted = connection.ops.quote_name(table)
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {quoted}")
                start = cursor.fetchone()[0]
                cursor.execute(
                    "INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)",
                    [table, start + count],
                )
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            last = cursor.fetchone()[0]
            return list(range(last - count + 1, last + 1))
    raise NotImplementedError(f"Bulk writes need PostgreSQL or SQLite, not {connection.vendor}.")


class Table:
    """The columns of `model` in a fixed order: the ones the caller fills (`given`, by
    attname), then every other concrete field at its default, so that a field added to the
    model later still gets a value."""

    def __init__(self, model: type[models.Model], given: Sequence[str]) -> None:
        self.model = model
        self.given = list(given)
        fields = {f.attname: f for f in model._meta.concrete_fields}
        unknown = set(self.given) - set(fields)
        if unknown:
            raise ValueError(f"{model.__name__} has no fields {sorted(unknown)}.")
        self.rest = [
            field
            for name, field in fields.items()
            if name not in self.given and not field.primary_key
        ]
        self.defaults = tuple(self._default(field) for field in self.rest)
        self.datetimes = [
            i for i, name in enumerate(self.given) if isinstance(fields[name], models.DateTimeField)
        ]
        self.columns: list[str] = [
            str(field.column) for field in [*(fields[name] for name in self.given), *self.rest]
        ]

    @staticmethod
    def _default(field: models.Field) -> Any:
        value = field.get_default()
        if isinstance(field, models.JSONField):
            return json.dumps(value)
        return field.get_db_prep_save(value, connection)

    def write(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Insert `rows` (values for `given`, in order; datetimes aware)."""
        quote = connection.ops.quote_name
        table = quote(self.model._meta.db_table)
        columns = ", ".join(quote(column) for column in self.columns)
        defaults = self.defaults
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                statement = f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)"
                self._copy(cursor.cursor, statement, rows)
                return
            marks = ", ".join(["%s"] * len(self.columns))
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                [self._sqlite_row(row) + defaults for row in rows],
            )

    def _sqlite_row(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        """Datetimes as Django stores them in SQLite: naive UTC text."""
        values = list(row)
        for i in self.datetimes:
            value = values[i]
            if value is not None:
                values[i] = value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
        return tuple(values)

    def _copy(self, raw: Any, statement: str, rows: Iterable[tuple[Any, ...]]) -> None:
        """COPY in PostgreSQL's binary format (no text to parse on either side). JSON comes
        already encoded: it is passed through as jsonb, not encoded again."""
        raw.execute(
            "SELECT a.attname, a.atttypid FROM pg_attribute a "
            "WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped",
            [self.model._meta.db_table],
        )
        types = dict(raw.fetchall())
        given = self.columns[: len(self.given)]
        jsonb = [i for i, column in enumerate(given) if types[column] == JSONB]
        defaults = tuple(
            Jsonb(json.loads(value), dumps=_encoded) if types[f.column] == JSONB else value
            for f, value in zip(self.rest, self.defaults, strict=True)
        )
        with raw.copy(statement) as copy:
            copy.set_types([types[column] for column in self.columns])
            for row in rows:
                if jsonb:
                    values = list(row)
                    for i in jsonb:
                        values[i] = Jsonb(values[i], dumps=_encoded)
                    row = tuple(values)
                copy.write_row(row + defaults)


JSONB = 3802  # the jsonb type's oid


def _encoded(value: Any) -> str:
    """Jsonb's `dumps` for a value that is JSON text already."""
    return value if isinstance(value, str) else json.dumps(value)


@contextmanager
def loading(*models_: type[models.Model]) -> Iterator[None]:
    """Load many rows into the tables of `models_` quickly, then check them.

    On PostgreSQL the secondary indexes and the foreign keys of these tables are dropped
    for the load and made again at the end: building an index once over sorted rows is far
    cheaper than updating fourteen of them row by row, and adding a foreign key checks
    every row with one join instead of one trigger call per row. The CHECK constraints stay
    on throughout. The caller wraps everything in one transaction, so a failure leaves the
    tables as they were (PostgreSQL's DDL is transactional); the tables are locked against
    readers until then. SQLite drops and rebuilds its secondary indexes only."""
    tables = [model._meta.db_table for model in models_]
    if connection.vendor == "sqlite":
        yield from _loading_sqlite(tables)
        return
    if connection.vendor != "postgresql":
        yield
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        # Foreign-key checks still pending from earlier in the transaction run now: a table
        # with pending checks can't be altered.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' "
            "AND (conrelid::regclass::text = ANY(%s) OR confrelid::regclass::text = ANY(%s))",
            [tables, tables],
        )
        foreign_keys = cursor.fetchall()
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
            "FROM pg_index i WHERE i.indrelid::regclass::text = ANY(%s) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
            [tables],
        )
        indexes = cursor.fetchall()
        for table, name, _definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
        # The triggers keep stored documents of existing reports current
        # (reports/document_triggers.py); loaded rows are new, with nothing to retire.
        for table in tables:
            cursor.execute(f"ALTER TABLE {quote(table)} DISABLE TRIGGER USER")
    yield
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ALTER TABLE {quote(table)} ENABLE TRIGGER USER")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _name, definition in indexes:
            cursor.execute(definition)
        for table, name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _loading_sqlite(tables: list[str]) -> Iterator[None]:
    """SQLite's version of loading(): its foreign keys are part of the table definitions,
    so only the secondary indexes are dropped and made again, and the triggers (SQLite can't
    switch them off) likewise."""
    with connection.cursor() as cursor:
        marks = ", ".join(["%s"] * len(tables))
        cursor.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
            f"AND sql IS NOT NULL AND tbl_name IN ({marks})",
            tables,
        )
        dropped = cursor.fetchall()
        for kind, name, _definition in dropped:
            cursor.execute(f"DROP {kind.upper()} {connection.ops.quote_name(name)}")
    yield
    with connection.cursor() as cursor:
        for _kind, _name, definition in dropped:
            cursor.execute(definition)


def analyze(*models_: type[models.Model]) -> None:
    """Refresh PostgreSQL's planner statistics after a load (the row counts changed)."""
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model in models_:
            cursor.execute(f"ANALYZE {quote(model._meta.db_table)}")
