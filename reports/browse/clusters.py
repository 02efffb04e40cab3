"""What the map shows for a filter and a view (box and zoom): every matching report, as
individual points when few are in view, else counted on a grid by the database, so the
answer stays small (a few hundred cells at most) and the work is one aggregate query
however many reports match.

Cells are squares of about CELL_PX screen pixels, aligned on a grid fixed per zoom level, and
the box is widened to whole cells: panning the map never splits a cell's count, and the
same view always gets the same answer (which the view caches)."""

from __future__ import annotations

import math
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Avg, Count, F, Q
from django.db.models.functions import Floor
from django.utils import timezone
from django.utils.dateformat import format as date_format

from reports.querysets import ServiceRequestQuerySet

POINT_LIMIT = 200
CELL_PX = 80
TILE_PX = 256
MAX_CELLS = 500
# Part of every cached map answer's key: a moderation that hides a report moves it on, so
# no answer kept from before still shows the report.
GENERATION_KEY = "map:generation"


def generation() -> int:
    return cache.get(GENERATION_KEY, 0)


def answers_forget_on_commit() -> None:
    """Once the current transaction commits, stop using the map answers kept so far."""

    def forget() -> None:
        try:
            cache.incr(GENERATION_KEY)
        except ValueError:  # not kept (yet, or any more)
            cache.set(GENERATION_KEY, 1, None)

    transaction.on_commit(forget, robust=True)


def grid_cell(bbox: tuple[float, float, float, float], zoom: int) -> tuple[float, float]:
    """(cell height, cell width) in degrees for the zoom level: CELL_PX pixels wide on a
    Web Mercator map (and as tall, at the box's latitude), doubled until the box holds at
    most MAX_CELLS cells, so a huge box at a deep zoom cannot ask for a million groups."""
    south, west, north, east = bbox
    width = 360 / 2**zoom * CELL_PX / TILE_PX
    height = width * max(math.cos(math.radians((south + north) / 2)), 0.05)
    while ((north - south) / height + 1) * ((east - west) / width + 1) > MAX_CELLS:
        width, height = width * 2, height * 2
    return height, width


def snap(bbox: tuple[float, float, float, float], cell: tuple[float, float]) -> tuple[float, ...]:
    """The box widened to whole cells of the grid."""
    south, west, north, east = bbox
    height, width = cell
    return (
        math.floor(south / height) * height,
        math.floor(west / width) * width,
        math.ceil(north / height) * height,
        math.ceil(east / width) * width,
    )


def map_answer(
    reports: ServiceRequestQuerySet, bbox: tuple[float, float, float, float], zoom: int
) -> dict[str, Any]:
    """The map's JSON for `reports` in `bbox` at `zoom`.

    {"total": n, "points": [[id, lat, lng, "open", "Pothole", "Nov 3, 2026"], ...]} when at
    most POINT_LIMIT are in view, else {"total": n, "cell": [height, width],
    "clusters": [[lat, lng, count, open_count, row, column], ...]}: a cell's position is the
    mean of its reports, and (row, column) times the cell size is its south-west corner."""
    cell = grid_cell(bbox, zoom)
    south, west, north, east = snap(bbox, cell)
    in_view = reports.with_location().in_bbox(south, west, north, east).order_by()
    if in_view[: POINT_LIMIT + 1].count() <= POINT_LIMIT:
        return _points(in_view)
    height, width = cell
    grid = (
        in_view.annotate(row=Floor(F("lat") / height), column=Floor(F("long") / width))
        .values("row", "column")
        .annotate(
            n=Count("pk"),
            n_open=Count("pk", filter=Q(status="open")),
            mean_lat=Avg("lat"),
            mean_long=Avg("long"),
        )
        .order_by()
    )
    clusters = [
        [
            round(c["mean_lat"] or 0.0, 5),
            round(c["mean_long"] or 0.0, 5),
            c["n"],
            c["n_open"],
            int(c["row"]),
            int(c["column"]),
        ]
        for c in grid
    ]
    return {
        "total": sum(c[2] for c in clusters),
        "cell": [height, width],
        "clusters": clusters,
    }


def _points(in_view: ServiceRequestQuerySet) -> dict[str, Any]:
    rows = in_view.values_list(
        "pk", "lat", "long", "status", "service__name", "requested_datetime"
    ).order_by("-requested_datetime", "-pk")
    points = [
        [pk, round(lat or 0.0, 6), round(long or 0.0, 6), status, name, _day(requested)]
        for pk, lat, long, status, name, requested in rows
    ]
    return {"total": len(points), "points": points}


def _day(moment: Any) -> str:
    return date_format(timezone.localtime(moment), "M j, Y")
