"""Maps, shared by every app that draws one (the report queue, a report's page, the
boundaries list and editor, the home page): the Leaflet assets and the settings each staff
map reads, and the URL pattern of a map's markers."""

from __future__ import annotations

import json
from functools import lru_cache

from django import forms
from django.conf import settings
from django.urls import get_script_prefix, reverse

# Leaflet plus our admin_map.js, which finds every [data-map-kind] element and draws it.
MAP_MEDIA = forms.Media(
    css={"all": ("leaflet/leaflet.css", "departments/admin_map.css")},
    js=("leaflet/leaflet.js", "departments/admin_map.js"),
)
# The boundary editor also needs leaflet.draw.
DRAW_MEDIA = forms.Media(
    css={
        "all": (
            "leaflet/leaflet.css",
            "leaflet/draw/leaflet.draw.css",
            "departments/admin_map.css",
        )
    },
    js=("leaflet/leaflet.js", "leaflet/draw/leaflet.draw.js", "departments/admin_map.js"),
)


def map_config() -> str:
    """The data-map attribute every staff map reads: centre, zoom and tiles from settings."""
    return json.dumps(
        {
            "center": list(settings.MAP_CENTER),
            "zoom": settings.MAP_ZOOM,
            "tiles": settings.MAP_TILE_URL,
            "attribution": settings.MAP_TILE_ATTRIBUTION,
        }
    )


def marker_url_pattern(view_name: str) -> str:
    """The URL of `view_name` (a view taking one id) with "{}" where the id goes, for a map
    to fill in per marker: maps show hundreds of reports, and a reverse() per marker was a
    good part of their pages' time."""
    return _url_pattern(view_name, get_script_prefix())


@lru_cache(maxsize=16)
def _url_pattern(view_name: str, prefix: str) -> str:
    """Resolved once per view and URL prefix (the prefix is part of every URL reversed)."""
    return reverse(view_name, args=[0]).replace("/0/", "/{}/")
