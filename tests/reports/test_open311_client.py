"""A published Open311 client drives the API over HTTP, as an outside app would.

`georeport` (PyPI, Python 3) reads services, definitions and requests in JSON and XML. It
does not create requests, so the POST is sent with `requests`, its own HTTP library, exactly
as the spec describes it (form fields, api_key, a multipart `media` part). The older
clients `open311` and `three` are Python 2 only and cannot be installed here."""

from __future__ import annotations

import pytest

from reports.models import ServiceAttribute, ServiceRequest
from tests.factories import (
    CITY_CENTRE,
    AttributeValueFactory,
    ServiceAttributeFactory,
    ServiceFactory,
    api_key_create,
    image_bytes,
)

georeport = pytest.importorskip("georeport", reason="georeport is in the test extras")
requests = pytest.importorskip("requests")

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # The live server is local; a proxy configured in the environment must not be used.
    monkeypatch.setenv("NO_PROXY", "*")


def test_georeport_client_lists_posts_and_finds_the_report(live_server, settings):
    service = ServiceFactory(service_code="tree-down", name="Fallen tree")
    ServiceFactory(service_code="pothole", name="Pothole")
    kind = ServiceAttributeFactory(
        service=service,
        code="kind",
        datatype=ServiceAttribute.Datatype.SINGLEVALUELIST,
        required=True,
    )
    AttributeValueFactory(attribute=kind, key="tree", name="A whole tree")
    _, raw_key = api_key_create()
    endpoint = f"{live_server.url}/open311/v2"
    jurisdiction = settings.OPEN311_JURISDICTION_ID
    json_client = georeport.GeoReport(endpoint, jurisdiction=jurisdiction, api_key=raw_key)
    xml_client = georeport.GeoReport(endpoint, jurisdiction=jurisdiction, output_format="xml")

    services = json_client.get_service_list()
    assert {s["service_code"] for s in services} == {"tree-down", "pothole"}
    assert {s["service_code"] for s in xml_client.get_service_list()} == {"tree-down", "pothole"}

    definition = json_client.get_service_definition("tree-down")
    assert definition["attributes"][0]["values"] == [{"key": "tree", "name": "A whole tree"}]
    xml_definition = xml_client.get_service_definition("tree-down")
    assert xml_definition["attributes"]["attribute"]["code"] == "kind"

    posted = requests.post(
        f"{endpoint}/requests.json",
        data={
            "api_key": json_client.api_key,
            "jurisdiction_id": jurisdiction,
            "service_code": "tree-down",
            "lat": CITY_CENTRE[0],
            "long": CITY_CENTRE[1],
            "description": "Oak across the greenway near the bridge.",
            "attribute[kind]": "tree",
            "email": "walker@example.net",
        },
        files={"media": ("oak.jpg", image_bytes(), "image/jpeg")},
        timeout=10,
    )
    assert posted.status_code == 200, posted.text
    request_id = posted.json()[0]["service_request_id"]

    found = json_client.get_service_request(request_id)
    assert found["service_code"] == "tree-down"
    assert found["description"] == "Oak across the greenway near the bridge."
    assert found["media_url"].startswith(live_server.url)
    assert "walker@example.net" not in str(found)
    assert xml_client.get_service_request(request_id)["service_request_id"] == request_id
    listed = json_client.get_service_requests(service_code="tree-down", status="open")
    assert [r["service_request_id"] for r in listed] == [request_id]
    assert ServiceRequest.objects.get().api_key.key_hash
