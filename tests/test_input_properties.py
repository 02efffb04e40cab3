"""Generated input at every public form field and API parameter: never a 5xx, and nothing
stored when the answer is a refusal.

The values mix Hypothesis' text (NUL, control characters, every script, lone surrogates
sent as the invalid UTF-8 a client can send), numbers and dates of every size, and the
strings known to have broken parsers before (huge ids, "1e400", "²", year 9999)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reports.insights.models import AreaAlert
from reports.models import ServiceAttribute, ServiceRequest, Subscription
from tests.factories import (
    AttributeValueFactory,
    BoundaryFactory,
    ServiceAttributeFactory,
    ServiceFactory,
    ServiceRequestFactory,
    api_key_create,
)

pytestmark = pytest.mark.django_db

EXAMPLES = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

KNOWN_TROUBLE = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "9" * 30,
    str(2**63),
    "-1",
    "0",
    "1e400",
    "-1e400",
    "nan",
    "inf",
    "1_000",
    "²",
    "٣",
    "１",
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+23:00",
    "2026-02-30T00:00:00Z",
    "2026-01-01T00:00:00+99:99",
    "9999-12-31",
    "0001-01-01",
    "-180,-90,180,90",
    "1,2,3",
    "nan,nan,nan,nan",
    "x" * 5000,
    "%00",
    "<script>",
    "&amp;",
    "\ud800",
]

values = st.one_of(
    st.sampled_from(KNOWN_TROUBLE),
    st.text(max_size=40),
    st.text(st.characters(codec=None), max_size=10),  # surrogates and NUL included
    st.integers().map(str),
    st.floats().map(repr),
    st.dates().map(str),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
)


def encode(text: str) -> str:
    """Percent-encoded UTF-8; lone surrogates become the invalid bytes a client may send."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def query_string(params: dict[str, str]) -> str:
    return "&".join(f"{encode(name)}={encode(value)}" for name, value in params.items())


def form_body(params: dict[str, str]) -> dict[str, Any]:
    """A urlencoded POST body for the test client."""
    return {
        "data": query_string(params),
        "content_type": "application/x-www-form-urlencoded",
    }


def params_of(names: list[str]) -> st.SearchStrategy[dict[str, str]]:
    return st.dictionaries(st.sampled_from(names), values, max_size=len(names))


def read_all(response: Any) -> bytes:
    """The whole body, streamed ones too (an export fails while it streams, if at all)."""
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def assert_refused_or_fine(response: Any) -> None:
    read_all(response)
    assert response.status_code < 500, response.status_code


@pytest.fixture
def city(db):
    service = ServiceFactory(service_code="tree-down")
    ServiceAttributeFactory(
        service=service, code="girth", datatype=ServiceAttribute.Datatype.NUMBER
    )
    ServiceAttributeFactory(
        service=service, code="when", datatype=ServiceAttribute.Datatype.DATETIME
    )
    kind = ServiceAttributeFactory(
        service=service, code="kind", datatype=ServiceAttribute.Datatype.SINGLEVALUELIST
    )
    AttributeValueFactory(attribute=kind, key="tree")
    boundary = BoundaryFactory(name="Oakwood")
    report = ServiceRequestFactory(service=service, area=boundary)
    return {"service": service, "boundary": boundary, "report": report}


@pytest.fixture
def no_limits(settings):
    for name in ("RATELIMIT_REPORT_FORM", "RATELIMIT_FOLLOW", "RATELIMIT_ALERT_FORM"):
        setattr(settings, name, "100000/hour")
    settings.RATELIMIT_OPEN311_POST_KEY = "100000/hour"
    settings.RATELIMIT_OPEN311_POST_ADDRESS = "100000/hour"


OPEN311_GET = [
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
]


@EXAMPLES
@given(params=params_of(OPEN311_GET), fmt=st.sampled_from(["json", "xml"]))
def test_open311_get_filters(client: Client, city, params, fmt):
    response = client.get(f"/open311/v2/requests.{fmt}?{query_string(params)}")

    assert_refused_or_fine(response)


@EXAMPLES
@given(path=values, fmt=st.sampled_from(["json", "xml"]))
def test_open311_get_paths(client: Client, city, path, fmt):
    for resource in ("requests", "services", "tokens"):
        response = client.get(f"/open311/v2/{resource}/{encode(path)}.{fmt}")
        assert_refused_or_fine(response)


OPEN311_POST = [
    "service_code",
    "lat",
    "long",
    "address_string",
    "address_id",
    "description",
    "media_url",
    "email",
    "first_name",
    "last_name",
    "phone",
    "device_id",
    "account_id",
    "jurisdiction_id",
    "attribute[girth]",
    "attribute[when]",
    "attribute[kind]",
    "attribute[nope]",
]


@EXAMPLES
@given(params=params_of(OPEN311_POST), fmt=st.sampled_from(["json", "xml"]))
def test_open311_post(client: Client, city, no_limits, params, fmt):
    raw_key = api_key_create()[1]
    before = ServiceRequest.objects.count()

    response = client.post(
        f"/open311/v2/requests.{fmt}",
        headers={"X-Api-Key": raw_key},
        **form_body({"service_code": "tree-down", **params}),
    )

    assert_refused_or_fine(response)
    if response.status_code >= 400:
        assert ServiceRequest.objects.count() == before


@EXAMPLES
@given(
    params=params_of(
        [
            "lat",
            "long",
            "service",
            "address",
            "description",
            "reporter_name",
            "reporter_email",
            "website",
            "attr-girth",
            "attr-when",
            "attr-kind",
        ]
    )
)
def test_report_form(client: Client, city, no_limits, params):
    service = city["service"]
    fields = {
        (f"attr-{service.pk}-{name[5:]}" if name.startswith("attr-") else name): value
        for name, value in params.items()
    }
    before = ServiceRequest.objects.count()

    response = client.post("/reports/new/", **form_body(fields))

    assert_refused_or_fine(response)
    if response.status_code >= 400:
        assert ServiceRequest.objects.count() == before


@EXAMPLES
@given(params=params_of(["email", "website"]))
def test_follow_form(client: Client, city, no_limits, params):
    before = Subscription.objects.count()

    response = client.post(city["report"].get_absolute_url(), **form_body(params))

    assert_refused_or_fine(response)
    if response.status_code >= 400:
        assert Subscription.objects.count() == before


@EXAMPLES
@given(
    params=params_of(
        ["email", "where", "area", "lat", "long", "radius_m", "service", "frequency", "website"]
    )
)
def test_alert_form(client: Client, city, no_limits, params):
    before = AreaAlert.objects.count()

    response = client.post("/insights/alerts/new/", **form_body(params))

    assert_refused_or_fine(response)
    if response.status_code != 302:
        assert AreaAlert.objects.count() == before


@EXAMPLES
@given(params=params_of(["service", "status", "page"]))
def test_public_list_filters(client: Client, city, params):
    assert_refused_or_fine(client.get(f"/reports/?{query_string(params)}"))


INSIGHTS = ["period", "start", "end", "service", "department", "area", "cell", "cell_bounds"]


@EXAMPLES
@given(
    params=params_of(INSIGHTS),
    url=st.sampled_from(
        ["/insights/", "/insights/map/", "/insights/map/reports/", "/insights/backlog.csv"]
    ),
)
def test_insights_filters(client: Client, city, params, url):
    assert_refused_or_fine(client.get(f"{url}?{query_string(params)}"))


@EXAMPLES
@given(
    params=params_of([*OPEN311_GET, "area"]),
    fmt=st.sampled_from(["csv", "geojson"]),
)
def test_data_export_filters(client: Client, city, params, fmt):
    assert_refused_or_fine(client.get(f"/data/reports.{fmt}?{query_string(params)}"))


REPORT_FIELDS = ["lat", "long", "service", "address", "description", "reporter_email"]
KNOWN_TROUBLE_CASES = [
    ("GET", "/open311/v2/requests.json", OPEN311_GET),
    ("GET", "/open311/v2/requests.xml", ["start_date", "service_request_id", "page"]),
    ("GET", "/reports/", ["service", "status", "page"]),
    ("GET", "/insights/", ["period", "start", "end", "area"]),
    ("GET", "/insights/map/reports/", INSIGHTS),
    ("GET", "/data/reports.csv", [*OPEN311_GET, "area"]),
    ("POST", "/open311/v2/requests.json", OPEN311_POST),
    ("POST", "/reports/new/", [*REPORT_FIELDS, "attr-girth", "attr-when"]),
    ("POST", "follow", ["email"]),
    ("POST", "support", ["support-email"]),
    ("POST", "/reports/new/", ["place", "place_query", "kept_photos"]),
    ("GET", "/places/search/", ["q"]),
    ("GET", "/places/reverse/", ["lat", "long"]),
    ("GET", "/reports/nearby/", ["service", "lat", "long"]),
]


@pytest.mark.parametrize(("method", "url", "names"), KNOWN_TROUBLE_CASES)
def test_every_parameter_with_every_known_trouble(
    client: Client, city, no_limits, method, url, names
):
    """Not left to chance: each known-trouble value in each parameter of each endpoint."""
    service = city["service"]
    headers = {"X-Api-Key": api_key_create()[1]}
    base: dict[str, str] = {}
    model: type = ServiceRequest
    if url == "follow":
        url, model = city["report"].get_absolute_url(), Subscription
    elif url == "support":
        url, model = reverse("reports:support", args=[city["report"].pk]), Subscription
    elif url == "/reports/new/":
        base = {"service": str(service.pk), "lat": "35.7796", "long": "-78.6382"}
        names = [f"attr-{service.pk}-{n[5:]}" if n.startswith("attr-") else n for n in names]
    elif method == "POST":
        base = {"service_code": "tree-down", "lat": "35.7796", "long": "-78.6382"}
    failures = []
    for name in names:
        for value in KNOWN_TROUBLE:
            before = model.objects.count()
            if method == "GET":
                response = client.get(f"{url}?{query_string({name: value})}")
            else:
                response = client.post(url, headers=headers, **form_body({**base, name: value}))
            read_all(response)
            stored = model.objects.count() - before
            if response.status_code >= 500 or (response.status_code >= 400 and stored):
                failures.append(f"{name}={value!r}: {response.status_code}, {stored} stored")
    assert not failures, "\n".join(failures)
