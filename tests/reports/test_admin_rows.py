"""The queue's rows are written in one pass (reports/admin/rows.py): the same HTML as
Django's own cell by cell rendering, for every kind of cell; an empty queue is not read; a
queue that fits on one page gives the map its rows."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import factory
import pytest
from django.contrib.admin.templatetags.admin_list import items_for_result
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reports.admin.rows import queue_rows
from reports.models import ServiceRequest
from tests.factories import BoundaryFactory, PhotoFactory, ServiceRequestFactory
from tests.reports.admin_support import CHANGELIST, login

pytestmark = pytest.mark.django_db


def varied_reports(world) -> list:
    """One report of each look a row can have."""
    health, now = world["health"], timezone.now()
    with_photo = ServiceRequestFactory(department=health, description="With a photo")
    PhotoFactory(
        request=with_photo,
        state="processed",
        thumbnail=factory.django.ImageField(filename="t.jpg"),
    )
    return [
        with_photo,
        ServiceRequestFactory(department=health, description="<b>Tags</b> & ampersands"),
        ServiceRequestFactory(department=health, description="x" * 120),
        ServiceRequestFactory(department=health, description="", address="1 <Elm> Street"),
        ServiceRequestFactory(department=health, hidden=True, supporters=3),
        ServiceRequestFactory(department=health, reopened_by_reporter_at=now),
        ServiceRequestFactory(department=health, expected_datetime=now - timedelta(hours=2)),
        ServiceRequestFactory(department=health, expected_datetime=now + timedelta(days=2)),
        ServiceRequestFactory(department=health, state="fixed", reopened_by_reporter_at=now),
        ServiceRequestFactory(
            department=health, assigned_to=world["agent_a"], area=BoundaryFactory(name="A & B")
        ),
        ServiceRequestFactory(department=None, lat=None, long=None),
    ]


@pytest.mark.parametrize("query", ["?status__exact=all", "?status__exact=all&o=-3.8&q=e"])
def test_rows_are_the_html_djangos_cells_would_make(client, world, query):
    reports = varied_reports(world)
    response = login(client, world, "superuser").get(CHANGELIST + query)
    cl = response.context["cl"]

    rows = queue_rows(cl)
    django = ["".join(items_for_result(cl, report, None)) for report in cl.result_list]

    assert len(rows) == len(django) >= len(reports) - 1
    assert [row[0] for row in rows] == django
    page = response.content.decode()
    assert "c311-thumb" in page and "overdue" in page and "Reopened by reporter" in page
    assert "&lt;b&gt;Tags&lt;/b&gt; &amp; ampersands" in page and "A &amp; B" in page


def test_links_keep_the_queues_filters(client, world):
    report = world["report"]
    page = login(client, world, "agent_a").get(f"{CHANGELIST}?q=pothole&status__exact=all")

    link = f"/admin/reports/servicerequest/{report.pk}/change/?_changelist_filters="
    assert f'<a href="{link}q%3Dpothole%26status__exact%3Dall">#{report.pk}</a>' in (
        page.content.decode()
    )


def report_reads(queries) -> list[str]:
    """The queries that read reports' rows (the page's or the map's)."""
    return [
        q["sql"]
        for q in queries
        if '"reports_servicerequest"."lat"' in q["sql"] and "COUNT(" not in q["sql"]
    ]


def test_a_search_that_finds_nothing_reads_no_reports(client, world):
    login(client, world, "agent_a").get(CHANGELIST)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"{CHANGELIST}?q=nothing+like+this")

    assert response.status_code == 200
    assert response.context["queue_map"]["markers"] == []
    assert report_reads(queries) == []


def test_a_one_page_queue_gives_the_map_its_rows(client, world):
    located = ServiceRequestFactory.create_batch(4, department=world["health"])
    ServiceRequestFactory(department=world["health"], lat=None, long=None)
    login(client, world, "agent_a").get(CHANGELIST)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(CHANGELIST)

    markers = response.context["queue_map"]["markers"]
    newest_first = sorted([*located, world["report"]], key=lambda r: r.pk, reverse=True)
    assert [m["id"] for m in markers] == [r.pk for r in newest_first]
    assert len(report_reads(queries)) == 1  # the page


def test_a_queue_of_several_pages_maps_more_than_the_page(client, world):
    ServiceRequestFactory.create_batch(70, department=world["health"])
    response = login(client, world, "agent_a").get(CHANGELIST)

    assert len(response.context["cl"].result_list) == 50
    assert len(response.context["queue_map"]["markers"]) == 71


def test_the_page_reads_the_names_it_shows_without_joining_their_tables(client, world):
    """The department's, the area's and the assignee's names are subqueries of the page's
    query (joined, the four tables cost PostgreSQL more to plan than to run the query); the
    cells show the same names, and the queue still sorts by department."""
    ServiceRequestFactory(
        department=world["health"],
        assigned_to=world["agent_a"],
        area=BoundaryFactory(name="Riverside", kind="district"),
        description="Names without joins",
    )
    login(client, world, "superuser").get(CHANGELIST)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(CHANGELIST)

    (page,) = [q["sql"] for q in queries if "thumbnail_photo" in q["sql"]]
    for table in ("departments_department", "departments_boundary", "auth_user"):
        assert f'JOIN "{table}"' not in page
    row = next(r[0] for r in queue_rows(response.context["cl"]) if "Names without joins" in r[0])
    assert world["health"].name in row
    assert "Riverside (District)" in row
    assert f'<td class="field-assignee">{world["agent_a"].username}</td>' in row
    sorted_page = client.get(CHANGELIST + "?o=6")  # the "routed to" column
    assert sorted_page.status_code == 200
    names = [r.department.name for r in sorted_page.context["cl"].result_list if r.department]
    assert names == sorted(names)


def test_a_report_read_without_the_queues_names_shows_the_same_cells(client, world):
    """The columns read the related rows themselves when a report comes without
    rows_queryset's names (as `thumbnail` reads its photo)."""
    ServiceRequestFactory(
        department=world["health"],
        assigned_to=world["agent_a"],
        area=BoundaryFactory(name="Riverside", kind="district"),
        description="Read twice",
    )
    ServiceRequestFactory(department=None, area=None, description="Read twice, unrouted")
    response = login(client, world, "superuser").get(CHANGELIST + "?q=Read+twice")
    cl = response.context["cl"]
    queue = cl.model_admin
    read = list(cl.result_list)
    assert len(read) == 2
    for annotated in read:
        plain = ServiceRequest.objects.get(pk=annotated.pk)
        assert queue.routed_to(plain) == queue.routed_to(annotated)
        assert queue.assignee(plain) == queue.assignee(annotated)
    shown = {queue.assignee(r) for r in read}
    assert shown == {world["agent_a"].username, None}


def test_every_column_the_staff_stylesheet_names_is_in_the_queue(client, world):
    """static/departments/staff.css lays the rows out as cards on a phone and labels their
    cells by column class ("Assigned: ", "Routed to: "…): a column renamed without it
    lost its label."""
    css = (Path(__file__).resolve().parents[2] / "static/departments/staff.css").read_text()
    named = set(re.findall(r"#result_list td\.field-(\w+)", css))
    assert {"assignee", "routed_to", "received", "target"} <= named
    ServiceRequestFactory(department=world["health"], assigned_to=world["agent_a"])
    page = login(client, world, "superuser").get(CHANGELIST).content.decode()
    shown = set(re.findall(r'<td class="field-(\w+)', page))
    assert named - shown == set()
