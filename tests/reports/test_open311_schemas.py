"""Every kind of Open311 answer, in JSON and in XML (read back into the same shape),
validates against the GeoReport v2 schemas in tests/reports/schemas/."""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from reports.models import Photo, RequestToken
from tests.factories import (
    CITY_CENTRE,
    PhotoFactory,
    RequestUpdateFactory,
    ServiceRequestFactory,
    api_key_create,
    image_bytes,
)
from tests.reports.open311_support import (
    assert_matches,
    json_of,
    tree_service_create,
    xml_of,
)

pytestmark = pytest.mark.django_db

BASE = "/open311/v2"
LAT, LNG = CITY_CENTRE

# How the XML answers' text reads back into the JSON answers' types.
LIST_ELEMENTS = {
    "service_requests",
    "services",
    "attributes",
    "values",
    "errors",
    "endpoints",
    "formats",
    "notes",
    "photos",
}
BOOLEANS = {"metadata", "variable", "required"}
INTEGERS = {"order"}
NUMBERS = {"lat", "long"}
NULL_WHEN_EMPTY = {"media_url", "expected_datetime", "thumbnail_url", "lat", "long"}


def _leaf(tag: str, parent: str, text: str) -> Any:
    if tag == "code" and parent == "error":
        return int(text)
    if text == "" and tag in NULL_WHEN_EMPTY:
        return None
    if tag in BOOLEANS:
        assert text in ("true", "false"), f"{tag}: {text!r}"
        return text == "true"
    if tag in INTEGERS:
        return int(text)
    if tag in NUMBERS:
        return float(text)
    return text


def xml_data(element: Element, parent: str = "") -> Any:
    """An XML answer in the shape of the JSON one (lists, objects, typed leaves)."""
    children = list(element)
    if element.tag in LIST_ELEMENTS:
        return [xml_data(child, element.tag) for child in children]
    if children:
        return {child.tag: xml_data(child, element.tag) for child in children}
    return _leaf(element.tag, parent, element.text or "")


def both_formats(client, path: str, schema: str, **query: str) -> list[Any]:
    """GET `path` as .json and .xml; both answers must match `schema`."""
    answers = []
    for fmt, read in (("json", json_of), ("xml", lambda r: xml_data(xml_of(r)))):
        response = client.get(f"{path}.{fmt}", query)
        data = read(response)
        assert_matches(schema, data)
        answers.append(data)
    return answers


@pytest.fixture
def tree_service():
    return tree_service_create()


@pytest.fixture
def reports(tree_service):
    """A report with a photo and a public note, one without either, one given a media_url."""
    with_photo = ServiceRequestFactory(service=tree_service, attributes={"kind": "tree"})
    PhotoFactory(
        request=with_photo,
        state=Photo.State.PROCESSED,
        image=SimpleUploadedFile("web.jpg", image_bytes()),
        thumbnail=SimpleUploadedFile("thumb.jpg", image_bytes(size=(40, 30))),
    )
    RequestUpdateFactory(request=with_photo, public=True)
    bare = ServiceRequestFactory(service=tree_service, lat=None, long=None, expected_datetime=None)
    given = ServiceRequestFactory(service=tree_service, media_url="https://example.org/tree.jpg")
    return with_photo, bare, given


def test_discovery_matches_the_schema(client):
    both_formats(client, "/open311/discovery", "discovery")
    both_formats(client, f"{BASE}/discovery", "discovery")


def test_services_and_definition_match_the_schema(client, tree_service):
    json_answer, xml_answer = both_formats(client, f"{BASE}/services", "services")
    assert json_answer == xml_answer
    json_answer, xml_answer = both_formats(
        client, f"{BASE}/services/{tree_service.service_code}", "service_definition"
    )
    assert json_answer == xml_answer


def test_requests_match_the_schema_with_and_without_extensions(client, reports):
    with_photo, bare, given = reports
    for query in ({}, {"extensions": "true"}):
        json_answer, xml_answer = both_formats(client, f"{BASE}/requests", "requests", **query)
        by_id = {r["service_request_id"]: r for r in json_answer}
        assert by_id[str(bare.pk)]["media_url"] is None
        assert by_id[str(with_photo.pk)]["media_url"].startswith("http://testserver/")
        assert by_id[str(given.pk)]["media_url"] == "https://example.org/tree.jpg"
        xml_by_id = {r["service_request_id"]: r for r in xml_answer}
        assert xml_by_id[str(bare.pk)]["media_url"] is None  # an empty element


def test_one_request_matches_the_schema(client, reports):
    for report in reports:
        json_answer, _ = both_formats(client, f"{BASE}/requests/{report.pk}", "requests")
        assert len(json_answer) == 1


def test_post_answers_and_tokens_match_the_schema(client, tree_service):
    raw_key = api_key_create()[1]
    form = {
        "api_key": raw_key,
        "service_code": tree_service.service_code,
        "lat": str(LAT),
        "long": str(LNG),
        "attribute[kind]": "tree",
    }
    assert_matches("posted", json_of(client.post(f"{BASE}/requests.json", form)))
    assert_matches("posted", xml_data(xml_of(client.post(f"{BASE}/requests.xml", form))))

    tree_service.type = "batch"
    tree_service.save()
    answer = json_of(client.post(f"{BASE}/requests.json", form))
    assert_matches("posted", answer)
    token = RequestToken.objects.get(token=answer[0]["token"])
    both_formats(client, f"{BASE}/tokens/{token.token}", "tokens")


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("get", f"{BASE}/services/nope", {}),
        ("get", f"{BASE}/requests", {"start_date": "yesterday", "status": "maybe"}),
        ("get", f"{BASE}/requests/abc", {}),
        ("get", f"{BASE}/tokens/abc", {}),
        ("get", "/open311/v3/anything", {}),
        ("post", f"{BASE}/requests", {"service_code": "pothole"}),
        ("put", f"{BASE}/requests", {}),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_errors_match_the_schema(client, method, path, data, fmt):
    response = getattr(client, method)(f"{path}.{fmt}", data)

    assert 400 <= response.status_code < 500
    errors = json_of(response) if fmt == "json" else xml_data(xml_of(response))
    assert_matches("errors", errors)
    assert {e["code"] for e in errors} == {response.status_code}


def test_the_schemas_refuse_what_the_spec_forbids():
    """The schemas are not vacuous: an empty media_url, a date without seconds or zone, an
    unknown status or a reporter's email are refused."""
    good = {
        "service_request_id": "1",
        "status": "open",
        "status_notes": "",
        "service_name": "Pothole",
        "service_code": "pothole",
        "description": "",
        "agency_responsible": "",
        "service_notice": "",
        "requested_datetime": "2026-11-24T22:42:31-05:00",
        "updated_datetime": "2026-11-24T22:42:31-05:00",
        "expected_datetime": None,
        "address": "",
        "address_id": "",
        "zipcode": "",
        "lat": None,
        "long": None,
        "media_url": None,
    }
    assert_matches("requests", [good])
    for bad in (
        {"media_url": ""},
        {"media_url": "not a uri"},
        {"requested_datetime": "2026-11-24"},
        {"requested_datetime": "2026-11-24T22:42"},
        {"status": "pending"},
        {"email": "someone@example.org"},
    ):
        with pytest.raises(Exception, match="."):
            assert_matches("requests", [{**good, **bad}])
