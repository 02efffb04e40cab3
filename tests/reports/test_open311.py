"""Open311 GeoReport v2 read endpoints: GET requests, one request, formats and datetimes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from reports.models import ServiceRequest
from reports.photos import photo_process
from tests.conftest import assert_no_private_data
from tests.factories import (
    PhotoFactory,
    RequestUpdateFactory,
    ServiceFactory,
    ServiceRequestFactory,
)
from tests.reports.open311_support import (
    assert_matches,
    errors_of,
    json_of,
    xml_of,
)

pytestmark = pytest.mark.django_db

BASE = "/open311/v2"


def days_ago(days: float):
    return timezone.now() - timedelta(days=days)


# --- GET requests ---------------------------------------------------------------------------


def test_requests_list_default_is_last_90_days_with_every_field(client):
    recent = ServiceRequestFactory(
        requested_datetime=days_ago(2),
        address_id="A-17",
        zipcode="27601",
        status_notes="Crew booked.",
        expected_datetime=timezone.now() + timedelta(days=1),
    )
    ServiceRequestFactory(requested_datetime=days_ago(100))

    response = client.get(f"{BASE}/requests.json")

    assert response.status_code == 200
    data = json_of(response)
    assert_matches("requests", data)
    (item,) = data
    assert item["service_request_id"] == str(recent.pk)
    assert item["status"] == "open"
    assert item["status_notes"] == "Crew booked."
    assert item["service_code"] == recent.service.service_code
    assert item["service_name"] == recent.service.name
    assert item["agency_responsible"] == recent.department.name
    assert item["description"] == recent.description
    assert item["address"] == "100 Main Street"
    assert item["address_id"] == "A-17"
    assert item["zipcode"] == "27601"
    assert item["lat"] == recent.lat and item["long"] == recent.long
    assert item["service_notice"] == ""
    assert item["media_url"] is None  # the spec: a URI or null
    assert item["requested_datetime"].endswith(("-05:00", "-04:00"))
    assert_no_private_data(response.content.decode())


def test_requests_list_never_shows_hidden_and_redacts_descriptions(client):
    ServiceRequestFactory(hidden=True, description="Hidden report text")
    redacted = ServiceRequestFactory(description_redacted=True, description="Rude words")

    response = client.get(f"{BASE}/requests.json")

    data = json_of(response)
    assert [r["service_request_id"] for r in data] == [str(redacted.pk)]
    assert data[0]["description"] == "[Description removed by moderator]"
    assert b"Rude words" not in response.content
    assert b"Hidden report text" not in response.content


def test_requests_list_xml_parses_back_and_escapes(client):
    report = ServiceRequestFactory(description='Broken "glass" & <nails>\x01', lat=None, long=None)

    response = client.get(f"{BASE}/requests.xml")

    assert response.status_code == 200
    root = xml_of(response)
    assert root.tag == "service_requests"
    (item,) = root.findall("request")
    assert item.findtext("service_request_id") == str(report.pk)
    assert item.findtext("description") == 'Broken "glass" & <nails>'
    assert item.findtext("lat") == "" and item.findtext("expected_datetime") == ""
    assert item.find("updated_datetime").text
    assert_no_private_data(response.content.decode())


def test_requests_media_url_is_the_processed_photo_else_the_given_url(client):
    with_photo = ServiceRequestFactory(media_url="https://example.org/given.jpg")
    photo = photo_process(photo=PhotoFactory(request=with_photo))
    hidden_photo = ServiceRequestFactory(media_url="https://example.org/other.jpg")
    photo_process(photo=PhotoFactory(request=hidden_photo, hidden=True))

    data = json_of(client.get(f"{BASE}/requests.json"))

    by_id = {r["service_request_id"]: r for r in data}
    assert by_id[str(with_photo.pk)]["media_url"] == f"http://testserver{photo.image.url}"
    assert by_id[str(hidden_photo.pk)]["media_url"] == "https://example.org/other.jpg"
    assert "originals" not in str(data)


@pytest.mark.parametrize(
    "others", [{"status": "foo"}, {"start_date": "bad"}, {"page": "2"}, {"service_code": "x"}]
)
def test_service_request_id_overrides_every_other_argument(client, others):
    """The spec: service_request_id "overrides all other arguments"."""
    old = ServiceRequestFactory(requested_datetime=days_ago(200))
    response = client.get(f"{BASE}/requests.json", {"service_request_id": old.pk, **others})
    assert response.status_code == 200
    assert [r["service_request_id"] for r in json_of(response)] == [str(old.pk)]


def test_requests_filter_by_service_code_list(client):
    a = ServiceRequestFactory(service=ServiceFactory(service_code="a"))
    b = ServiceRequestFactory(service=ServiceFactory(service_code="b"))
    ServiceRequestFactory(service=ServiceFactory(service_code="c"))

    data = json_of(client.get(f"{BASE}/requests.json", {"service_code": "a,b"}))

    assert {r["service_request_id"] for r in data} == {str(a.pk), str(b.pk)}


@pytest.mark.parametrize("extra", [{}, {"page": "2", "page_size": "1"}])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unknown_service_code_lists_nothing_without_reading_reports(client, extra, fmt):
    """Not a walk through every report of the window looking for the category."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ServiceRequestFactory(service=ServiceFactory(service_code="a"))

    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"{BASE}/requests.{fmt}", {"service_code": "nope", **extra})

    assert response.status_code == 200
    assert not [q for q in queries if "reports_servicerequest" in q["sql"]]
    assert "<request>" not in response.content.decode()
    if fmt == "json":
        assert json_of(response) == []


def test_requests_filter_by_status_list(client):
    opened = ServiceRequestFactory()
    closed = ServiceRequestFactory(state="fixed", status="closed")

    closed_only = json_of(client.get(f"{BASE}/requests.json", {"status": "closed"}))
    both = json_of(client.get(f"{BASE}/requests.json", {"status": "open,closed"}))

    assert [r["service_request_id"] for r in closed_only] == [str(closed.pk)]
    assert {r["service_request_id"] for r in both} == {str(opened.pk), str(closed.pk)}


def test_requests_service_request_id_list_overrides_other_parameters(client):
    old = ServiceRequestFactory(requested_datetime=days_ago(400))
    recent = ServiceRequestFactory()
    hidden = ServiceRequestFactory(hidden=True)

    response = client.get(
        f"{BASE}/requests.json",
        {"service_request_id": f"{old.pk},{recent.pk},{hidden.pk}", "status": "closed"},
    )

    assert response.status_code == 200
    assert {r["service_request_id"] for r in json_of(response)} == {str(old.pk), str(recent.pk)}


def test_requests_date_range(client):
    inside = ServiceRequestFactory(requested_datetime=days_ago(150))
    ServiceRequestFactory(requested_datetime=days_ago(200))
    ServiceRequestFactory(requested_datetime=days_ago(1))
    start, end = days_ago(160), days_ago(140)

    response = client.get(
        f"{BASE}/requests.json",
        {"start_date": start.isoformat(), "end_date": end.isoformat()},
    )

    assert [r["service_request_id"] for r in json_of(response)] == [str(inside.pk)]


def test_requests_date_with_unescaped_plus_offset_is_accepted(client):
    report = ServiceRequestFactory(requested_datetime=days_ago(150))
    start = days_ago(151).strftime("%Y-%m-%dT%H:%M:%S")
    end = days_ago(149).strftime("%Y-%m-%dT%H:%M:%S")

    # A raw "+" in a query string decodes to a space; old clients don't escape it.
    response = client.get(f"{BASE}/requests.json?start_date={start}+00:00&end_date={end}Z")

    assert response.status_code == 200
    assert [r["service_request_id"] for r in json_of(response)] == [str(report.pk)]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    "params, words",
    [
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}, "90 days"),
        ({"start_date": "2026-03-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}, "before"),
        ({"start_date": "2026-01-01T00:00:00"}, "time zone"),
        ({"end_date": "yesterday"}, "W3C"),
        ({"status": "pending"}, "status"),
        ({"service_request_id": "12,abc"}, "service_request_id"),
        ({"page_size": "1001"}, "page_size"),
        ({"page": "0"}, "page"),
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "-78.5,35.7,-78.7,35.8"}, "west < east"),
        ({"extensions": "maybe"}, "extensions"),
        ({"updated_after": "not a date"}, "updated_after"),
    ],
)
def test_requests_bad_parameters_are_400(client, fmt, params, words):
    response = client.get(f"{BASE}/requests.{fmt}", params)

    assert response.status_code == 400
    errors = errors_of(response, fmt)
    assert any(words in e["description"] for e in errors), errors


def test_requests_empty_parameters_mean_absent(client):
    report = ServiceRequestFactory()
    empty = dict.fromkeys(
        [
            "service_request_id",
            "service_code",
            "status",
            "start_date",
            "end_date",
            "updated_after",
            "updated_before",
            "bbox",
            "page",
            "page_size",
            "extensions",
            "jurisdiction_id",
        ],
        "",
    )

    response = client.get(f"{BASE}/requests.json", empty)

    assert response.status_code == 200
    assert [r["service_request_id"] for r in json_of(response)] == [str(report.pk)]


def test_requests_updated_after_and_before(client):
    touched = ServiceRequestFactory(requested_datetime=days_ago(10), updated_datetime=days_ago(1))
    ServiceRequestFactory(requested_datetime=days_ago(10), updated_datetime=days_ago(10))

    after = json_of(client.get(f"{BASE}/requests.json", {"updated_after": days_ago(2).isoformat()}))
    before = json_of(
        client.get(f"{BASE}/requests.json", {"updated_before": days_ago(2).isoformat()})
    )

    assert [r["service_request_id"] for r in after] == [str(touched.pk)]
    assert str(touched.pk) not in {r["service_request_id"] for r in before}
    assert len(before) == 1


def test_requests_updated_after_alone_windows_on_updated_not_requested(client):
    # A client syncing "what changed since yesterday" must see an old report just updated.
    old_but_touched = ServiceRequestFactory(
        requested_datetime=days_ago(400), updated_datetime=days_ago(0.5)
    )
    ServiceRequestFactory(requested_datetime=days_ago(3), updated_datetime=days_ago(3))
    ServiceRequestFactory(requested_datetime=days_ago(400), updated_datetime=days_ago(200))

    after = json_of(client.get(f"{BASE}/requests.json", {"updated_after": days_ago(1).isoformat()}))
    before = json_of(
        client.get(f"{BASE}/requests.json", {"updated_before": days_ago(100).isoformat()})
    )
    too_wide = client.get(
        f"{BASE}/requests.json",
        {"updated_after": days_ago(200).isoformat(), "updated_before": days_ago(1).isoformat()},
    )

    assert [r["service_request_id"] for r in after] == [str(old_but_touched.pk)]
    assert before == []  # the window is the 90 days before updated_before: 190 to 100 days ago
    assert too_wide.status_code == 400
    assert "90 days" in errors_of(too_wide)[0]["description"]


def test_requests_bbox_is_west_south_east_north(client):
    inside = ServiceRequestFactory(lat=35.78, long=-78.64)
    ServiceRequestFactory(lat=35.85, long=-78.55)
    ServiceRequestFactory(lat=None, long=None, address="1 Elm St")

    response = client.get(f"{BASE}/requests.json", {"bbox": "-78.66,35.77,-78.62,35.79"})

    assert [r["service_request_id"] for r in json_of(response)] == [str(inside.pk)]


def test_requests_pagination_newest_first(client):
    reports = [ServiceRequestFactory(requested_datetime=days_ago(n)) for n in range(5)]

    first = json_of(client.get(f"{BASE}/requests.json", {"page_size": 2}))
    third = json_of(client.get(f"{BASE}/requests.json", {"page_size": 2, "page": 3}))
    beyond = json_of(client.get(f"{BASE}/requests.json", {"page_size": 2, "page": 4}))

    assert [r["service_request_id"] for r in first] == [str(reports[0].pk), str(reports[1].pk)]
    assert [r["service_request_id"] for r in third] == [str(reports[4].pk)]
    assert beyond == []


def test_requests_extensions_add_public_notes_attributes_and_photos(client):
    report = ServiceRequestFactory(attributes={"kind": "tree", "blocking": ["road", "path"]})
    RequestUpdateFactory(request=report, text="Crew on site.", state_to="in_progress")
    RequestUpdateFactory(request=report, text="Internal: call the contractor.", public=False)
    photo = photo_process(photo=PhotoFactory(request=report))

    plain = json_of(client.get(f"{BASE}/requests.json"))
    response = client.get(f"{BASE}/requests.json", {"extensions": "true"})

    assert "notes" not in plain[0]
    data = json_of(response)
    assert_matches("requests", data)
    (item,) = data
    assert [n["text"] for n in item["notes"]] == ["Crew on site."]
    assert item["notes"][0]["status"] == "open"
    assert item["attributes"] == [
        {"code": "kind", "values": ["tree"]},
        {"code": "blocking", "values": ["road", "path"]},
    ]
    assert item["photos"] == [
        {
            "url": f"http://testserver{photo.image.url}",
            "thumbnail_url": f"http://testserver{photo.thumbnail.url}",
        }
    ]
    assert b"Internal" not in response.content
    assert_no_private_data(response.content.decode())

    root = xml_of(client.get(f"{BASE}/requests.xml", {"extensions": "true"}))
    request = root.find("request")
    assert request.findtext("notes/note/text") == "Crew on site."
    assert [v.text for v in request.findall("attributes/attribute")[1].findall("values/value")] == [
        "road",
        "path",
    ]
    assert request.findtext("photos/photo/url").endswith(".jpg")


@pytest.mark.parametrize("extensions", ["", "true"])
@pytest.mark.parametrize("count", [1, 50])
def test_requests_list_query_count_does_not_grow(
    client, django_assert_max_num_queries, extensions, count
):
    for _ in range(count):
        report = ServiceRequestFactory()
        RequestUpdateFactory(request=report)
    # The first read builds and stores the documents (the rows, their timelines and their
    # photos, then one insert in a savepoint); the next reads them in one query.
    with django_assert_max_num_queries(7):
        built = client.get(f"{BASE}/requests.json", {"extensions": extensions})
    with django_assert_max_num_queries(1):
        stored = client.get(f"{BASE}/requests.json", {"extensions": extensions})
    assert len(json_of(built)) == count
    assert stored.content == built.content


# --- GET requests/<id> ----------------------------------------------------------------------


def test_request_detail_json_and_xml_are_a_list_of_one(client):
    report = ServiceRequestFactory(requested_datetime=days_ago(300))

    data = json_of(client.get(f"{BASE}/requests/{report.pk}.json"))
    root = xml_of(client.get(f"{BASE}/requests/{report.pk}.xml"))

    assert_matches("requests", data)
    assert [r["service_request_id"] for r in data] == [str(report.pk)]
    assert root.tag == "service_requests"
    assert [r.findtext("service_request_id") for r in root.findall("request")] == [str(report.pk)]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_request_detail_hidden_unknown_or_malformed_is_404(client, fmt):
    hidden = ServiceRequestFactory(hidden=True)
    for ident in (hidden.pk, 999999, "abc"):
        response = client.get(f"{BASE}/requests/{ident}.{fmt}")
        assert response.status_code == 404
        errors_of(response, fmt)
    assert ServiceRequest.objects.filter(pk=hidden.pk).exists()


def test_request_detail_extensions(client):
    report = ServiceRequestFactory(attributes={"kind": "tree"})
    data = json_of(client.get(f"{BASE}/requests/{report.pk}.json", {"extensions": "true"}))
    assert data[0]["attributes"] == [{"code": "kind", "values": ["tree"]}]

    bad = client.get(f"{BASE}/requests/{report.pk}.xml", {"extensions": "perhaps"})
    assert bad.status_code == 400
    assert "extensions" in errors_of(bad, "xml")[0]["description"]


# --- formats and datetimes ------------------------------------------------------------------

W3C_SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:Z|[+-]\d\d:\d\d)$")


@pytest.mark.parametrize(
    ("path", "accept", "code"),
    [
        ("services.json", "application/xml", 200),
        ("services.json", "text/xml", 200),
        ("services.xml", "application/json", 200),
        ("requests.json", "text/html", 200),
        ("services/nope.json", "text/xml", 404),  # errors follow the suffix too
        ("services/nope.xml", "application/json", 404),
        ("requests.xml?page=0", "application/json", 400),
    ],
)
def test_url_suffix_wins_over_accept_header(client, path, accept, code):
    ServiceFactory()

    response = client.get(f"{BASE}/{path}", headers={"accept": accept})

    assert response.status_code == code
    if ".json" in path:
        json_of(response)
    else:
        xml_of(response)


def test_datetimes_are_whole_seconds_with_offset_in_every_endpoint_and_format(client):
    moment = timezone.now().replace(microsecond=123456) - timedelta(days=1)
    report = ServiceRequestFactory(
        requested_datetime=moment,
        updated_datetime=moment,
        expected_datetime=moment + timedelta(days=2),
    )
    RequestUpdateFactory(request=report, public=True, text="On our list.", created=moment)
    query = {"extensions": "true"}

    list_json = json_of(client.get(f"{BASE}/requests.json", query))
    detail_json = json_of(client.get(f"{BASE}/requests/{report.pk}.json", query))
    list_xml = xml_of(client.get(f"{BASE}/requests.xml", query))
    detail_xml = xml_of(client.get(f"{BASE}/requests/{report.pk}.xml", query))

    names = ("requested_datetime", "updated_datetime", "expected_datetime")
    values = []
    for data in (list_json, detail_json):
        values += [data[0][name] for name in names]
        values += [note["datetime"] for note in data[0]["notes"]]
    for root in (list_xml, detail_xml):
        values += [root.find("request").findtext(name) for name in names]
        values += [note.findtext("datetime") for note in root.iter("note")]
    assert len(values) == 4 * (len(names) + 1)  # one public note
    assert all(W3C_SECONDS.match(value) for value in values), values
    assert (
        list_json[0]["requested_datetime"]
        == timezone.localtime(moment).replace(microsecond=0).isoformat()
    )
    assert W3C_SECONDS.match(json_of(client.get("/open311/discovery.json"))["changeset"])
