"""Hotspots: where reports cluster, aggregated in the database so the answer stays small.

Cells are a regular latitude/longitude grid (GROUP BY floor(lat / size), floor(long / size)):
at a million reports the database returns at most a few thousand rows, whatever the count.
Neighbourhood counts group by each report's stored area, mapped onto the neighbourhood that
contains it (a handful of boundaries, compared with shapely once per request)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Value
from django.db.models.functions import Floor
from django.utils import timezone

from departments.models import AreaSet, Boundary
from reports.insights import rollups, summaries
from reports.insights.filters import Filters
from reports.models import ServiceRequest
from reports.querysets import ServiceRequestQuerySet

CELL_SIZES = {"fine": 0.0025, "medium": 0.005, "coarse": 0.01}  # degrees of latitude
DEFAULT_CELL = "medium"
HEAT_CLASSES = 5


def in_period(filters: Filters) -> ServiceRequestQuerySet:
    return ServiceRequest.objects.public().filter(
        filters.scope(),
        requested_datetime__gte=filters.start,
        requested_datetime__lt=filters.end,
    )


@dataclass
class Cell:
    south: float
    west: float
    north: float
    east: float
    count: int
    heat: int = 0

    @property
    def key(self) -> str:
        return f"{self.south:.5f},{self.west:.5f},{self.north:.5f},{self.east:.5f}"


def grid_cells(filters: Filters, size: float) -> list[Cell]:
    rows: Iterable[tuple[float, float, int]] | None = _summed_cells(filters, size)
    if rows is None:
        rows = (
            in_period(filters)
            .with_location()
            .annotate(gy=grid_index("lat", size), gx=grid_index("long", size))
            .values_list("gy", "gx")
            .annotate(n=Count("pk"))
            .order_by("-n", "gy", "gx")
        )
    cells = [
        Cell(
            round(gy * size, 6),
            round(gx * size, 6),
            round((gy + 1) * size, 6),
            round((gx + 1) * size, 6),
            n,
        )
        for gy, gx, n in rows
    ]
    breaks = heat_breaks([c.count for c in cells])
    for cell in cells:
        cell.heat = heat_class(cell.count, breaks)
    return cells


def in_cell(
    reports: ServiceRequestQuerySet, bounds: tuple[float, float, float, float]
) -> ServiceRequestQuerySet | None:
    """The reports a cell of the grid counts, by the grid's own rule (the floor of the
    coordinate over the cell's size): a point on a grid line is listed in the cell that
    counted it. Bounds rounded to 6 decimals, compared as numbers, put some of those (1 in
    25 of 4-decimal coordinates) in the neighbouring cell's list. None when the bounds are
    not a cell of one of CELL_SIZES."""
    south, west, north, east = bounds
    size = next((s for s in CELL_SIZES.values() if abs(north - south - s) < 1e-9), None)
    if size is None or abs(east - west - size) > 1e-9:
        return None
    row, column = round(south / size), round(west / size)
    near = reports.filter(  # a range an index can read, a cell wide on every side
        lat__gte=south - size, lat__lt=north + size, long__gte=west - size, long__lt=east + size
    )
    indices = near.annotate(gy=grid_index("lat", size), gx=grid_index("long", size))
    return indices.filter(gy=row, gx=column)


def grid_index(coordinate: str, size: float) -> Floor:
    """A report's row ("lat") or column ("long") in the grid of cells `size` degrees wide."""
    return Floor(F(coordinate) / Value(size))


def _summed_cells(filters: Filters, size: float) -> list[tuple[float, float, int]] | None:
    """The whole city's cells from the monthly summary, where it gives the same numbers:
    no category, department or area filter, at least one whole month in the period, and a
    cell of 2ⁿ finest cells. Exact, not approximate: floor(lat / (2ⁿ·s)) is floor(floor(lat
    / s) / 2ⁿ) in binary floating point too (scaling by 2ⁿ is exact)."""
    factor = round(size / rollups.FINE_CELL)
    if (
        filters.service is not None
        or filters.department is not None
        or filters.area is not None
        or factor < 1
        or factor & (factor - 1)
        or rollups.FINE_CELL * factor != size
        or summaries.whole_months(filters.first_day, filters.last_day) is None
        or not rollups.usable()
    ):
        return None
    return summaries.grid_counts(filters, factor, timezone.now())


def heat_breaks(counts: list[int]) -> list[int]:
    """Upper bounds of the colour classes: quantiles of the counts (so a few huge cells do
    not wash out the rest)."""
    if not counts:
        return []
    ordered = sorted(counts)
    breaks = []
    for i in range(1, HEAT_CLASSES):
        breaks.append(ordered[min(len(ordered) - 1, len(ordered) * i // HEAT_CLASSES)])
    return breaks


def heat_class(count: int, breaks: list[int]) -> int:
    for i, bound in enumerate(breaks):
        if count <= bound:
            return i
    return len(breaks)


@dataclass
class AreaCount:
    boundary: Boundary
    count: int
    heat: int = 0


def neighbourhood_counts(filters: Filters) -> list[AreaCount]:
    """Reports per neighbourhood, most first (neighbourhoods with none included): a report
    counts in every neighbourhood its point lies in, whatever other areas cross them."""
    neighbourhoods = list(Boundary.objects.filter(kind=Boundary.Kind.NEIGHBOURHOOD))
    counts: dict[int, int] = {n.pk: 0 for n in neighbourhoods}
    found: dict[int, int]
    if rollups.usable():
        found = summaries.area_set_counts(filters, timezone.now())
    else:
        found = dict(
            in_period(filters)
            .filter(area_set__isnull=False)
            .values_list("area_set_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
    for area_set in AreaSet.objects.filter(pk__in=list(found)):
        for area_id in area_set.area_ids:
            if area_id in counts:
                counts[area_id] += found[area_set.pk]
    result = sorted(
        (AreaCount(n, counts[n.pk]) for n in neighbourhoods),
        key=lambda a: (-a.count, a.boundary.name),
    )
    breaks = heat_breaks([a.count for a in result if a.count])
    for area in result:
        area.heat = heat_class(area.count, breaks) if area.count else 0
    return result


def map_data(
    cells: list[Cell], areas: list[AreaCount], list_url: str, area_urls: dict[int, str]
) -> dict[str, Any]:
    """What the map script draws (via json_script): small, numbers and shapes only, and
    the list each cell (list_url and its bounds) or neighbourhood (area_urls) opens."""
    return {
        "cells": [[c.south, c.west, c.north, c.east, c.count, c.heat] for c in cells],
        "areas": [
            {
                "id": a.boundary.pk,
                "name": a.boundary.name,
                "count": a.count,
                "heat": a.heat,
                "geometry": a.boundary.geometry,
                "url": area_urls[a.boundary.pk],
            }
            for a in areas
        ],
        "listUrl": list_url,
    }
