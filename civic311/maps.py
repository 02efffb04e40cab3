"""Staff maps, shared by every app that draws one (the report queue, a report's page, the
boundaries list and editor): the Leaflet assets and the settings each map reads."""

from __future__ import annotations

import json

from django import forms
from django.conf import settings

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
