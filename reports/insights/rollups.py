"""Daily summary tables of reports, kept exact by PostgreSQL triggers (PostgreSQL only).

Why: a year of a million reports is ~800,000 rows to scan, group and sort for each figure
of the dashboard (seconds per page). The figures only ever cut by local day, category,
department and area, so they can be summed from two small tables instead:

- insights_received_day: reports per (local day requested, category, department, area,
  hidden): how many, and how many of them are closed now;
- insights_closed_day: public-side closed reports (not hidden) per (local day closed,
  category, department, area): how many, how many had a target, how many met it, and a
  histogram of their close times (BUCKETS log-spaced buckets of seconds);
- insights_cell_month: the map's points (not hidden) per (local month requested, finest
  grid cell), for the unfiltered hotspot map;
- insights_public_hour: reports not hidden per hour requested (hours since 1970 in UTC,
  whatever the zone), and insights_public_week the same per block of 168 of those hours,
  with which the Open311 list finds where a deep page starts without stepping over the
  rows before it (reports/api/positions.py).

The histogram does not replace the close times: it says in which bucket a percentile's
rank falls and at which offset, and the exact value is then read from an index ordered by
(group, bucket, close time) (see summaries.py), so medians and 90th percentiles stay
exactly percentile_cont's.

Statement-level AFTER triggers with transition tables keep both tables current in the
same transaction as the change (insert, COPY, update of any column, delete, truncate):
the figures are never stale, and a statement of 20,000 rows costs one grouped upsert,
not 20,000. `rebuild()` (manage.py rebuild_insights) makes them again from the reports,
e.g. after a change of TIME_ZONE: local days are computed in the zone recorded in
the table's comment, and the dashboard reads the tables only while that zone is
settings.TIME_ZONE (it falls back to scanning the reports otherwise).

"Published" (a report's preview window) is not in the tables, since it changes with the
clock and no write: readers subtract the few reports still in their preview window, found
through an index on published_at."""

from __future__ import annotations

import re

from django.conf import settings
from django.db import connection, transaction

from reports.insights import hours

BUCKETS = 68  # floor(4·ln(seconds)): bucket 67 starts at about 21 years
REPORTS = "reports_servicerequest"
# Seconds from report to close: the expression percentile_cont sorts by (queries.py).
DURATION = "((EXTRACT(EPOCH FROM (closed_datetime - requested_datetime)))::float8)"
BUCKET = f"(LEAST({BUCKETS - 1}, GREATEST(0, FLOOR(LN(GREATEST({DURATION}, 1)) * 4)))::int)"
HISTOGRAM = [f"h{i}" for i in range(BUCKETS)]

# The smallest area a report lies in, and its set of areas (departments.AreaSet): figures
# by area are read by the sets that name it; the smallest area is what a report is shown in.
RECEIVED_KEY = ["day", "service_id", "department_id", "area_id", "area_set_id", "hidden"]
CLOSED_KEY = ["day", "service_id", "department_id", "area_id", "area_set_id"]
CELL_KEY = ["month", "gy", "gx"]
HOUR_KEY = ["hour"]
WEEK_KEY = ["week"]
# A report's hour: whole hours since 1970-01-01 UTC (floor, as reports/api/positions.py),
# and its week: whole blocks of 168 hours since then (not calendar weeks; exact, since
# PostgreSQL's extract gives a numeric).
HOUR = "floor(extract(epoch FROM requested_datetime) / 3600)::bigint"
WEEK = f"floor(extract(epoch FROM requested_datetime) / {hours.WEEK * 3600})::bigint"
# The public counts the triggers keep: by hour (migration insights 0003) and by week (0006).
PUBLIC = ("hour", "week")
# The map's finest cell, in degrees: coarser cells of 2ⁿ times this size are sums of these
# (hotspots.py).
FINE_CELL = 0.0025

# Indexes on the reports that the summaries' readers use.
INDEXES = {
    # The exact percentile: the k-th close time of one department (or category) in a bucket.
    "insights_sr_closed_department": (
        f"(department_id, {BUCKET}, {DURATION}) "
        "INCLUDE (requested_datetime, closed_datetime, published_at, service_id, area_id, "
        "area_set_id) "
        "WHERE status = 'closed' AND NOT hidden"
    ),
    "insights_sr_closed_service": (
        f"(service_id, {BUCKET}, {DURATION}) "
        "INCLUDE (requested_datetime, closed_datetime, published_at, department_id, area_id, "
        "area_set_id) "
        "WHERE status = 'closed' AND NOT hidden"
    ),
    # Reports still in their preview window (published_at > now).
    "insights_sr_published": "(published_at)",
    # The open backlog (public and staff), read from the index alone.
    "insights_sr_open": (
        "(department_id, state) "
        "INCLUDE (id, expected_datetime, service_id, area_id, area_set_id, hidden, published_at, "
        "assigned_to_id) "
        "WHERE status = 'open'"
    ),
}


def zone_literal(zone: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_+\-/]+", zone):
        raise ValueError(f"Unexpected time zone name: {zone!r}")
    return f"'{zone}'"


def local_day(column: str, zone: str) -> str:
    return f"({column} AT TIME ZONE {zone_literal(zone)})::date"


def received_rows(relation: str, sign: int, zone: str) -> str:
    """One signed row per report of `relation`, keyed like insights_received_day."""
    return (
        f"SELECT {local_day('requested_datetime', zone)} AS day, service_id, "
        "COALESCE(department_id, 0) AS department_id, COALESCE(area_id, 0) AS area_id, "
        f"COALESCE(area_set_id, 0) AS area_set_id, hidden, {sign} AS n, "
        f"{sign} * (status = 'closed')::int AS closed FROM {relation}"
    )


def closed_rows(relation: str, sign: int, zone: str) -> str:
    """One signed row per closed, not hidden report of `relation`, with its bucket."""
    return (
        f"SELECT {local_day('closed_datetime', zone)} AS day, service_id, "
        "COALESCE(department_id, 0) AS department_id, COALESCE(area_id, 0) AS area_id, "
        f"COALESCE(area_set_id, 0) AS area_set_id, {sign} AS n, "
        f"{sign} * (expected_datetime IS NOT NULL)::int AS with_target, "
        f"{sign} * COALESCE(closed_datetime <= expected_datetime, false)::int AS within, "
        f"{BUCKET} AS bucket FROM {relation} WHERE status = 'closed' AND NOT hidden"
    )


def cell_rows(relation: str, sign: int, zone: str) -> str:
    """One signed row per public-side (not hidden) report of `relation` with a map point,
    keyed like insights_cell_month: the local month requested and the finest cell, the
    same floor(lat / size) as the map's scan of the reports."""
    month = f"date_trunc('month', requested_datetime AT TIME ZONE {zone_literal(zone)})::date"
    size = f"CAST('{FINE_CELL!r}' AS float8)"
    return (
        f"SELECT {month} AS month, floor(lat / {size})::int AS gy, "
        f"floor(long / {size})::int AS gx, {sign} AS n FROM {relation} "
        "WHERE NOT hidden AND lat IS NOT NULL AND long IS NOT NULL"
    )


def public_rows(unit: str, relation: str, sign: int) -> str:
    """One signed row per not hidden report of `relation`, keyed like
    insights_public_`unit` (UTC hours or weeks: the zone plays no part)."""
    key = {"hour": HOUR, "week": WEEK}[unit]
    return f"SELECT {key} AS {unit}, {sign} AS n FROM {relation} WHERE NOT hidden"


def _upsert(table: str, key: list[str], values: list[str], sums: list[str], rows: str) -> str:
    """Add the grouped signed rows to `table`, skipping groups whose change is nothing (an
    update that touched no counted column)."""
    keys = ", ".join(key)
    changed = " OR ".join(f"{expr} <> 0" for expr in sums)
    return (
        f"INSERT INTO {table} AS t ({keys}, {', '.join(values)}) "
        f"SELECT {keys}, {', '.join(sums)} FROM ({rows}) AS d "
        f"GROUP BY {keys} HAVING {changed} ORDER BY {keys} "
        f"ON CONFLICT ({keys}) DO UPDATE SET "
        + ", ".join(f"{v} = t.{v} + EXCLUDED.{v}" for v in values)
    )


def apply_sql(
    sources: list[tuple[str, int]], zone: str, *, public: tuple[str, ...] = PUBLIC
) -> list[str]:
    """The upserts that add the signed rows of each (relation, sign) to the tables (to the
    public counts of `public` only: none before migration insights 0003, hours alone
    before 0006)."""
    received = " UNION ALL ".join(received_rows(rel, sign, zone) for rel, sign in sources)
    closed = " UNION ALL ".join(closed_rows(rel, sign, zone) for rel, sign in sources)
    # Grouped by bucket first, so that the bucket (a logarithm) is computed once per report
    # and not once per histogram column.
    keys = ", ".join(CLOSED_KEY)
    by_bucket = (
        f"SELECT {keys}, bucket, sum(n) AS n, sum(with_target) AS with_target, "
        f"sum(within) AS within FROM ({closed}) AS r GROUP BY {keys}, bucket"
    )
    histogram_sums = [f"COALESCE(sum(n) FILTER (WHERE bucket = {i}), 0)" for i in range(BUCKETS)]
    cells = " UNION ALL ".join(cell_rows(rel, sign, zone) for rel, sign in sources)
    counts = [
        _upsert(
            f"insights_public_{unit}",
            [unit],
            ["n"],
            ["sum(n)"],
            " UNION ALL ".join(public_rows(unit, rel, sign) for rel, sign in sources),
        )
        for unit in public
    ]
    return [
        _upsert("insights_cell_month", CELL_KEY, ["n"], ["sum(n)"], cells),
        *counts,
        _upsert(
            "insights_received_day",
            RECEIVED_KEY,
            ["n", "closed"],
            ["sum(n)", "sum(closed)"],
            received,
        ),
        _upsert(
            "insights_closed_day",
            CLOSED_KEY,
            ["n", "with_target", "within", *HISTOGRAM],
            ["sum(n)", "sum(with_target)", "sum(within)", *histogram_sums],
            by_bucket,
        ),
    ]


def _trigger_function(
    name: str, sources: list[tuple[str, int]], zone: str, *, public: tuple[str, ...] = PUBLIC
) -> str:
    body = ";\n".join(apply_sql(sources, zone, public=public))
    return (
        # No JIT: compiling the wide aggregate costs far more than running it.
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql SET jit = off "
        "AS $body$\n"
        f"BEGIN\n{body};\nRETURN NULL;\nEND\n$body$"
    )


TABLES = (
    "insights_received_day",
    "insights_closed_day",
    "insights_cell_month",
    # The last ones: not in migration insights 0002's triggers (hours), nor 0003's (weeks).
    *(f"insights_public_{unit}" for unit in PUBLIC),
)


def _truncate_function(tables: tuple[str, ...]) -> str:
    deletes = " ".join(f"DELETE FROM {table};" for table in tables)
    return (
        "CREATE OR REPLACE FUNCTION insights_rollup_truncate() RETURNS trigger "
        f"LANGUAGE plpgsql AS $body$ BEGIN {deletes} RETURN NULL; END $body$"
    )


def install_sql(zone: str) -> list[str]:
    """Tables and trigger functions (idempotent; no change to the reports table itself)."""
    histogram = ", ".join(f"{h} integer NOT NULL DEFAULT 0" for h in HISTOGRAM)
    return [
        "CREATE TABLE IF NOT EXISTS insights_received_day (day date NOT NULL, "
        "service_id bigint NOT NULL, department_id bigint NOT NULL, area_id bigint NOT NULL, "
        "area_set_id bigint NOT NULL, hidden boolean NOT NULL, n integer NOT NULL, "
        "closed integer NOT NULL, "
        f"PRIMARY KEY ({', '.join(RECEIVED_KEY)}))",
        "CREATE TABLE IF NOT EXISTS insights_closed_day (day date NOT NULL, "
        "service_id bigint NOT NULL, department_id bigint NOT NULL, area_id bigint NOT NULL, "
        "area_set_id bigint NOT NULL, n integer NOT NULL, with_target integer NOT NULL, "
        "within integer NOT NULL, "
        f"{histogram}, PRIMARY KEY ({', '.join(CLOSED_KEY)}))",
        "CREATE TABLE IF NOT EXISTS insights_cell_month (month date NOT NULL, "
        "gy integer NOT NULL, gx integer NOT NULL, n integer NOT NULL, "
        f"PRIMARY KEY ({', '.join(CELL_KEY)}))",
        *(
            f"CREATE TABLE IF NOT EXISTS insights_public_{unit} ({unit} bigint PRIMARY KEY, "
            "n integer NOT NULL)"
            for unit in PUBLIC
        ),
        *trigger_functions_sql(zone, PUBLIC),
        # The zone the days are local to, where one query can read it (usable()).
        f"COMMENT ON TABLE insights_received_day IS {zone_literal(zone)}",
    ]


def trigger_functions_sql(zone: str, public: tuple[str, ...]) -> list[str]:
    """The trigger functions that keep the public counts of `public` (PUBLIC now; fewer to
    go back to an earlier migration, with the other tables dropped)."""
    dropped = [f"insights_public_{unit}" for unit in PUBLIC if unit not in public]
    return [
        _trigger_function("insights_rollup_insert", [("new_rows", 1)], zone, public=public),
        _trigger_function(
            "insights_rollup_update", [("old_rows", -1), ("new_rows", 1)], zone, public=public
        ),
        _trigger_function("insights_rollup_delete", [("old_rows", -1)], zone, public=public),
        _truncate_function(tuple(table for table in TABLES if table not in dropped)),
        *(f"DROP TABLE IF EXISTS {table}" for table in dropped),
    ]


def _triggers() -> list[str]:
    made = []
    for op, referencing in (
        ("insert", "NEW TABLE AS new_rows"),
        ("update", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("delete", "OLD TABLE AS old_rows"),
    ):
        made += [
            f"DROP TRIGGER IF EXISTS insights_rollup_{op} ON {REPORTS}",
            f"CREATE TRIGGER insights_rollup_{op} AFTER {op.upper()} ON {REPORTS} "
            f"REFERENCING {referencing} FOR EACH STATEMENT "
            f"EXECUTE FUNCTION insights_rollup_{op}()",
        ]
    made += [
        f"DROP TRIGGER IF EXISTS insights_rollup_truncate ON {REPORTS}",
        f"CREATE TRIGGER insights_rollup_truncate AFTER TRUNCATE ON {REPORTS} "
        "FOR EACH STATEMENT EXECUTE FUNCTION insights_rollup_truncate()",
    ]
    return made


def uninstall_sql() -> list[str]:
    return [
        *(f"DROP TRIGGER IF EXISTS insights_rollup_{op} ON {REPORTS}" for op in OPS),
        *(f"DROP FUNCTION IF EXISTS insights_rollup_{op}()" for op in OPS),
        *(f"DROP TABLE IF EXISTS {table}" for table in TABLES),
        *(f"DROP INDEX IF EXISTS {name}" for name in INDEXES),
    ]


OPS = ("insert", "update", "delete", "truncate")


def index_sql(*, concurrently: bool = False) -> list[str]:
    how = "CONCURRENTLY " if concurrently else ""
    return [
        f"CREATE INDEX {how}IF NOT EXISTS {name} ON {REPORTS} {d}" for name, d in INDEXES.items()
    ]


def rebuild_sql(zone: str) -> list[str]:
    """Both tables again from every report, while writers wait (SHARE lock on the reports:
    readers go on, a change made meanwhile can't be missed nor counted twice)."""
    return [
        f"LOCK TABLE {REPORTS} IN SHARE MODE",
        "SET LOCAL jit = off",
        *install_sql(zone),
        f"TRUNCATE {', '.join(TABLES)}",
        *apply_sql([(REPORTS, 1)], zone),
        *(f"ANALYZE {table}" for table in TABLES),
    ]


def install() -> None:
    """Indexes, tables and triggers, filled from the reports already there (a migration).

    Outside a transaction the indexes are built CONCURRENTLY, so that a live site keeps
    taking reports meanwhile; the triggers and the first fill then go in one transaction
    (the fill holds writers back for a few seconds at a million reports).

    The tables are keyed by the reports' sets of areas, which reports migration 0032 adds:
    an earlier migration that installs them before that one has run leaves them to insights
    0009, which comes after it."""
    if connection.vendor != "postgresql" or not _reports_have_area_sets():
        return
    concurrently = not connection.in_atomic_block
    with connection.cursor() as cursor:
        for statement in index_sql(concurrently=concurrently):
            cursor.execute(statement)
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in [*install_sql(settings.TIME_ZONE), *_triggers()]:
            cursor.execute(statement)
        rebuild()


def _reports_have_area_sets() -> bool:
    with connection.cursor() as cursor:
        columns = connection.introspection.get_table_description(cursor, REPORTS)
    return any(column.name == "area_set_id" for column in columns)


def rebuild() -> None:
    """Recompute the tables from the reports, in one transaction (the caller's, if any),
    for the current TIME_ZONE."""
    if connection.vendor != "postgresql":
        return
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in rebuild_sql(settings.TIME_ZONE):
            cursor.execute(statement)


def usable() -> bool:
    """Whether the dashboard may read the tables: PostgreSQL, installed, and built for the
    city's time zone."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT obj_description(to_regclass('insights_received_day'), 'pg_class')")
        row = cursor.fetchone()
    return row is not None and row[0] == settings.TIME_ZONE
