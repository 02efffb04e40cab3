"""The public reports counted by hour and by week on SQLite, kept by row triggers, with
which the Open311 list finds where a deep page starts (reports/api/positions.py).

Why: PostgreSQL's summaries keep insights_public_hour and insights_public_week with
statement-level triggers (rollups.py); SQLite has none, so without counts a deep page
stepped over the index entries of every row before it (page 50 of 100 over 4,900, page 300
over 29,900: 3 ms at 100,000 reports). Here a row trigger adds or takes one from the
report's hour and from its week (insights_public_week: 168 hours from 1970 on, not calendar
weeks) in the transaction of the change: two upserts per report written (a report inserted
and committed alone took 0.88 ms against 0.83 without them, most of it the extra pages
written at the commit). A position is then found by summing at most the window's weeks and
one week's hours (positions.find).

The bulk loader (reports/bulk.py) drops a table's triggers during a load, as SQLite can't
switch them off, and calls recount() when it puts them back. Like the document triggers,
these are lost if a migration rebuilds the report table (SQLite's way to alter a column);
a test checks that they are all there after the migrations."""

from __future__ import annotations

from typing import Any

REPORTS = "reports_servicerequest"
WEEK = 168  # hours


def floor_div(expression: str, by: int) -> str:
    """`expression` // `by` in SQLite (whose / truncates towards zero), for times before
    1970 too."""
    return f"(({expression}) - ((({expression}) % {by}) + {by}) % {by}) / {by}"


def hour_of(row: str) -> str:
    """The hour of `row`'s request: whole hours since 1970-01-01 UTC, as rollups.HOUR.
    SQLite keeps times as UTC text, 'YYYY-MM-DD HH:MM:SS[.ffffff]'; the fraction is cut off
    before strftime('%s'), which would round it to the millisecond and put a report of the
    hour's last half millisecond in the next hour."""
    return floor_div(f"strftime('%s', substr({row}.requested_datetime, 1, 19))", 3600)


def week_of(row: str) -> str:
    return floor_div(hour_of(row), WEEK)


def _add(row: str, condition: str) -> list[str]:
    return [
        f"INSERT INTO insights_public_{unit} ({unit}, n) SELECT {key}, 1 WHERE {condition} "
        f"ON CONFLICT ({unit}) DO UPDATE SET n = n + 1;"
        for unit, key in (("hour", hour_of(row)), ("week", week_of(row)))
    ]


def _take(row: str, condition: str) -> list[str]:
    return [
        f"UPDATE insights_public_{unit} SET n = n - 1 WHERE {condition} AND {unit} = {key};"
        for unit, key in (("hour", hour_of(row)), ("week", week_of(row)))
    ]


def _trigger(name: str, event: str, when: str, body: list[str]) -> str:
    return (
        f"CREATE TRIGGER {name} AFTER {event} ON {REPORTS} FOR EACH ROW WHEN {when} "
        f"BEGIN {' '.join(body)} END"
    )


TABLES = ("insights_public_hour", "insights_public_week")
NAMES = ("insights_hours_insert", "insights_hours_delete", "insights_hours_update")
TRIGGERS = [
    _trigger(NAMES[0], "INSERT", "NOT NEW.hidden", _add("NEW", "1")),
    _trigger(NAMES[1], "DELETE", "NOT OLD.hidden", _take("OLD", "1")),
    _trigger(
        NAMES[2],
        "UPDATE OF hidden, requested_datetime",
        "OLD.hidden IS NOT NEW.hidden OR OLD.requested_datetime IS NOT NEW.requested_datetime",
        [*_take("OLD", "NOT OLD.hidden"), *_add("NEW", "NOT NEW.hidden")],
    ),
]
CREATE = [
    "CREATE TABLE IF NOT EXISTS insights_public_hour (hour integer PRIMARY KEY, "
    "n integer NOT NULL)",
    "CREATE TABLE IF NOT EXISTS insights_public_week (week integer PRIMARY KEY, "
    "n integer NOT NULL)",
    # Reports still in their preview window (published_at > now), which positions.find
    # subtracts; PostgreSQL's is rollups.INDEXES' insights_sr_published.
    f"CREATE INDEX IF NOT EXISTS insights_sr_published ON {REPORTS} (published_at)",
]
DROP = [
    *(f"DROP TRIGGER IF EXISTS {name}" for name in NAMES),
    "DROP INDEX IF EXISTS insights_sr_published",
    *(f"DROP TABLE IF EXISTS {table}" for table in TABLES),
]


def recount(cursor: Any) -> None:
    """Both tables again from the reports (0.2 s at 100,000 reports), in the caller's
    transaction: a report written between the DELETE and the INSERT would otherwise be
    counted twice, or fail the INSERT."""
    for unit, key in (("hour", hour_of(REPORTS)), ("week", week_of(REPORTS))):
        cursor.execute(f"DELETE FROM insights_public_{unit}")
        cursor.execute(
            f"INSERT INTO insights_public_{unit} ({unit}, n) SELECT {key}, count(*) "
            f"FROM {REPORTS} WHERE NOT hidden GROUP BY 1"
        )


def install(cursor: Any) -> None:
    for statement in (*CREATE, *TRIGGERS):
        cursor.execute(statement)
    recount(cursor)


def remove(cursor: Any) -> None:
    for statement in DROP:
        cursor.execute(statement)
