"""Where a deep page of the Open311 list starts, from the reports counted by hour
(PostgreSQL only).

Why: `page` N of the newest-first list found its rows by stepping over the entries of the
(N-1)·size rows before them in an index (PostgreSQL keeps no counts to jump by): page 50
of 100 stepped over 4,900 entries (1 ms at a million reports), page 2,000 over 199,900
(14 ms). insights_public_hour (reports/insights/rollups.py) holds how many reports that
are not hidden were requested in each hour, kept exact by triggers in the transaction of
every change. The database function below sums the hours newest first, a week at a time,
until it reaches the week that holds the page's first row, then that week's hours one by
one to the hour, then steps over that hour's entries in an index (at most an hour's
reports) to the row before it; the page's own query reads on after that row, as after a
cursor. One statement, however deep the page. (Hour by hour alone, the 1,900 hours before
page 300 at 100,000 reports took 0.9 ms; a week at a time 0.4.)

It is a PL/pgSQL function, not plain SQL in the page's query, because PostgreSQL keeps a
function's plans for the connection's life: planned every time, the same work as one
statement took 0.45 ms to plan (the report table has some thirty indexes to weigh) and
0.1 ms to run. Every statement inside is written so that its generic plan (the one kept,
planned without the values) reads an index over a range bounded on both sides.

The counts leave out what changes with the clock alone, and what lies outside the window:
the function subtracts the reports still in their preview window (published_at > now,
found through the insights_sr_published index) and those of the window's last hour after
its end. The window's first hour may hold reports from before its start: they come after
all of that hour's other reports, so a position among them is past the last row.

Used for every page but the first of the list narrowed by nothing but its window of
requested times: even page 2 found so is faster than by stepping over 100 entries, whose
two-level query (ids, then rows) costs more to plan than the function to run (measured at a
million reports: 0.5 ms over page 1 against 1.2). With any other filter a page still steps
over the index.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL

from reports.insights import rollups
from reports.models import ServiceRequest

REPORTS = ServiceRequest._meta.db_table
FUNCTION = "open311_page_position"
# Hours summed at a time (a week) before the hour that holds the page is looked for in them.
SPAN = 168


def usable() -> bool:
    return connection.vendor == "postgresql"


def before_page(*, start: datetime, end: datetime, now: datetime, offset: int) -> RawSQL:
    """A condition on the report table (newest first) that keeps the rows from `offset` on
    of the public reports requested between `start` and `end` (both included), as seen at
    `now`: they come after the position the function gives (past the last row it gives
    none, and the condition keeps no row)."""
    return RawSQL(
        f'("{REPORTS}"."requested_datetime", "{REPORTS}"."id") < '
        f"(SELECT p.requested, p.pk FROM {FUNCTION}(%s, %s, %s, %s) p)",
        (start, end, now, offset),
        BooleanField(),
    )


# The position (requested, pk) after which the row at p_offset comes, newest first: the row
# before it in its hour, or (the hour's end, 0) when it starts its hour (no id is below 1).
# Past the last row (or among the first hour's reports from before the window) it returns
# no row, and a comparison with no row is null: the page is empty. The preview's reports
# are read by published_at alone (the MATERIALIZED step), between now and the latest: so
# bounded, the generic plan reads that index, not the time index over the whole window.
FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}(
    p_start timestamptz, p_end timestamptz, p_now timestamptz, p_offset bigint
) RETURNS TABLE (requested timestamptz, pk bigint)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $fn$
DECLARE
    top bigint := floor(extract(epoch FROM p_end) / 3600);
    last bigint := floor(extract(epoch FROM p_start) / 3600);
    latest timestamptz;
    after_end bigint;
    late_hours bigint[] := '{{}}';
    late_counts bigint[] := '{{}}';
    high bigint;
    low bigint;
    counted record;
    upto bigint := 0;
    n bigint;
    at int;
BEGIN
    SELECT count(*) INTO after_end FROM {REPORTS} r
    WHERE NOT r.hidden AND r.requested_datetime > p_end
    AND r.requested_datetime < to_timestamp((top + 1) * 3600);
    SELECT max(r.published_at) INTO latest FROM {REPORTS} r;
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
    high := top;
    WHILE high >= last LOOP
        low := greatest(high - {SPAN} + 1, last);
        SELECT coalesce(sum(h.n), 0) INTO n FROM insights_public_hour h
        WHERE h.hour >= low AND h.hour <= high;
        IF high = top THEN
            n := n - after_end;
        END IF;
        IF cardinality(late_hours) > 0 THEN
            n := n - (SELECT coalesce(sum(u.reports), 0)
                      FROM unnest(late_hours, late_counts) AS u (hour, reports)
                      WHERE u.hour >= low AND u.hour <= high);
        END IF;
        IF upto + n > p_offset THEN
            EXIT;
        END IF;
        upto := upto + n;
        high := low - 1;
    END LOOP;
    FOR counted IN
        SELECT h.hour, h.n FROM insights_public_hour h
        WHERE h.hour >= low AND h.hour <= high ORDER BY h.hour DESC
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
