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
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.db import connection, models, transaction
from psycopg.adapt import Dumper
from psycopg.pq import Format

from reports.insights import hours


def reserve_ids(model: type[models.Model], count: int, *, locked: bool = False) -> list[int]:
    """`count` primary keys nobody else will be given, in increasing order.

    `locked`: the caller holds the table against every other writer (inside loading(),
    which does): on PostgreSQL the range is then taken by moving the sequence once, where
    otherwise each id is drawn from it (0.24 µs each), since another writer's draws could
    fall in between."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and locked:
            cursor.execute(
                "SELECT setval(s, nextval(s) + %s - 1) FROM "
                "(SELECT pg_get_serial_sequence(%s, 'id')::regclass AS s) AS q",
                [count, table],
            )
            last = cursor.fetchone()[0]
            return list(range(last - count + 1, last + 1))
        if connection.vendor == "postgresql":
            # The sequence is looked up once: as an argument of nextval() the lookup ran
            # for every id (55 ms of the 60 for 20,000 ids).
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')::regclass::oid", [table])
            sequence = cursor.fetchone()[0]
            cursor.execute("SELECT nextval(%s::oid) FROM generate_series(1, %s)", [sequence, count])
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
    model later still gets a value.

    Values come as the database stores them, so that nothing is converted row by row:
    a datetime as whole microseconds since 2000-01-01 UTC (PostgreSQL's own representation
    of a timestamp), JSON as its encoded text."""

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
        if isinstance(field, models.DateTimeField) and value is not None:
            raise ValueError(f"{field.name}: a datetime default must be filled by the caller.")
        return field.get_db_prep_save(value, connection)

    def write(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Insert `rows` (values for `given`, in order)."""
        quote = connection.ops.quote_name
        table = quote(self.model._meta.db_table)
        columns = ", ".join(quote(column) for column in self.columns)
        defaults = self.defaults
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                options = "FORMAT BINARY, FREEZE" if _freezable(self.model) else "FORMAT BINARY"
                statement = f"COPY {table} ({columns}) FROM STDIN ({options})"
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
                values[i] = (EPOCH + timedelta(microseconds=value)).isoformat(" ")
        return tuple(values)

    def _copy(self, raw: Any, statement: str, rows: Iterable[tuple[Any, ...]]) -> None:
        """COPY in PostgreSQL's binary format (no text to parse on either side). A
        timestamp's binary form is its 64-bit count of microseconds, sent as such; JSON
        text goes out as jsonb's binary form (a version byte, then the text)."""
        raw.execute(
            "SELECT a.attname, a.atttypid FROM pg_attribute a "
            "WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped",
            [self.model._meta.db_table],
        )
        types = dict(raw.fetchall())
        wire = [types[column] for column in self.columns]
        for i in self.datetimes:
            if wire[i] in {TIMESTAMPTZ, TIMESTAMP}:
                wire[i] = INT8
        raw.adapters.register_dumper(_EncodedJson, _EncodedJsonDumper)
        with raw.copy(statement) as copy:
            copy.set_types(wire)
            defaults = self.defaults
            for row in rows:
                copy.write_row(row + defaults)


def copy_arrays(cursor: Any, table: str, columns: Sequence[str], arrays: Sequence[Any]) -> None:
    """COPY numpy columns (bool, int32 or int64, one per column, of equal length) into
    `table` on PostgreSQL, encoded by numpy into the binary format in one pass: no Python
    object per value. A date column takes int32 days since 2000-01-01 (its binary form)."""
    size = len(arrays[0]) if arrays else 0
    layout: list[tuple[str, str]] = [("fields", ">i2")]
    for i, array in enumerate(arrays):
        layout += [(f"length{i}", ">i4"), (f"value{i}", array.dtype.newbyteorder(">").str)]
    rows = np.empty(size, dtype=layout)
    rows["fields"] = len(arrays)
    for i, array in enumerate(arrays):
        rows[f"length{i}"] = array.dtype.itemsize
        rows[f"value{i}"] = array
    header = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, no extension
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(header + rows.tobytes() + b"\xff\xff")


INT8, TIMESTAMP, TIMESTAMPTZ, JSONB = 20, 1114, 1184, 3802  # PostgreSQL type oids
EPOCH = datetime(2000, 1, 1)  # noqa: DTZ001 - naive UTC, as Django stores it in SQLite


class _EncodedJson(str):
    """Only a key for registering the dumper below (by oid, which set_types uses)."""


class _EncodedJsonDumper(Dumper):
    """jsonb in binary from JSON text that is encoded already."""

    oid = JSONB
    format = Format.BINARY

    def dump(self, obj: Any) -> bytes:
        return b"\x01" + obj.encode()


@contextmanager
def loading(
    *models_: type[models.Model],
    beside: Sequence[Callable[[], None]] = (),
    keep: Sequence[str] = (),
) -> Iterator[None]:
    """Load many rows into the tables of `models_` quickly, then check and index them, and
    run the jobs of `beside` (work that reads the new rows, such as recounting summaries).
    The indexes named in `keep` stay through the load, kept up to date row by row: partial
    indexes the caller's rows never enter, which cost a test of their condition per row
    where building one again reads the whole table. A name that isn't an index of these
    tables is refused (ValueError) before anything is changed.

    The rows written inside the block are one transaction, opened here: a failure while
    loading leaves the tables as they were (a failed index build or key check after the
    commit, see below, is raised with the rows in place). On PostgreSQL the secondary
    indexes, the primary keys and the foreign keys of these tables are dropped for the load:
    building an index once over sorted rows is far cheaper than updating two dozen of them
    row by row, and adding a foreign key checks every row with one join instead of one
    trigger call per row. The CHECK constraints stay on throughout; the primary keys are
    made again before the commit (a duplicate id fails it), then the foreign keys (checked
    after it, see below). The tables' own triggers are off during the load
    (see _drop_for_load). A table that is empty when the load starts is truncated (there is
    nothing to remove; TRUNCATE gives it new files in this transaction), so that Table.write
    can load it with COPY FREEZE: its rows are written already frozen and marked visible to
    all, so that no later reader or VACUUM rewrites every page to say so, and the key
    checks after the load can read an index alone. As PostgreSQL documents for FREEZE, a
    transaction that started before the commit and reads the table afterwards sees the rows
    (an empty table has nothing else to show it).

    The indexes are what takes longest, and PostgreSQL builds each on one process (a
    trigram GIN index entirely so). When this is the outermost transaction, they are
    rebuilt after the commit over several connections at once, the slowest first (the rows
    must be committed for another connection to index them), and the foreign keys, added
    NOT VALID before the commit, are checked (VALIDATE CONSTRAINT) beside them; until then
    the tables answer without those indexes, which is fine for a generator of benchmark and
    demo data. The jobs of `beside` run on connections of their own beside the builds rather
    than after them. Each table, once its indexes are built, is analyzed (the planner's
    statistics, expression indexes' included), then its keys are checked. Inside a caller's
    transaction (tests, or a larger job) the keys are checked, the indexes rebuilt, the
    jobs run and the tables analyzed in it, one by one.
    SQLite drops and rebuilds its secondary indexes and triggers only, in the transaction."""
    tables = [model._meta.db_table for model in models_]
    outermost = not connection.in_atomic_block
    if connection.vendor != "postgresql":
        with transaction.atomic():
            if connection.vendor == "sqlite":
                yield from _loading_sqlite(tables, keep)
            else:
                yield
        for job in beside:
            job()
        return
    with transaction.atomic():
        indexes, primary_keys, foreign_keys = _drop_for_load(tables, keep)
        _truncate_empty(tables)
        try:
            yield
        finally:
            for table in tables:
                _FREEZABLE.pop(table, None)
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"ALTER TABLE {quote(table)} ENABLE TRIGGER USER")
            # Set for the transaction only; the session's other work keeps its settings.
            cursor.execute(f"SET LOCAL maintenance_work_mem = '{INDEX_MEMORY}'")
            # The primary keys first (building each checks that its ids are unique): the
            # foreign keys need them. After the commit, the foreign keys' checking joins run
            # beside the index builds: here they are added unchecked, which new writes
            # already obey.
            for table, name, definition in primary_keys:
                cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}")
            unchecked = " NOT VALID" if outermost else ""
            for table, name, definition in foreign_keys:
                cursor.execute(
                    f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}{unchecked}"
                )
            if not outermost:
                for _name, definition in indexes:
                    cursor.execute(definition)
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        if not outermost:
            for job in beside:
                job()
            analyze(tables)
    if outermost:
        quote = connection.ops.quote_name
        checks = {
            table: [
                f"ALTER TABLE {t} VALIDATE CONSTRAINT {quote(n)}"
                for t, n, _d in foreign_keys
                if t == table
            ]
            for table in {t for t, _n, _d in foreign_keys}
        }
        build_indexes(
            [definition for _name, definition in indexes],
            beside=beside,
            # Each loaded table, once its indexes are built: its statistics first (those of
            # its expression indexes too), so that the planner checks a foreign key knowing
            # the table (a key that is mostly NULL is then checked from its partial index,
            # not by a scan), then its keys, one after the other (each check holds a lock
            # that the next would wait for anyway).
            after={table: [f"ANALYZE {quote(table)}", *checks.pop(table, [])] for table in tables},
            # Keys of other tables that point at the loaded ones.
            then=[check for rest in checks.values() for check in rest],
        )


INDEX_MEMORY = "256MB"  # per index build; the builds' sorts fit in it at a million rows
INDEX_CONNECTIONS = 3  # index builds at once, each on one server process


# Tables that loading() truncated, with how many savepoints were open then: COPY FREEZE
# is allowed only in the (sub)transaction that truncated the table.
_FREEZABLE: dict[str, int] = {}


def _freezable(model: type[models.Model]) -> bool:
    return _FREEZABLE.get(model._meta.db_table) == len(connection.savepoint_ids)


def _truncate_empty(tables: list[str]) -> None:
    """Truncate those of `tables` that hold no row (see loading()). Their foreign keys and
    triggers are off by now, and loading() holds them against other writers."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        empty = []
        for table in tables:
            cursor.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {quote(table)})")
            if cursor.fetchone()[0]:
                empty.append(table)
        if empty:
            cursor.execute(f"TRUNCATE {', '.join(quote(table) for table in empty)}")
    _FREEZABLE.update(dict.fromkeys(empty, len(connection.savepoint_ids)))


def _refuse_unknown(keep: Sequence[str], indexes: Iterable[str]) -> None:
    unknown = set(keep) - set(indexes)
    if unknown:
        raise ValueError(f"No index {sorted(unknown)} on the tables being loaded.")


Constraint = tuple[str, str, str]  # table, name, definition


def _drop_for_load(
    tables: list[str], keep: Sequence[str] = ()
) -> tuple[list[tuple[str, str]], list[Constraint], list[Constraint]]:
    """Drop the secondary indexes (but those named in `keep`), the primary keys of `tables`
    and the foreign keys from and to them, and switch their triggers off; answer the
    indexes' (name, definition), and the primary and foreign keys, to make them again.

    A primary key's index, kept up to date row by row, took a third of the time PostgreSQL
    spends taking the rows in (3.9 of 11.1 s for a million reports and their timelines);
    built again over the loaded rows it takes 1.5 s."""
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
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'p' AND conrelid::regclass::text = ANY(%s)",
            [tables],
        )
        primary_keys = cursor.fetchall()
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
            "FROM pg_index i WHERE i.indrelid::regclass::text = ANY(%s) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
            [tables],
        )
        found = cursor.fetchall()
        _refuse_unknown(keep, (name for name, _definition in found))
        indexes = [(name, definition) for name, definition in found if name not in keep]
        for table, name, _definition in [*foreign_keys, *primary_keys]:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
        # The triggers keep stored documents of existing reports current
        # (reports/document_triggers.py); loaded rows are new, with nothing to retire.
        for table in tables:
            cursor.execute(f"ALTER TABLE {quote(table)} DISABLE TRIGGER USER")
    return indexes, primary_keys, foreign_keys


def build_indexes(
    definitions: list[str],
    connections_: int = INDEX_CONNECTIONS,
    *,
    beside: Sequence[Callable[[], None]] = (),
    then: Sequence[str] = (),
    after: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """Run the CREATE INDEX statements over `connections_` connections at once, each in its
    own transaction, the trigram (GIN) and GiST ones first: they take longest and can't be
    split over processes, so the others fill the remaining connections around them. The
    functions of `beside` (using the default connection, one of their own) start after the
    slow builds, the statements of `then` after every build, as connections come free; the
    statements of `after[table]` run one after the other on one connection once every
    index of that table is built. Every job is tried even if one fails; then the first
    failure is raised."""
    slow = [d for d in definitions if " USING gin " in d or " USING gist " in d]
    # The tables with the fewest indexes first: their `after` statements can then start
    # while the others' indexes are still being built. Within a table, the longest
    # definitions first: more columns and expressions take longer to sort, and short builds
    # left for the end let every connection finish at about the same time.
    indexes_of = Counter(_indexed_table(d) for d in definitions)
    rest = sorted(
        (d for d in definitions if d not in slow),
        key=lambda d: (indexes_of[_indexed_table(d)], -len(d)),
    )
    order: list[str | Callable[[], None]] = [*slow, *beside, *rest, *then]
    after = dict(after or {})
    # Each table's `after` statements are queued right behind its last build: a connection
    # that takes them waits only for the builds still running on that table (jobs are
    # taken in order), and they then run beside the other tables' builds.
    last_build = {_indexed_table(d): d for d in order if isinstance(d, str) and d in definitions}
    with ThreadPoolExecutor(max_workers=max(1, min(connections_, len(order)))) as pool:
        started: list[Future] = []
        builds: dict[str, list[Future]] = {}
        for job in order:
            started.append(pool.submit(_run_job, job))
            if isinstance(job, str) and job in definitions:
                table = _indexed_table(job)
                builds.setdefault(table, []).append(started[-1])
                if last_build[table] == job and table in after:
                    started.append(pool.submit(_run_after, builds[table], after.pop(table)))
        for statements in after.values():  # tables without indexes
            started.append(pool.submit(_run_after, [], statements))
        results = [future.result() for future in started]
    failures = [result for result in results if result is not None]
    if failures:
        raise failures[0]


def _indexed_table(definition: str) -> str:
    """The table of a CREATE INDEX statement (as pg_get_indexdef writes it), unqualified."""
    found = re.search(r" ON (?:ONLY )?([^\s(]+)", definition)
    return found.group(1).rsplit(".", 1)[-1].strip('"') if found else ""


def _run_after(builds: list[Future], statements: Sequence[str]) -> BaseException | None:
    wait(builds)
    failures = [_run_job(statement) for statement in statements]
    return next((failure for failure in failures if failure is not None), None)


def _run_job(job: str | Callable[[], None]) -> BaseException | None:
    """One statement (or function) on a connection of this thread's own, closed afterwards."""
    try:
        if callable(job):
            job()
            return None
        with connection.cursor() as cursor:
            cursor.execute(f"SET maintenance_work_mem = '{INDEX_MEMORY}'")
            # The builds run side by side already; a B-tree's own helper processes would
            # only compete with the slow trigram builds for the same cores.
            cursor.execute("SET max_parallel_maintenance_workers = 0")
            cursor.execute(job)
    except Exception as exc:  # reported by build_indexes once every job has been tried
        return exc
    finally:
        connection.close()
    return None


def _loading_sqlite(tables: list[str], keep: Sequence[str] = ()) -> Iterator[None]:
    """SQLite's version of loading(): its foreign keys are part of the table definitions,
    so only the secondary indexes (but those of `keep`) are dropped and made again, and the
    triggers (SQLite can't switch them off) likewise."""
    with connection.cursor() as cursor:
        marks = ", ".join(["%s"] * len(tables))
        cursor.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
            f"AND sql IS NOT NULL AND tbl_name IN ({marks})",
            tables,
        )
        found = cursor.fetchall()
        _refuse_unknown(keep, (name for kind, name, _definition in found if kind == "index"))
        dropped = [(kind, name, definition) for kind, name, definition in found if name not in keep]
        for kind, name, _definition in dropped:
            cursor.execute(f"DROP {kind.upper()} {connection.ops.quote_name(name)}")
    yield
    with connection.cursor() as cursor:
        for _kind, _name, definition in dropped:
            cursor.execute(definition)
        if {name for _kind, name, _definition in dropped} & set(hours.NAMES):
            hours.recount(cursor)  # the rows were loaded without the counts' triggers


def analyze(tables: list[str]) -> None:
    """Refresh PostgreSQL's planner statistics after a load (the row counts changed)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
