"""CORS: other sites' scripts may read open data (Open311 GETs, /data/ downloads,
/data.json) and nothing else; Open311 POST is not opened to browsers."""

from __future__ import annotations

import pytest

from reports.models import ServiceRequest
from tests.factories import CITY_CENTRE, ServiceFactory, ServiceRequestFactory, api_key_create

pytestmark = pytest.mark.django_db

ORIGIN = "https://greenway-app.example.org"
ALLOW_ORIGIN = "Access-Control-Allow-Origin"


@pytest.mark.parametrize(
    "url",
    [
        "/open311/discovery.json",
        "/open311/v2/services.json",
        "/open311/v2/services.xml",
        "/open311/v2/requests.json",
        "/open311/v2/requests/1.json",
        "/open311/v2/requests.json?start_date=nonsense",  # an error answer too
        "/data/reports.csv",
        "/data/reports.geojson",
        "/data.json",
        "/data/catalog.jsonld",
    ],
)
def test_open_data_reads_are_open_to_any_origin(client, url):
    ServiceRequestFactory()

    response = client.get(url, headers={"Origin": ORIGIN})

    assert response[ALLOW_ORIGIN] == "*"
    assert "Access-Control-Allow-Credentials" not in response


def test_another_sites_script_may_read_the_link_to_the_next_page(client):
    """The Open311 list pages by its Link header; without it in Expose-Headers, a browser
    app on another site could read the first page only."""
    ServiceRequestFactory.create_batch(2)

    response = client.get("/open311/v2/requests.json?page_size=1", headers={"Origin": ORIGIN})

    assert response["Link"].endswith('rel="next"')
    exposed = [h.strip().lower() for h in response["Access-Control-Expose-Headers"].split(",")]
    assert "link" in exposed


@pytest.mark.parametrize(
    "url", ["/", "/reports/", "/reports/new/", "/insights/", "/data/", "/admin/login/"]
)
def test_pages_are_not_opened(client, url):
    response = client.get(url, headers={"Origin": ORIGIN})

    assert ALLOW_ORIGIN not in response


@pytest.mark.parametrize(
    ("headers", "refused"),
    [
        ({"Origin": ORIGIN}, True),  # another site's page, in a browser without Fetch Metadata
        ({"Origin": "null"}, True),  # a sandboxed or local page
        ({"Sec-Fetch-Site": "cross-site", "Origin": ORIGIN}, True),
        ({"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver"}, False),
        ({"Origin": "http://testserver"}, False),
        ({}, False),  # a server or a native app
    ],
)
def test_open311_post_from_another_sites_page_is_refused(client, headers, refused):
    # A form post needs no preflight: without CORS headers another site's script could not
    # read the answer, but the report would be filed with a key copied into its page.
    ServiceFactory(service_code="pothole")
    raw_key = api_key_create()[1]
    lat, lng = CITY_CENTRE

    response = client.post(
        "/open311/v2/requests.json",
        {"api_key": raw_key, "service_code": "pothole", "lat": lat, "long": lng},
        headers=headers,
    )

    assert ALLOW_ORIGIN not in response
    if refused:
        assert response.status_code == 403
        assert "another site's web page" in response.json()[0]["description"]
        assert not ServiceRequest.objects.exists()
    else:
        assert response.status_code == 200 and ServiceRequest.objects.count() == 1


def test_preflight_allows_reads_but_not_posts(client):
    read = client.options(
        "/open311/v2/requests.json",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"},
    )
    write = client.options(
        "/open311/v2/requests.json",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-api-key",
        },
    )

    assert read[ALLOW_ORIGIN] == "*"
    assert "GET" in read["Access-Control-Allow-Methods"]
    assert "POST" not in write.get("Access-Control-Allow-Methods", "")
    assert "x-api-key" not in write.get("Access-Control-Allow-Headers", "").lower()
