"""POST requests.{fmt}: api keys, validation into spec errors, attributes, media, tokens."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from reports.models import ApiKey, Photo, RequestToken, ServiceRequest
from tests.conftest import assert_no_private_data
from tests.factories import (
    CITY_CENTRE,
    ServiceFactory,
    api_key_create,
    image_upload,
)
from tests.reports.open311_support import (
    assert_matches,
    errors_of,
    json_of,
    tree_service_create,
    xml_of,
)

pytestmark = pytest.mark.django_db

URL = "/open311/v2/requests"
LAT, LNG = CITY_CENTRE
PRIVATE = {
    "email": "private.person@example.net",
    "first_name": "Private",
    "last_name": "Person",
    "phone": "+1 555 0100",
    "device_id": "device-secret-123",
    "account_id": "account-secret-9",
}


@pytest.fixture
def raw_key() -> str:
    return api_key_create()[1]


@pytest.fixture
def tree_service():
    return tree_service_create()


def form(raw_key: str, **extra: object) -> dict[str, object]:
    data: dict[str, object] = {
        "api_key": raw_key,
        "service_code": "tree-down",
        "lat": str(LAT),
        "long": str(LNG),
        "description": "A tree fell across the greenway.",
        "attribute[kind]": "tree",
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def test_post_creates_report_with_attributes_and_answers_its_id(client, raw_key, tree_service):
    data = form(raw_key, **PRIVATE, **{"attribute[blocking][]": ["road", "path"]})

    response = client.post(f"{URL}.json", data)

    assert response.status_code == 200
    answer = json_of(response)
    assert_matches("posted", answer)
    report = ServiceRequest.objects.get()
    assert answer == [{"service_request_id": str(report.pk), "service_notice": ""}]
    assert report.source == ServiceRequest.Source.API
    assert report.api_key == ApiKey.objects.get()
    assert report.attributes == {"kind": "tree", "blocking": ["road", "path"]}
    assert report.reporter_email == "private.person@example.net"
    assert report.reporter_name == "Private Person"
    assert report.account_id == "account-secret-9"
    assert ApiKey.objects.get().last_used is not None
    for value in PRIVATE.values():
        assert value not in response.content.decode()


def test_post_accepts_repeated_attribute_without_brackets(client, raw_key, tree_service):
    response = client.post(
        f"{URL}.json", form(raw_key, **{"attribute[blocking]": ["road", "house"]})
    )

    assert response.status_code == 200
    assert ServiceRequest.objects.get().attributes["blocking"] == ["road", "house"]


def test_post_xml_answer(client, raw_key, tree_service):
    response = client.post(f"{URL}.xml", form(raw_key))

    assert response.status_code == 200
    root = xml_of(response)
    assert root.tag == "service_requests"
    request = root.find("request")
    assert request.findtext("service_request_id") == str(ServiceRequest.objects.get().pk)
    assert request.find("service_notice") is not None


def test_post_api_key_in_query_string(client, raw_key, tree_service):
    data = form(raw_key)
    del data["api_key"]

    response = client.post(f"{URL}.json?api_key={raw_key}", data)

    assert response.status_code == 200
    assert ServiceRequest.objects.count() == 1


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("key", ["", "not-a-key", "inactive"])
def test_post_refuses_missing_unknown_or_inactive_key(client, tree_service, fmt, key):
    if key == "inactive":
        api_key, key = api_key_create()
        ApiKey.objects.filter(pk=api_key.pk).update(active=False)

    response = client.post(f"{URL}.{fmt}", form(key))

    assert response.status_code == 403
    (error,) = errors_of(response, fmt)
    assert "api_key" in error["description"]
    assert not ServiceRequest.objects.exists()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_unknown_or_inactive_service_is_404_and_stores_nothing(
    client, raw_key, tree_service, fmt
):
    ServiceFactory(service_code="retired", active=False)
    for code in ("unicorns", "retired"):
        response = client.post(f"{URL}.{fmt}", form(raw_key, service_code=code))

        assert response.status_code == 404
        (error,) = errors_of(response, fmt)
        assert error["description"] == f"service_code {code} not found."
    assert not ServiceRequest.objects.exists()


@pytest.mark.parametrize(
    ("fmt", "accept"), [("json", "text/xml"), ("xml", "application/json"), ("json", "image/png")]
)
def test_post_answers_in_the_suffix_format_whatever_the_accept_header(
    client, raw_key, tree_service, fmt, accept
):
    response = client.post(f"{URL}.{fmt}", form(raw_key), headers={"accept": accept})
    refused = client.post(f"{URL}.{fmt}", form("wrong"), headers={"accept": accept})

    assert response.status_code == 200
    report = ServiceRequest.objects.get()
    if fmt == "json":
        assert json_of(response)[0]["service_request_id"] == str(report.pk)
    else:
        assert xml_of(response).findtext("request/service_request_id") == str(report.pk)
    assert refused.status_code == 403
    errors_of(refused, fmt)


def test_post_wrong_jurisdiction_is_404(client, raw_key, tree_service):
    response = client.post(f"{URL}.json", form(raw_key, jurisdiction_id="elsewhere.example"))
    assert response.status_code == 404
    errors_of(response)
    assert not ServiceRequest.objects.exists()


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    "extra, words",
    [
        ({"service_code": ""}, "service_code is required"),
        ({"lat": "", "long": ""}, "location"),
        ({"lat": "north", "long": "x"}, "lat: 'north' is not a number"),
        ({"lat": "nan"}, "lat"),
        ({"long": ""}, "latitude and longitude"),
        ({"lat": "48.85", "long": "2.35"}, "outside"),
        ({"attribute[kind]": ""}, "kind is required"),
        ({"attribute[kind]": "bush"}, "bush is not one of the allowed keys"),
        ({"attribute[colour]": "red"}, "Unknown attribute colour"),
        ({"attribute[girth]": "wide"}, "girth must be a number"),
        ({"description": "x" * 4001}, "at most 4000"),
        ({"email": "not-an-email"}, "email"),
    ],
)
def test_post_bad_input_is_400_and_stores_nothing(client, raw_key, tree_service, fmt, extra, words):
    response = client.post(f"{URL}.{fmt}", form(raw_key, **extra))

    assert response.status_code == 400
    errors = errors_of(response, fmt)
    assert any(words in e["description"] for e in errors), errors
    assert not ServiceRequest.objects.exists()
    assert ApiKey.objects.get().last_used is None


def test_post_every_problem_is_its_own_error(client, raw_key, tree_service):
    response = client.post(
        f"{URL}.json",
        form(raw_key, lat=None, long=None, description="x" * 4001, **{"attribute[kind]": ""}),
    )
    assert response.status_code == 400
    assert len(errors_of(response)) == 3


def test_post_with_address_string_or_address_id_only(client, raw_key, tree_service):
    by_address = client.post(
        f"{URL}.json", form(raw_key, lat=None, long=None, address_string="12 Oak Street")
    )
    by_id = client.post(f"{URL}.json", form(raw_key, lat=None, long=None, address_id="PARCEL-7"))

    assert by_address.status_code == 200 and by_id.status_code == 200
    assert set(ServiceRequest.objects.values_list("address", "address_id")) == {
        ("12 Oak Street", ""),
        ("", "PARCEL-7"),
    }


def test_post_multipart_media_goes_through_the_photo_pipeline(
    client, raw_key, tree_service, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{URL}.json", form(raw_key, media=image_upload("tree.png", "PNG")))

    assert response.status_code == 200
    report = ServiceRequest.objects.get()
    photo = Photo.objects.get(request=report)
    assert photo.state == Photo.State.PROCESSED

    listed = json_of(client.get(f"/open311/v2/requests/{report.pk}.json"))
    assert listed[0]["media_url"] == f"http://testserver{photo.image.url}"


def test_post_non_image_media_is_400(client, raw_key, tree_service):
    fake = SimpleUploadedFile("tree.jpg", b"%PDF-1.4 not an image", content_type="image/jpeg")

    response = client.post(f"{URL}.json", form(raw_key, media=fake))

    assert response.status_code == 400
    (error,) = errors_of(response)
    assert error["description"].startswith("media: ")
    assert not ServiceRequest.objects.exists()
    assert not Photo.objects.exists()


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    "name", ["service_code", "description", "lat", "api_key", "email", "attribute[kind]"]
)
def test_post_a_text_field_sent_as_a_file_is_a_400_naming_it(
    client, raw_key, tree_service, fmt, name
):
    """A multipart part with a file name (curl -F description=@notes.txt) in place of a
    text field was a 500: the view read the uploaded file as the field's text."""
    data = form(raw_key, **{name: SimpleUploadedFile("notes.txt", b"Oak", "text/plain")})
    headers = {"X-Api-Key": raw_key} if name == "api_key" else {}

    response = client.post(f"{URL}.{fmt}", data, headers=headers)

    assert response.status_code == 400
    (error,) = errors_of(response, fmt)
    assert error["description"].startswith(f"{name}: sent as a file")
    assert not ServiceRequest.objects.exists()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_a_field_given_twice_with_different_values_is_a_400_naming_it(
    client, raw_key, tree_service, fmt
):
    """lat=35.78&lat=0 filed the report at the last value, silently."""
    data = form(raw_key, lat=[str(LAT), "36.0"], description=["Oak", "Elm"], phone=["1", "1"])

    response = client.post(f"{URL}.{fmt}", data)

    assert response.status_code == 400
    assert sorted(e["description"] for e in errors_of(response, fmt)) == [
        "description: given more than once with different values; give it once.",
        "lat: given more than once with different values; give it once.",
    ]
    assert not ServiceRequest.objects.exists()
    # The same value twice, and repeated answers of a multi-value list, are fine.
    same = form(raw_key, lat=[str(LAT), str(LAT)], **{"attribute[blocking][]": ["road", "path"]})
    assert client.post(f"{URL}.{fmt}", same).status_code == 200


def test_post_media_url_is_kept_and_published(client, raw_key, tree_service):
    response = client.post(f"{URL}.json", form(raw_key, media_url="https://example.org/tree.jpg"))

    report_id = json_of(response)[0]["service_request_id"]
    listed = json_of(client.get(f"/open311/v2/requests/{report_id}.json"))
    assert listed[0]["media_url"] == "https://example.org/tree.jpg"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_batch_service_answers_a_token_that_resolves(client, raw_key, tree_service, fmt):
    tree_service.type = "batch"
    tree_service.save()

    response = client.post(f"{URL}.{fmt}", form(raw_key))

    assert response.status_code == 200
    token = RequestToken.objects.get()
    report = ServiceRequest.objects.get()
    assert token.request == report
    if fmt == "json":
        answer = json_of(response)
        assert_matches("posted", answer)
        assert answer == [{"token": str(token.token), "service_notice": ""}]
        resolved = json_of(client.get(f"/open311/v2/tokens/{token.token}.json"))
        assert_matches("tokens", resolved)
        assert resolved == [{"service_request_id": str(report.pk), "token": str(token.token)}]
    else:
        assert xml_of(response).findtext("request/token") == str(token.token)
        resolved = xml_of(client.get(f"/open311/v2/tokens/{token.token}.xml"))
        assert resolved.tag == "service_requests"
        assert resolved.findtext("request/service_request_id") == str(report.pk)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_token_is_404(client, fmt):
    for token in ("c0ffee00-0000-4000-8000-000000000000", "not-a-uuid"):
        response = client.get(f"/open311/v2/tokens/{token}.{fmt}")
        assert response.status_code == 404
        errors_of(response, fmt)


def test_posted_report_never_leaks_contact_fields_anywhere(client, raw_key, tree_service):
    client.post(f"{URL}.json", form(raw_key, **PRIVATE))
    report = ServiceRequest.objects.get()

    for path in (
        "/open311/v2/requests.json?extensions=true",
        "/open311/v2/requests.xml?extensions=true",
        f"/open311/v2/requests/{report.pk}.json?extensions=true",
        f"/open311/v2/requests/{report.pk}.xml",
    ):
        text = client.get(path).content.decode()
        assert str(report.pk) in text
        assert_no_private_data(text)
        assert "account-secret-9" not in text


def test_a_keys_last_use_is_written_to_the_minute(client, raw_key, tree_service):
    from datetime import timedelta

    from django.utils import timezone

    key = ApiKey.objects.get()
    recent = timezone.now() - timedelta(seconds=20)
    ApiKey.objects.filter(pk=key.pk).update(last_used=recent)

    assert client.post(f"{URL}.json", form(raw_key)).status_code == 200
    assert ApiKey.objects.get().last_used == recent  # used again within the minute

    stale = timezone.now() - timedelta(minutes=2)
    ApiKey.objects.filter(pk=key.pk).update(last_used=stale)
    assert client.post(f"{URL}.json", form(raw_key)).status_code == 200
    assert ApiKey.objects.get().last_used > stale + timedelta(minutes=1)
    assert ServiceRequest.objects.count() == 2
