"""The radius search's first pages against the same search done by hand: newest first (in
spans of time on PostgreSQL, reports/api/circles.py), nearest first (the circle of half the
radius first), by cursor, and with reports that must not appear (hidden, in their preview
window, before the window, outside the circle, tied in time)."""

from __future__ import annotations

import math
import random
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reports.api import documents
from reports.api.circles import distance_metres
from reports.models import ServiceRequest
from tests.factories import ServiceRequestFactory
from tests.reports.test_open311_paging import BASE, CENTRE, ids, next_link

pytestmark = pytest.mark.django_db

RADIUS = 500


@pytest.fixture
def scattered():
    """120 reports within 700 m of the centre, most of the last two days, the rest spread
    over 100 days; every tenth is hidden or still in its preview window, and pairs share an
    instant. Returns what the search should find, newest first."""
    rng = random.Random(311)
    now = timezone.now().replace(microsecond=0)
    reports = []
    for n in range(120):
        metres, bearing = 700 * rng.random() ** 0.5, math.radians(rng.uniform(0, 360))
        north, east = metres * math.cos(bearing), metres * math.sin(bearing)
        age = timedelta(hours=rng.uniform(0, 48)) if n % 3 else timedelta(days=rng.uniform(0, 100))
        if n % 7 == 1:  # at the same instant as the one before
            age = now - reports[-1].requested_datetime
        fields = {}
        if n % 10 == 3:
            fields["hidden"] = True
        if n % 10 == 6:
            fields["published_at"] = now + timedelta(hours=1)
        reports.append(
            ServiceRequestFactory(
                lat=CENTRE[0] + north / 111_195,
                long=CENTRE[1] + east / (111_195 * math.cos(math.radians(CENTRE[0]))),
                requested_datetime=now - age,
                **fields,
            )
        )
    found = [
        r
        for r in ServiceRequest.objects.public().filter(
            requested_datetime__gte=now - timedelta(days=90)
        )
        if distance_metres(*CENTRE, r.lat, r.long) <= RADIUS
    ]
    assert 40 < len(found) < 100  # the spans have something to do
    return sorted(found, key=lambda r: (r.requested_datetime, r.pk), reverse=True)


QUERY = {"lat": CENTRE[0], "long": CENTRE[1], "radius": RADIUS}


@pytest.mark.parametrize("size", [1, 3, 10, 35, 100])
def test_the_first_page_newest_first_is_the_circles_newest(client, scattered, size):
    answer = client.get(f"{BASE}/requests.json", {**QUERY, "page_size": size})
    assert answer.status_code == 200
    assert ids(answer) == [str(r.pk) for r in scattered[:size]]


@pytest.mark.parametrize("size", [1, 4, 9])
def test_cursor_pages_walk_the_circle_newest_first_once(client, scattered, size):
    walked, url = [], f"{BASE}/requests.json"
    answer = client.get(url, {**QUERY, "page_size": size})
    while True:
        walked += ids(answer)
        url = next_link(answer)
        if url is None:
            break
        answer = client.get(url)
    assert walked == [str(r.pk) for r in scattered]


@pytest.mark.parametrize("size", [1, 5, 20, 60, 100])
def test_the_first_page_nearest_first_is_the_circles_nearest(client, scattered, size):
    """Small pages are found in the circle of half the radius, larger ones need all of it."""
    answer = client.get(f"{BASE}/requests.json", {**QUERY, "sort": "distance", "page_size": size})
    nearest = sorted(
        scattered,
        key=lambda r: (distance_metres(*CENTRE, r.lat, r.long), -r.requested_datetime.timestamp(),
                       -r.pk),
    )  # fmt: skip
    assert ids(answer) == [str(r.pk) for r in nearest[:size]]


def test_a_window_of_dates_keeps_the_circle_to_it(client, scattered):
    now = timezone.now()
    window = {"start_date": (now - timedelta(days=30)).isoformat(),
              "end_date": (now - timedelta(hours=12)).isoformat()}  # fmt: skip
    answer = client.get(f"{BASE}/requests.json", {**QUERY, **window, "page_size": 100})
    inside = [
        r for r in scattered
        if now - timedelta(days=30) <= r.requested_datetime <= now - timedelta(hours=12)
    ]  # fmt: skip
    assert inside and ids(answer) == [str(r.pk) for r in inside]


@pytest.mark.parametrize("size", [3, 100])
def test_a_report_on_the_edge_of_a_span_of_time_is_read_once(client, size):
    """Newest first, PostgreSQL reads the window's last day first, then older spans: a
    report requested exactly a day before the window's end is in the first span only (and
    counts once towards a full page)."""
    end = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    ages = [timedelta(hours=2), timedelta(days=1), timedelta(days=2), timedelta(days=3)]
    made = [
        ServiceRequestFactory(lat=CENTRE[0], long=CENTRE[1], requested_datetime=end - age)
        for age in ages
    ]
    query = {**QUERY, "end_date": end.isoformat(), "page_size": size}
    assert ids(client.get(f"{BASE}/requests.json", query)) == [str(r.pk) for r in made[:size]]


sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="PostgreSQL reads a circle by its cells (the function, checked above)",
)


@sqlite_only
@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("sort", ["requested", "distance"])
@pytest.mark.parametrize("size", [1, 7, 100])
def test_sqlites_circle_statement_answers_what_the_orm_does(
    client, monkeypatch, scattered, fmt, sort, size
):
    """SQLite's first page of a circle (listing.circle_source) and every page after a
    cursor newest first, with and without the extensions, have the bytes and the Link
    header of the page the ORM reads when the statement is switched off."""
    url = f"{BASE}/requests.{fmt}?" + urlencode({**QUERY, "sort": sort, "page_size": size})
    for extensions in ("", "&extensions=true"):
        next_url: str | None = url + extensions
        while next_url is not None:
            answer = client.get(next_url)
            with monkeypatch.context() as patched:
                patched.setattr(documents, "SQL_VENDORS", ())
                orm = client.get(next_url)
            assert answer.status_code == orm.status_code == 200
            assert answer.content == orm.content
            assert answer.get("Link") == orm.get("Link")
            next_url = next_link(answer)
    walked = ids(client.get(url.replace(".xml", ".json")))
    assert walked and len(walked) == min(size, len(scattered))


@sqlite_only
@pytest.mark.parametrize("how", ["newest", "nearest", "cursor"])
def test_sqlites_circle_page_is_read_by_one_statement(client, scattered, how):
    """Not the ORM's (which names its columns): the statement documents._select writes,
    one query once the documents are stored."""
    query = {**QUERY, "page_size": 5, "sort": "distance" if how == "nearest" else "requested"}
    url = f"{BASE}/requests.json?{urlencode(query)}"
    if how == "cursor":
        url = next_link(client.get(url))
    client.get(url)  # the documents stored on the first read
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    reports = '"reports_servicerequest"'
    assert len(queries) == 1
    assert queries[0]["sql"].startswith(
        f'SELECT {reports}."id", CAST({reports}."requested_datetime" AS text), '
    )
