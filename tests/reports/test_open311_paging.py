"""Open311 list extensions: cursor paging (Link rel=next), deep pages, the radius search,
and a number of queries that does not grow with the page."""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from reports.api.circles import distance_metres
from reports.api.listing import with_condition
from reports.models import ServiceRequest
from reports.photos import photo_process
from tests.factories import (
    PhotoFactory,
    RequestUpdateFactory,
    ServiceRequestFactory,
)
from tests.reports.open311_support import errors_of, json_of, xml_of

pytestmark = pytest.mark.django_db

BASE = "/open311/v2"
CENTRE = (35.78, -78.64)


def ids(response) -> list[str]:
    return [r["service_request_id"] for r in json_of(response)]


def next_link(response) -> str | None:
    match = re.match(r'<([^>]+)>; rel="next"', response.get("Link", ""))
    return match.group(1).removeprefix("http://testserver") if match else None


@pytest.fixture
def history():
    """Nine reports, newest first by (requested time, id); two pairs share an instant."""
    now = timezone.now().replace(microsecond=0)
    times = [now - timedelta(hours=h) for h in (1, 2, 2, 3, 4, 5, 5, 6, 7)]
    reports = [ServiceRequestFactory(requested_datetime=t) for t in times]
    return sorted(reports, key=lambda r: (r.requested_datetime, r.pk), reverse=True)


def test_cursor_pages_walk_the_whole_list_once_in_order(client, history):
    seen: list[str] = []
    url: str | None = f"{BASE}/requests.json?page_size=2"
    pages = 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        seen += ids(response)
        url = next_link(response)
        pages += 1

    assert seen == [str(r.pk) for r in history]
    assert pages == 5  # four full pages point on; the fifth has one row and no link


def test_cursor_pages_stay_stable_when_new_reports_arrive(client, history):
    first = client.get(f"{BASE}/requests.json", {"page_size": 3})
    ServiceRequestFactory()  # newer than everything: must not shift the next page
    second = client.get(next_link(first))

    assert ids(first) + ids(second) == [str(r.pk) for r in history[:6]]


def test_cursor_pages_keep_to_the_asked_dates(client, history):
    """The cursor ends the window at its own time; the window's start stays where the dates
    put it, and a cursor from later than end_date does not reach past end_date."""
    start, end = history[7].requested_datetime, history[1].requested_datetime
    dates = {"start_date": start.isoformat(), "end_date": end.isoformat()}
    seen: list[str] = []
    url: str | None = f"{BASE}/requests.json?page_size=2&" + "&".join(
        f"{name}={value.replace('+', '%2B')}" for name, value in dates.items()
    )
    while url:
        response = client.get(url)
        assert response.status_code == 200
        seen += ids(response)
        url = next_link(response)
    inside = [r for r in history if start <= r.requested_datetime <= end]
    assert seen == [str(r.pk) for r in inside]

    from_first = next_link(client.get(f"{BASE}/requests.json", {"page_size": 1}))
    cursor = from_first.split("cursor=")[1]  # after history[0], later than end_date
    response = client.get(f"{BASE}/requests.json", {**dates, "cursor": cursor})
    assert ids(response) == [str(r.pk) for r in inside]


def test_a_cursor_ends_the_window_where_it_points(history):
    from reports.api.filters import ServiceRequestFilter
    from reports.api.listing import decode_cursor, encode_cursor
    from reports.models import ServiceRequest

    position = (history[4].requested_datetime, history[4].pk)
    filterset = ServiceRequestFilter(
        {"cursor": encode_cursor(*position)}, queryset=ServiceRequest.objects.public()
    )
    assert filterset.is_valid()
    options = filterset.form.cleaned_data
    assert options["end_date"] == decode_cursor(encode_cursor(*position))[0]
    assert timezone.now() - options["start_date"] < timedelta(days=90, minutes=1)
    assert timezone.now() - options["start_date"] > timedelta(days=89, hours=23)


def test_page_numbers_still_work_and_match_the_cursor_pages(client, history):
    by_page = [
        ids(client.get(f"{BASE}/requests.json", {"page_size": 2, "page": n})) for n in range(1, 7)
    ]

    assert [pk for page in by_page for pk in page] == [str(r.pk) for r in history]
    assert by_page[-1] == []


def test_xml_pages_carry_the_same_link(client, history):
    response = client.get(f"{BASE}/requests.xml", {"page_size": 4})
    following = client.get(next_link(response).replace("requests.json", "requests.xml"))

    root = xml_of(following)
    assert [e.findtext("service_request_id") for e in root.findall("request")] == [
        str(r.pk) for r in history[4:8]
    ]
    assert "requests.xml" in next_link(response)


# Well formed, but with ids no database holds (past 64 bits, or below 0).
OUT_OF_RANGE = [
    base64.urlsafe_b64encode(f"1.{pk}".encode()).decode().rstrip("=")
    for pk in (2**63, -(2**63) - 1, -1)
]


@pytest.mark.parametrize("cursor", ["nonsense", "MTIz", "", "%%%", *OUT_OF_RANGE])
def test_a_bad_cursor_is_a_400_naming_it(client, history, cursor):
    response = client.get(f"{BASE}/requests.json", {"cursor": cursor or "x"})

    assert response.status_code == 400
    assert errors_of(response)[0]["description"].startswith("cursor:")


@pytest.mark.parametrize(
    "query",
    [{"status": "open"}, {"lat": str(CENTRE[0]), "long": str(CENTRE[1]), "radius": "500"}],
)
def test_a_cursor_past_64_bits_is_a_400_on_every_path(client, history, query):
    response = client.get(f"{BASE}/requests.xml", {**query, "cursor": OUT_OF_RANGE[0]})

    assert response.status_code == 400


# --- radius --------------------------------------------------------------------------------

# Hand-computed (haversine, R = 6,371,008.8 m): 0.004° of latitude is 444.8 m and 0.0046°
# is 511.5 m; at 35.78° N, 0.005° of longitude is 451.1 m and 0.0056° is 505.2 m.
NEAR_NORTH = (CENTRE[0] + 0.004, CENTRE[1])
FAR_NORTH = (CENTRE[0] + 0.0046, CENTRE[1])
NEAR_EAST = (CENTRE[0], CENTRE[1] + 0.005)
FAR_EAST = (CENTRE[0], CENTRE[1] + 0.0056)


@pytest.fixture
def neighbours():
    now = timezone.now()
    points = {"near_north": NEAR_NORTH, "far_north": FAR_NORTH, "near_east": NEAR_EAST,
              "far_east": FAR_EAST}  # fmt: skip
    # near_north is the oldest, so newest-first and nearest-first orders differ.
    ages = {"near_north": 5, "far_north": 4, "near_east": 1, "far_east": 2}
    made = {
        name: ServiceRequestFactory(
            lat=lat, long=long, requested_datetime=now - timedelta(hours=ages[name])
        )
        for name, (lat, long) in points.items()
    }
    ServiceRequestFactory(lat=None, long=None, address="1 Elm Street")
    return made


def test_distances_match_the_hand_computed_values():
    assert distance_metres(*CENTRE, *NEAR_NORTH) == pytest.approx(444.8, abs=0.1)
    assert distance_metres(*CENTRE, *FAR_NORTH) == pytest.approx(511.5, abs=0.1)
    assert distance_metres(*CENTRE, *NEAR_EAST) == pytest.approx(451.1, abs=0.1)
    assert distance_metres(*CENTRE, *FAR_EAST) == pytest.approx(505.2, abs=0.1)


def test_radius_keeps_only_reports_within_the_distance(client, neighbours):
    query = {"lat": CENTRE[0], "long": CENTRE[1], "radius": 500}

    newest = client.get(f"{BASE}/requests.json", query)
    nearest = client.get(f"{BASE}/requests.json", {**query, "sort": "distance"})
    wider = client.get(f"{BASE}/requests.json", {**query, "radius": 520})

    near = [neighbours["near_east"], neighbours["near_north"]]
    assert ids(newest) == [str(r.pk) for r in near]
    assert ids(nearest) == [str(neighbours["near_north"].pk), str(neighbours["near_east"].pk)]
    assert set(ids(wider)) == {str(r.pk) for r in neighbours.values()}


def test_radius_pages_by_link_match_the_page_numbers(client, neighbours):
    """A full page of a radius search links to the next; following the links walks the
    reports in the circle newest first, as the page numbers do, and no other."""
    query = {"lat": CENTRE[0], "long": CENTRE[1], "radius": 520, "page_size": 1}
    by_number = [
        ids(client.get(f"{BASE}/requests.json", {**query, "page": n})) for n in (1, 2, 3, 4)
    ]

    walked, response = [], client.get(f"{BASE}/requests.json", query)
    while True:
        walked.append(ids(response))
        url = next_link(response)
        if url is None or not ids(response):
            break
        response = client.get(url)

    expected = sorted(neighbours.values(), key=lambda r: (r.requested_datetime, r.pk), reverse=True)
    assert [page[0] for page in by_number] == [str(r.pk) for r in expected]
    assert [page for page in walked if page] == by_number


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_nearest_first_pages_link_to_the_next_page_number(client, neighbours, fmt):
    """sort=distance pages by number, not by cursor: a full page had no Link header, so a
    client following Link headers read the nearest report and stopped."""
    query = {"lat": CENTRE[0], "long": CENTRE[1], "radius": 520, "sort": "distance"}
    first = client.get(f"{BASE}/requests.{fmt}", {**query, "page_size": 1})

    walked, response = [], client.get(f"{BASE}/requests.json", {**query, "page_size": 1})
    while True:
        walked += ids(response)
        url = next_link(response)
        if url is None:
            break
        assert "page=" in url and "cursor=" not in url
        response = client.get(url)

    assert next_link(first) is not None
    assert walked == ids(client.get(f"{BASE}/requests.json", query))
    assert len(walked) == 4
    # A page that is not full is the last: no link.
    assert next_link(client.get(f"{BASE}/requests.json", {**query, "page_size": 5})) is None


def test_a_report_at_the_radius_due_north_is_found(client):
    """Due north the circle touches its bounding box: a report a millimetre inside the
    radius there is inside the box too."""
    import math

    from reports.api.listing import EARTH_RADIUS

    edge = ServiceRequestFactory(lat=CENTRE[0] + math.degrees(400 / EARTH_RADIUS), long=CENTRE[1])
    query = {"lat": CENTRE[0], "long": CENTRE[1], "radius": 400.001}
    assert ids(client.get(f"{BASE}/requests.json", query)) == [str(edge.pk)]


def test_the_radius_search_can_read_its_cell_index_on_postgresql(neighbours):
    """The search's cell expression is the index's, else PostgreSQL could not use it: the
    public reports in cell order come from the index, unsorted. (Which index a real search
    reads is the bench's to show: a few test rows plan differently.)"""
    from django.db import connection

    from reports.api import listing

    if connection.vendor != "postgresql":
        pytest.skip("the cell index is PostgreSQL's (SQLite reads its B-tree)")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(
            "EXPLAIN SELECT id FROM reports_servicerequest WHERE NOT hidden "
            f"ORDER BY {listing.CELL}, requested_datetime, id LIMIT 5"
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "using sr_public_cell" in plan and "Sort" not in plan, plan
    found, in_cells = listing.around(ServiceRequest.objects.public(), *CENTRE, 500)
    assert in_cells
    assert {r.pk for r in found} == {neighbours["near_north"].pk, neighbours["near_east"].pk}


@pytest.mark.parametrize(
    "query, named",
    [
        ({"lat": "35.78", "long": "-78.64"}, "go together"),
        ({"radius": "100"}, "go together"),
        ({"lat": "35.78", "long": "-78.64", "radius": "0"}, "radius"),
        ({"lat": "35.78", "long": "-78.64", "radius": "90000"}, "radius"),
        ({"lat": "95", "long": "-78.64", "radius": "100"}, "lat"),
        ({"sort": "distance"}, "sort"),
        ({"sort": "sideways"}, "sort"),
    ],
)
def test_bad_radius_queries_are_400s(client, query, named):
    response = client.get(f"{BASE}/requests.json", query)

    assert response.status_code == 400
    assert named in " ".join(e["description"] for e in errors_of(response))


# --- queries -------------------------------------------------------------------------------


def populate(count: int) -> None:
    for n in range(count):
        report = ServiceRequestFactory(attributes={"kind": "tree"})
        RequestUpdateFactory(request=report, text=f"Note {n}")
        if n % 3 == 0:
            photo_process(photo=PhotoFactory(request=report))


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"service_code": "pothole"},
        {"lat": CENTRE[0], "long": CENTRE[1], "radius": 5000, "sort": "distance"},
        {"lat": CENTRE[0], "long": CENTRE[1], "radius": 500},
        {"lat": CENTRE[0], "long": CENTRE[1], "radius": 500, "sort": "distance"},
        {"page": 2, "page_size": 2},
        {"extensions": "true"},
    ],
)
def test_the_number_of_queries_does_not_grow_with_the_page(
    client, django_assert_max_num_queries, query
):
    from django.db import connection

    # On SQLite a deep page of the list narrowed only by its dates finds its position
    # first, in a transaction of its own (here a savepoint and its release): the weeks, one
    # week's hours, the step within an hour (reports/api/positions.py).
    position = 5 if "page" in query and connection.vendor == "sqlite" else 0

    def get() -> Any:
        # Building the page's missing documents: 3 reads and a stored insert, whatever the
        # page's size; reading them once stored: 1.
        with django_assert_max_num_queries(7 + position):
            client.get(f"{BASE}/requests.json", query)
        with django_assert_max_num_queries(1 + position):
            return client.get(f"{BASE}/requests.json", query)

    populate(3)
    small = get()
    populate(12)
    large = get()

    assert small.status_code == large.status_code == 200
    if "service_code" not in query:
        assert len(json_of(large)) > len(json_of(small)) or "page" in query


# --- plans ---------------------------------------------------------------------------------


def explained(sql: str) -> str:
    """SQLite's plan of `sql`, a step a line."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


@pytest.fixture
def city_history():
    """3,000 generated reports of the last 60 days, with the planner's statistics (on
    SQLite: PostgreSQL plans a few thousand fresh rows, before a VACUUM has marked them
    visible, unlike a million; bench/open311.py measures it there)."""
    from io import StringIO

    from django.core.management import call_command
    from django.db import connection

    from tests.factories import ServiceFactory

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's plans (PostgreSQL's are measured at scale by the bench)")
    ServiceFactory()
    call_command("generate_reports", count=3000, days=60, stdout=StringIO(), stderr=StringIO())


def list_query(client, **query: str) -> str:
    """The SQL of the list's page query for `query`."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"{BASE}/requests.json", {"page_size": "100", **query}).status_code == 200
    (page,) = [q["sql"] for q in queries if 'SELECT d."json"' in q["sql"]]
    return page


def test_a_deep_page_steps_over_index_entries_not_rows(client, city_history):
    """page=20 skips 1,900 reports. The list narrowed only by its dates starts where the
    hourly counts put it (reports/api/positions.py): one range of the time index, no
    OFFSET. Narrowed by more, SQLite reads the skipped reports' entries from an index
    alone (it ignores INCLUDE columns, so published_at and hidden are key columns)."""
    page = list_query(client, page="20")
    assert "OFFSET" not in page
    assert "USING INDEX sr_public_newest (requested_datetime>? AND" in explained(page)
    plan = explained(list_query(client, page="20", status="open"))
    assert "USING COVERING INDEX" in plan, plan


def test_a_condition_in_sql_narrows_a_copy_and_refuses_sliced_or_combined_querysets():
    """listing.with_condition() puts SQL in the WHERE itself, where filter() would have
    checked the queryset: it leaves the original alone and refuses what filter() refuses."""
    kept, dropped = ServiceRequestFactory(), ServiceRequestFactory()
    everything = ServiceRequest.objects.order_by("pk")
    narrowed = with_condition(everything, '"reports_servicerequest"."id" <> %s', (dropped.pk,))
    assert list(narrowed) == [kept]
    assert list(everything) == [kept, dropped]
    with pytest.raises(TypeError):
        with_condition(ServiceRequest.objects.order_by("pk")[:1], "1 = 1", ())
    with pytest.raises(TypeError):
        with_condition(ServiceRequest.objects.union(ServiceRequest.objects.all()), "1 = 1", ())
