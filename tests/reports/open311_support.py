"""Helpers shared by the Open311 tests: schema checks and XML parsing."""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element

import jsonschema
from defusedxml.ElementTree import fromstring
from referencing import Registry, Resource

from reports.models import Service, ServiceAttribute
from tests.factories import AttributeValueFactory, ServiceAttributeFactory, ServiceFactory

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>'


SCHEMAS = Path(__file__).parent / "schemas"
# assert_matches' names for each kind of answer, and the schema file that describes it.
SCHEMA_FILES = {
    "discovery": "discovery.json",
    "services": "services.json",
    "service_definition": "service-definition.json",
    "requests": "requests.json",
    "posted": "posted.json",
    "tokens": "tokens.json",
    "errors": "errors.json",
}
FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    """RFC 3339 date-time (what JSON Schema's format means): seconds and a zone required."""
    if not isinstance(value, str):
        return True
    if not re.fullmatch(
        r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})",
        value,
    ):
        return False
    datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))
    return True


@FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    """An absolute URI: a scheme, and for http(s) a host; no spaces."""
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", parts.scheme) or " " in value:
        return False
    return bool(parts.netloc) if parts.scheme in ("http", "https") else bool(parts.path)


@cache
def _registry() -> Registry:
    resources = []
    for path in SCHEMAS.glob("*.json"):
        contents = json.loads(path.read_text())
        resources.append((contents["$id"], Resource.from_contents(contents)))
    return Registry().with_resources(resources)


def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / SCHEMA_FILES[name]).read_text())
    return jsonschema.Draft202012Validator(schema, registry=_registry(), format_checker=FORMATS)


def assert_matches(name: str, data: Any) -> None:
    """Validate `data` against the GeoReport v2 schema for answers of kind `name` (see
    tests/reports/schemas/README.md), formats (date-time, uri) included."""
    _validator(name).validate(data)


def json_of(response: Any) -> Any:
    assert response["Content-Type"] == JSON_TYPE
    return json.loads(response.content)


def xml_of(response: Any) -> Element:
    assert response["Content-Type"] == XML_TYPE
    assert response.content.startswith(XML_DECLARATION)
    return fromstring(response.content)


def errors_of(response: Any, fmt: str = "json") -> list[dict[str, Any]]:
    """The error list of an answer in either format, checked against the spec's shape."""
    if fmt == "xml":
        root = xml_of(response)
        assert root.tag == "errors"
        errors = [
            {"code": int(e.findtext("code")), "description": e.findtext("description")}
            for e in root.findall("error")
        ]
    else:
        errors = json_of(response)
    assert_matches("errors", errors)
    assert all(error["code"] == response.status_code for error in errors)
    return errors


def tree_service_create() -> Service:
    """A service with one attribute of each interesting kind, in this order: kind (required
    single choice: tree, branch), blocking (multiple choice: road, path, house), girth
    (number), note (informational, asks nothing)."""
    service = ServiceFactory(service_code="tree-down")
    kind = ServiceAttributeFactory(
        service=service,
        code="kind",
        datatype=ServiceAttribute.Datatype.SINGLEVALUELIST,
        required=True,
        order=1,
        description="What fell?",
    )
    AttributeValueFactory(attribute=kind, key="tree", name="A whole tree", order=1)
    AttributeValueFactory(attribute=kind, key="branch", name="A branch", order=2)
    blocking = ServiceAttributeFactory(
        service=service,
        code="blocking",
        datatype=ServiceAttribute.Datatype.MULTIVALUELIST,
        order=2,
        description="What does it block?",
    )
    for order, key in enumerate(("road", "path", "house"), start=1):
        AttributeValueFactory(attribute=blocking, key=key, name=key.title(), order=order)
    ServiceAttributeFactory(
        service=service, code="girth", datatype=ServiceAttribute.Datatype.NUMBER, order=3
    )
    ServiceAttributeFactory(
        service=service,
        code="note",
        variable=False,
        datatype=ServiceAttribute.Datatype.TEXT,
        order=4,
        description="Stay away from power lines.",
    )
    return service
