"""The daily summary tables (PostgreSQL): every figure read from them equals the scan of
the reports it replaces, after reports are created, closed, reopened, hidden, forwarded,
recategorised, published, moved between areas and deleted; and a rebuild finds what the
triggers kept."""

from __future__ import annotations

import io
import random
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from reports.insights import hotspots, queries, rollups, staff
from reports.insights.filters import Filters, local_midnight
from reports.services import triage
from tests.factories import (
    BoundaryFactory,
    DepartmentFactory,
    ServiceFactory,
    ServiceRequestFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the summary tables are PostgreSQL's"
)

NY = ZoneInfo("America/New_York")


@pytest.fixture(autouse=True)
def _new_york(settings) -> None:
    settings.TIME_ZONE = "America/New_York"
    settings.INSIGHTS_MIN_SAMPLE = 3


def days_ago(days: float, hour: int = 12) -> datetime:
    today = timezone.now().astimezone(NY).date()
    return datetime.combine(today - timedelta(days=int(days)), datetime.min.time(), NY).replace(
        hour=hour
    ) + timedelta(hours=(days % 1) * 24)


def period(days: int, **kwargs: Any) -> Filters:
    today = timezone.now().astimezone(NY).date()
    first = today - timedelta(days=days - 1)
    return Filters(
        start=local_midnight(first), end=local_midnight(today + timedelta(days=1)), **kwargs
    )


def figures(filters: Filters) -> dict[str, Any]:
    return {
        "weekly": queries.weekly_by_category(filters),
        "flow": queries.new_vs_closed(filters),
        "month": queries.top_categories_month(filters),
        "by_department": queries.response_times(filters, by="department"),
        "by_service": queries.response_times(filters, by="service"),
        "totals": staff.period_totals(filters),
        "cross": staff.cross_department(filters),
    }


def assert_same_as_scan(monkeypatch, filters_list: list[Filters]) -> None:
    assert rollups.usable()
    for filters in filters_list:
        fast = figures(filters)
        with monkeypatch.context() as patch:
            patch.setattr(rollups, "usable", lambda: False)
            slow = figures(filters)
        assert fast == slow


def summary_rows() -> dict[str, set[tuple[Any, ...]]]:
    """The tables, without the rows that went back to nothing."""
    found = {}
    with connection.cursor() as cursor:
        for table, key in (
            ("insights_received_day", rollups.RECEIVED_KEY),
            ("insights_closed_day", rollups.CLOSED_KEY),
            ("insights_cell_month", rollups.CELL_KEY),
            ("insights_public_hour", rollups.HOUR_KEY),
            ("insights_public_week", rollups.WEEK_KEY),
        ):
            cursor.execute(f"SELECT * FROM {table}")
            found[table] = {row for row in cursor.fetchall() if any(row[len(key) :])}
    return found


@pytest.fixture
def city() -> dict[str, Any]:
    roads, parks = DepartmentFactory(name="Roads"), DepartmentFactory(name="Parks")
    north = BoundaryFactory(name="North")
    south = BoundaryFactory(name="South")
    pothole = ServiceFactory(name="Pothole", department=roads)
    tree = ServiceFactory(name="Fallen tree", department=parks)
    return {
        "roads": roads,
        "parks": parks,
        "north": north,
        "south": south,
        "pothole": pothole,
        "tree": tree,
        "agent": UserFactory(is_staff=True),
    }


def filter_sets(city: dict[str, Any]) -> list[Filters]:
    return [
        period(365),
        period(30),
        period(90, service=city["pothole"]),
        period(365, department=city["parks"]),
        period(365, area=city["north"]),
    ]


def make_reports(city: dict[str, Any], count: int, seed: int = 7) -> list[Any]:
    """Reports over the last year, a third of them closed after between minutes and weeks."""
    draw = random.Random(seed)
    made = []
    for _ in range(count):
        requested = days_ago(draw.uniform(0, 360))
        service = draw.choice([city["pothole"], city["tree"]])
        kwargs: dict[str, Any] = {
            "service": service,
            "area": draw.choice([city["north"], city["south"], None]),
            "requested_datetime": requested,
            "expected_datetime": requested + timedelta(hours=draw.choice([24, 72])),
        }
        if draw.random() < 0.6:
            closed = requested + timedelta(seconds=draw.lognormvariate(11, 1.5))
            if closed < timezone.now():
                kwargs.update(
                    state="fixed", status="closed", closed_datetime=closed, updated_datetime=closed
                )
        made.append(ServiceRequestFactory(**kwargs))
    return made


@postgres_only
def test_figures_equal_the_scan_through_every_kind_of_change(city, monkeypatch) -> None:
    reports = make_reports(city, 120)
    assert_same_as_scan(monkeypatch, filter_sets(city))
    agent = city["agent"]
    open_ones = [r for r in reports if r.status == "open"]
    closed_ones = [r for r in reports if r.status == "closed"]
    for report in open_ones[:8]:
        triage.report_close(report=report, author=agent)
    triage.report_reopen(report=closed_ones[0], author=agent)
    triage.report_moderate(
        report=closed_ones[1], author=agent, hidden=True, description_redacted=False, reason="Spam"
    )
    moved = open_ones[9]
    other = city["parks"] if moved.department_id == city["roads"].pk else city["roads"]
    triage.report_forward(report=moved, author=agent, department=other)
    recategorised = open_ones[10]
    service = city["tree"] if recategorised.service_id == city["pothole"].pk else city["pothole"]
    triage.report_recategorise(report=recategorised, author=agent, service=service)
    closed_ones[2].area = city["north"]
    closed_ones[2].save(update_fields=["area"])
    closed_ones[3].delete()
    assert_same_as_scan(monkeypatch, filter_sets(city))


@postgres_only
def test_reports_in_their_preview_window_count_once_published(city, monkeypatch) -> None:
    make_reports(city, 20)
    now = timezone.now()
    preview = ServiceRequestFactory(
        service=city["pothole"], requested_datetime=now, published_at=now + timedelta(minutes=5)
    )
    weekly = queries.weekly_by_category(period(30))
    assert_same_as_scan(monkeypatch, [period(30)])
    preview.published_at = now - timedelta(seconds=1)
    preview.save(update_fields=["published_at"])
    after = queries.weekly_by_category(period(30))
    assert sum(map(sum, (v for _, v in after.series))) == (
        sum(map(sum, (v for _, v in weekly.series))) + 1
    )
    assert_same_as_scan(monkeypatch, [period(30)])


@postgres_only
def test_percentiles_exact_across_histogram_buckets(city, monkeypatch) -> None:
    """Many close times in and across buckets: the median and 90th percentile are still
    percentile_cont's, to the last bit."""
    make_reports(city, 300, seed=11)
    assert_same_as_scan(monkeypatch, [period(365), period(120, area=city["south"])])


@postgres_only
def test_a_report_closed_between_the_two_reads_falls_back_to_the_scan(city, monkeypatch) -> None:
    """The histogram and the ranks are two statements: a report that changes between them
    leaves a rank with no close time, and the figure is then scanned, not a 500."""
    from reports.insights import summaries

    make_reports(city, 40, seed=5)
    filters = period(365)
    expected = queries.response_times(filters, by="department")
    monkeypatch.setattr(summaries, "_read_ranks", lambda *args: {})
    assert summaries.response_counts(filters, "department_id", timezone.now()) is None
    assert queries.response_times(filters, by="department") == expected


@postgres_only
def test_rebuild_finds_what_the_triggers_kept(city) -> None:
    reports = make_reports(city, 60)
    triage.report_close(report=next(r for r in reports if r.status == "open"), author=city["agent"])
    kept = summary_rows()
    assert kept["insights_received_day"] and kept["insights_closed_day"]
    call_command("rebuild_insights", stdout=io.StringIO())
    assert summary_rows() == kept


@postgres_only
def test_generated_reports_are_counted(city, monkeypatch) -> None:
    """generate_reports loads by COPY with the triggers off and counts the summaries as it
    generates (no recount from the table): the same rows as a recount, over 400 days (both
    changes of daylight saving time), added to what was there."""
    make_reports(city, 10)
    recounts = []
    with monkeypatch.context() as patch:
        patch.setattr(rollups, "rebuild", lambda: recounts.append(1))
        call_command(
            "generate_reports", "--count", "600", "--days", "400", "--batch", "250",
            stdout=io.StringIO(),
        )  # fmt: skip
    assert recounts == []
    assert_same_as_scan(monkeypatch, [period(400), period(90, area=city["north"])])
    kept = summary_rows()
    rollups.rebuild()
    assert summary_rows() == kept
    assert sum(row[len(rollups.RECEIVED_KEY)] for row in kept["insights_received_day"]) == 610
    assert sum(row[-1] for row in kept["insights_cell_month"]) == 610


@postgres_only
def test_generated_reports_are_recounted_where_the_summaries_are_for_another_zone(
    city, settings
) -> None:
    """Summaries made for another zone can't be added to: the load recounts them all, for
    the city's zone."""
    make_reports(city, 10)
    settings.TIME_ZONE = "Europe/Paris"
    assert not rollups.usable()
    call_command("generate_reports", "--count", "200", "--days", "60", stdout=io.StringIO())
    assert rollups.usable()
    kept = summary_rows()
    rollups.rebuild()
    assert summary_rows() == kept
    assert sum(row[len(rollups.RECEIVED_KEY)] for row in kept["insights_received_day"]) == 210


@postgres_only
def test_map_cells_equal_the_scan_at_every_size(city, monkeypatch) -> None:
    """Points anywhere, on cell edges too (multiples of the finest cell, on both sides of
    zero), hidden ones and one in its preview window; periods with and without whole
    months."""
    draw = random.Random(3)
    edges = [0.0, 0.0025, 0.005, 0.01, -0.0025, -0.005, 35.7775, -78.64]
    for i in range(150):
        lat = draw.choice(edges) if i % 3 == 0 else draw.uniform(35.7, 35.9)
        long = draw.choice(edges) if i % 5 == 0 else draw.uniform(-78.8, -78.5)
        ServiceRequestFactory(
            service=city["pothole"],
            lat=lat,
            long=long,
            requested_datetime=days_ago(draw.uniform(0, 200)),
            hidden=i % 17 == 0,
        )
    ServiceRequestFactory(
        service=city["pothole"], published_at=timezone.now() + timedelta(minutes=5)
    )
    ServiceRequestFactory(service=city["pothole"], lat=None, long=None)
    assert hotspots._summed_cells(period(365), 0.005) is not None
    for filters in (period(365), period(90), period(40), period(365, service=city["pothole"])):
        for size in hotspots.CELL_SIZES.values():
            fast = hotspots.grid_cells(filters, size)
            with monkeypatch.context() as patch:
                patch.setattr(rollups, "usable", lambda: False)
                slow = hotspots.grid_cells(filters, size)
            assert fast == slow and fast


def test_whole_months_of_a_period() -> None:
    from reports.insights.summaries import whole_months

    assert whole_months(date(2026, 1, 1), date(2026, 1, 31)) == (date(2026, 1, 1),) * 2
    assert whole_months(date(2026, 1, 2), date(2026, 3, 30)) == (date(2026, 2, 1),) * 2
    assert whole_months(date(2025, 12, 5), date(2026, 12, 4)) == (
        date(2026, 1, 1),
        date(2026, 11, 1),
    )
    assert whole_months(date(2026, 1, 2), date(2026, 2, 27)) is None


@postgres_only
def test_summaries_unused_when_the_city_zone_changes(settings) -> None:
    settings.TIME_ZONE = "Europe/Paris"
    assert not rollups.usable()


def test_figures_need_no_summaries_elsewhere() -> None:
    if connection.vendor != "postgresql":
        assert not rollups.usable()
    ServiceRequestFactory(requested_datetime=timezone.now())
    weekly = queries.weekly_by_category(period(7))
    assert sum(map(sum, (v for _, v in weekly.series))) == 1
    assert weekly.weeks[-1] <= date.today() + timedelta(days=1)
