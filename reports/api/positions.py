"""Where a deep page of the Open311 list starts, from the reports counted by week and hour.

Why: `page` N of the newest-first list found its rows by stepping over the entries of the
(N-1)·size rows before them in an index (PostgreSQL keeps no counts to jump by): page 50
of 100 stepped over 4,900 entries (1 ms at a million reports), page 2,000 over 199,900
(14 ms). insights_public_hour and insights_public_week (reports/insights/rollups.py) hold
how many reports that are not hidden were requested in each hour and in each block of 168
hours, kept exact by triggers in the transaction of every change. The database function
below reads the window's weeks newest first until it reaches the week that holds the
page's first row, then that week's hours one by one to the hour, then steps over that
hour's entries in an index to the row before it, from whichever end of the hour is nearer
(at most half an hour's reports: the hours' counts are exact, and the window's first hour,
whose count may hold reports from before the window, is stepped from its end); the page's
own query reads on after that row, as after a cursor. One statement, however deep the
page. (Hour by hour alone, the 1,900 hours before page 300 at 100,000 reports took 0.9 ms;
summing the hours a week at a time, one statement a week, 0.4. The function called alone
from Django at page 300 of 100,000 reports: 0.54 ms so, 0.21 with the weeks' counts, the
same as at page 50 or at a million. At a million reports, 400 to 900 an hour in the last
day, stepping from the nearer end took the function at page 50 from 0.198 to 0.165 ms,
and from 0.214 to 0.160 at an hour's oldest report: pgbench, the call alone.)

It is a PL/pgSQL function, not plain SQL in the page's query, because PostgreSQL keeps a
function's plans for the connection's life: planned every time, the same work as one
statement took 0.45 ms to plan (the report table has some thirty indexes to weigh) and
0.1 ms to run. Every statement inside is written so that its generic plan (the one kept,
planned without the values) reads an index over a range bounded on both sides.

The counts leave out what changes with the clock alone, and what lies outside the window:
the function subtracts the reports still in their preview window (published_at > now, found
through the insights_sr_published index), those of the window's last hour after its end and
those of its last week's later hours. The window's first hour may hold reports from before
its start: they come after all of that hour's other reports, so a position among them is
past the last row.

Used for every page but the first of the list narrowed by nothing but its window of
requested times: even page 2 found so is faster than by stepping over 100 entries, whose
two-level query (ids, then rows) costs more to plan than the function to run (measured at a
million reports: 0.5 ms over page 1 against 1.2). With any other filter a page still steps
over the index.

SQLite keeps its counts by row triggers (reports/insights/hours.py), by hour and by week,
and find() below does the function's work in three plain statements, four when reports are
in their preview window (SQLite prepares them in the process, in microseconds, and keeps
them prepared): at 100,000 reports 0.15–0.25 ms for any page, where page 50 stepped over
4,900 entries (0.5 ms) and page 300 over 29,900 (3).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Any

from django.db import connection, transaction

from civic311.dates import UNIX_EPOCH
from reports.insights import hours, rollups
from reports.models import ServiceRequest

REPORTS = ServiceRequest._meta.db_table
FUNCTION = "open311_page_position"
# Hours summed at a time (a week) before the hour that holds the page is looked for in them.
SPAN = hours.WEEK
HOUR = timedelta(hours=1)


def usable() -> bool:
    return connection.vendor in ("postgresql", "sqlite")


def before_page(
    *, start: datetime, end: datetime, now: datetime, offset: int
) -> tuple[str, tuple[Any, ...]]:
    """A condition on the report table (newest first), as SQL and its parameters, that
    keeps the rows from `offset` on of the public reports requested between `start` and
    `end` (both included), as seen at `now`: they come after the position the function
    gives (past the last row it gives none, and the condition keeps no row)."""
    return (
        f'("{REPORTS}"."requested_datetime", "{REPORTS}"."id") < '
        f"(SELECT p.requested, p.pk FROM {FUNCTION}(%s, %s, %s, %s) p)",
        (start, end, now, offset),
    )


# The position (requested, pk) after which the row at p_offset comes, newest first: the row
# before it in its hour, or (the hour's end, 0) when it starts its hour (no id is below 1).
# Past the last row (or among the first hour's reports from before the window) it returns
# no row, and a comparison with no row is null: the page is empty. The window's first week
# is counted whole: should the position fall in its hours before the window, no hour holds
# it, and there is no row either. The preview's reports are read by published_at alone (the
# MATERIALIZED step), between now and the latest: so bounded, the generic plan reads that
# index, not the time index over the whole window.
FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}(
    p_start timestamptz, p_end timestamptz, p_now timestamptz, p_offset bigint
) RETURNS TABLE (requested timestamptz, pk bigint)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $fn$
DECLARE
    top bigint := floor(extract(epoch FROM p_end) / 3600);
    last bigint := floor(extract(epoch FROM p_start) / 3600);
    top_week bigint := floor(extract(epoch FROM p_end) / {SPAN * 3600});
    last_week bigint := floor(extract(epoch FROM p_start) / {SPAN * 3600});
    after_end bigint;
    later bigint;
    latest timestamptz;
    late_hours bigint[] := '{{}}';
    late_counts bigint[] := '{{}}';
    found bigint;
    counted record;
    upto bigint := 0;
    n bigint;
    at int;
BEGIN
    -- What the top week counts beyond the window: its hour's reports after the window's
    -- end, and its later hours.
    SELECT (SELECT count(*) FROM {REPORTS} r WHERE NOT r.hidden AND r.requested_datetime > p_end
            AND r.requested_datetime < to_timestamp((top + 1) * 3600)),
           (SELECT coalesce(sum(h.n), 0) FROM insights_public_hour h
            WHERE h.hour > top AND h.hour < (top_week + 1) * {SPAN}),
           (SELECT max(r.published_at) FROM {REPORTS} r)
    INTO after_end, later, latest;
    IF latest > p_now THEN
        WITH late AS MATERIALIZED (
            SELECT r.requested_datetime, r.hidden FROM {REPORTS} r
            WHERE r.published_at > p_now AND r.published_at <= latest
        )
        SELECT coalesce(array_agg(g.hour), '{{}}'), coalesce(array_agg(g.reports), '{{}}')
        INTO late_hours, late_counts FROM (
            SELECT {rollups.HOUR} AS hour, count(*) AS reports FROM late l WHERE NOT l.hidden
            AND l.requested_datetime >= p_start AND l.requested_datetime <= p_end GROUP BY 1
        ) AS g;
    END IF;
    FOR counted IN
        SELECT w.week, w.n FROM insights_public_week w
        WHERE w.week >= last_week AND w.week <= top_week ORDER BY w.week DESC
    LOOP
        n := counted.n;
        IF counted.week = top_week THEN
            n := n - after_end - later;
        END IF;
        IF cardinality(late_hours) > 0 THEN
            n := n - (SELECT coalesce(sum(u.reports), 0)
                      FROM unnest(late_hours, late_counts) AS u (hour, reports)
                      WHERE u.hour >= counted.week * {SPAN}
                      AND u.hour < (counted.week + 1) * {SPAN});
        END IF;
        IF upto + n > p_offset THEN
            found := counted.week;
            EXIT;
        END IF;
        upto := upto + n;
    END LOOP;
    IF found IS NULL THEN
        RETURN;
    END IF;
    FOR counted IN
        SELECT h.hour, h.n FROM insights_public_hour h
        WHERE h.hour >= greatest(found * {SPAN}, last)
        AND h.hour <= least((found + 1) * {SPAN} - 1, top) ORDER BY h.hour DESC
    LOOP
        n := counted.n;
        IF counted.hour = top THEN
            n := n - after_end;
        END IF;
        at := array_position(late_hours, counted.hour);
        IF at IS NOT NULL THEN
            n := n - late_counts[at];
        END IF;
        IF upto + n > p_offset THEN
            IF p_offset = upto THEN
                RETURN QUERY SELECT to_timestamp((counted.hour + 1) * 3600), 0::bigint;
                RETURN;
            END IF;
            IF 2 * (p_offset - upto) > n AND counted.hour > last THEN
                -- Nearer the hour's start: counted from its oldest report.
                RETURN QUERY SELECT r.requested_datetime, r.id FROM {REPORTS} r
                    WHERE NOT r.hidden AND r.published_at <= p_now
                    AND r.requested_datetime >= p_start AND r.requested_datetime <= p_end
                    AND r.requested_datetime >= to_timestamp(counted.hour * 3600)
                    AND r.requested_datetime < to_timestamp((counted.hour + 1) * 3600)
                    ORDER BY r.requested_datetime, r.id OFFSET n - (p_offset - upto) LIMIT 1;
                RETURN;
            END IF;
            RETURN QUERY SELECT r.requested_datetime, r.id FROM {REPORTS} r
                WHERE NOT r.hidden AND r.published_at <= p_now
                AND r.requested_datetime >= p_start AND r.requested_datetime <= p_end
                AND r.requested_datetime >= to_timestamp(counted.hour * 3600)
                AND r.requested_datetime < to_timestamp((counted.hour + 1) * 3600)
                ORDER BY r.requested_datetime DESC, r.id DESC OFFSET p_offset - upto - 1 LIMIT 1;
            RETURN;
        END IF;
        upto := upto + n;
    END LOOP;
END
$fn$
"""
DROP_SQL = f"DROP FUNCTION IF EXISTS {FUNCTION}(timestamptz, timestamptz, timestamptz, bigint)"


# --- SQLite ---------------------------------------------------------------------------------

# The window's weeks, newest first, each with the same three figures: the reports after the
# window's end in its last hour, the reports of the hours after that one in its week (both
# counted in that week), and the latest publication time (for the preview's reports).
WEEKS_SQL = (
    "SELECT w.week, w.n, "
    f"(SELECT count(*) FROM {REPORTS} r WHERE NOT r.hidden AND r.requested_datetime > %s "
    "AND r.requested_datetime < %s), "
    "(SELECT coalesce(sum(h.n), 0) FROM insights_public_hour h WHERE h.hour > %s "
    "AND h.hour < %s), "
    f"(SELECT max(r.published_at) FROM {REPORTS} r) "
    "FROM insights_public_week w WHERE w.week >= %s AND w.week <= %s ORDER BY w.week DESC"
)
# Reports still in their preview window, by published_at's index ('+' keeps SQLite off the
# time index).
LATE_SQL = (
    f"SELECT requested_datetime FROM {REPORTS} WHERE NOT hidden AND published_at > %s "
    "AND published_at <= %s AND +requested_datetime >= %s AND +requested_datetime <= %s"
)
HOURS_SQL = (
    "SELECT hour, n FROM insights_public_hour WHERE hour >= %s AND hour <= %s ORDER BY hour DESC"
)
# One bound on each side of the time: SQLite ends its range at the first bound it meets.
STEP_SQL = (
    f"SELECT requested_datetime, id FROM {REPORTS} WHERE NOT hidden AND published_at <= %s "
    "AND requested_datetime >= %s AND requested_datetime {upper} %s "
    "ORDER BY requested_datetime DESC, id DESC LIMIT 1 OFFSET %s"
)
STEP_IN_HOUR, STEP_IN_LAST_HOUR = STEP_SQL.format(upper="<"), STEP_SQL.format(upper="<=")


def hour_number(moment: datetime) -> int:
    """Whole hours since 1970 UTC (floor), as the counts key them."""
    return (moment - UNIX_EPOCH) // HOUR


def _aware(value: Any) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def find(
    *, start: datetime, end: datetime, now: datetime, offset: int
) -> tuple[datetime, int] | None:
    """SQLite's open311_page_position: the position (requested, pk) after which the row at
    `offset` comes, newest first, or None past the last row. Three plain statements (SQLite
    plans them in microseconds, in the process): the window's weeks, one week's hours, and
    at most one hour's index entries (and the preview's reports when there are any), in one
    transaction, so that they agree with each other (a report hidden between two of them
    could otherwise make a page in the middle of the list empty). Not one snapshot with the
    page's own query, as on PostgreSQL: a report filed in between can shift the page by a
    row, as with OFFSET."""
    week = hours.WEEK
    top, last = hour_number(end), hour_number(start)
    top_week = top // week
    adapt = connection.ops.adapt_datetimefield_value
    at_end, at_now = adapt(end), adapt(now)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            WEEKS_SQL,
            (at_end, adapt(UNIX_EPOCH + (top + 1) * HOUR), top, (top_week + 1) * week,
             last // week, top_week),
        )  # fmt: skip
        weeks = cursor.fetchall()
        if not weeks:
            return None
        after_end, later, latest = weeks[0][2:]
        late: Counter[int] = Counter()
        late_weeks: Counter[int] = Counter()
        if latest is not None and _aware(latest) > now:
            cursor.execute(LATE_SQL, (at_now, adapt(_aware(latest)), adapt(start), at_end))
            late.update(hour_number(_aware(row[0])) for row in cursor.fetchall())
            for hour, reports in late.items():
                late_weeks[hour // week] += reports
        upto = 0
        for found, counted, *_ in weeks:
            reports = counted - late_weeks.get(found, 0) - (later + after_end) * (found == top_week)
            if upto + reports > offset:
                break
            upto += reports
        else:
            return None
        cursor.execute(HOURS_SQL, (max(last, found * week), min(top, found * week + week - 1)))
        rows = cursor.fetchall()
        counts = [n - late.get(h, 0) for h, n in rows] if late else [n for _h, n in rows]
        if rows and rows[0][0] == top:
            counts[0] -= after_end
        # The reports before each hour, newest first: the page starts in the last hour
        # whose sum is at most the offset (the running sum passes it there).
        before = list(accumulate(counts, initial=upto))
        at = bisect_right(before, offset) - 1
        if at == len(rows):
            return None
        hour, upto = rows[at][0], before[at]
        if offset == upto:
            return UNIX_EPOCH + (hour + 1) * HOUR, 0
        lowest = adapt(max(start, UNIX_EPOCH + hour * HOUR))
        if hour == top:
            cursor.execute(STEP_IN_LAST_HOUR, (at_now, lowest, at_end, offset - upto - 1))
        else:
            highest = adapt(UNIX_EPOCH + (hour + 1) * HOUR)
            cursor.execute(STEP_IN_HOUR, (at_now, lowest, highest, offset - upto - 1))
        row = cursor.fetchone()
    return None if row is None else (_aware(row[0]), row[1])
