"""Small geometry helpers shared by every app: points are (latitude, longitude) in WGS84,
areas are GeoJSON evaluated with shapely. No GDAL needed."""

from __future__ import annotations

import json
import math
from typing import Any

import shapely
from django.conf import settings
from django.core.exceptions import ValidationError
from shapely.errors import GEOSException
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

AREA_TYPES = {"Polygon", "MultiPolygon"}
# Far more digits than any id or coordinate has; Python refuses ints past 4,300 digits with
# a message about sys.set_int_max_str_digits, which means nothing to whoever sent the file.
JSON_INT_MAX_DIGITS = 100


def json_loads_strict(raw: str | bytes) -> Any:
    """json.loads for what comes from outside (imported files, uploads): every failure is a
    ValueError that says why. Python's json accepts NaN and Infinity, which are not JSON
    and make coordinates that every bounds test fails, and it failed with a RecursionError
    on deeply nested arrays and a ValueError about interpreter limits on a huge number:
    the imports ended in tracebacks (and the admin's uploads in server errors)."""

    def constant(name: str) -> Any:
        raise ValueError(f"{name} is not a JSON number")

    def number(text: str) -> float:
        value = float(text)
        if not math.isfinite(value):
            raise ValueError(f"the number {text[:20]} is too large")
        return value

    def integer(text: str) -> int:
        if len(text) > JSON_INT_MAX_DIGITS:
            raise ValueError(f"a number of {len(text):,} digits")
        return int(text)

    try:
        return json.loads(raw, parse_constant=constant, parse_float=number, parse_int=integer)
    except RecursionError:
        raise ValueError("arrays or objects nested too deeply") from None


def in_city_bounds(lat: float, long: float) -> bool:
    south, west, north, east = settings.MAP_BOUNDS
    return south <= lat <= north and west <= long <= east


def validate_point(lat: float | None, long: float | None) -> None:
    """Raise a ValidationError unless (lat, long) is a real point inside the city's bounds."""
    if lat is None or long is None:
        raise ValidationError("Both latitude and longitude are needed.", code="incomplete")
    if not (-90 <= lat <= 90 and -180 <= long <= 180):
        raise ValidationError("That is not a valid latitude/longitude.", code="invalid")
    if not in_city_bounds(lat, long):
        raise ValidationError(
            f"That location is outside {settings.CITY_NAME}. Choose a point within the city.",
            code="out_of_bounds",
        )


def parse_area(value: str | dict[str, Any]) -> BaseGeometry:
    """Parse a GeoJSON Polygon/MultiPolygon (or a Feature holding one) into a valid shapely
    geometry, or raise a ValidationError that says what is wrong."""
    if isinstance(value, str):
        try:
            value = json_loads_strict(value)
        except json.JSONDecodeError as exc:
            raise ValidationError(f"Not valid JSON: {exc.msg}.", code="json") from exc
        except ValueError as exc:
            raise ValidationError(f"Not valid JSON: {exc}.", code="json") from exc
    if not isinstance(value, dict):
        raise ValidationError("GeoJSON must be an object.", code="geojson")
    if value.get("type") == "Feature":
        value = value.get("geometry") or {}
    if value.get("type") not in AREA_TYPES:
        raise ValidationError(
            f"Expected a Polygon or MultiPolygon, got {value.get('type')!r}.", code="type"
        )
    try:
        geometry = shape(value)
    # GEOSException: a ring GEOS refuses, such as one with a NaN corner (never closed).
    except (ValueError, TypeError, AttributeError, IndexError, GEOSException) as exc:
        raise ValidationError(f"Malformed coordinates: {exc}.", code="coordinates") from exc
    if geometry.is_empty:
        raise ValidationError("The area is empty.", code="empty")
    if not geometry.is_valid:
        reason = shapely.is_valid_reason(geometry)
        raise ValidationError(f"Invalid geometry: {reason}.", code="invalid_geometry")
    minx, miny, maxx, maxy = geometry.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise ValidationError(
            "Coordinates must be longitude, latitude in WGS84 degrees.", code="range"
        )
    return geometry


def validate_area_in_city(area: BaseGeometry) -> None:
    """Raise a ValidationError when the area lies wholly outside the city's bounds: no report
    can ever fall in it (points outside MAP_BOUNDS are refused), so a routing rule to it would
    never apply. Why: a file with latitude and longitude swapped, or another city's file, was
    imported without a word."""
    south, west, north, east = settings.MAP_BOUNDS
    if area.intersects(shapely.box(west, south, east, north)):
        return
    minx, miny, maxx, maxy = area.bounds
    swapped = area.intersects(shapely.box(south, west, north, east))
    hint = (
        " Its coordinates look like latitude, longitude: GeoJSON wants longitude first."
        if swapped
        else ""
    )
    raise ValidationError(
        f"The area lies wholly outside {settings.CITY_NAME} (longitude {minx:g} to {maxx:g}, "
        f"latitude {miny:g} to {maxy:g}; the city's bounds, MAP_BOUNDS, are latitude {south:g} "
        f"to {north:g}, longitude {west:g} to {east:g}), so no report could lie in it.{hint}",
        code="outside_city",
    )


EARTH_RADIUS = 6_371_008.8  # metres, the mean radius of WGS84's ellipsoid
# Metres in one degree of latitude (and of longitude at the equator) on that radius.
METRES_PER_DEGREE = math.radians(EARTH_RADIUS)  # 111,195 m


def bbox_around(lat: float, long: float, radius_m: float) -> tuple[float, float, float, float]:
    """(south, west, north, east) of a box that holds the circle of `radius_m` metres around
    the point: its longitudes are those of the circle's widest parallel, the one nearest a
    pole (so no sliver of the circle is left out, even far from the equator)."""
    dlat = radius_m / METRES_PER_DEGREE
    shrink = max(math.cos(math.radians(min(abs(lat) + dlat, 90.0))), 1e-9)
    dlong = min(dlat / shrink, 180.0)
    return lat - dlat, long - dlong, lat + dlat, long + dlong


def metres_between(lat1: float, long1: float, lat2: float, long2: float) -> float:
    """Distance in metres, equirectangular: exact to well under a metre across a city."""
    scale = math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot(lat2 - lat1, (long2 - long1) * scale) * METRES_PER_DEGREE


def distance_metres(lat1: float, long1: float, lat2: float, long2: float) -> float:
    """Great-circle (haversine) distance in metres, on EARTH_RADIUS: what the Open311 radius
    search computes in SQL (reports/api/circles.py), for any two points."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(long2 - long1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS * math.asin(math.sqrt(min(1.0, a)))
