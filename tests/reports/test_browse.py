"""The public list by place: filters (area, text, near a point, dates), keyset pages, the
map's cluster endpoint, the neighbourhood pages, and HTTP caching of anonymous pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from civic311.dates import to_micros
from reports.browse import clusters, pages
from reports.browse.pages import COUNT_CAP
from reports.models import ServiceRequest
from reports.services import triage
from tests.conftest import assert_errors_described, assert_no_private_data
from tests.factories import (
    CITY_CENTRE,
    BoundaryFactory,
    ServiceFactory,
    ServiceRequestFactory,
    UserFactory,
    square,
)

pytestmark = pytest.mark.django_db

LAT, LNG = CITY_CENTRE
LIST_URL = reverse("reports:list")
MAP_URL = reverse("reports:map-data")
CITY_BBOX = "35.70,-78.78,35.88,-78.50"


def ids(response) -> list[int]:
    return [r.pk for r in response.context["page"].reports]


def newest_first(reports) -> list[int]:
    return [r.pk for r in sorted(reports, key=lambda r: (r.requested_datetime, r.pk), reverse=True)]


# Filters


def test_list_filters_by_category_and_status_and_hides_hidden(client):
    pothole = ServiceFactory(name="Pothole")
    graffiti = ServiceFactory(name="Graffiti")
    open_pothole = ServiceRequestFactory(service=pothole, description="Open pothole here")
    ServiceRequestFactory(
        service=pothole, state="fixed", status="closed", description="Fixed pothole there"
    )
    ServiceRequestFactory(service=graffiti, description="Graffiti on the wall")
    ServiceRequestFactory(service=pothole, hidden=True, description="Hidden pothole spam")
    response = client.get(LIST_URL, {"service": pothole.pk, "status": "open"})
    assert response.status_code == 200
    assert ids(response) == [open_pothole.pk]
    html = response.content.decode()
    assert "Open pothole here" in html
    assert "Fixed pothole there" not in html and "Graffiti on the wall" not in html
    everything = client.get(LIST_URL)
    assert everything.context["count"] == 3
    assert "Hidden pothole spam" not in everything.content.decode()
    assert_no_private_data(everything.content.decode())


def test_list_filters_by_neighbourhood_including_areas_inside_it(client):
    downtown = BoundaryFactory(name="Downtown", geometry=square(35.77, -78.65, 35.79, -78.63))
    # A park inside Downtown: its reports store the park as their (smallest) area.
    park = BoundaryFactory(
        name="Moore Square",
        kind="service_area",
        geometry=square(35.775, -78.64, 35.777, -78.638),
    )
    elsewhere = BoundaryFactory(name="Oakwood", geometry=square(35.80, -78.62, 35.81, -78.61))
    in_downtown = ServiceRequestFactory(area=downtown)
    in_park = ServiceRequestFactory(area=park)
    ServiceRequestFactory(area=elsewhere)
    ServiceRequestFactory(area=None)
    response = client.get(LIST_URL, {"area": "downtown"})
    assert response.status_code == 200
    assert set(ids(response)) == {in_downtown.pk, in_park.pk}
    assert response.context["count"] == 2
    html = response.content.decode()
    assert "Reports in Downtown" in html
    assert reverse("reports:area", args=["oakwood"]) in html  # browse-by-neighbourhood links
    assert client.get(LIST_URL, {"area": "atlantis"}).status_code == 400


def test_list_searches_category_and_public_description_only(client):
    streetlight = ServiceFactory(name="Streetlight out")
    lamp = ServiceRequestFactory(service=streetlight, description="Dark corner")
    words = ServiceRequestFactory(description="A streetlight pole leaning over")
    ServiceRequestFactory(description="Streetlight swearing", description_redacted=True)
    ServiceRequestFactory(description="Pothole")
    response = client.get(LIST_URL, {"q": "streetlight"})
    assert set(ids(response)) == {lamp.pk, words.pk}


def test_list_filters_by_date_range_in_whole_days(client):
    now = timezone.now()
    old = ServiceRequestFactory(requested_datetime=now - timedelta(days=40))
    recent = ServiceRequestFactory(requested_datetime=now - timedelta(days=3))
    today = ServiceRequestFactory(requested_datetime=now)
    day = lambda d: timezone.localtime(d).date().isoformat()  # noqa: E731
    response = client.get(LIST_URL, {"start": day(recent.requested_datetime), "end": day(now)})
    assert set(ids(response)) == {recent.pk, today.pk}
    until = client.get(LIST_URL, {"end": day(old.requested_datetime)})
    assert ids(until) == [old.pk]
    backwards = client.get(LIST_URL, {"start": day(now), "end": day(old.requested_datetime)})
    assert backwards.status_code == 400
    assert "The end date is before the start date." in backwards.content.decode()
    assert backwards.context["page"].reports == []


def test_list_near_a_point_sorts_by_distance_within_the_radius(client):
    far = ServiceRequestFactory(lat=LAT + 0.02, long=LNG)  # about 2.2 km north
    near = ServiceRequestFactory(lat=LAT + 0.001, long=LNG)  # about 110 m
    nearer = ServiceRequestFactory(lat=LAT, long=LNG + 0.0005)  # about 45 m
    ServiceRequestFactory(lat=None, long=None, address="Somewhere without a point")
    response = client.get(LIST_URL, {"lat": LAT, "long": LNG, "radius": "500"})
    assert response.status_code == 200
    assert ids(response) == [nearer.pk, near.pk]
    html = response.content.decode()
    assert "within 500 m, nearest first" in html
    assert "45 m away" in html and "111 m away" in html
    wide = client.get(LIST_URL, {"lat": LAT, "long": LNG, "radius": "2000"})
    assert far.pk not in ids(wide)
    assert client.get(LIST_URL, {"lat": LAT, "long": LNG, "radius": "5000000"}).status_code == 400


def test_list_near_a_point_says_where_its_pages_stop(client, monkeypatch):
    monkeypatch.setattr(pages, "MAX_NEAR_PAGES", 2)
    ServiceRequestFactory.create_batch(2 * pages.PAGE_SIZE + 1, lat=LAT, long=LNG)
    near = {"lat": LAT, "long": LNG, "radius": "500"}
    first = client.get(LIST_URL, near)
    assert first.context["page"].older == {"page": 2} and first.context["page"].cut_off is None
    assert "the list stops here" not in first.content.decode()
    last = client.get(LIST_URL, {**near, "page": 2})
    assert last.context["page"].older == {} and len(ids(last)) == pages.PAGE_SIZE
    html = last.content.decode()
    assert "51 reports within 500 m" in html  # counted past what the pages show
    assert "These are the 50 nearest reports; the list stops here." in html
    assert "Farther" not in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"lat": LAT}, "Give both latitude and longitude, or neither."),
        ({"lat": "51.5", "long": "-0.12"}, "That location is outside"),
        ({"lat": "north", "long": LNG}, "Enter a number."),
        ({"start": "yesterday"}, "Enter a valid date."),
        ({"end": "9999-12-31"}, "outside the years 1900"),  # was a 500 (a day past it)
        ({"start": "0001-01-01"}, "outside the years 1900"),
        ({"service": "999999"}, "Select a valid choice."),
        ({"bbox": "1,2,3"}, "The map area is not four numbers."),
    ],
)
def test_list_bad_filters_say_what_is_wrong(client, params, message):
    ServiceRequestFactory()
    response = client.get(LIST_URL, params)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and 'role="alert"' in html
    assert response.context["page"].reports == []
    if "bbox" not in params:  # a hidden field: its error is in the summary alone
        assert_errors_described(html)


# Keyset pages


def test_list_pages_by_keyset_newest_first_and_back(client):
    service = ServiceFactory()
    moment = timezone.now()
    # Ties on requested_datetime are broken by id: no report is skipped or shown twice.
    reports = [
        ServiceRequestFactory(service=service, requested_datetime=moment - timedelta(hours=i // 4))
        for i in range(60)
    ]
    order = newest_first(reports)
    first = client.get(LIST_URL, {"service": service.pk})
    assert ids(first) == order[:25]
    older = first.context["page"].older
    last = ServiceRequest.objects.get(pk=order[24])
    assert older == {"before": order[24], "t": to_micros(last.requested_datetime)}
    link = f"service={service.pk}&amp;before={order[24]}&amp;t={older['t']}"
    assert f'href="?{link}"' in first.content.decode()
    assert not first.context["page"].newer
    second = client.get(LIST_URL, {"service": service.pk, **older})
    assert ids(second) == order[25:50]
    third = client.get(LIST_URL, {"service": service.pk, **second.context["page"].older})
    assert ids(third) == order[50:]
    assert not third.context["page"].older
    back = client.get(LIST_URL, {"service": service.pk, **third.context["page"].newer})
    assert ids(back) == order[25:50]
    assert (
        ids(client.get(LIST_URL, {"service": service.pk, **back.context["page"].newer}))
        == (order[:25])
    )


def test_list_starts_over_from_an_unknown_neighbour_and_refuses_a_non_number(client):
    reports = ServiceRequestFactory.create_batch(3)
    for params in ({"before": "99999999"}, {"after": "99999999"}, {"page": "9"}):
        response = client.get(LIST_URL, params)
        assert response.status_code == 200
        assert ids(response) == newest_first(reports)
    for params in ({"before": "x"}, {"after": "٣"}, {"page": "-1"}):
        assert client.get(LIST_URL, params).status_code == 404
    # A hidden neighbour is unknown too: the page would tell when it was reported.
    hidden = ServiceRequestFactory(hidden=True, requested_datetime=reports[1].requested_datetime)
    for params in ({"before": hidden.pk}, {"after": hidden.pk}):
        assert ids(client.get(LIST_URL, params)) == newest_first(reports)


def test_a_neighbour_deleted_since_still_marks_the_page(client):
    moment = timezone.now()
    reports = [
        ServiceRequestFactory(requested_datetime=moment - timedelta(minutes=i)) for i in range(60)
    ]
    order = newest_first(reports)
    older = client.get(LIST_URL).context["page"].older
    newer = client.get(LIST_URL, older).context["page"].newer
    ServiceRequest.objects.filter(pk=older["before"]).delete()
    assert ids(client.get(LIST_URL, older)) == order[25:50]  # not the newest page again
    ServiceRequest.objects.filter(pk=newer["after"]).delete()
    assert ids(client.get(LIST_URL, newer)) == order[:24]
    # A link from before the time was in it still looks its neighbour up.
    assert ids(client.get(LIST_URL, {"before": order[49]})) == order[50:]
    for t in ("x", "1.5", "9" * 19, str(to_micros(moment.replace(year=3000)))):
        assert client.get(LIST_URL, {**older, "t": t}).status_code == 404


def test_list_counts_stop_at_the_cap(client, monkeypatch):
    monkeypatch.setattr("reports.browse.pages.COUNT_CAP", 5)
    ServiceRequestFactory.create_batch(7)
    response = client.get(LIST_URL)
    assert response.context["count"] == 5 and response.context["count_more"]
    assert "5+ reports" in response.content.decode()
    assert COUNT_CAP >= 1000


def _list_queries(client, params) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(LIST_URL, params).status_code == 200
    return [q["sql"] for q in queries.captured_queries]


def test_list_never_counts_the_whole_table_or_skips_with_offset(client):
    reports = ServiceRequestFactory.create_batch(30)
    for params in ({}, {"before": newest_first(reports)[24]}, {"status": "open"}):
        for sql in _list_queries(client, params):
            assert " OFFSET " not in sql.upper()
            if "COUNT(" in sql.upper():
                assert re.search(r"LIMIT \d+", sql), sql


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"status": "open", "q": "hole"},
        {"area": "downtown"},
        {"lat": str(LAT), "long": str(LNG), "radius": "2000"},
        {"start": "2020-01-01", "before": "PK"},
    ],
)
def test_list_query_count_does_not_grow_with_rows(client, params, django_assert_num_queries):
    BoundaryFactory(name="Downtown")
    service = ServiceFactory(name="Pothole")
    ServiceRequestFactory.create_batch(5, service=service)
    if params.get("before") == "PK":
        params = {**params, "before": ServiceRequest.objects.order_by("pk").last().pk}
    counts = []
    for batch in (30, 60):
        ServiceRequestFactory.create_batch(batch, service=service)
        counts.append(len(_list_queries(client, params)))
    assert counts[0] == counts[1] <= 12


# The map's clusters


def test_map_returns_points_when_few_are_in_view(client):
    pothole = ServiceFactory(name="Pothole")
    shown = ServiceRequestFactory(service=pothole, lat=LAT, long=LNG)
    ServiceRequestFactory(service=pothole, hidden=True)
    ServiceRequestFactory(service=pothole, lat=35.5, long=-78.0)  # outside the box
    ServiceRequestFactory(lat=LAT, long=LNG)  # another category
    response = client.get(MAP_URL, {"bbox": "35.77,-78.65,35.79,-78.63", "zoom": "15",
                                    "service": pothole.pk})  # fmt: skip
    assert response.status_code == 200
    data = response.json()
    assert data["total"] == 1
    [point] = data["points"]
    assert point[:5] == [shown.pk, round(LAT, 6), round(LNG, 6), "open", "Pothole"]
    assert_no_private_data(response.content.decode())


def test_map_counts_on_a_grid_when_many_match(client, monkeypatch):
    monkeypatch.setattr(clusters, "POINT_LIMIT", 5)
    ServiceRequestFactory.create_batch(12, lat=LAT, long=LNG)
    ServiceRequestFactory.create_batch(
        4, lat=35.85, long=-78.55, state="fixed", status="closed", closed_datetime=timezone.now()
    )
    ServiceRequestFactory(lat=35.85, long=-78.55, hidden=True)
    data = client.get(MAP_URL, {"bbox": CITY_BBOX, "zoom": "12"}).json()
    assert data["total"] == 16
    assert "points" not in data
    by_count = sorted(data["clusters"], key=lambda c: c[2])
    assert [c[2:4] for c in by_count] == [[4, 0], [12, 12]]
    height, width = data["cell"]
    lat, long, _, _, row, column = by_count[1]
    assert row * height <= lat < (row + 1) * height
    assert column * width <= long < (column + 1) * width
    only_open = client.get(MAP_URL, {"bbox": CITY_BBOX, "zoom": "12", "status": "open"}).json()
    assert only_open["total"] == 12


def test_map_grid_stays_small_for_a_huge_box_at_a_deep_zoom(client, monkeypatch):
    monkeypatch.setattr(clusters, "POINT_LIMIT", 0)
    for i in range(40):
        ServiceRequestFactory(lat=35.70 + i * 0.004, long=-78.78 + i * 0.007)
    data = client.get(MAP_URL, {"bbox": "-80,-170,80,170", "zoom": "18"}).json()
    assert data["total"] == 40
    height, width = data["cell"]
    assert (160 / height + 1) * (340 / width + 1) <= clusters.MAX_CELLS


def test_map_refuses_dates_outside_the_years_accepted(client):
    response = client.get(MAP_URL, {"bbox": CITY_BBOX, "end": "9999-12-31"})
    assert response.status_code == 400
    assert "end" in response.json()["errors"]


def test_map_keeps_two_categories_of_the_same_name_apart(client):
    """The map's answers are cached by filter: a category by its key, not its name."""
    roads = ServiceFactory(name="Other", group="Roads")
    parks = ServiceFactory(name="Other", group="Parks")
    ServiceRequestFactory.create_batch(3, service=roads)
    view = {"bbox": CITY_BBOX, "zoom": "12"}
    assert client.get(MAP_URL, {**view, "service": roads.pk}).json()["total"] == 3
    assert client.get(MAP_URL, {**view, "service": parks.pk}).json()["total"] == 0


def test_a_report_hidden_leaves_the_maps_kept_answers_at_once(
    client, django_capture_on_commit_callbacks
):
    report = ServiceRequestFactory(lat=LAT, long=LNG)
    staff = UserFactory(is_staff=True, is_superuser=True)
    view = {"bbox": CITY_BBOX, "zoom": "15"}
    assert client.get(MAP_URL, view).json()["total"] == 1  # kept a minute
    with django_capture_on_commit_callbacks(execute=True):
        triage.report_moderate(
            report=report, author=staff, hidden=True, description_redacted=False, reason="Spam"
        )
    assert client.get(MAP_URL, view).json()["total"] == 0


@pytest.mark.parametrize(
    "params",
    [{}, {"bbox": "a,b,c,d"}, {"bbox": "10,10,5,5"}, {"bbox": CITY_BBOX, "status": "lost"}],
)
def test_map_refuses_a_missing_or_bad_box(client, params):
    response = client.get(MAP_URL, params)
    assert response.status_code == 400
    assert response.json()["errors"]


def test_map_query_count_does_not_grow_with_rows(client, monkeypatch, django_assert_num_queries):
    monkeypatch.setattr(clusters, "POINT_LIMIT", 10)
    BoundaryFactory(name="Downtown")
    counts = []
    for zoom in ("13", "14"):  # another zoom: not the answer cached for the first
        ServiceRequestFactory.create_batch(20)
        with CaptureQueriesContext(connection) as queries:
            client.get(MAP_URL, {"bbox": CITY_BBOX, "zoom": zoom, "area": "downtown"})
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 6


# Neighbourhood pages


def test_area_page_shows_open_reports_counts_and_map(client):
    downtown = BoundaryFactory(name="Boylan Heights")
    open_here = ServiceRequestFactory(area=downtown, description="Open in Boylan")
    ServiceRequestFactory(
        area=downtown, state="fixed", status="closed", closed_datetime=timezone.now(),
        description="Closed in Boylan",
    )  # fmt: skip
    ServiceRequestFactory(area=downtown, hidden=True, description="Hidden in Boylan")
    ServiceRequestFactory(description="Open somewhere else")
    response = client.get(reverse("reports:area", args=["boylan-heights"]))
    assert response.status_code == 200
    assert [r.pk for r in response.context["latest"]] == [open_here.pk]
    assert response.context["counts"] == {"open": 1, "reported_recently": 2, "closed_recently": 1}
    html = response.content.decode()
    assert "Open in Boylan" in html
    assert "Closed in Boylan" not in html and "Hidden in Boylan" not in html
    assert "Open somewhere else" not in html
    assert 'id="reports-map-browse"' in html and "area=boylan-heights" in html
    assert "What the map shows, as text" in html
    assert_no_private_data(html)


def test_area_page_links_to_its_own_open_reports(client):
    # The site menu's "Reports" link must not replace the page's filtered list link.
    ServiceRequestFactory(area=BoundaryFactory(name="Oakwood"))
    html = client.get(reverse("reports:area", args=["oakwood"])).content.decode()
    assert f'href="{LIST_URL}?area=oakwood&amp;status=open">All 1 open report in' in html


def test_unknown_area_is_404(client):
    BoundaryFactory(name="Downtown", kind="district")  # a district has no page
    assert client.get(reverse("reports:area", args=["downtown"])).status_code == 404
    assert client.get(reverse("reports:area", args=["nowhere"])).status_code == 404


def test_area_index_lists_neighbourhoods_with_counts(client):
    oakwood = BoundaryFactory(name="Oakwood")
    BoundaryFactory(name="North District", kind="district")
    ServiceRequestFactory.create_batch(2, area=oakwood)
    response = client.get(reverse("reports:areas"))
    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("reports:area", args=["oakwood"]) in html
    assert "North District" not in html
    assert response.context["areas"][0]["open"] == 2


def test_report_page_links_its_neighbourhood(client):
    BoundaryFactory(name="Five Points", geometry=square(35.77, -78.65, 35.79, -78.63))
    inside = ServiceRequestFactory(lat=LAT, long=LNG)
    outside = ServiceRequestFactory(lat=35.85, long=-78.55)
    link = reverse("reports:area", args=["five-points"])
    assert link in client.get(inside.get_absolute_url()).content.decode()
    assert link not in client.get(outside.get_absolute_url()).content.decode()


# HTTP caching


@pytest.mark.parametrize(
    "url",
    [reverse("reports:home"), LIST_URL, reverse("reports:areas"), f"{MAP_URL}?bbox={CITY_BBOX}"],
)
def test_anonymous_pages_are_cacheable_and_revalidate(client, url):
    ServiceRequestFactory()
    response = client.get(url)
    assert response.status_code == 200
    assert "public" in response["Cache-Control"] and "max-age=60" in response["Cache-Control"]
    assert "Cookie" in response["Vary"]
    etag = response["ETag"]
    again = client.get(url, headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b""


def test_pages_for_a_signed_in_user_are_private(client):
    client.force_login(UserFactory())
    response = client.get(LIST_URL)
    assert response.status_code == 200
    assert "private" in response["Cache-Control"] and "public" not in response["Cache-Control"]
    assert not response.has_header("ETag")


def test_a_page_with_a_form_that_posts_or_a_message_is_private(client):
    report = ServiceRequestFactory()
    detail = client.get(report.get_absolute_url())  # the follow form carries a CSRF token
    assert "private" in detail["Cache-Control"] and not detail.has_header("ETag")
    client.post(report.get_absolute_url(), {"email": "someone@example.org"})
    with_message = client.get(LIST_URL)
    assert "Please confirm with the link we emailed you" in with_message.content.decode()
    assert "private" in with_message["Cache-Control"]


@pytest.mark.parametrize("url", ["hidden report", "/areas/nowhere/", f"{LIST_URL}?before=٣"])
def test_a_page_not_found_is_not_kept_by_caches(client, url):
    if url == "hidden report":
        url = ServiceRequestFactory(hidden=True).get_absolute_url()
    response = client.get(url)
    assert response.status_code == 404
    assert "private" in response["Cache-Control"] and "no-cache" in response["Cache-Control"]
    assert "public" not in response["Cache-Control"] and not response.has_header("ETag")


@pytest.mark.parametrize("url", [reverse("reports:areas"), "/areas/downtown/"])
def test_area_pages_query_count_does_not_grow_with_rows(client, url):
    downtown = BoundaryFactory(name="Downtown")
    counts = []
    for batch in (10, 40):
        ServiceRequestFactory.create_batch(batch, area=downtown)
        cache.clear()  # the counts are kept a minute: count them again
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 12


def test_report_page_query_count_does_not_grow_with_its_neighbours(client):
    BoundaryFactory(name="Downtown")
    report = ServiceRequestFactory()
    counts = []
    for batch in (5, 30):
        ServiceRequestFactory.create_batch(batch)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(report.get_absolute_url()).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 15
