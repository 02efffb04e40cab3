"""Helpers shared by the Open311 tests: schema checks and XML parsing."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import jsonschema
from defusedxml.ElementTree import fromstring

from reports.models import Service, ServiceAttribute
from tests.factories import AttributeValueFactory, ServiceAttributeFactory, ServiceFactory

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>'


@cache
def _schema() -> dict[str, Any]:
    return json.loads((Path(__file__).parent / "open311_schema.json").read_text())


def assert_matches(name: str, data: Any) -> None:
    """Validate `data` against the spec-derived schema `name` (a key of $defs)."""
    root = _schema()
    schema = {"$ref": f"#/$defs/{name}", "$defs": root["$defs"]}
    jsonschema.Draft202012Validator(schema).validate(data)


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
