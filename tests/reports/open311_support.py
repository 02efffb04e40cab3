"""Helpers shared by the Open311 tests: schema checks and XML parsing."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import jsonschema
from defusedxml.ElementTree import fromstring

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
