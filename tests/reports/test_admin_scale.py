"""The queue at scale: the same number of queries whatever the rows and the page, no count
of the whole table, deep pages that show the right rows, a date drill-down that does not
read the queue, a report page whose queries do not grow with its history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin import AdminSite
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from reports.admin import paging
from reports.admin.paging import EstimatedCountPaginator
from reports.admin.queue import ServiceRequestQueueAdmin
from reports.models import Comment, ServiceRequest
from tests.factories import (
    BoundaryFactory,
    PhotoFactory,
    RequestUpdateFactory,
    ServiceRequestFactory,
)
from tests.reports.admin_support import CHANGELIST, change_url, login

pytestmark = pytest.mark.django_db


def make(world, count: int, start: int = 0) -> list[ServiceRequest]:
    now = timezone.now()
    return [
        ServiceRequestFactory(
            department=world["health"], requested_datetime=now - timedelta(hours=start + n)
        )
        for n in range(count)
    ]


@pytest.mark.parametrize("who", ["agent_a", "superuser"])
@pytest.mark.parametrize("query", ["", "?p=2", "?q=pothole", "?status__exact=all&p=2"])
def test_queue_queries_are_the_same_for_few_and_many_rows(client, world, who, query):
    make(world, 60)
    login(client, world, who)
    client.get(CHANGELIST + query)  # warm the session and the content types
    with CaptureQueriesContext(connection) as few:
        assert client.get(CHANGELIST + query).status_code == 200
    make(world, 90, start=100)
    with CaptureQueriesContext(connection) as many:
        assert client.get(CHANGELIST + query).status_code == 200

    assert len(many) == len(few)
    # At most the paginator's count (an estimate on PostgreSQL): never a second count of
    # the whole table for "N total".
    counts = [q["sql"] for q in many if "COUNT(" in q["sql"]]
    assert len(counts) <= 1


def test_a_deep_page_shows_the_rows_of_that_page(client, world):
    reports = make(world, 120)
    ServiceRequest.objects.exclude(pk__in=[r.pk for r in reports]).delete()
    newest_first = sorted(reports, key=lambda r: (r.requested_datetime, r.pk), reverse=True)
    page = login(client, world, "agent_a").get(f"{CHANGELIST}?p=3").content.decode()

    shown = [r.pk for r in newest_first if f">#{r.pk}<" in page]
    assert shown == [r.pk for r in newest_first[100:]]


def test_paginator_counts_exactly_off_postgresql_and_pages_by_ids(world):
    make(world, 7)
    reports = ServiceRequest.objects.order_by("-requested_datetime", "-pk")
    paginator = EstimatedCountPaginator(reports, 3)

    assert paginator.count == reports.count()
    second = list(paginator.page(2).object_list)
    assert second == list(reports[3:6])


@pytest.mark.parametrize("number", ["9223372036854775807", "99999999999999999999"])
def test_a_page_past_what_the_database_can_count_to_is_refused(client, world, monkeypatch, number):
    """Pages past an estimated end stay reachable, but not past a bigint OFFSET (it was a
    500 on PostgreSQL): the admin's usual answer to a page that is not there."""
    make(world, 12)
    monkeypatch.setattr(paging, "EXACT_BELOW", 1)  # the estimate's path, on PostgreSQL
    monkeypatch.setattr(ServiceRequestQueueAdmin, "list_per_page", 5)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE reports_servicerequest")
    login(client, world, "superuser")
    response = client.get(f"{CHANGELIST}?status__exact=all&p={number}")
    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


@pytest.mark.parametrize(
    "query",
    [
        "?department=mine",  # a superuser has no department: a link an agent sent them
        "?department=mine&status__exact=all&q=1",
        "?service__id__exact=99999999999999999999",
        "?supporters=99999999999999999999",
        "?service__id__exact=%C2%B2",  # "²": isdigit() says yes, int() refused it (a 500)
    ],
)
def test_a_queue_that_can_match_nothing_is_empty_not_a_500(client, world, query):
    """Filters Django knows match nothing send no query, so PostgreSQL's estimate had no plan
    to read (it was a 500 there); the queue is shown, empty."""
    login(client, world, "superuser")
    response = client.get(CHANGELIST + query)
    assert response.status_code == 200
    assert f">#{world['report'].pk}<" not in response.content.decode()
    assert response.context["cl"].result_count == 0


def test_date_drill_down_offers_the_years_then_months_then_days(client, world):
    ServiceRequestFactory(requested_datetime=timezone.now() - timedelta(days=400))
    login(client, world, "superuser")
    this_year = timezone.localtime().year

    years = client.get(CHANGELIST).content.decode()
    months = client.get(f"{CHANGELIST}?requested_datetime__year={this_year}").content.decode()
    days = client.get(
        f"{CHANGELIST}?requested_datetime__year={this_year}&requested_datetime__month=2"
    ).content.decode()

    assert f"requested_datetime__year={this_year - 1}" in years
    assert "requested_datetime__month=1" in months
    assert "requested_datetime__day=28" in days and "requested_datetime__day=30" not in days


@pytest.mark.parametrize("odd", ["%C2%B2", "%D9%A3", "x"])
def test_area_filter_by_an_odd_number_shows_an_empty_queue(client, world, odd):
    """A "²" passed isdigit() and int() refused it (a 500); "٣" int() read as 3."""
    BoundaryFactory(name="Riverside")  # the filter is offered (and applied) once areas exist
    login(client, world, "superuser")
    response = client.get(f"{CHANGELIST}?area__id__exact={odd}")
    assert response.status_code == 200
    assert response.context["cl"].result_count == 0


def test_area_filter_lists_areas_without_reading_reports(client, world):
    area = BoundaryFactory(name="Riverside")
    inside = ServiceRequestFactory(department=world["health"], area=area)
    login(client, world, "agent_a")

    page = client.get(CHANGELIST).content.decode()
    filtered = client.get(f"{CHANGELIST}?area__id__exact={area.pk}").content.decode()

    assert "Riverside" in page
    assert f">#{inside.pk}<" in filtered and f">#{world['report'].pk}<" not in filtered


@pytest.mark.parametrize("who", ["agent_a", "superuser"])
def test_report_page_queries_are_the_same_for_a_short_and_a_long_history(client, world, who):
    report = world["report"]
    report.area = BoundaryFactory()
    report.save()
    login(client, world, who).get(change_url(report))
    with CaptureQueriesContext(connection) as short:
        assert client.get(change_url(report)).status_code == 200
    for n in range(12):
        RequestUpdateFactory(request=report, author=world["agent_a"])
        PhotoFactory(request=report, state="processed")
        Comment.objects.create(request=report, text=f"Still there {n}", created=timezone.now())
    with CaptureQueriesContext(connection) as long:
        assert client.get(change_url(report)).status_code == 200

    assert len(long) == len(short)
    # The report is read once, with what its page shows of its category, department and area.
    reads = [q["sql"] for q in long if 'FROM "reports_servicerequest"' in q["sql"]]
    assert len(reads) == 1 and '"departments_boundary"' in reads[0]


@pytest.mark.parametrize(
    "who, query, index",
    [
        ("agent_a", "?q=pothole", "sr_search_open_description"),
        ("superuser", "?q=pothole", "sr_search_open_description"),
        ("superuser", "?q=pothole&status__exact=all", "sr_search_description"),
    ],
)
def test_a_search_of_the_open_queue_reads_the_open_reports_trigram_index(
    client, world, who, query, index
):
    """On PostgreSQL the queue's search of open reports (its default) reads the trigram
    index of the open reports alone, within the agent's department by its first column; a
    search of every report reads the whole table's."""
    if connection.vendor != "postgresql":
        pytest.skip("trigram indexes are PostgreSQL's (SQLite scans)")
    (report,) = make(world, 1)
    # Enough open reports that reading them and filtering costs more than the trigram
    # index: 20,000 copies of one, half of them another department's, 2 about potholes.
    copied = [
        f.column
        for f in ServiceRequest._meta.concrete_fields
        if f.column not in ("id", "description", "department_id")
    ]
    names = ", ".join(copied)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO reports_servicerequest ({names}, description, department_id) "
            f"SELECT {names}, CASE WHEN g %% 7000 = 0 THEN 'A pothole ' "
            "ELSE 'Overflowing bin ' END || g, CASE WHEN g %% 2 = 0 THEN %s ELSE %s END "
            "FROM reports_servicerequest, generate_series(1, 20000) AS g WHERE id = %s",
            [world["health"].pk, world["works"].pk, report.pk],
        )
        for gin in ("sr_search_description", "sr_search_open_description"):
            # As VACUUM would: the new rows' entries leave the index's pending list.
            cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [gin])
        cursor.execute("ANALYZE reports_servicerequest")
    login(client, world, who)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(CHANGELIST + query).status_code == 200
    (count,) = [q["sql"] for q in queries if "COUNT(" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # 20,000 short rows are still read whole
        try:
            cursor.execute(f"EXPLAIN {count}")
            plan = [row[0] for row in cursor.fetchall()]
        finally:
            cursor.execute("RESET enable_seqscan")
    scans = [n for n, line in enumerate(plan) if f"Index Scan on {index} " in line]
    assert scans, "\n".join(plan)
    if who == "agent_a":
        assert "department_id = " in plan[scans[0] + 1], "\n".join(plan)


def test_the_app_list_is_built_only_for_the_pages_that_show_it(client, world, monkeypatch):
    """The queue and the triage page have no navigation sidebar, so they do not build the
    list of apps and models (a permission check per model); the index, an app's index and
    the pages with the sidebar still list them (and an unknown app is still a 404)."""
    built = []
    original = AdminSite._build_app_dict

    def counted(self, request, label=None):
        built.append(label)
        return original(self, request, label)

    monkeypatch.setattr(AdminSite, "_build_app_dict", counted)
    login(client, world, "agent_a")
    for url in (CHANGELIST, change_url(world["report"])):
        page = client.get(url)
        assert page.status_code == 200
        assert 'id="nav-sidebar"' not in page.content.decode()
    assert built == []

    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    assert f'href="{CHANGELIST}"' in index.content.decode()
    assert built == [None]

    built.clear()
    reports_index = client.get(reverse("admin:app_list", args=["reports"]))
    assert reports_index.status_code == 200
    assert f'href="{CHANGELIST}"' in reports_index.content.decode()
    assert client.get("/admin/nosuchapp/").status_code == 404

    built.clear()
    departments = client.get(reverse("admin:departments_department_changelist"))
    assert departments.status_code == 200
    sidebar = departments.content.decode().split('id="nav-sidebar"', 1)[1]
    assert f'href="{CHANGELIST}"' in sidebar
    assert built == [None]
