"""Where a deep page of the Open311 list starts, from the reports counted by hour
(PostgreSQL only).

Why: `page` N of the newest-first list found its rows by stepping over the entries of the
(N-1)·size rows before them in an index (PostgreSQL keeps no counts to jump by): page 300
of 100 stepped over 29,900 entries, page 2,000 over 199,900 (14 ms at a million reports).
insights_public_hour (reports/insights/rollups.py) holds how many reports that are not
hidden were requested in each hour, kept exact by triggers in the transaction of every
change. A running sum of the hours, newest first, finds the hour that holds the page's
first row and how many rows come before it, reading only as far as that hour; in the same
statement the row before the page's first is found by stepping over that hour's entries
in an index (at most an hour's reports). The page is then read after that row, as after a
cursor: page 2,000 of 100 at a million reports in 3.4 ms in process, against 14.3.

The counts leave out what changes with the clock alone, and what lies outside the window:
the statement subtracts, hour by hour, the reports still in their preview window
(published_at > now: found through the insights_sr_published index) and those after the
window's end. The window's first hour may hold reports from before the window's start:
they come after all of that hour's other reports, so a position among them is past the
last row, and the last page's query leaves them out.

Used for the list narrowed by nothing but its window of requested times, from the
SKIP_AT_LEAST-th row on (before it, stepping over the index is as fast); with any other filter
a page still steps over the index. The position and the page are two statements: a report
filed or hidden between them shifts the page by one row, as between two requests.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import connection

from reports.insights import rollups
from reports.models import ServiceRequest

HOUR = timedelta(hours=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Fewer rows than this are stepped over in the index sooner than they are counted here
# (measured at a million reports: the two cross between pages 60 and 80 of 100).
SKIP_AT_LEAST = 8_000
REPORTS = ServiceRequest._meta.db_table


def hour_of(moment: datetime) -> int:
    """Whole hours since 1970 UTC, as rollups.HOUR computes them (floor)."""
    return (moment - EPOCH) // HOUR


def hour_start(hour: int) -> datetime:
    return EPOCH + hour * HOUR


def usable() -> bool:
    return connection.vendor == "postgresql"


def page_start(
    *, start: datetime, end: datetime, now: datetime, offset: int
) -> tuple[datetime, tuple[datetime, int] | None] | None:
    """Where the row at `offset` of the public reports requested between `start` and `end`
    (both included) is, newest first, as seen at `now`: the end of the hour that holds it
    (the page's rows are before it) and the position of the row before it in that hour, if
    any (the page's rows come after it, as after a cursor); None when there is no such
    row."""
    with connection.cursor() as cursor:
        cursor.execute(
            LOCATE,
            {"start": start, "end": end, "now": now, "offset": offset,
             "top": hour_of(end), "last": hour_of(start)},
        )  # fmt: skip
        found = cursor.fetchone()
    if found is None:  # past the last row
        return None
    hour, before, requested, pk = found
    if pk is None and offset > before:
        # The window's first hour counted reports from before its start: past the last row.
        return None
    return hour_start(hour + 1), (requested, pk) if pk is not None else None


# The hour that holds the row at %(offset)s and how many rows come before it: the hours'
# counts summed newest first (a running sum, read only as far as that hour), less what they
# hold that the list leaves out: reports still in their preview window and reports after
# the window's end (the window's first hour may hold reports before its start: they come
# last in that hour, see above). Then the row before it in that hour, from the index alone
# (none when the page starts the hour, or when the position is past the window's start).
# One statement, however deep the page.
LOCATE = f"""
WITH outside AS MATERIALIZED (
    SELECT {rollups.HOUR} AS hour, count(*) AS n FROM {REPORTS}
    WHERE NOT hidden AND requested_datetime >= %(start)s
    AND (published_at > %(now)s OR requested_datetime > %(end)s) GROUP BY 1
), found AS MATERIALIZED (
    SELECT hour, (upto - n)::bigint AS before FROM (
        SELECT hour, n, sum(n) OVER (ORDER BY hour DESC ROWS UNBOUNDED PRECEDING) AS upto
        FROM (
            SELECT h.hour,
            h.n - COALESCE((SELECT o.n FROM outside o WHERE o.hour = h.hour), 0) AS n
            FROM insights_public_hour h WHERE h.hour <= %(top)s AND h.hour >= %(last)s
            ORDER BY h.hour DESC
        ) AS counted
    ) AS summed WHERE upto > %(offset)s ORDER BY hour DESC LIMIT 1
)
SELECT f.hour, f.before, p.requested_datetime, p.id FROM found f LEFT JOIN LATERAL (
    SELECT requested_datetime, id FROM {REPORTS} WHERE NOT hidden
    AND published_at <= %(now)s AND requested_datetime >= %(start)s
    AND requested_datetime <= %(end)s
    AND requested_datetime < to_timestamp((f.hour + 1) * 3600)
    ORDER BY requested_datetime DESC, id DESC OFFSET GREATEST(%(offset)s - f.before - 1, 0) LIMIT 1
) AS p ON %(offset)s > f.before
"""
