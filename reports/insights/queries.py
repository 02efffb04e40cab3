"""The dashboard's figures, each computed in the database with a fixed number of queries.

Weeks and months are the city's (TIME_ZONE), so a week that crosses a daylight-saving change
still starts on Monday at local midnight. Percentiles use PostgreSQL's percentile_cont; on
SQLite, which has none, a fallback reads one group's durations at a time (SQLite is the
laptop database, never the million-report one)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Func, Q, QuerySet
from django.db.models.functions import TruncWeek
from django.utils import timezone

from departments.models import Department
from reports.insights import rollups, summaries
from reports.insights.filters import Filters, city_zone, local_midnight
from reports.models import Service, ServiceRequest
from reports.querysets import ServiceRequestQuerySet

TOP_CATEGORIES = 6
OTHER = "Other categories"


def min_sample() -> int:
    """Below this many closed reports a group's response time is shown but not ranked."""
    return int(getattr(settings, "INSIGHTS_MIN_SAMPLE", 10))


@dataclass
class Table:
    """A figure's numbers: what the accessible table and the CSV show."""

    slug: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    notes: list[str] = field(default_factory=list)


@dataclass
class WeeklySeries:
    weeks: list[date]
    series: list[tuple[str, list[int]]]

    def table(self, slug: str, title: str) -> Table:
        columns = ["Week starting"] + [name for name, _ in self.series]
        rows = [
            [week.isoformat()] + [values[i] for _, values in self.series]
            for i, week in enumerate(self.weeks)
        ]
        return Table(slug, title, columns, rows)


def public_in_scope(filters: Filters) -> ServiceRequestQuerySet:
    return ServiceRequest.objects.public().filter(filters.scope())


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weeks_of(filters: Filters) -> list[date]:
    first, last = week_start(filters.first_day), week_start(filters.last_day)
    weeks = []
    while first <= last:
        weeks.append(first)
        first += timedelta(days=7)
    return weeks


def _as_local_date(value: datetime | date) -> date:
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = value.astimezone(city_zone())
        return value.date()
    return value


def _weekly_counts(queryset: QuerySet[ServiceRequest], date_field: str, *group: str) -> list[dict]:
    week = TruncWeek(date_field, tzinfo=city_zone())
    return list(
        queryset.annotate(week=week).values("week", *group).annotate(n=Count("pk")).order_by()
    )


def service_names(ids: Iterable[int]) -> dict[int, str]:
    """Names for ids that came out of a GROUP BY: grouping by the id (not joining the name
    onto every row) keeps the aggregate a narrow hash of integers."""
    return dict(Service.objects.filter(pk__in=list(ids)).values_list("pk", "name"))


def department_names(ids: Iterable[int | None]) -> dict[int | None, str]:
    found = Department.objects.filter(pk__in=[i for i in ids if i is not None])
    return {None: "Not routed", **dict(found.values_list("pk", "name"))}


def weekly_by_category(filters: Filters) -> WeeklySeries:
    """New reports per week, for the top categories of the period and the rest together."""
    in_period = public_in_scope(filters).filter(
        requested_datetime__gte=filters.start, requested_datetime__lt=filters.end
    )
    weeks = weeks_of(filters)
    counts: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    totals: dict[str, int] = defaultdict(int)
    if rollups.usable():
        rows = summaries.weekly_received(filters, timezone.now())
    else:
        rows = _weekly_counts(in_period, "requested_datetime", "service_id")
    names = service_names({row["service_id"] for row in rows})
    for row in rows:
        name = names[row["service_id"]]
        counts[name][_as_local_date(row["week"])] += row["n"]
        totals[name] += row["n"]
    ranked = sorted(totals, key=lambda name: (-totals[name], name))
    top, rest = ranked[:TOP_CATEGORIES], ranked[TOP_CATEGORIES:]
    series = [(name, [counts[name][week] for week in weeks]) for name in top]
    if rest:
        series.append((OTHER, [sum(counts[name][week] for name in rest) for week in weeks]))
    return WeeklySeries(weeks, series)


def new_vs_closed(filters: Filters, *, weekly: WeeklySeries | None = None) -> WeeklySeries:
    """Reports received and reports closed, per week. Pass the period's weekly_by_category
    to reuse its counts instead of scanning the period a second time."""
    scope = public_in_scope(filters)
    weeks = weeks_of(filters)
    fast = rollups.usable()
    if weekly is not None and weekly.weeks == weeks:
        new = [sum(values[i] for _, values in weekly.series) for i in range(len(weeks))]
    else:
        new_by_week: dict[date, int] = defaultdict(int)
        if fast:
            received = summaries.weekly_received(filters, timezone.now())
        else:
            received = _weekly_counts(
                scope.filter(
                    requested_datetime__gte=filters.start, requested_datetime__lt=filters.end
                ),
                "requested_datetime",
            )
        for r in received:
            new_by_week[_as_local_date(r["week"])] += r["n"]
        new = [new_by_week.get(week, 0) for week in weeks]
    if fast:
        closed_rows = summaries.weekly_closed(filters, timezone.now())
    else:
        closed = scope.filter(closed_datetime__gte=filters.start, closed_datetime__lt=filters.end)
        closed_rows = _weekly_counts(closed, "closed_datetime")
    closed_by_week = {_as_local_date(r["week"]): r["n"] for r in closed_rows}
    return WeeklySeries(
        weeks, [("New", new), ("Closed", [closed_by_week.get(week, 0) for week in weeks])]
    )


@dataclass
class MonthComparison:
    this_start: date
    this_end: date  # inclusive
    last_start: date
    last_end: date  # inclusive
    rows: list[dict[str, Any]]

    def table(self) -> Table:
        return Table(
            "top-categories",
            "Top categories this month",
            ["Category", "This month", "Same days last month", "Change", "Change (%)"],
            [[r["name"], r["this"], r["last"], r["change"], r["change_pct"]] for r in self.rows],
            notes=[
                f"This month: {self.this_start:%-d %b}–{self.this_end:%-d %b %Y}; "
                f"compared with {self.last_start:%-d %b}–{self.last_end:%-d %b %Y}."
            ],
        )


def top_categories_month(
    filters: Filters, *, now: datetime | None = None, limit: int = 10
) -> MonthComparison:
    """The top categories of the current month so far, against the same days of last month
    (a fair comparison: 25 days against 25 days, not against a whole month)."""
    today = (now or timezone.now()).astimezone(city_zone()).date()
    this_start = today.replace(day=1)
    last_start = (this_start - timedelta(days=1)).replace(day=1)
    days_so_far = (today - this_start).days + 1
    last_month_days = (this_start - last_start).days
    last_end = last_start + timedelta(days=min(days_so_far, last_month_days) - 1)
    this_from, this_to = local_midnight(this_start), local_midnight(today + timedelta(days=1))
    last_from, last_to = local_midnight(last_start), local_midnight(last_end + timedelta(days=1))
    if rollups.usable():
        rows = summaries.month_comparison(
            filters, (this_start, today), (last_start, last_end), timezone.now(), limit
        )
    else:
        rows = _month_rows(filters, (this_from, this_to), (last_from, last_to), limit)
    names = service_names(row["service_id"] for row in rows)
    result = []
    for row in rows:
        change = row["this"] - row["last"]
        pct = round(100 * change / row["last"]) if row["last"] else None
        result.append(
            {
                "name": names[row["service_id"]],
                "this": row["this"],
                "last": row["last"],
                "change": change,
                "change_pct": pct,
            }
        )
    return MonthComparison(this_start, today, last_start, last_end, result)


def _month_rows(
    filters: Filters, this: tuple[datetime, datetime], last: tuple[datetime, datetime], limit: int
) -> list[dict[str, Any]]:
    """The portable scan behind top_categories_month: public reports per category in two
    half-open ranges of instants."""
    rows = (
        public_in_scope(filters)
        .filter(
            Q(requested_datetime__gte=this[0], requested_datetime__lt=this[1])
            | Q(requested_datetime__gte=last[0], requested_datetime__lt=last[1])
        )
        .values("service_id")
        .annotate(
            this=Count("pk", filter=Q(requested_datetime__gte=this[0])),
            last=Count("pk", filter=Q(requested_datetime__lt=last[1])),
        )
        .order_by("-this", "-last", "service_id")[:limit]
    )
    return [dict(row) for row in rows]


def backlog_by_department(filters: Filters, *, now: datetime | None = None) -> Table:
    """Open reports today (whatever the period), and how many are past their target."""
    moment = now or timezone.now()
    rows = list(
        public_in_scope(filters)
        .open()
        .values("department_id")
        .annotate(
            n=Count("pk"),
            overdue=Count("pk", filter=Q(expected_datetime__lt=moment)),
        )
        .order_by("-n", "department_id")
    )
    names = department_names(r["department_id"] for r in rows)
    return Table(
        "backlog",
        "Open backlog by department",
        ["Department", "Open reports", "Past target"],
        [[names[r["department_id"]], r["n"], r["overdue"]] for r in rows],
    )


# Response times --------------------------------------------------------------------------


class PercentileCont(Aggregate):
    """PostgreSQL's percentile_cont(p) WITHIN GROUP (ORDER BY expr): linear interpolation
    between the two nearest ranks, the same definition as the fallback below."""

    function = "percentile_cont"
    template = "%(function)s(%(percentile)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, percentile: float, **extra: Any) -> None:
        if not 0 <= percentile <= 1:
            raise ValueError("percentile must be between 0 and 1")
        super().__init__(expression, percentile=float(percentile), **extra)


class EpochSeconds(Func):
    """closed - requested, in seconds (PostgreSQL)."""

    template = "EXTRACT(EPOCH FROM (%(expressions)s))"
    arg_joiner = " - "
    output_field = FloatField()


def percentile(sorted_values: Sequence[float], p: float) -> float | None:
    """percentile_cont on a sorted list: rank (n-1)·p, interpolated linearly."""
    if not sorted_values:
        return None
    rank = (len(sorted_values) - 1) * p
    low, high = math.floor(rank), math.ceil(rank)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


@dataclass
class ResponseRow:
    name: str
    closed: int
    median_hours: float | None
    p90_hours: float | None
    with_target: int
    within_target: int

    @property
    def within_target_pct(self) -> int | None:
        if not self.with_target:
            return None
        return round(100 * self.within_target / self.with_target)

    @property
    def small_sample(self) -> bool:
        return self.closed < min_sample()


@dataclass
class ResponseTimes:
    slug: str
    title: str
    ranked: list[ResponseRow]
    small: list[ResponseRow]

    def table(self) -> Table:
        rows = []
        for rank, row in enumerate(self.ranked, start=1):
            rows.append(self._row(str(rank), row))
        for row in self.small:
            rows.append(self._row("small sample", row))
        return Table(
            self.slug,
            self.title,
            [
                "Rank",
                self.title.split(" by ")[-1].capitalize(),
                "Closed",
                "Median (hours)",
                "90th percentile (hours)",
                "Closed within target (%)",
            ],
            rows,
            notes=[
                f"Groups with fewer than {min_sample()} closed reports are shown as a small "
                "sample and not ranked."
            ],
        )

    @staticmethod
    def _row(rank: str, row: ResponseRow) -> list[Any]:
        return [
            rank,
            row.name,
            row.closed,
            _hours(row.median_hours),
            _hours(row.p90_hours),
            row.within_target_pct,
        ]


def _hours(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def response_times(filters: Filters, *, by: str) -> ResponseTimes:
    """Time from report to close, for reports closed in the period, by department or by
    category: median, 90th percentile, and the share closed by its target time."""
    group = {"department": "department_id", "service": "service_id"}[by]
    title = {"department": "Response time by department", "service": "Response time by category"}
    closed = (
        public_in_scope(filters)
        .closed()
        .filter(closed_datetime__gte=filters.start, closed_datetime__lt=filters.end)
    )
    summed = summaries.response_counts(filters, group, timezone.now()) if rollups.usable() else None
    if summed is not None:
        counts = summed
        quantiles = {key: (r["median"], r["p90"]) for key, r in counts.items()}
    else:
        counts, quantiles = _response_counts(closed, group)
    names: dict[Any, str] = dict(
        department_names(counts) if by == "department" else service_names(counts)
    )
    rows = []
    for key, count in counts.items():
        median, p90 = quantiles.get(key, (None, None))
        rows.append(
            ResponseRow(
                name=names[key],
                closed=count["n"],
                median_hours=None if median is None else median / 3600,
                p90_hours=None if p90 is None else p90 / 3600,
                with_target=count["with_target"],
                within_target=count["within"],
            )
        )
    ranked = sorted(
        (r for r in rows if not r.small_sample),
        key=lambda r: (r.median_hours or 0, r.p90_hours or 0, r.name),
    )
    small = sorted((r for r in rows if r.small_sample), key=lambda r: r.name)
    return ResponseTimes(by, title[by], ranked, small)


def _response_counts(
    closed: QuerySet[ServiceRequest], group: str
) -> tuple[dict[Any, dict[str, Any]], dict[Any, tuple[float | None, float | None]]]:
    """The scan behind response_times: counts per group, and the quantiles in seconds."""
    aggregates: dict[str, Any] = {
        "n": Count("pk"),
        "with_target": Count("pk", filter=Q(expected_datetime__isnull=False)),
        "within": Count("pk", filter=Q(closed_datetime__lte=F("expected_datetime"))),
    }
    postgres = connection.vendor == "postgresql"
    if postgres:
        seconds = EpochSeconds(F("closed_datetime"), F("requested_datetime"))
        aggregates["median"] = PercentileCont(seconds, 0.5)
        aggregates["p90"] = PercentileCont(seconds, 0.9)
    counts = {r[group]: r for r in closed.values(group).annotate(**aggregates).order_by()}
    if postgres:
        quantiles = {name: (r["median"], r["p90"]) for name, r in counts.items()}
    else:
        quantiles = _quantiles_in_python(closed, group)
    return counts, quantiles


def _quantiles_in_python(
    closed: QuerySet[ServiceRequest], group: str
) -> dict[Any, tuple[float | None, float | None]]:
    """The portable fallback: one group's durations in memory at a time, sorted by the
    database by group."""
    result: dict[Any, tuple[float | None, float | None]] = {}
    rows: Iterable[tuple[Any, datetime, datetime]] = (
        closed.values_list(group, "requested_datetime", "closed_datetime")
        .order_by(group)
        .iterator(chunk_size=5000)
    )
    current: Any = object()
    durations: list[float] = []

    def flush() -> None:
        durations.sort()
        result[current] = (percentile(durations, 0.5), percentile(durations, 0.9))

    for name, requested, closed_at in rows:
        if name != current:
            if durations:
                flush()
            current, durations = name, []
        durations.append((closed_at - requested).total_seconds())
    if durations:
        flush()
    return result
