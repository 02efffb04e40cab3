"""Aggregations against hand-computed fixtures (in the city's time zone, America/New_York)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from reports.insights import queries
from reports.insights.filters import Filters, local_midnight
from reports.models import ServiceRequest
from tests.factories import DepartmentFactory, ServiceFactory, ServiceRequestFactory

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")


@pytest.fixture(autouse=True)
def _new_york(settings) -> None:
    settings.TIME_ZONE = "America/New_York"


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


def period(first: date, last: date, **kwargs) -> Filters:
    return Filters(
        start=local_midnight(first), end=local_midnight(last + timedelta(days=1)), **kwargs
    )


def closed_report(service, requested: datetime, hours: float, **kwargs) -> ServiceRequest:
    closed = requested + timedelta(hours=hours)
    return ServiceRequestFactory(
        service=service,
        requested_datetime=requested,
        closed_datetime=closed,
        updated_datetime=closed,
        status="closed",
        state="fixed",
        **kwargs,
    )


def test_weekly_counts_start_on_local_monday_across_spring_dst_change() -> None:
    service = ServiceFactory(name="Pothole")
    # DST starts on Sunday 8 March 2026 at 2:00. 23:30 that Sunday is 03:30 UTC on Monday:
    # a UTC truncation would put it in the week of 9 March.
    ServiceRequestFactory(service=service, requested_datetime=local(2026, 3, 8, 23, 30))
    ServiceRequestFactory(service=service, requested_datetime=local(2026, 3, 9, 0, 30))
    ServiceRequestFactory(service=service, requested_datetime=local(2026, 3, 1, 12, 0))
    weekly = queries.weekly_by_category(period(date(2026, 3, 1), date(2026, 3, 21)))
    assert weekly.weeks == [
        date(2026, 2, 23),
        date(2026, 3, 2),
        date(2026, 3, 9),
        date(2026, 3, 16),
    ]
    assert weekly.series == [("Pothole", [1, 1, 1, 0])]


def test_weekly_counts_across_autumn_dst_change() -> None:
    service = ServiceFactory(name="Graffiti")
    # DST ends on Sunday 1 November 2026: 23:50 that Sunday is 04:50 UTC on Monday.
    ServiceRequestFactory(service=service, requested_datetime=local(2026, 11, 1, 23, 50))
    ServiceRequestFactory(service=service, requested_datetime=local(2026, 11, 1, 1, 30, 0))
    ServiceRequestFactory(service=service, requested_datetime=local(2026, 11, 2, 0, 10))
    weekly = queries.weekly_by_category(period(date(2026, 10, 26), date(2026, 11, 8)))
    assert weekly.weeks == [date(2026, 10, 26), date(2026, 11, 2)]
    assert weekly.series == [("Graffiti", [2, 1])]


def test_weekly_counts_group_small_categories_and_skip_hidden() -> None:
    services = [ServiceFactory(name=f"Category {i}") for i in range(queries.TOP_CATEGORIES + 2)]
    when = local(2026, 6, 3, 12)
    for rank, service in enumerate(services):
        for _ in range(len(services) - rank):
            ServiceRequestFactory(service=service, requested_datetime=when)
    ServiceRequestFactory(service=services[0], requested_datetime=when, hidden=True)
    weekly = queries.weekly_by_category(period(date(2026, 6, 1), date(2026, 6, 7)))
    names = [name for name, _ in weekly.series]
    assert names == [s.name for s in services[: queries.TOP_CATEGORIES]] + [queries.OTHER]
    assert weekly.series[0][1] == [8]  # the hidden report is not counted
    assert weekly.series[-1][1] == [2 + 1]


def test_empty_period_has_weeks_of_zeros_and_no_series() -> None:
    weekly = queries.weekly_by_category(period(date(2026, 1, 5), date(2026, 1, 18)))
    assert weekly.weeks == [date(2026, 1, 5), date(2026, 1, 12)]
    assert weekly.series == []
    flow = queries.new_vs_closed(period(date(2026, 1, 5), date(2026, 1, 18)))
    assert flow.series == [("New", [0, 0]), ("Closed", [0, 0])]
    times = queries.response_times(period(date(2026, 1, 5), date(2026, 1, 18)), by="service")
    assert times.ranked == [] and times.small == []


def test_new_vs_closed_counts_each_on_its_own_date() -> None:
    service = ServiceFactory()
    closed_report(service, local(2026, 4, 6, 9), 24 * 8)  # new week 6 Apr, closed week 13 Apr
    ServiceRequestFactory(service=service, requested_datetime=local(2026, 4, 14, 9))
    filters = period(date(2026, 4, 6), date(2026, 4, 19))
    flow = queries.new_vs_closed(filters)
    assert flow.series == [("New", [1, 1]), ("Closed", [0, 1])]
    reused = queries.new_vs_closed(filters, weekly=queries.weekly_by_category(filters))
    assert reused.series == flow.series


def test_response_times_median_p90_and_target_share(settings) -> None:
    settings.INSIGHTS_MIN_SAMPLE = 3
    roads = DepartmentFactory(name="Roads")
    parks = DepartmentFactory(name="Parks")
    pothole = ServiceFactory(name="Pothole", department=roads)
    tree = ServiceFactory(name="Fallen tree", department=parks)
    start = local(2026, 5, 4, 8)
    for hours in (1, 2, 3, 4, 10):
        closed_report(pothole, start, hours, expected_datetime=start + timedelta(hours=3))
    for hours in (5, 7):
        closed_report(tree, start, hours)
    closed_report(pothole, start, 1000, hidden=True)  # hidden: not counted
    ServiceRequestFactory(service=pothole, requested_datetime=start)  # still open
    times = queries.response_times(period(date(2026, 5, 1), date(2026, 5, 31)), by="department")
    [row] = times.ranked
    assert row.name == "Roads" and row.closed == 5
    # Sorted hours 1,2,3,4,10: median 3; p90 at rank 0.9 * 4 = 3.6: 4 + 0.6 * (10 - 4).
    assert row.median_hours == pytest.approx(3)
    assert row.p90_hours == pytest.approx(7.6)
    assert (row.within_target, row.with_target, row.within_target_pct) == (3, 5, 60)
    [small] = times.small
    assert small.name == "Parks" and small.small_sample
    assert small.median_hours == pytest.approx(6) and small.p90_hours == pytest.approx(6.8)
    assert small.within_target_pct is None
    table = times.table()
    assert table.rows[0][:5] == ["1", "Roads", 5, 3.0, 7.6]
    assert table.rows[1][0] == "small sample"


def test_response_times_rank_fastest_median_first(settings) -> None:
    settings.INSIGHTS_MIN_SAMPLE = 2
    slow, fast = ServiceFactory(name="Slow"), ServiceFactory(name="Fast")
    start = local(2026, 5, 4, 8)
    for hours in (10, 20):
        closed_report(slow, start, hours)
    for hours in (1, 2):
        closed_report(fast, start, hours)
    times = queries.response_times(period(date(2026, 5, 1), date(2026, 5, 31)), by="service")
    assert [r.name for r in times.ranked] == ["Fast", "Slow"]


def test_percentile_matches_percentile_cont() -> None:
    assert queries.percentile([], 0.5) is None
    assert queries.percentile([7.0], 0.9) == 7.0
    assert queries.percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert queries.percentile([1.0, 2.0, 3.0, 4.0], 0.9) == pytest.approx(3.7)


def test_top_categories_this_month_against_same_days_last_month() -> None:
    a, b = ServiceFactory(name="A"), ServiceFactory(name="B")
    for day in (3, 20):
        ServiceRequestFactory(service=a, requested_datetime=local(2026, 11, day, 12))
    ServiceRequestFactory(service=a, requested_datetime=local(2026, 10, 10, 12))
    ServiceRequestFactory(service=a, requested_datetime=local(2026, 10, 28, 12))  # after 25th
    ServiceRequestFactory(service=b, requested_datetime=local(2026, 10, 5, 12))
    filters = period(date(2026, 1, 1), date(2026, 11, 25))
    month = queries.top_categories_month(filters, now=local(2026, 11, 25, 12))
    assert (month.this_start, month.this_end) == (date(2026, 11, 1), date(2026, 11, 25))
    assert (month.last_start, month.last_end) == (date(2026, 10, 1), date(2026, 10, 25))
    assert month.rows == [
        {"name": "A", "this": 2, "last": 1, "change": 1, "change_pct": 100},
        {"name": "B", "this": 0, "last": 1, "change": -1, "change_pct": -100},
    ]


def test_top_categories_on_the_31st_compare_with_a_shorter_month() -> None:
    filters = period(date(2026, 1, 1), date(2026, 3, 31))
    month = queries.top_categories_month(filters, now=local(2026, 3, 31, 12))
    assert (month.last_start, month.last_end) == (date(2026, 2, 1), date(2026, 2, 28))


def test_backlog_counts_open_and_overdue_by_department() -> None:
    roads = DepartmentFactory(name="Roads")
    service = ServiceFactory(department=roads)
    now = local(2026, 5, 10, 12)
    ServiceRequestFactory(service=service, expected_datetime=now - timedelta(hours=1))
    ServiceRequestFactory(service=service, expected_datetime=now + timedelta(hours=1))
    ServiceRequestFactory(service=service, status="closed", state="fixed")
    ServiceRequestFactory(service=service, hidden=True)
    table = queries.backlog_by_department(period(date(2026, 5, 1), date(2026, 5, 10)), now=now)
    assert table.rows == [["Roads", 2, 1]]


def test_area_filter_includes_areas_inside_it() -> None:
    from tests.factories import BoundaryFactory, square

    district = BoundaryFactory(
        name="North", kind="district", geometry=square(35.7, -78.7, 35.9, -78.5)
    )
    inside = BoundaryFactory(name="Oakwood", geometry=square(35.78, -78.64, 35.79, -78.63))
    outside = BoundaryFactory(name="Far", geometry=square(35.1, -78.1, 35.2, -78.0))
    service = ServiceFactory(name="Pothole")
    when = local(2026, 6, 3, 12)
    ServiceRequestFactory(service=service, area=district, requested_datetime=when)
    ServiceRequestFactory(service=service, area=inside, requested_datetime=when)
    ServiceRequestFactory(service=service, area=outside, requested_datetime=when)
    weekly = queries.weekly_by_category(period(date(2026, 6, 1), date(2026, 6, 7), area=district))
    assert weekly.series == [("Pothole", [2])]
