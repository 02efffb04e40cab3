"""Open311 GET requests: parameters given more than once, a page of ids followed by its
Link header, and a query string over Django's limit on parameters."""

from __future__ import annotations

import pytest

from tests.factories import ServiceFactory, ServiceRequestFactory
from tests.reports.open311_support import errors_of, json_of
from tests.reports.test_open311_paging import next_link

pytestmark = pytest.mark.django_db

BASE = "/open311/v2"


def ids(response) -> set[str]:
    return {r["service_request_id"] for r in json_of(response)}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_repeated_list_parameter_adds_up_like_its_comma_list(client, fmt):
    """Clients that serialise a list as repeated parameters (status=open&status=closed)
    got the last value only: the open reports silently missing."""
    opened = ServiceRequestFactory(service=ServiceFactory(service_code="a"))
    closed = ServiceRequestFactory(
        service=ServiceFactory(service_code="b"), state="fixed", status="closed"
    )
    ServiceRequestFactory(service=ServiceFactory(service_code="c"))

    by_status = client.get(f"{BASE}/requests.json?status=open&status=closed")
    by_code = client.get(f"{BASE}/requests.json?service_code=a&service_code=&service_code=b")
    by_id = client.get(
        f"{BASE}/requests.{fmt}?service_request_id={opened.pk}&service_request_id={closed.pk}"
    )

    assert ids(by_code) == {str(opened.pk), str(closed.pk)}
    assert str(opened.pk) in ids(by_status) and str(closed.pk) in ids(by_status)
    assert by_id.status_code == 200
    body = by_id.content.decode()
    assert f">{opened.pk}<" in body or f'"{opened.pk}"' in body
    assert f">{closed.pk}<" in body or f'"{closed.pk}"' in body


def test_spaces_around_the_items_of_a_list_are_ignored(client):
    """ "pothole, graffiti" listed the pothole reports only (" graffiti" named no
    category), and "open, closed" was a 400."""
    a = ServiceRequestFactory(service=ServiceFactory(service_code="a"))
    b = ServiceRequestFactory(
        service=ServiceFactory(service_code="b"), state="fixed", status="closed"
    )
    ServiceRequestFactory(service=ServiceFactory(service_code="c"))

    by_code = client.get(f"{BASE}/requests.json", {"service_code": "a, b "})
    by_status = client.get(
        f"{BASE}/requests.json", {"status": "open, closed", "service_code": "a,b"}
    )
    by_id = client.get(f"{BASE}/requests.json", {"service_request_id": f" {a.pk} , {b.pk}"})

    assert ids(by_code) == ids(by_status) == ids(by_id) == {str(a.pk), str(b.pk)}


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    "query, named",
    [
        ("start_date=2026-10-01T00:00:00Z&start_date=2026-11-01T00:00:00Z", "start_date"),
        ("page_size=5&page_size=50", "page_size"),
        ("extensions=true&extensions=false", "extensions"),
        ("jurisdiction_id=elsewhere&jurisdiction_id=", None),  # empty is absent: a 404
    ],
)
def test_a_repeated_parameter_with_different_values_is_a_400_naming_it(
    client, settings, fmt, query, named
):
    """Which of two start dates did the client mean? The last one was used, silently."""
    ServiceRequestFactory()

    response = client.get(f"{BASE}/requests.{fmt}?{query}")

    if named is None:
        assert response.status_code == 404
        return
    assert response.status_code == 400
    assert [e["description"] for e in errors_of(response, fmt)] == [
        f"{named}: given more than once with different values; give it once."
    ]


def test_a_repeated_jurisdiction_that_names_another_is_refused(client, settings):
    """jurisdiction_id=elsewhere&jurisdiction_id=ours was served as ours."""
    ours = settings.OPEN311_JURISDICTION_ID

    for path in ("requests.json", "services.json"):
        response = client.get(f"{BASE}/{path}", {"jurisdiction_id": ["elsewhere.example", ours]})
        assert response.status_code == 400, path
        assert "jurisdiction_id" in errors_of(response)[0]["description"]
    same = client.get(f"{BASE}/services.json", {"jurisdiction_id": [ours, ours]})
    assert same.status_code == 200


def test_the_link_after_a_full_page_of_ids_leads_to_the_rest(client, monkeypatch):
    """service_request_id overrides every other argument, and the cursor of the Link
    header was one of them: the link led to the same page again, forever."""
    monkeypatch.setattr("reports.api.views.MAX_PAGE_SIZE", 2)
    reports = ServiceRequestFactory.create_batch(3)
    wanted = ",".join(str(r.pk) for r in reports)

    first = client.get(f"{BASE}/requests.json", {"service_request_id": wanted})
    link = next_link(first)
    assert link is not None and "cursor=" in link
    second = client.get(link)

    assert len(ids(first)) == 2
    assert ids(second) == {str(r.pk) for r in reports} - ids(first)
    assert next_link(second) is None


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_too_many_query_parameters_are_an_open311_error(client, settings, fmt):
    """Past DATA_UPLOAD_MAX_NUMBER_FIELDS Django refuses to read the query string: the
    answer was Django's HTML error page, which no Open311 client can read."""
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10

    response = client.get(f"{BASE}/requests.{fmt}?" + "&".join(["status=open"] * 11))

    assert response.status_code == 400
    (error,) = errors_of(response, fmt)
    assert "too many parameters (at most 10)" in error["description"]
