"""The list narrowed by nothing but its window of dates (by page number or after a cursor),
or also by category, status or box (page 1 and after a cursor), read by one statement
written as SQL (listing.plain_source), answers exactly what the ORM's query does: `by_orm`
asks the same pages with that statement switched off."""

from __future__ import annotations

import random
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reports.api import documents
from reports.models import ServiceRequest
from tests.factories import CITY_CENTRE, ServiceFactory, ServiceRequestFactory
from tests.reports.test_open311_paging import BASE, ids, next_link

pytestmark = pytest.mark.django_db


@pytest.fixture
def by_orm(client, monkeypatch):
    """client.get with documents.read_page reading every page through the ORM."""

    def get(url: str, data: dict | None = None):
        with monkeypatch.context() as patched:
            patched.setattr(documents, "SQL_VENDORS", ())
            return client.get(url, data)

    return get


@pytest.fixture
def mixed():
    """60 reports over 100 days, open and closed; every fifth hidden or in its preview
    window, pairs at one instant, one exactly at the window's end."""
    rng = random.Random(12)
    now = timezone.now().replace(microsecond=0)
    made = []
    for n in range(60):
        fields = {"requested_datetime": now - timedelta(hours=rng.uniform(0, 2400))}
        if n % 6 == 1:
            fields["requested_datetime"] = made[-1].requested_datetime
        if n % 5 == 2:
            fields["hidden"] = True
        if n % 5 == 4:
            fields["published_at"] = now + timedelta(hours=2)
        if n % 2:
            fields.update(status="closed", state="fixed", closed_datetime=now)
        made.append(ServiceRequestFactory(**fields))
    return now


@pytest.mark.parametrize(
    "page_size,page", [(100, 1), (7, 1), (7, 2), (7, 5), (3, 9), (50, 2), (7, 9)]
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_plain_list_answers_what_the_orm_does(client, by_orm, mixed, page_size, page, fmt):
    window = {"end_date": (mixed - timedelta(days=3)).isoformat()}
    for extra in ({}, window, {"extensions": "true"}):
        query = {"page_size": page_size, "page": page, **extra}
        plain = client.get(f"{BASE}/requests.{fmt}", query)
        orm = by_orm(f"{BASE}/requests.{fmt}", query)
        assert plain.status_code == orm.status_code == 200
        assert plain.content == orm.content
        if fmt == "json" and page == 1 and page_size == 100 and not extra:
            hidden_or_early = 60 - len(ids(plain))
            assert hidden_or_early >= 24  # the hidden, the previews and those before 90 days


def walk(client, by_orm, url: str | None) -> list[str]:
    """Follows the Link headers from `url`: each page has the bytes and the next link of
    the ORM's page. The ids of every page, in order."""
    walked: list[str] = []
    while url is not None:
        plain, orm = client.get(url), by_orm(url)
        assert plain.status_code == orm.status_code == 200
        assert plain.content == orm.content
        walked += ids(plain)
        url = next_link(plain)
        assert next_link(orm) == url
    return walked


@pytest.mark.parametrize("page_size", [4, 7, 100])
def test_a_cursor_walk_on_the_plain_list_answers_what_the_orm_does(
    client, by_orm, mixed, page_size
):
    """Following the Link headers: every page after a cursor, read by the plain statement,
    has the bytes and the next link of the ORM's page (after(), positions.py unused)."""
    walked = walk(client, by_orm, f"{BASE}/requests.json?page_size={page_size}")
    everything = ids(client.get(f"{BASE}/requests.json", {"page_size": 1000}))
    assert walked == everything and len(everything) > 4 * 4


@pytest.mark.parametrize("how", ["first", "page=3", "cursor", "status=open&bbox=-180,-90,180,90"])
def test_the_plain_list_is_read_by_its_own_statement(client, mixed, how):
    """Page 1, a page by number and a page after a cursor are each read by the statement
    documents._select writes (not the ORM's, which names its columns), in one
    query on PostgreSQL (SQLite first finds a numbered page's position, positions.find)."""
    url = f"{BASE}/requests.json?page_size=4"
    if how == "page=3":
        url += "&page=3"
    elif how == "cursor":
        url = next_link(client.get(url))
    elif how.startswith("status"):
        url += f"&{how}"
    client.get(url)  # the documents stored on the first read
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    if connection.vendor == "postgresql":
        assert len(queries) == 1
    reports = '"reports_servicerequest"'
    assert queries[-1]["sql"].startswith(
        f'SELECT {reports}."id", CAST({reports}."requested_datetime" AS text), '
    )


@pytest.fixture
def narrowable(mixed):
    """The mixed reports in three categories, spread over a few kilometres."""
    rng = random.Random(5)
    services = [ServiceFactory(service_code=code) for code in ("pothole", "graffiti", "light")]
    for n, report in enumerate(ServiceRequest.objects.order_by("pk")):
        ServiceRequest.objects.filter(pk=report.pk).update(
            service=services[n % 3],
            lat=CITY_CENTRE[0] + rng.uniform(-0.02, 0.02),
            long=CITY_CENTRE[1] + rng.uniform(-0.02, 0.02),
        )
    return mixed


def box(west: float, south: float, east: float, north: float) -> str:
    """A bbox parameter, in degrees from the city centre."""
    lat, long = CITY_CENTRE
    return f"{long + west},{lat + south},{long + east},{lat + north}"


NARROWINGS = [
    {"service_code": "pothole"},
    {"service_code": "pothole,light"},
    {"service_code": "nope"},
    {"status": "closed"},
    {"status": "open,closed"},
    {"bbox": box(-0.01, -0.02, 0.02, 0.005)},
    {"service_code": "graffiti,light", "status": "open", "bbox": box(-0.02, -0.01, 0.01, 0.02)},
]


@pytest.mark.parametrize("narrowing", NARROWINGS)
@pytest.mark.parametrize("page_size", [3, 100])
def test_a_narrowed_list_answers_what_the_orm_does(
    client, by_orm, narrowable, narrowing, page_size
):
    """A list narrowed by category, status or box: page 1 and every page after a cursor are
    read by the plain statement, pages by number after the first by the ORM; each has the
    bytes of the ORM's answer and the whole walk is the ORM's whole list."""
    window = {
        "start_date": (narrowable - timedelta(days=80)).isoformat(),
        "end_date": (narrowable - timedelta(hours=1)).isoformat(),
    }
    paged = {"page_size": page_size, **window, **narrowing}
    walked = walk(client, by_orm, f"{BASE}/requests.json?{urlencode(paged)}")
    query = {"page_size": 1000, **window, **narrowing}
    everything = ids(by_orm(f"{BASE}/requests.json", query))
    assert walked == everything
    assert (everything == []) == (narrowing == {"service_code": "nope"})
    for page in (2, 3):
        numbered = {**query, "page_size": page_size, "page": page}
        plain = client.get(f"{BASE}/requests.xml", numbered)
        orm = by_orm(f"{BASE}/requests.xml", numbered)
        assert plain.status_code == orm.status_code == 200
        assert plain.content == orm.content
