"""The two Open311 formats. JSON is plain; XML follows the spec's element names.

Views name the XML root and item elements (`xml_root`, `xml_item`); the error handler sets
them on the response so that an error list renders as <errors><error>…</error></errors>."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
from django.utils.functional import Promise
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
# Any character that needs escaping or dropping: most texts have none and are kept as they are.
_XML_SPECIAL = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# Stored documents (reports/api/documents.py) are built once for every site address: a URL
# of our own media is stored with this character where the address goes, and the address is
# put in when the answer is sent. Neither format can carry it otherwise: orjson escapes
# control characters in strings, and the XML writer drops them.
ORIGIN = "\x01"


class RelativeUrl(str):
    """A path on this site (/media/…) to be written with the ORIGIN mark before it."""


class Stored:
    """An answer made of stored documents, one text per item in the answer's format, and
    the site address (scheme://host) to put in."""

    def __init__(self, items: list[str], origin: str) -> None:
        self.items = items
        self.origin = origin

    def json(self) -> bytes:
        return ("[" + ",".join(self.items) + "]").replace(ORIGIN, self.origin).encode()

    def xml(self, root: str, item: str) -> str:
        if not self.items:
            return f'<?xml version="1.0" encoding="utf-8"?>\n<{root} />'
        body = "".join(f"<{item}>{text}</{item}>" for text in self.items)
        text = f'<?xml version="1.0" encoding="utf-8"?>\n<{root}>{body}</{root}>'
        return text.replace(ORIGIN, self.origin)


def json_fragment(value: Any) -> bytes:
    """orjson's text of `value`, RelativeUrls marked (for stored documents)."""
    return orjson.dumps(value, default=_marked, option=orjson.OPT_PASSTHROUGH_SUBCLASS)


def _marked(value: Any) -> Any:
    if isinstance(value, RelativeUrl):
        return orjson.Fragment(b'"' + ORIGIN.encode() + orjson.dumps(str(value))[1:])
    return _json_default(value)


def xml_fragment(value: dict[str, Any]) -> str:
    """The XML elements of `value`'s members, RelativeUrls marked (for stored documents)."""
    parts: list[str] = []
    for key, child in value.items():
        _element(parts, key, child)
    return "".join(parts)


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
    """JSON by orjson: the list's answers are large, and orjson writes them several times
    faster than the standard library (same compact, UTF-8 output)."""

    charset = "utf-8"  # answers say "application/json; charset=utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if data is None:
            return b""
        if isinstance(data, Stored):
            return data.json()
        return orjson.dumps(data, default=_json_default)


def _json_default(value: Any) -> Any:
    """What orjson does not know: lazy translations and other str-able values."""
    if isinstance(value, Promise | Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Iterable):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class Open311XMLRenderer(BaseRenderer):
    """XML written as text in one pass (no element tree): the spec's element names, the
    same escaping as ElementTree, characters XML 1.0 can't carry dropped."""

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
        if isinstance(data, Stored):
            return data.xml(root_name, item_name)
        parts = ['<?xml version="1.0" encoding="utf-8"?>\n']
        if isinstance(data, list) and data:
            parts.append(f"<{root_name}>")
            for item in data:
                _element(parts, item_name, item)
            parts.append(f"</{root_name}>")
        elif isinstance(data, list):
            parts.append(f"<{root_name} />")
        else:
            _element(parts, root_name, data)
        return "".join(parts)


def _element(parts: list[str], tag: str, value: Any) -> None:
    if isinstance(value, Mapping):
        if not value:
            parts.append(f"<{tag} />")
            return
        parts.append(f"<{tag}>")
        for key, child in value.items():
            _element(parts, key, child)
        parts.append(f"</{tag}>")
    elif isinstance(value, list | tuple):
        if not value:
            parts.append(f"<{tag} />")
            return
        item_name = XML_LIST_ITEMS.get(tag, "item")
        parts.append(f"<{tag}>")
        for child in value:
            _element(parts, item_name, child)
        parts.append(f"</{tag}>")
    else:
        text = _text(value)
        parts.append(f"<{tag}>{text}</{tag}>" if text else f"<{tag} />")


def xml_characters(text: str) -> str:
    """`text` without the characters XML 1.0 cannot carry (the rest is left to be escaped)."""
    return _XML_INVALID.sub("", text) if _XML_SPECIAL.search(text) else text


def _text(value: Any) -> str:
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, RelativeUrl):
        return ORIGIN + _text(str(value))
    text = str(value)
    if _XML_SPECIAL.search(text):
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        text = _XML_INVALID.sub("", text)
    return text
