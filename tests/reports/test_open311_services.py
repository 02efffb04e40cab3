"""Open311 GeoReport v2 read endpoints: services, service definitions, jurisdiction, discovery
and errors."""

from __future__ import annotations

import pytest

from tests.factories import (
    ServiceAttributeFactory,
    ServiceFactory,
)
from tests.reports.open311_support import (
    assert_matches,
    errors_of,
    json_of,
    tree_service_create,
    xml_of,
)

pytestmark = pytest.mark.django_db

BASE = "/open311/v2"


# --- services -------------------------------------------------------------------------------


def test_services_list_json_lists_active_services_only(client):
    pothole = ServiceFactory(service_code="pothole", name="Pothole", keywords="road,hole")
    ServiceAttributeFactory(service=pothole)
    ServiceFactory(service_code="graffiti", name="Graffiti", group="Clean city")
    ServiceFactory(service_code="retired", active=False)

    response = client.get(f"{BASE}/services.json")

    assert response.status_code == 200
    data = json_of(response)
    assert_matches("services", data)
    by_code = {s["service_code"]: s for s in data}
    assert set(by_code) == {"pothole", "graffiti"}
    assert by_code["pothole"] == {
        "service_code": "pothole",
        "service_name": "Pothole",
        "description": "A problem in the street.",
        "metadata": True,
        "type": "realtime",
        "keywords": "road,hole",
        "group": "Streets",
    }
    assert by_code["graffiti"]["metadata"] is False


def test_services_list_xml_uses_spec_elements(client):
    ServiceFactory(service_code="pothole", name="Pothole & <hole>", type="batch")

    response = client.get(f"{BASE}/services.xml")

    assert response.status_code == 200
    assert b"Pothole &amp; &lt;hole&gt;" in response.content
    root = xml_of(response)
    assert root.tag == "services"
    (service,) = root.findall("service")
    assert service.findtext("service_code") == "pothole"
    assert service.findtext("service_name") == "Pothole & <hole>"
    assert service.findtext("metadata") == "false"
    assert service.findtext("type") == "batch"
    assert [child.tag for child in service] == [
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ]


def test_services_list_query_count_is_constant(client, django_assert_max_num_queries):
    for _ in range(20):
        ServiceAttributeFactory()
    with django_assert_max_num_queries(1):
        response = client.get(f"{BASE}/services.json")
    assert len(json_of(response)) == 20


@pytest.fixture
def defined_service():
    return tree_service_create()


def test_service_definition_json_lists_attributes_in_order(client, defined_service):
    response = client.get(f"{BASE}/services/tree-down.json")

    assert response.status_code == 200
    data = json_of(response)
    assert_matches("service_definition", data)
    assert data["service_code"] == "tree-down"
    assert [a["code"] for a in data["attributes"]] == ["kind", "blocking", "girth", "note"]
    kind = data["attributes"][0]
    assert kind == {
        "variable": True,
        "code": "kind",
        "datatype": "singlevaluelist",
        "required": True,
        "datatype_description": "",
        "order": 1,
        "description": "What fell?",
        "values": [{"key": "tree", "name": "A whole tree"}, {"key": "branch", "name": "A branch"}],
    }
    assert data["attributes"][3]["variable"] is False


def test_service_definition_xml(client, defined_service):
    response = client.get(f"{BASE}/services/tree-down.xml")

    assert response.status_code == 200
    root = xml_of(response)
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "tree-down"
    attributes = root.findall("attributes/attribute")
    assert [a.findtext("code") for a in attributes] == ["kind", "blocking", "girth", "note"]
    assert attributes[0].findtext("required") == "true"
    assert [v.findtext("key") for v in attributes[0].findall("values/value")] == ["tree", "branch"]
    assert [v.findtext("name") for v in attributes[1].findall("values/value")] == [
        "Road",
        "Path",
        "House",
    ]
    assert attributes[2].find("values") is not None  # an empty list is an empty element


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_service_definition_unknown_or_inactive_is_404(client, fmt):
    ServiceFactory(service_code="retired", active=False)
    for code in ("nope", "retired"):
        response = client.get(f"{BASE}/services/{code}.{fmt}")
        assert response.status_code == 404
        (error,) = errors_of(response, fmt)
        assert code in error["description"]


# --- jurisdiction, discovery and errors -----------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_jurisdiction_id_ours_is_accepted_and_another_is_404(client, settings, fmt):
    ServiceFactory()
    ours = client.get(
        f"{BASE}/services.{fmt}", {"jurisdiction_id": settings.OPEN311_JURISDICTION_ID}
    )
    assert ours.status_code == 200
    empty = client.get(f"{BASE}/services.{fmt}", {"jurisdiction_id": ""})
    assert empty.status_code == 200

    other = client.get(f"{BASE}/services.{fmt}", {"jurisdiction_id": "elsewhere.example.org"})

    assert other.status_code == 404
    (error,) = errors_of(other, fmt)
    assert "elsewhere.example.org" in error["description"]


@pytest.mark.parametrize(
    "path", ["/open311/discovery.json", "/open311/v2/discovery.json", "/open311/v2/"]
)
def test_discovery_json(client, settings, path):
    response = client.get(path)

    assert response.status_code == 200
    data = json_of(response)
    assert_matches("discovery", data)
    (endpoint,) = data["endpoints"]
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert settings.CITY_CONTACT_EMAIL in data["contact"]


def test_discovery_xml(client):
    response = client.get("/open311/discovery.xml")

    assert response.status_code == 200
    root = xml_of(response)
    assert root.tag == "discovery"
    endpoint = root.find("endpoints/endpoint")
    assert endpoint.findtext("url") == "http://testserver/open311/v2"
    assert [f.text for f in endpoint.findall("formats/format")] == ["text/xml", "application/json"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_path_is_a_spec_404(client, fmt):
    response = client.get(f"{BASE}/nothing/here.{fmt}")
    assert response.status_code == 404
    (error,) = errors_of(response, fmt)
    assert "/open311/v2/nothing/here" in error["description"]


def test_unknown_format_is_a_404_error_list(client):
    ServiceFactory()
    response = client.get(f"{BASE}/services.csv")
    assert response.status_code == 404
    errors_of(response)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_wrong_method_is_a_405_error_list(client, fmt):
    response = client.delete(f"{BASE}/services.{fmt}")
    assert response.status_code == 405
    (error,) = errors_of(response, fmt)
    assert "DELETE" in error["description"]
