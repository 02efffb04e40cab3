"""Deep pages of the Open311 list found from the reports counted by hour (a database
function on PostgreSQL, a few statements on SQLite; reports/api/positions.py): every page
equals the page the plain OFFSET reads, with reports hidden, still in their preview window,
after the window's end, before its start in its first hour, sharing an instant, and after
changes that the counts' triggers follow."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reports.api import documents, positions
from reports.models import ServiceRequest
from tests.factories import ServiceFactory, ServiceRequestFactory
from tests.reports.open311_support import json_of

pytestmark = pytest.mark.django_db

URL = "/open311/v2/requests.json"
# insights_public_hour counts whole hours since 1970 UTC (floor); insights_public_week
# blocks of 168 of them.
UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HOUR, WEEK = timedelta(hours=1), timedelta(hours=168)


@pytest.fixture
def reports() -> list[Any]:
    """About 150 reports over the last 40 hours, several an hour, some at the same instant;
    a few hidden, three still in their preview window (one filed two hours ago), one filed
    after now (past the default window's end)."""
    draw = random.Random(311)
    service = ServiceFactory()
    now = timezone.now().replace(microsecond=0)
    made = []
    for _ in range(140):
        requested = now - timedelta(minutes=draw.randrange(1, 40 * 60))
        made.append(ServiceRequestFactory(service=service, requested_datetime=requested))
    for report in made[:6]:  # ties: the same instant as another report
        made.append(
            ServiceRequestFactory(service=service, requested_datetime=report.requested_datetime)
        )
    for report in made[10:15]:
        report.hidden = True
        report.save(update_fields=["hidden"])
    later = now + timedelta(hours=1)
    for minutes in (3, 30, 120):
        made.append(
            ServiceRequestFactory(
                service=service,
                requested_datetime=now - timedelta(minutes=minutes),
                published_at=later,
            )
        )
    made.append(
        ServiceRequestFactory(service=service, requested_datetime=now + timedelta(minutes=20))
    )
    return made


def pages(client, monkeypatch, query: dict[str, Any], *, counted: bool) -> list[list[str]]:
    """Every page of the list for `query` (and one past the end), read from the hourly
    counts or (counted=False) by the plain OFFSET: the ORM's query (listing.window), not
    the statement listing.plain_source writes, which finds its position from the counts
    too."""
    with monkeypatch.context() as patch:
        if not counted:
            patch.setattr(positions, "usable", lambda: False)
            patch.setattr(documents, "SQL_VENDORS", ())
        found, number = [], 1
        while True:
            response = client.get(URL, {**query, "page": number})
            assert response.status_code == 200
            found.append([row["service_request_id"] for row in json_of(response)])
            if not found[-1]:
                return found
            number += 1


def assert_same_pages(client, monkeypatch, query: dict[str, Any]) -> None:
    plain = pages(client, monkeypatch, query, counted=False)
    assert sum(map(len, plain)) > 20
    assert pages(client, monkeypatch, query, counted=True) == plain


WINDOWS = [
    {"page_size": 7},
    {"page_size": 1},
    # A window ending and starting mid-hour: reports of its first hour before its start,
    # of its last hour after its end.
    {
        "page_size": 5,
        "start_date": (timezone.now() - timedelta(hours=30, minutes=17)).isoformat(),
        "end_date": (timezone.now() - timedelta(hours=3, minutes=41)).isoformat(),
    },
]


@pytest.mark.parametrize("query", WINDOWS)
def test_every_page_equals_the_plain_offsets(client, monkeypatch, reports, query):
    assert_same_pages(client, monkeypatch, query)


def test_pages_over_weeks_equal_the_plain_offsets(client, monkeypatch):
    """Reports over 30 days: the function sums the hours a week at a time before it looks
    at single hours. Some hidden, two in their preview window (one filed ten days ago, in an
    older week than the first), one after the window's end in its last hour."""
    draw = random.Random(2026)
    service = ServiceFactory()
    now = timezone.now().replace(microsecond=0)
    made = [
        ServiceRequestFactory(
            service=service, requested_datetime=now - timedelta(minutes=draw.randrange(1, 43200))
        )
        for _ in range(90)
    ]
    for report in made[:6]:
        report.hidden = True
        report.save(update_fields=["hidden"])
    for days in (0, 10):
        ServiceRequestFactory(
            service=service,
            requested_datetime=now - timedelta(days=days, minutes=7),
            published_at=now + timedelta(hours=1),
        )
    # The window ends half way through the hour before this one; a report ten minutes later
    # is in the same hour, after the end.
    end = now.replace(minute=0, second=0) - timedelta(minutes=30)
    ServiceRequestFactory(service=service, requested_datetime=end + timedelta(minutes=10))
    query = {"start_date": (now - timedelta(days=31)).isoformat(), "end_date": end.isoformat()}
    for size in (4, 1):
        assert_same_pages(client, monkeypatch, {**query, "page_size": size})


def test_pages_that_start_inside_the_windows_last_hour(client, monkeypatch):
    """The window ends at twenty to the hour, a week or so ago; its last hour also holds two
    reports after the end and one still in its preview window, and later hours of its week
    more reports: pages that start inside that hour number its reports without them, and
    the older weeks' pages come after the right number of rows."""
    service = ServiceFactory()
    # Three hours into last week's block of 168 (SQLite's weeks), so that the later hours
    # are in the same week whatever the day the test runs.
    this_week = (timezone.now() - UNIX_EPOCH) // WEEK
    hour = UNIX_EPOCH + (this_week - 1) * WEEK + 3 * HOUR
    end = hour + timedelta(minutes=40)

    def report(at: datetime, **fields: Any) -> None:
        ServiceRequestFactory(service=service, requested_datetime=at, **fields)

    for minutes in (5, 10, 15, 20, 25, 30):
        report(hour + timedelta(minutes=minutes))
    report(hour + timedelta(minutes=12), published_at=timezone.now() + timedelta(hours=1))
    for minutes in (45, 50, 70, 130):  # after the end: in its hour, then in later hours
        report(hour + timedelta(minutes=minutes))
    for days in range(1, 22):  # older hours and weeks
        report(end - timedelta(days=days, minutes=days))
    query = {"start_date": (end - timedelta(days=25)).isoformat(), "end_date": end.isoformat()}
    for size in (1, 2):
        assert_same_pages(client, monkeypatch, {**query, "page_size": size})


def change(reports: list[Any]) -> None:
    """Hide, show, delete, move and publish some reports, saving as the services do."""
    for report in reports[20:24]:
        report.hidden = True
        report.save(update_fields=["hidden"])
    reports[10].hidden = False
    reports[10].save(update_fields=["hidden"])
    reports[30].delete()
    reports[31].requested_datetime -= timedelta(hours=5)
    reports[31].save(update_fields=["requested_datetime"])
    preview = next(r for r in reports if r.published_at > timezone.now())
    preview.published_at = timezone.now()
    preview.save(update_fields=["published_at"])


def test_pages_follow_hiding_deleting_moving_and_publishing(client, monkeypatch, reports):
    change(reports)
    assert_same_pages(client, monkeypatch, {"page_size": 6})


def test_a_deep_page_costs_the_same_queries_however_deep(client, reports):
    """A deep page is one query on PostgreSQL, its position found inside it; on SQLite the
    position's statements and then the page, read after it, whatever the page. With any
    other filter the page steps over the index, in one query."""
    counts = set()
    for page in (2, 12, 25):
        query = {"page": page, "page_size": 5}
        client.get(URL, query)  # the page's documents are built and stored
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL, query).status_code == 200
        queries = reads(captured)
        counts.add(len(queries))
        if connection.vendor == "postgresql":
            assert positions.FUNCTION in queries[-1]["sql"]
        assert "OFFSET" not in queries[-1]["sql"]
    if connection.vendor == "postgresql":
        assert counts == {1}
    else:  # the weeks, the reports in their preview window, one week's hours, the step
        # within an hour (none for a page that starts its hour), the page
        assert counts <= {4, 5}
    query = {"page": 12, "page_size": 5, "status": "open"}
    client.get(URL, query)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(URL, query).status_code == 200
    queries = reads(captured)
    assert len(queries) == 1 and "OFFSET" in queries[0]["sql"]


def reads(captured: CaptureQueriesContext) -> list[dict[str, str]]:
    """The statements that read, without the transaction's own (SQLite finds a position in
    one transaction: inside a test's, a savepoint)."""
    marks = ("SAVEPOINT", "RELEASE SAVEPOINT", "BEGIN", "COMMIT")
    return [query for query in captured.captured_queries if not query["sql"].startswith(marks)]


def counted(table: str) -> dict[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE n <> 0")
        return dict(cursor.fetchall())


def expected_counts(key: timedelta) -> dict[int, int]:
    expected: dict[int, int] = {}
    for requested in ServiceRequest.objects.filter(hidden=False).values_list(
        "requested_datetime", flat=True
    ):
        unit = (requested - UNIX_EPOCH) // key
        expected[unit] = expected.get(unit, 0) + 1
    return expected


def assert_counts_equal_the_reports() -> None:
    assert counted("insights_public_hour") == expected_counts(HOUR)
    assert counted("insights_public_week") == expected_counts(WEEK)


def test_the_hourly_counts_equal_the_reports(reports):
    assert_counts_equal_the_reports()
    change(reports)
    # A queryset's update, as the admin's bulk actions write, and a full save().
    ServiceRequest.objects.filter(pk__in=[r.pk for r in reports[40:44]]).update(hidden=True)
    reports[50].requested_datetime -= timedelta(days=9)
    reports[50].save()
    assert_counts_equal_the_reports()


def test_the_counts_equal_the_reports_after_a_bulk_load(client, monkeypatch):
    """The bulk loader drops SQLite's triggers during a load and counts again after it
    (PostgreSQL's loader writes the counts itself)."""
    ServiceFactory()
    ServiceRequestFactory(requested_datetime=timezone.now() - timedelta(days=200))
    call_command("generate_reports", "--count", "400", "--seed", "3", stdout=StringIO())
    assert ServiceRequest.objects.count() == 401
    assert_counts_equal_the_reports()
    assert_same_pages(client, monkeypatch, {"page_size": 25})


def test_a_page_past_the_end_is_empty_when_the_first_hour_began_before_the_window(
    client, monkeypatch
):
    """The window starts at half past an hour; that hour's count also holds three reports
    from before the start. A page whose position falls among those is past the last row:
    empty, not the hour's reports again."""
    service = ServiceFactory()
    hour = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=6)
    start = hour + timedelta(minutes=30)
    for minutes in (5, 10, 15):  # before the window, in its first hour
        ServiceRequestFactory(service=service, requested_datetime=hour + timedelta(minutes=minutes))
    inside = [
        ServiceRequestFactory(service=service, requested_datetime=start + timedelta(minutes=m))
        for m in range(0, 300, 12)
    ]
    query = {"start_date": start.isoformat(), "end_date": timezone.now().isoformat()}
    assert_same_pages(client, monkeypatch, {**query, "page_size": 4})
    assert_same_pages(client, monkeypatch, {**query, "page_size": 1})
    # 25 reports in the window; its first hour counts six (three of them from before the
    # start), so the running sum reaches 28 there: pages 27 and 28 of 1 (offsets 26 and
    # 27) fall among the three from before the start.
    for page in (len(inside) + 2, len(inside) + 3):
        past = client.get(URL, {**query, "page_size": 1, "page": page})
        assert past.status_code == 200
        assert json_of(past) == []


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's planner")
def test_on_sqlite_a_deep_page_starts_its_index_range_at_its_position(client, reports):
    """SQLite ends its range over the time index at the first upper bound on the time it
    meets; were the window's end first, a deep page would step over every row before its
    position. Counted in SQLite's virtual machine steps of the page's own query: page 21 of
    5 costs about what page 2 does."""
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    def page_query_only(execute: Any, sql: str, *args: Any) -> Any:
        if 'SELECT d."json"' not in sql:
            return execute(sql, *args)
        connection.connection.set_progress_handler(count, 1)
        try:
            return execute(sql, *args)
        finally:
            connection.connection.set_progress_handler(None, 1)

    def work(page: int) -> int:
        query = {"page_size": 5, "page": page}
        client.get(URL, query)  # documents built and stored
        steps[0] = 0
        with connection.execute_wrapper(page_query_only):
            assert client.get(URL, query).status_code == 200
        return steps[0]

    assert work(21) < 1.3 * work(2)


def test_a_report_of_an_hours_last_half_millisecond_counts_in_that_hour(client, monkeypatch):
    """SQLite's strftime('%s') rounds the fraction of a second to the millisecond: a report
    at 10:59:59.9997 was counted in eleven o'clock's hour, and the pages after it showed it
    twice and another report never."""
    service = ServiceFactory()
    hour = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    for moment in (-timedelta(microseconds=300), timedelta(minutes=30), -timedelta(minutes=30)):
        ServiceRequestFactory(service=service, requested_datetime=hour + moment)
    for moment in (timedelta(minutes=m) for m in range(5, 200, 9)):
        ServiceRequestFactory(service=service, requested_datetime=hour - moment)
    assert_counts_equal_the_reports()
    assert_same_pages(client, monkeypatch, {"page_size": 1})


def test_rebuild_insights_counts_the_hours_again(reports):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM insights_public_hour")
    call_command("rebuild_insights", stdout=StringIO())
    assert_counts_equal_the_reports()
