"""The radius search's grid cells (PostgreSQL reads the circle's cells of sr_public_cell):
every point of the circle lies in a cell the search reads, the database computes a report's
cell as the search does, and a circle too large for the cells is still answered exactly."""

from __future__ import annotations

import math

import pytest
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from civic311.geo import EARTH_RADIUS, bbox_around, distance_metres
from reports.api.circles import CELLS_PER_DEGREE, cells_around
from reports.api.listing import CELL
from tests.factories import ServiceRequestFactory
from tests.reports.open311_support import json_of

BASE = "/open311/v2"


def cell_of(lat: float, long: float) -> int:
    return math.floor(lat * CELLS_PER_DEGREE) * 100000 + math.floor(long * CELLS_PER_DEGREE)


def destination(lat: float, long: float, bearing: float, metres: float) -> tuple[float, float]:
    """The point `metres` from (lat, long) along the great circle leaving at `bearing`."""
    phi, lam, theta = math.radians(lat), math.radians(long), math.radians(bearing)
    delta = metres / EARTH_RADIUS
    phi2 = math.asin(
        math.sin(phi) * math.cos(delta) + math.cos(phi) * math.sin(delta) * math.cos(theta)
    )
    lam2 = lam + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi),
        math.cos(delta) - math.sin(phi) * math.sin(phi2),
    )
    return math.degrees(phi2), math.degrees(lam2)


@given(
    lat=st.floats(-70, 70),
    long=st.floats(-170, 170),
    radius=st.floats(1, 1500),
    bearing=st.floats(0, 360),
    share=st.floats(0, 1),
)
def test_every_point_of_the_circle_is_in_a_cell_the_search_reads(lat, long, radius, bearing, share):
    cells = cells_around(lat, long, radius)
    if cells is None:  # too many cells: the search reads the box instead
        return
    point = destination(lat, long, bearing, radius * share)
    if distance_metres(lat, long, *point) <= radius:
        assert cell_of(*point) in cells


def test_a_circle_reads_the_cells_that_touch_it_and_a_large_one_none():
    south, west, north, east = bbox_around(35.79, -78.64, 500)
    box = {cell_of(lat, long) for lat in (south, north) for long in (west, east)}
    cells = cells_around(35.79, -78.64, 500)

    assert cells is not None
    assert cell_of(35.79, -78.64) in cells
    # The box's corners are 707 m from the centre: their cells hold no point of the circle.
    assert not box & set(cells)
    assert 9 <= len(cells) <= 30
    assert cells_around(35.79, -78.64, 5000) is None


@pytest.mark.django_db
def test_the_database_computes_a_reports_cell_as_the_search_does():
    if connection.vendor != "postgresql":
        pytest.skip("the cell index is PostgreSQL's")
    points = [(35.79, -78.64), (35.7825, -78.6275), (-33.8688, 151.2093), (0.0, -0.0001)]
    with connection.cursor() as cursor:
        for lat, long in points:
            point = "(SELECT %s::float8 AS lat, %s::float8 AS long) p"
            cursor.execute(f"SELECT {CELL} FROM {point}", [lat, long])
            assert cursor.fetchone()[0] == cell_of(lat, long)


@pytest.mark.django_db
def test_a_circle_too_large_for_the_cells_is_answered_exactly(client):
    centre = (35.79, -78.64)
    near, far = destination(*centre, 60, 4900), destination(*centre, 60, 5100)
    inside = ServiceRequestFactory(lat=near[0], long=near[1])
    ServiceRequestFactory(lat=far[0], long=far[1])
    for sort in ("requested", "distance"):
        query = {"lat": centre[0], "long": centre[1], "radius": 5000, "sort": sort}
        response = client.get(f"{BASE}/requests.json", query)
        assert response.status_code == 200
        assert [r["service_request_id"] for r in json_of(response)] == [str(inside.pk)]
