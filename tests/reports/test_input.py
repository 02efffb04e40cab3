"""Whatever arrives, the answer is a clear 4xx, never a 500, and nothing is stored: NUL
bytes, dates outside any calendar we keep, ids beyond 64 bits or in other scripts' digits,
bodies over the limits, numbers that are not finite."""

from __future__ import annotations

from urllib.parse import quote, urlencode

import pytest
from django.urls import reverse

from reports.models import ServiceAttribute, ServiceRequest, Subscription
from tests.factories import (
    CITY_CENTRE,
    BoundaryFactory,
    ServiceAttributeFactory,
    ServiceFactory,
    ServiceRequestFactory,
    api_key_create,
)
from tests.reports.open311_support import errors_of, tree_service_create, xml_of

pytestmark = pytest.mark.django_db

LAT, LNG = CITY_CENTRE
REQUESTS = "/open311/v2/requests"
NEW_URL = reverse("reports:new")
HUGE = "9" * 30
JUST_OVER_64_BITS = str(2**63)
ODD_DIGITS = ["²", "٣", "३", "１"]  # superscript two, Arabic-Indic, Devanagari, full-width


@pytest.fixture
def raw_key() -> str:
    return api_key_create()[1]


@pytest.fixture
def tree_service():
    return tree_service_create()


def api_form(raw_key: str, **extra: str) -> dict[str, str]:
    data = {
        "api_key": raw_key,
        "service_code": "tree-down",
        "lat": str(LAT),
        "long": str(LNG),
        "description": "A tree fell across the greenway.",
        "attribute[kind]": "tree",
    }
    data.update(extra)
    return data


def web_form(service, **extra: str) -> dict[str, str]:
    data = {
        "lat": str(LAT),
        "long": str(LNG),
        "service": str(service.pk),
        "description": "Deep pothole in the right lane.",
    }
    data.update(extra)
    return data


# NUL bytes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    ["description", "address_string", "email", "first_name", "device_id", "attribute[kind]"],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_post_with_nul_in_a_field_is_400_and_stores_nothing(
    client, raw_key, tree_service, field, fmt
):
    data = api_form(raw_key, **{field: "tree\x00"})

    response = client.post(f"{REQUESTS}.{fmt}", data)

    assert response.status_code == 400
    errors = errors_of(response, fmt)
    assert any(field in e["description"] and "NUL" in e["description"] for e in errors)
    assert not ServiceRequest.objects.exists()


def test_open311_post_with_nul_in_a_field_name_is_400(client, raw_key, tree_service):
    response = client.post(f"{REQUESTS}.json", {**api_form(raw_key), "attribute[k\x00]": "x"})

    assert response.status_code == 400
    assert errors_of(response)
    assert not ServiceRequest.objects.exists()


@pytest.mark.parametrize("param", ["service_code", "status", "start_date", "bbox", "page"])
def test_open311_get_with_nul_in_a_parameter_is_400(client, param):
    response = client.get(f"{REQUESTS}.xml?{param}=a%00b")

    assert response.status_code == 400
    assert any(param in e["description"] for e in errors_of(response, "xml"))


def test_open311_paths_with_nul_are_refused_not_500(client, tree_service):
    for path in ("/open311/v2/services/tree%00down.json", f"{REQUESTS}/1%00.json"):
        response = client.get(path)
        assert response.status_code in (400, 404), path
        assert errors_of(response)


def test_report_form_with_nul_in_an_answer_is_a_form_error(client):
    service = ServiceFactory()
    ServiceAttributeFactory(service=service, code="where", datatype="string")

    response = client.post(NEW_URL, web_form(service, **{f"attr-{service.pk}-where": "a\x00b"}))

    assert response.status_code == 400
    assert b"NUL" in response.content
    assert b'name="description"' in response.content  # the form again, typed text kept
    assert not ServiceRequest.objects.exists()


def test_follow_form_with_nul_stores_nothing(client):
    report = ServiceRequestFactory()

    response = client.post(report.get_absolute_url(), {"email": "a\x00@example.org"})

    assert response.status_code == 400
    assert not Subscription.objects.exists()


@pytest.mark.parametrize(
    "url",
    ["/reports/?status=open%00", "/insights/?service=%00", "/data/reports.csv?status=%00"],
)
def test_public_pages_with_nul_in_the_query_are_a_clear_400(client, url):
    response = client.get(url)

    assert response.status_code == 400
    assert b"NUL" in response.content


# Dates ------------------------------------------------------------------------------------

OUT_OF_RANGE_DATES = [
    "9999-12-31T23:59:59-23:59",  # overflows when moved to UTC
    "0001-01-01T00:00:00+23:00",
    "1899-12-31T23:59:59Z",
    "3000-01-01T00:00:00Z",
    "2026-12-01T00:00:00+16:00",  # an offset PostgreSQL refuses (a 500 there)
    "2026-12-01T00:00:00-14:01",
]


@pytest.mark.parametrize("param", ["start_date", "end_date", "updated_after", "updated_before"])
@pytest.mark.parametrize("value", OUT_OF_RANGE_DATES)
def test_open311_dates_out_of_range_are_400(client, param, value):
    response = client.get(f"{REQUESTS}.json?{param}={quote(value)}")

    assert response.status_code == 400
    assert any(param in e["description"] for e in errors_of(response))


@pytest.mark.parametrize("value", OUT_OF_RANGE_DATES)
def test_export_dates_out_of_range_are_400(client, value):
    response = client.get(f"/data/reports.csv?start_date={quote(value)}")

    assert response.status_code == 400
    assert b"start_date" in response.content


@pytest.mark.parametrize("query", ["start=9999-12-31", "start=0001-01-01&end=0001-01-02"])
@pytest.mark.parametrize("url", ["/insights/", "/insights/map/", "/insights/map/reports/"])
def test_insights_periods_out_of_range_are_refused(client, url, query):
    response = client.get(f"{url}?{query}")

    assert response.status_code == 400
    assert b"1900" in response.content


def test_insights_figure_csv_with_period_out_of_range_is_400(client):
    response = client.get("/insights/weekly-by-category.csv?end=9999-12-31")

    assert response.status_code == 400


@pytest.mark.parametrize("value", OUT_OF_RANGE_DATES)
def test_open311_datetime_answer_out_of_range_is_400(client, raw_key, value):
    service = ServiceFactory(service_code="seen")
    ServiceAttributeFactory(service=service, code="when", datatype="datetime")

    response = client.post(
        f"{REQUESTS}.json", api_form(raw_key, service_code="seen", **{"attribute[when]": value})
    )

    assert response.status_code == 400
    assert any("when" in e["description"] for e in errors_of(response))
    assert not ServiceRequest.objects.exists()


def test_report_form_datetime_answer_out_of_range_is_a_form_error(client):
    service = ServiceFactory()
    ServiceAttributeFactory(service=service, code="when", datatype="datetime")

    response = client.post(
        NEW_URL, web_form(service, **{f"attr-{service.pk}-when": "9999-12-31T23:59"})
    )

    assert response.status_code == 400
    assert b"1900" in response.content
    assert not ServiceRequest.objects.exists()


# Ids and pages ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [HUGE, JUST_OVER_64_BITS, *ODD_DIGITS])
def test_report_page_with_an_impossible_id_is_404(client, value):
    ServiceRequestFactory.create_batch(3)

    assert client.get(f"/reports/{quote(value)}/").status_code == 404
    assert client.get(f"/insights/feeds/report/{quote(value)}/").status_code == 404
    assert client.get(f"/insights/feeds/area/{quote(value)}/").status_code == 404


@pytest.mark.parametrize("value", [HUGE, JUST_OVER_64_BITS, *ODD_DIGITS])
def test_open311_request_with_an_impossible_id_is_404(client, value):
    ServiceRequestFactory.create_batch(3)

    response = client.get(f"{REQUESTS}/{quote(value)}.json")

    assert response.status_code == 404
    assert errors_of(response)


@pytest.mark.parametrize("value", [HUGE, JUST_OVER_64_BITS, *ODD_DIGITS])
def test_open311_id_filter_with_an_impossible_id_is_400(client, value):
    ServiceRequestFactory.create_batch(3)

    response = client.get(f"{REQUESTS}.json?service_request_id=1,{quote(value)}")

    assert response.status_code == 400
    assert any("service_request_id" in e["description"] for e in errors_of(response))


@pytest.mark.parametrize("param", ["page", "page_size"])
@pytest.mark.parametrize("value", [HUGE, JUST_OVER_64_BITS, "²", "٣"])
def test_open311_pages_beyond_range_are_400(client, param, value):
    response = client.get(f"{REQUESTS}.json?{param}={quote(value)}")

    assert response.status_code == 400
    assert any(param in e["description"] for e in errors_of(response))


@pytest.mark.parametrize("value", [HUGE, JUST_OVER_64_BITS, "²", "٣"])
def test_public_list_with_an_impossible_page_is_404(client, value):
    ServiceRequestFactory()

    assert client.get(f"/reports/?page={quote(value)}").status_code == 404


@pytest.mark.parametrize("value", [HUGE, JUST_OVER_64_BITS, "²", "٣"])
def test_public_filters_with_impossible_ids_are_refused_not_500(client, value):
    BoundaryFactory()
    for url in (
        f"/reports/?service={quote(value)}",
        f"/insights/?area={quote(value)}",
        f"/insights/map/?area={quote(value)}",
    ):
        assert client.get(url).status_code in (200, 400), url
    assert client.get(f"/data/reports.csv?area={quote(value)}").status_code == 400


@pytest.mark.parametrize("term", [f"#{HUGE}", JUST_OVER_64_BITS, "#²", "²", "#٣"])
def test_admin_search_with_an_impossible_number_finds_nothing(client, superuser, term):
    report = ServiceRequestFactory()
    client.force_login(superuser)

    response = client.get(reverse("admin:reports_servicerequest_changelist"), {"q": term})

    assert response.status_code == 200
    assert f"/admin/reports/servicerequest/{report.pk}/change/" not in response.content.decode()


@pytest.mark.parametrize("value", ["²", HUGE])
def test_admin_department_filter_with_an_impossible_id_is_not_500(client, superuser, value):
    client.force_login(superuser)

    response = client.get(reverse("admin:reports_servicerequest_changelist"), {"department": value})

    assert response.status_code in (200, 302)


def test_staff_photo_with_an_impossible_id_is_404(client, superuser):
    client.force_login(superuser)

    assert client.get(f"/staff/photos/{HUGE}/image/").status_code == 404


# Bodies over the limits -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_post_over_the_size_limit_is_413_error_list(
    client, settings, raw_key, tree_service, fmt
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000

    response = client.post(f"{REQUESTS}.{fmt}", api_form(raw_key, description="x" * 3000))

    assert response.status_code == 413
    assert "too large" in errors_of(response, fmt)[0]["description"]
    assert not ServiceRequest.objects.exists()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_post_with_too_many_fields_is_400_error_list(
    client, settings, raw_key, tree_service, fmt
):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    extra = {f"attribute[x{n}]": "1" for n in range(20)}

    response = client.post(f"{REQUESTS}.{fmt}", api_form(raw_key, **extra))

    assert response.status_code == 400
    assert "too many fields" in errors_of(response, fmt)[0]["description"]
    assert not ServiceRequest.objects.exists()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_post_in_another_charset_is_400_error_list(client, raw_key, tree_service, fmt):
    # Django reads a urlencoded body as UTF-8 only: the answer is the API's, not a page.
    body = urlencode(api_form(raw_key)).encode("utf-16")
    response = client.generic(
        "POST", f"{REQUESTS}.{fmt}", body,
        content_type="application/x-www-form-urlencoded; charset=utf-16",
    )  # fmt: skip
    assert response.status_code == 400
    assert "must be UTF-8 encoded" in errors_of(response, fmt)[0]["description"]
    assert not ServiceRequest.objects.exists()


def test_open311_urlencoded_post_over_the_size_limit_is_413(client, settings, raw_key):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    tree_service_create()

    response = client.post(
        f"{REQUESTS}.json",
        urlencode(api_form(raw_key, description="x" * 3000)),
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 413
    assert errors_of(response)
    assert not ServiceRequest.objects.exists()


def test_report_form_over_the_size_limit_shows_the_form_with_a_message(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    service = ServiceFactory()

    response = client.post(NEW_URL, web_form(service, description="x" * 3000))

    assert response.status_code == 413
    page = response.content.decode()
    assert "too large" in page
    assert 'name="description"' in page
    assert not ServiceRequest.objects.exists()


def test_report_form_with_too_many_fields_shows_the_form_with_a_message(client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    service = ServiceFactory()
    extra = {f"junk{n}": "1" for n in range(20)}

    response = client.post(NEW_URL, web_form(service, **extra))

    assert response.status_code == 400
    page = response.content.decode()
    assert "too many fields" in page
    assert 'name="description"' in page
    assert not ServiceRequest.objects.exists()


def test_follow_form_over_the_size_limit_is_a_clear_413(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    report = ServiceRequestFactory()

    response = client.post(report.get_absolute_url(), {"email": "a@example.org", "x": "y" * 3000})

    assert response.status_code == 413
    assert b"too large" in response.content
    assert not Subscription.objects.exists()


def test_alert_form_with_too_many_fields_is_a_clear_400(client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10

    response = client.post("/insights/alerts/new/", {f"junk{n}": "1" for n in range(20)})

    assert response.status_code == 400
    assert b"too many fields" in response.content


# Numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["1e400", "-1e400", "nan", "inf", "-Infinity", "١٢", "1_000"])
def test_open311_number_answer_must_be_a_finite_ascii_number(client, raw_key, value):
    service = ServiceFactory(service_code="count")
    ServiceAttributeFactory(service=service, code="n", datatype=ServiceAttribute.Datatype.NUMBER)

    response = client.post(
        f"{REQUESTS}.json", api_form(raw_key, service_code="count", **{"attribute[n]": value})
    )

    assert response.status_code == 400
    assert any("n must be a number" in e["description"] for e in errors_of(response))
    assert not ServiceRequest.objects.exists()


@pytest.mark.parametrize("value", ["1e400", "nan", "inf", "٣٥.٧٨"])
@pytest.mark.parametrize("name", ["lat", "long"])
def test_open311_coordinates_must_be_finite_ascii_numbers(
    client, raw_key, tree_service, name, value
):
    response = client.post(f"{REQUESTS}.json", api_form(raw_key, **{name: value}))

    assert response.status_code == 400
    assert any(name in e["description"] for e in errors_of(response))
    assert not ServiceRequest.objects.exists()


@pytest.mark.parametrize("value", ["1e400", "nan", "inf"])
def test_web_and_alert_coordinates_must_be_finite(client, value):
    service = ServiceFactory()

    response = client.post(NEW_URL, web_form(service, lat=value))
    assert response.status_code == 400
    response = client.post(
        "/insights/alerts/new/",
        {
            "email": "a@example.org",
            "where": "circle",
            "lat": value,
            "long": str(LNG),
            "radius_m": "500",
            "frequency": "immediate",
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert not ServiceRequest.objects.exists()


def test_open311_xml_error_for_nul_is_well_formed(client):
    response = client.get(f"{REQUESTS}.xml?service_code=%00")

    assert xml_of(response).tag == "errors"
