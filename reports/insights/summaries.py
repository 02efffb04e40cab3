"""The dashboard's figures summed from the daily summary tables (PostgreSQL; rollups.py).

Each function gives exactly what the matching scan of the reports in queries.py gives
(same rows, same numbers), from a few thousand summary rows instead of up to a million
reports:

- public figures read the rows of reports that are not hidden, then subtract the reports
  still in their preview window (published_at > now: a handful, through an index), so
  "public" means what ServiceRequest.objects.public() means at this moment;
- a period is a range of local days, as the filters' local midnights are;
- a median or 90th percentile is percentile_cont's: the histogram of close times gives the
  bucket and the offset of the two ranks it interpolates between, and one index-ordered
  read per group and percentile fetches those two close times (all in one query)."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection

from reports.insights import rollups
from reports.insights.filters import Filters

Params = list[Any]


def _fetch(sql: str, params: Params) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def scope_sql(filters: Filters, *, department: bool = True) -> tuple[str, Params]:
    """Filters.scope() as SQL over the columns the reports and the summaries share."""
    parts: list[str] = ["TRUE"]
    params: Params = []
    if filters.service is not None:
        parts.append("service_id = %s")
        params.append(filters.service.pk)
    if department and filters.department is not None:
        parts.append("department_id = %s")
        params.append(filters.department.pk)
    if filters.area_set_ids is not None:
        parts.append("area_set_id = ANY(%s)")
        params.append(filters.area_set_ids)
    return " AND ".join(parts), params


def received_public(
    filters: Filters, days: list[tuple[date, date]], now: datetime
) -> tuple[str, Params]:
    """Rows (day, service_id, department_id, area_id, area_set_id, n) whose sums are the
    public reports requested on `days` (inclusive ranges) in the filters' scope."""
    scope, scope_params = scope_sql(filters)
    local = rollups.local_day("requested_datetime", settings.TIME_ZONE)
    summary_days = " OR ".join(["day BETWEEN %s AND %s"] * len(days))
    report_days = " OR ".join([f"{local} BETWEEN %s AND %s"] * len(days))
    day_params = [d for pair in days for d in pair]
    sql = (
        "SELECT day, service_id, department_id, area_id, area_set_id, n "
        f"FROM insights_received_day WHERE NOT hidden AND ({summary_days}) AND {scope} "
        f"UNION ALL SELECT {local}, service_id, COALESCE(department_id, 0), "
        "COALESCE(area_id, 0), COALESCE(area_set_id, 0), -1 FROM reports_servicerequest "
        f"WHERE NOT hidden AND published_at > %s AND ({report_days}) AND {scope}"
    )
    return sql, [*day_params, *scope_params, now, *day_params, *scope_params]


def closed_public(filters: Filters, now: datetime) -> tuple[str, Params]:
    """Rows keyed like insights_closed_day whose sums are the public reports closed in the
    period, in the filters' scope."""
    scope, scope_params = scope_sql(filters)
    first, last = filters.first_day, filters.last_day
    histogram = ", ".join(
        f"(bucket = {i})::int * n AS {h}" for i, h in enumerate(rollups.HISTOGRAM)
    )
    columns = "day, service_id, department_id, area_id, area_set_id, n, with_target, within"
    pending = rollups.closed_rows("reports_servicerequest", -1, settings.TIME_ZONE)
    local = rollups.local_day("closed_datetime", settings.TIME_ZONE)
    sql = (
        f"SELECT {columns}, {', '.join(rollups.HISTOGRAM)} FROM insights_closed_day "
        f"WHERE day BETWEEN %s AND %s AND {scope} "
        f"UNION ALL SELECT {columns}, {histogram} FROM ({pending} "
        f"AND published_at > %s AND {local} BETWEEN %s AND %s AND {scope}) AS pending"
    )
    return sql, [first, last, *scope_params, now, first, last, *scope_params]


def _monday(column: str) -> str:
    return f"({column} - (EXTRACT(ISODOW FROM {column})::int - 1))"


def weekly_received(filters: Filters, now: datetime) -> list[dict[str, Any]]:
    """New public reports per (local week, category) in the period."""
    rows_sql, params = received_public(filters, [(filters.first_day, filters.last_day)], now)
    rows = _fetch(
        f"SELECT {_monday('day')} AS week, service_id, sum(n) FROM ({rows_sql}) AS r "
        "GROUP BY 1, 2 HAVING sum(n) <> 0",
        params,
    )
    return [{"week": week, "service_id": service, "n": n} for week, service, n in rows]


def weekly_closed(filters: Filters, now: datetime) -> list[dict[str, Any]]:
    """Public reports closed per local week in the period."""
    rows_sql, params = closed_public(filters, now)
    rows = _fetch(
        f"SELECT {_monday('day')} AS week, sum(n) FROM ({rows_sql}) AS r "
        "GROUP BY 1 HAVING sum(n) <> 0",
        params,
    )
    return [{"week": week, "n": n} for week, n in rows]


def month_comparison(
    filters: Filters, this: tuple[date, date], last: tuple[date, date], now: datetime, limit: int
) -> list[dict[str, Any]]:
    """Public reports per category on the days of `this` and of `last` (inclusive)."""
    rows_sql, params = received_public(filters, [this, last], now)
    rows = _fetch(
        "SELECT service_id, COALESCE(sum(n) FILTER (WHERE day >= %s), 0) AS this, "
        "COALESCE(sum(n) FILTER (WHERE day <= %s), 0) AS last "
        f"FROM ({rows_sql}) AS r GROUP BY service_id HAVING sum(n) <> 0 "
        "ORDER BY 2 DESC, 3 DESC, 1 LIMIT %s",
        [this[0], last[1], *params, limit],
    )
    return [{"service_id": s, "this": t, "last": la} for s, t, la in rows]


def response_counts(filters: Filters, by: str, now: datetime) -> dict[Any, dict[str, Any]] | None:
    """Per group (department_id or service_id, None for "not routed"): closed, with a
    target, within it, and the median and 90th percentile in seconds. None when a report
    changed between the histogram's read and the ranks' (two statements, two snapshots):
    the caller then scans."""
    rows_sql, params = closed_public(filters, now)
    sums = ", ".join(f"sum({h})" for h in rollups.HISTOGRAM)
    rows = _fetch(
        f"SELECT {by}, sum(n), sum(with_target), sum(within), {sums} FROM ({rows_sql}) AS r "
        f"GROUP BY {by} HAVING sum(n) <> 0",
        params,
    )
    found: dict[Any, dict[str, Any]] = {}
    reads: list[tuple[Any, float, int, int]] = []  # (group, percentile, bucket, offset)
    for key, n, with_target, within, *histogram in rows:
        group = None if by == "department_id" and key == 0 else key
        found[group] = {"n": n, "with_target": with_target, "within": within}
        for p in (0.5, 0.9):
            bucket, offset = _locate(histogram, math.floor(p * (n - 1)))
            reads.append((group, p, bucket, offset))
    values = _read_ranks(filters, by, reads, now)
    for group, counts in found.items():
        n = counts["n"]
        for name, p in (("median", 0.5), ("p90", 0.9)):
            rank = p * (n - 1)
            pair = sorted(values.get((group, p), []))
            if len(pair) < (2 if math.ceil(rank) > math.floor(rank) else 1):
                return None
            low = pair[0]
            high = pair[1] if math.ceil(rank) > math.floor(rank) else low
            # percentile_cont's interpolation, in the same double-precision arithmetic.
            counts[name] = low + (high - low) * (rank - math.floor(rank))
    return found


def _locate(histogram: list[int], rank: int) -> tuple[int, int]:
    """The bucket holding the rank-th close time (from 0), and its offset in the bucket."""
    seen = 0
    for bucket, count in enumerate(histogram):
        if rank < seen + count:
            return bucket, rank - seen
        seen += count
    raise ValueError("rank beyond the histogram")


def _read_ranks(
    filters: Filters, by: str, reads: list[tuple[Any, float, int, int]], now: datetime
) -> dict[tuple[Any, float], list[float]]:
    """The close times at each (group, percentile)'s rank and the next one: reading the
    index on (group, bucket, close time) from the bucket on, in one query."""
    if not reads:
        return {}
    scope, scope_params = scope_sql(filters)
    # The period's first and last instants as PostgreSQL's own time zone rules place them
    # (the rules the summary's local days were computed with).
    zone = rollups.zone_literal(settings.TIME_ZONE)
    period = (
        f"closed_datetime >= (%s::timestamp AT TIME ZONE {zone}) "
        f"AND closed_datetime < (%s::timestamp AT TIME ZONE {zone})"
    )
    after_last = filters.last_day + timedelta(days=1)
    parts, params = [], []
    for tag, (group, _p, bucket, offset) in enumerate(reads):
        group_sql = f"{by} IS NULL" if group is None else f"{by} = %s"
        parts.append(
            f"(SELECT {tag} AS tag, {rollups.DURATION} AS seconds FROM reports_servicerequest "
            f"WHERE status = 'closed' AND NOT hidden AND published_at <= %s "
            f"AND {period} AND {scope} AND {group_sql} "
            f"AND {rollups.BUCKET} >= %s "
            f"ORDER BY {rollups.BUCKET}, {rollups.DURATION} OFFSET %s LIMIT 2)"
        )
        params += [now, filters.first_day, after_last, *scope_params]
        params += [] if group is None else [group]
        params += [bucket, offset]
    values: dict[tuple[Any, float], list[float]] = {}
    for tag, seconds in _fetch(" UNION ALL ".join(parts), params):
        group, p, _bucket, _offset = reads[tag]
        values.setdefault((group, p), []).append(seconds)
    return values


def area_set_counts(filters: Filters, now: datetime) -> dict[int, int]:
    """Public reports per set of areas (departments.AreaSet) requested in the period."""
    rows_sql, params = received_public(filters, [(filters.first_day, filters.last_day)], now)
    rows = _fetch(
        f"SELECT area_set_id, sum(n) FROM ({rows_sql}) AS r WHERE area_set_id <> 0 "
        "GROUP BY 1 HAVING sum(n) <> 0",
        params,
    )
    return dict(rows)


def _month_after(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def whole_months(first: date, last: date) -> tuple[date, date] | None:
    """The first days of the first and the last whole local month within [first, last]."""
    start = first if first.day == 1 else _month_after(first)
    end = start
    if _month_after(start) - timedelta(days=1) > last:
        return None
    while _month_after(_month_after(end)) - timedelta(days=1) <= last:
        end = _month_after(end)
    return start, end


def grid_counts(filters: Filters, factor: int, now: datetime) -> list[tuple[float, float, int]]:
    """Public reports with a map point per cell of `factor` finest cells, in the period,
    most first (the map's order): whole months from insights_cell_month, less the reports
    still in their preview window, plus the days at either end read from the reports.
    Only for the whole city and every category (the table has no other dimension)."""
    months = whole_months(filters.first_day, filters.last_day)
    assert months is not None
    first_month, last_month = months
    after = _month_after(last_month)
    zone = rollups.zone_literal(settings.TIME_ZONE)
    fine = f"CAST('{rollups.FINE_CELL!r}' AS float8)"
    point = (
        f"SELECT floor(lat / {fine})::int AS gy, floor(long / {fine})::int AS gx, {{sign}} AS n "
        "FROM reports_servicerequest WHERE NOT hidden AND lat IS NOT NULL AND long IS NOT NULL "
        f"AND requested_datetime >= (%s::timestamp AT TIME ZONE {zone}) "
        f"AND requested_datetime < (%s::timestamp AT TIME ZONE {zone})"
    )
    parts = [
        "SELECT gy, gx, n FROM insights_cell_month WHERE month BETWEEN %s AND %s",
        point.format(sign=-1) + " AND published_at > %s",
    ]
    params: Params = [first_month, last_month, first_month, after, now]
    # The days before the first whole month and after the last (half-open ranges).
    for edge_from, edge_to in (
        (filters.first_day, first_month),
        (after, filters.last_day + timedelta(days=1)),
    ):
        if edge_from < edge_to:
            parts.append(point.format(sign=1) + " AND published_at <= %s")
            params += [edge_from, edge_to, now]
    rows = _fetch(
        f"SELECT floor(gy / %s::float8) AS gy, floor(gx / %s::float8) AS gx, sum(n) "
        f"FROM ({' UNION ALL '.join(parts)}) AS r GROUP BY 1, 2 HAVING sum(n) <> 0",
        [factor, factor, *params],
    )
    return sorted(rows, key=lambda r: (-r[2], r[0], r[1]))


# Staff figures (every report, hidden and unpublished ones too) -------------------------


def staff_totals(filters: Filters) -> dict[str, int]:
    scope, params = scope_sql(filters)
    [(received, hidden, closed)] = _fetch(
        "SELECT COALESCE(sum(n), 0), COALESCE(sum(n) FILTER (WHERE hidden), 0), "
        "COALESCE(sum(closed), 0) FROM insights_received_day "
        f"WHERE day BETWEEN %s AND %s AND {scope}",
        [filters.first_day, filters.last_day, *params],
    )
    return {"received": received, "hidden": hidden, "closed": closed}


def area_department_counts(filters: Filters) -> list[dict[str, Any]]:
    """Reports per (area, department) requested in the period (areas only), for the
    category and area filters."""
    scope, params = scope_sql(filters, department=False)
    rows = _fetch(
        "SELECT area_id, department_id, sum(n) FROM insights_received_day "
        f"WHERE area_id <> 0 AND day BETWEEN %s AND %s AND {scope} "
        "GROUP BY 1, 2 HAVING sum(n) <> 0",
        [filters.first_day, filters.last_day, *params],
    )
    return [
        {"area_id": area, "department_id": department or None, "n": n}
        for area, department, n in rows
    ]
