"""The insights summaries' counts of reports loaded with the triggers off (generate_reports).

Why: generate_reports writes a million reports by COPY with the reports' triggers off, and
counting the summaries again from the table afterwards (rollups.rebuild) cost about 4
CPU-seconds at a million reports (a grouped scan of the reports per summary table), on
cores busy building the indexes. The generator holds each batch's values in numpy arrays
already: it counts them as it goes (milliseconds a batch, on its own thread), and the
counts are added to the tables in the load's own transaction, so rows and counts are
committed, or undone, together.

The numbers are rollups.apply_sql's, exactly:
- a day is local to settings.TIME_ZONE as PostgreSQL itself has it: the zone's UTC offset
  is asked of PostgreSQL once for every quarter-hour of the period (the grain at which
  zones change offset); should one change inside a quarter-hour, for_period() answers None
  and the caller recounts with rebuild() instead;
- a close time's bucket is floor(4 · ln(seconds)) with the C library's log, which is what
  PostgreSQL's LN calls (multiplying by 4 is exact);
- a map cell is floor(coordinate / FINE_CELL) in binary floating point, as in SQL;
- an hour is whole hours since 1970 UTC, in integers, and a week 168 of them.
tests/insights/test_summaries.py compares the tables with rebuild()'s after a load.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
from django.conf import settings
from django.db import connection

from reports.bulk import copy_arrays
from reports.insights import rollups
from reports.insights.hours import WEEK  # hours

QUARTER = 15 * 60 * 10**6  # microseconds
DAY = 86400 * 10**6
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # PostgreSQL's, which the generator's times count from
HOUR = 3600 * 10**6
UNIX_HOURS = (EPOCH - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(hours=1)  # at EPOCH

Grouped = tuple[np.ndarray, np.ndarray]  # distinct keys (rows), their sums (rows)


class Tally:
    """Counts for the four summary tables, added batch by batch (add), written once
    (write). Times are whole microseconds since 2000-01-01 UTC, as the generator's."""

    def __init__(self, starts: np.ndarray, offsets: np.ndarray) -> None:
        self.starts = starts  # where each offset begins to hold, in microseconds
        self.offsets = offsets  # the zone's UTC offset from there on, in microseconds
        self.received: list[Grouped] = []
        self.closed: list[Grouped] = []
        self.cells: list[Grouped] = []
        self.hours: list[Grouped] = []

    @classmethod
    def for_period(cls, first: int, last: int) -> Tally | None:
        """A tally for reports requested and closed between `first` and `last`, or None
        where the summaries are not kept for this zone (SQLite, not installed, made for
        another zone) or the zone changes offset inside a quarter-hour of the period."""
        if not rollups.usable():
            return None
        zone = settings.TIME_ZONE
        start = EPOCH + timedelta(microseconds=first - first % QUARTER)
        end = EPOCH + timedelta(microseconds=last)
        offset = "((%s AT TIME ZONE {zone}) - (%s AT TIME ZONE 'UTC'))"
        at_start = offset.replace("%s", "q").format(zone=rollups.zone_literal(zone))
        at_end = offset.replace("%s", "(q + interval '15 minutes' - interval '1 microsecond')")
        at_end = at_end.format(zone=rollups.zone_literal(zone))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT q, off, same FROM (SELECT q, {at_start} AS off, "
                f"{at_start} = {at_end} AS same, lag({at_start}) OVER (ORDER BY q) AS before "
                "FROM generate_series(%s::timestamptz, %s::timestamptz, interval '15 minutes') "
                "AS q) AS quarters WHERE before IS DISTINCT FROM off OR NOT same ORDER BY q",
                [start, end],
            )
            changes = cursor.fetchall()
        if not all(same for _q, _off, same in changes):
            return None
        starts = np.array([micros(q) for q, _off, _same in changes], dtype=np.int64)
        offsets = np.array([off // timedelta(microseconds=1) for _q, off, _s in changes])
        return cls(starts, offsets.astype(np.int64))

    def local_days(self, times: np.ndarray) -> np.ndarray:
        """Days since 2000-01-01 of each time's local date."""
        at = np.maximum(np.searchsorted(self.starts, times, side="right") - 1, 0)
        return (times + self.offsets[at]) // DAY

    def add(
        self,
        *,
        requested: np.ndarray,
        closed: np.ndarray,
        expected: np.ndarray,
        has_target: np.ndarray,
        is_closed: np.ndarray,
        service: np.ndarray,
        department: np.ndarray,
        area: np.ndarray,
        area_set: np.ndarray,
        lat: np.ndarray,
        long: np.ndarray,
    ) -> None:
        """One batch of reports, none hidden (no generated report is), each with a point.
        `department`, `area` and `area_set` are 0 where there is none, as in the tables;
        `closed` and `expected` are read where `is_closed` and `has_target` say so."""
        day = self.local_days(requested)
        ones = np.ones(len(day), dtype=np.int64)
        self.received.append(
            grouped([day, service, department, area, area_set], [ones, is_closed.astype(np.int64)])
        )
        month = (EPOCH_DAY + day).astype("datetime64[M]").astype("datetime64[D]") - EPOCH_DAY
        gy = np.floor(lat / rollups.FINE_CELL).astype(np.int64)
        gx = np.floor(long / rollups.FINE_CELL).astype(np.int64)
        self.cells.append(grouped([month.astype(np.int64), gy, gx], [ones]))
        self.hours.append(grouped([requested // HOUR + UNIX_HOURS], [ones]))
        rows = np.flatnonzero(is_closed)
        if len(rows):
            done, target = closed[rows], has_target[rows]
            within = target & (done <= expected[rows])
            keys = [self.local_days(done), service[rows], department[rows], area[rows]]
            keys.append(area_set[rows])
            distinct, which = distinct_rows(keys)
            sums = summed(which, np.column_stack([ones[rows], target, within]).astype(np.int64))
            # The histogram: one count per (group, bucket), in one pass.
            spots = which * rollups.BUCKETS + buckets(done - requested[rows])
            histogram = np.bincount(spots, minlength=len(distinct) * rollups.BUCKETS)
            self.closed.append(
                (distinct, np.hstack([sums, histogram.reshape(len(distinct), rollups.BUCKETS)]))
            )

    def write(self) -> None:
        """Add the counts to the tables (in the caller's transaction)."""
        received = merged(self.received, 5, 2)
        closed = merged(self.closed, 5, 3 + rollups.BUCKETS)
        cells = merged(self.cells, 3, 1)
        hours = merged(self.hours, 1, 1)
        weeks = grouped([hours[0][:, 0] // WEEK], [hours[1][:, 0]])  # floor, as rollups.WEEK
        date, number, count = np.int32, np.int64, np.int32  # as the tables' columns
        tables = [
            # Generated reports are never hidden: `hidden` is false in every row.
            ("insights_received_day", rollups.RECEIVED_KEY, ["n", "closed"],
             [*columns(received[0], [date, number, number, number, number]),
              np.zeros(len(received[0]), dtype=bool), *columns(received[1], count)]),
            ("insights_closed_day", rollups.CLOSED_KEY,
             ["n", "with_target", "within", *rollups.HISTOGRAM],
             [*columns(closed[0], [date, number, number, number, number]),
              *columns(closed[1], count)]),
            ("insights_cell_month", rollups.CELL_KEY, ["n"],
             [*columns(cells[0], [date, count, count]), *columns(cells[1], count)]),
            ("insights_public_hour", rollups.HOUR_KEY, ["n"],
             [*columns(hours[0], number), *columns(hours[1], count)]),
            ("insights_public_week", rollups.WEEK_KEY, ["n"],
             [*columns(weeks[0], number), *columns(weeks[1], count)]),
        ]  # fmt: skip
        with connection.cursor() as cursor:
            for table, key, values, arrays in tables:
                cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")
                if not cursor.fetchone()[0]:  # nothing to add to (twice as fast as below)
                    copy_arrays(cursor, table, [*key, *values], arrays)
                    continue
                names = ", ".join([*key, *values])
                cursor.execute(f"CREATE TEMP TABLE tally (LIKE {table}) ON COMMIT DROP")
                copy_arrays(cursor, "tally", [*key, *values], arrays)
                cursor.execute(
                    f"INSERT INTO {table} AS t ({names}) SELECT {names} FROM tally "
                    f"ORDER BY {', '.join(key)} ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
                    + ", ".join(f"{v} = t.{v} + EXCLUDED.{v}" for v in values)
                )
                cursor.execute("DROP TABLE tally")


EPOCH_DAY = np.datetime64("2000-01-01", "D")


def columns(table: np.ndarray, types: list[type] | type) -> list[np.ndarray]:
    """The columns of a 2-D array, each as the given type."""
    kinds = types if isinstance(types, list) else [types] * table.shape[1]
    return [table[:, i].astype(kind) for i, kind in enumerate(kinds)]


def micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def buckets(durations: np.ndarray) -> np.ndarray:
    """rollups.BUCKET of each duration (microseconds): floor(4 · ln(max(seconds, 1))),
    clipped to the histogram. numpy's log may differ from the C library's in the last bit,
    which matters only next to a bucket's edge: there the C library's decides."""
    seconds = np.maximum(durations / 1e6, 1.0)
    scaled = np.log(seconds) * 4
    near = np.flatnonzero(np.abs(scaled - np.round(scaled)) < 1e-9)
    for i in near.tolist():
        scaled[i] = math.log(seconds[i]) * 4
    return np.clip(np.floor(scaled), 0, rollups.BUCKETS - 1).astype(np.int64)


def distinct_rows(keys: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of the key columns, and which of them each row is. Each row is
    packed into one integer first (sorting those is some fifty times faster than sorting
    rows), unless the columns' ranges are too wide to pack."""
    columns = [np.asarray(k, dtype=np.int64) for k in keys]
    if not len(columns[0]):
        return np.zeros((0, len(columns)), dtype=np.int64), np.zeros(0, dtype=np.int64)
    lows = [int(c.min()) for c in columns]
    spans = [int(c.max()) - low + 1 for c, low in zip(columns, lows, strict=True)]
    if math.prod(spans) >= 2**62:
        distinct, which = np.unique(np.column_stack(columns), axis=0, return_inverse=True)
        return distinct, which.ravel()
    packed = np.zeros(len(columns[0]), dtype=np.int64)
    for column, low, span in zip(columns, lows, spans, strict=True):
        packed = packed * span + (column - low)
    _, first, which = np.unique(packed, return_index=True, return_inverse=True)
    return np.column_stack([c[first] for c in columns]), which.ravel()


def summed(which: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Each group's sums of the value columns (rows × columns, integers), the groups being
    numbered 0, 1, … by distinct_rows(). Summed in floating point, exact for counts below
    2**53."""
    groups = int(which.max()) + 1 if len(which) else 0
    return np.column_stack(
        [np.bincount(which, weights=column, minlength=groups) for column in values.T]
    ).astype(np.int64)


def grouped(keys: list[np.ndarray], values: list[np.ndarray]) -> Grouped:
    """The distinct rows of the key columns, with each one's sums of the value columns."""
    distinct, which = distinct_rows(keys)
    return distinct, summed(which, np.column_stack([np.asarray(v, dtype=np.int64) for v in values]))


def merged(parts: list[Grouped], keys: int, values: int) -> Grouped:
    """Batches' groups summed into one set of groups (`keys` and `values` columns)."""
    if not parts:
        return np.zeros((0, keys), dtype=np.int64), np.zeros((0, values), dtype=np.int64)
    distinct, which = distinct_rows(list(np.vstack([k for k, _s in parts]).T))
    return distinct, summed(which, np.vstack([s for _k, s in parts]))
