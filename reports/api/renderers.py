"""The two Open311 formats. JSON is plain; XML follows the spec's element names.

Views name the XML root and item elements (`xml_root`, `xml_item`); the error handler sets
them on the response so that an error list renders as <errors><error>…</error></errors>."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request

# The element used for each member of a nested list, by the list's own element name.
XML_LIST_ITEMS = {
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "notes": "note",
    "photos": "photo",
}
# Characters XML 1.0 cannot carry at all, even escaped; a report's text may contain them.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class SuffixContentNegotiation(DefaultContentNegotiation):
    """The URL's .json or .xml decides the format, whatever the Accept header says.

    Open311 clients ask by suffix; many also send a browser-like or unrelated Accept
    header, and DRF's default would answer 406 when the two disagree. Paths without a
    suffix (the discovery root, unknown paths) fall back to ordinary negotiation."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        for renderer in renderers:
            if format_suffix and renderer.format == format_suffix:
                return renderer, renderer.media_type
        return super().select_renderer(request, renderers, format_suffix)


class Open311JSONRenderer(JSONRenderer):
    charset = "utf-8"  # answers say "application/json; charset=utf-8"


class Open311XMLRenderer(BaseRenderer):
    media_type = "text/xml"
    format = "xml"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> str:
        context = renderer_context or {}
        response = context.get("response")
        view = context.get("view")
        root_name = str(
            getattr(response, "xml_root", None) or getattr(view, "xml_root", "response")
        )
        item_name = str(getattr(response, "xml_item", None) or getattr(view, "xml_item", "item"))
        root = ET.Element(root_name)
        if isinstance(data, list):
            for item in data:
                _fill(ET.SubElement(root, item_name), item)
        else:
            _fill(root, data)
        body = ET.tostring(root, encoding="unicode")
        return f'<?xml version="1.0" encoding="utf-8"?>\n{body}'


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, child in value.items():
            _fill(ET.SubElement(element, key), child)
    elif isinstance(value, list | tuple):
        item_name = XML_LIST_ITEMS.get(element.tag, "item")
        for child in value:
            _fill(ET.SubElement(element, item_name), child)
    else:
        element.text = _text(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return _XML_INVALID.sub("", str(value))
