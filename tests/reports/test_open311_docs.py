"""The OpenAPI description and its docs page, served without any CDN."""

from __future__ import annotations

import pytest
import yaml
from django.contrib.staticfiles import finders

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


def test_docs_page_uses_vendored_swagger_ui(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    for name in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"):
        assert finders.find(f"vendor/swagger-ui/{name}")
