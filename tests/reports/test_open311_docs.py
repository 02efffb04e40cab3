"""The OpenAPI description and its docs page, served without any CDN."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
import yaml
from django.contrib.staticfiles import finders
from django.utils import timezone

from reports.photos import photo_process
from tests.factories import (
    PhotoFactory,
    RequestUpdateFactory,
    ServiceAttributeFactory,
    ServiceRequestFactory,
)
from tests.reports.open311_support import FORMATS

pytestmark = pytest.mark.django_db


def test_openapi_schema_describes_every_open311_endpoint(client):
    response = client.get("/api/schema/")

    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert set(schema["paths"]) == {
        "/open311/discovery.{fmt}",
        "/open311/v2/",
        "/open311/v2/discovery.{fmt}",
        "/open311/v2/services.{fmt}",
        "/open311/v2/services/{service_code}.{fmt}",
        "/open311/v2/requests.{fmt}",
        "/open311/v2/requests/{service_request_id}.{fmt}",
        "/open311/v2/tokens/{token}.{fmt}",
    }
    requests = schema["paths"]["/open311/v2/requests.{fmt}"]
    assert {"get", "post"} <= set(requests)
    names = {p["name"] for p in requests["get"]["parameters"]}
    assert {"service_code", "start_date", "bbox", "page_size", "extensions"} <= names


def test_openapi_schema_documents_formats_errors_and_the_post_form(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    operations = [
        (path, method, operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]

    for path, method, operation in operations:
        assert operation.get("summary"), (path, method)
        assert "Common ground" not in operation.get("description", ""), (path, method)
        names = {p["name"]: p for p in operation.get("parameters", [])}
        assert "format" not in names, (path, method)  # only the suffix chooses the format
        if "{fmt}" in path:
            assert names["fmt"]["schema"]["pattern"] == "^(json|xml)$"
        for code, response in operation["responses"].items():
            if code.startswith(("4", "5")):
                for content in response["content"].values():
                    assert content["schema"]["type"] == "array", (path, method, code)
                    assert content["schema"]["items"] == {"$ref": "#/components/schemas/Error"}

    body = schema["paths"]["/open311/v2/requests.{fmt}"]["post"]["requestBody"]["content"]
    multipart = body["multipart/form-data"]["schema"]
    urlencoded = body["application/x-www-form-urlencoded"]["schema"]
    fields = {
        "service_code", "lat", "long", "address_string", "address_id", "email", "device_id",
        "account_id", "first_name", "last_name", "phone", "description", "media_url",
        "api_key", "attribute[CODE]",
    }  # fmt: skip
    assert set(multipart["properties"]) == fields | {"media"}
    assert multipart["properties"]["media"] == {"type": "string", "format": "binary"}
    assert set(urlencoded["properties"]) == fields  # a file cannot be url-encoded
    assert multipart["required"] == urlencoded["required"] == ["service_code"]


def test_openapi_schema_documents_the_errors_the_api_answers(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            if any(p["name"] == "jurisdiction_id" for p in operation.get("parameters", [])):
                # Another jurisdiction is a 404 (services.json said only 200).
                assert "404" in operation["responses"], (path, method)
    assert "413" in schema["paths"]["/open311/v2/requests.{fmt}"]["post"]["responses"]
    for path in ("/open311/v2/requests.{fmt}", "/open311/v2/requests/{service_request_id}.{fmt}"):
        names = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}
        assert "supporters" in names["extensions"]["description"], path
    response = client.get("/open311/v2/services.json?jurisdiction_id=elsewhere")
    assert response.status_code == 404


def test_docs_page_uses_vendored_swagger_ui(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    for name in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"):
        assert finders.find(f"vendor/swagger-ui/{name}")


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0's schema dialect as JSON Schema: `nullable` becomes a null type, and
    every object is closed, so that a field the API answers but the schema leaves out fails."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    schema = {key: _json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        if "type" in schema:
            schema["type"] = [schema["type"], "null"]
        else:  # a $ref or a combination
            schema = {"anyOf": [schema, {"type": "null"}]}
    if schema.get("type") == "object" and "properties" in schema:
        schema["additionalProperties"] = False
    return schema


def test_the_schema_describes_a_report_as_answered_with_and_without_extensions(client):
    openapi = yaml.safe_load(client.get("/api/schema/").content)
    components = _json_schema(openapi["components"]["schemas"])
    report = ServiceRequestFactory(description="Bench slats broken.", attributes={"depth": "4"})
    ServiceAttributeFactory(service=report.service, code="depth")
    RequestUpdateFactory(request=report, public=True, text="Crew booked.", created=timezone.now())
    photo_process(photo=PhotoFactory(request=report))
    listing = openapi["paths"]["/open311/v2/requests.{fmt}"]["get"]["responses"]["200"]
    one = openapi["paths"]["/open311/v2/requests/{service_request_id}.{fmt}"]["get"]
    for operation in (listing, one["responses"]["200"]):
        assert operation["content"]["application/json"]["schema"] == {
            "type": "array",
            "items": {"$ref": "#/components/schemas/ServiceRequest"},
        }
    schema = {
        **components["ServiceRequest"],
        "$defs": components,
    }
    schema = json.loads(json.dumps(schema).replace("#/components/schemas/", "#/$defs/"))
    validator = jsonschema.Draft202012Validator(schema, format_checker=FORMATS)
    extended = json.loads(client.get("/open311/v2/requests.json?extensions=true").content)
    plain = json.loads(client.get("/open311/v2/requests.json").content)
    for answer in (*extended, *plain):
        validator.validate(answer)
    assert extended[0]["notes"] and extended[0]["photos"] and extended[0]["attributes"]
    described = set(components["ServiceRequest"]["properties"])
    assert set(extended[0]) == described  # every extension is described
    assert set(plain[0]) == set(components["ServiceRequest"]["required"])


def test_openapi_schema_groups_the_operations_under_plain_tags(client):
    """The docs page heads each group with its tag: the top-level discovery was "discovery."
    (the path's first segment, suffix dot and all)."""
    schema = yaml.safe_load(client.get("/api/schema/").content)

    tags = {
        path: operation["tags"]
        for path, methods in schema["paths"].items()
        for operation in methods.values()
    }
    assert tags["/open311/discovery.{fmt}"] == ["discovery"]
    assert tags["/open311/v2/discovery.{fmt}"] == ["discovery"]
    assert tags["/open311/v2/requests.{fmt}"] == ["v2"]
