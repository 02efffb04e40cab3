"""An external, Nominatim-compatible geocoder, for a city without its own address data.
Off unless GEOCODER_URL is set; a slow or broken geocoder means no answer, never an error
page (the city's own data and typed coordinates still work)."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.error import URLError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

from django.conf import settings

from civic311.geo import in_city_bounds
from places.place import Place

logger = logging.getLogger(__name__)


def _get(path: str, params: dict[str, Any]) -> Any:
    base = settings.GEOCODER_URL.rstrip("/")
    request = Request(  # noqa: S310 (the URL is the operator's setting, http or https)
        f"{base}/{path}?{urlencode(params)}",
        headers={
            "User-Agent": f"Civic311 ({settings.CITY_CONTACT_EMAIL})",
            "Accept": "application/json",
        },
    )
    try:
        with urlopen(request, timeout=settings.GEOCODER_TIMEOUT) as response:  # noqa: S310
            return json.loads(response.read(1_000_000))
    except (URLError, TimeoutError, OSError, ValueError) as exc:
        logger.warning("The geocoder at %s did not answer: %s", base, exc)
        return None


def _place(item: Any) -> Place | None:
    try:
        lat, long = float(item["lat"]), float(item["lon"])
        label = str(item.get("display_name") or "")[:255]
    except (KeyError, TypeError, ValueError):
        return None
    if not label or not in_city_bounds(lat, long):
        return None
    return Place(label, lat, long, "external")


def external_search(text: str, *, limit: int) -> list[Place]:
    if not settings.GEOCODER_URL:
        return []
    south, west, north, east = settings.MAP_BOUNDS
    answer = _get(
        "search",
        {
            "q": text,
            "format": "jsonv2",
            "limit": limit,
            "viewbox": f"{west},{north},{east},{south}",
            "bounded": 1,
        },
    )
    if not isinstance(answer, list):
        return []
    return [p for p in (_place(item) for item in answer[:limit]) if p is not None]


def external_reverse(lat: float, long: float) -> Place | None:
    if not settings.GEOCODER_URL:
        return None
    answer = _get("reverse", {"lat": lat, "lon": long, "format": "jsonv2"})
    return _place(answer) if isinstance(answer, dict) else None
