"""The radius search's geometry (the circle's box, the grid's cells that touch it, the
great-circle distance) and its first page on PostgreSQL, read so that its cost does not
grow with the number of reports around the centre. (SQLite reads the first page by the
circle's box: listing.circle_source.)

Why: the search reads every report of the window in the cells that touch the circle
(listing.around), then sorts them. Where reports are dense that is many more than a page:
1,401 index entries at a million reports for a 500 m circle of which 828 are in it, ten
times what 100,000 reports give, for the same 100 rows. The database function below reads
fewer:

- newest first, it reads the cells' reports of the window's last day, then of a span sized
  from the rate found so far (half again what the rest of the page needs), and so on until
  the page is full or the window read; at a million reports two spans hold the page
  (about 220 entries read);
- nearest first, it first reads the cells that touch a circle of half the radius, for the
  reports in that smaller circle, the nearest of all: when they are a full page, no report
  outside it can come before them (at a million reports 8 cells, 544 entries). Otherwise
  the page goes on with the reports between half the radius and the radius, from all the
  circle's cells.

It returns the page's rows in order, each with its requested time and document version from
the index, and the page's one statement reads their stored documents by them, without
visiting the report table again (planning a query over its thirty-odd indexes costs 0.2
ms). Each cell is read by its own index scan (a LATERAL join): kept for the connection's
life, the function's plans are generic, made without the values, and a generic plan of
`cell = ANY(…)` with a range of times chose the time index over the whole city. Plans made
once are also why a function: the search's statement took 0.25–0.3 ms to plan.

The page's statement with its documents, from psycopg (the median of seven means of 50
runs): at a million reports 0.50 ms newest first and 0.57 nearest first, where the search
newest first took 0.89 before; at 100,000, 0.49 and 0.48, where it took 0.36.

Used for the first page (or the page after a cursor, newest first) of a list narrowed by
nothing but its window and the circle; with any other filter the list is read as before.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, NamedTuple

from django.db import connection

from civic311.geo import EARTH_RADIUS, bbox_around, distance_metres
from reports.models import ServiceRequest

REPORTS = ServiceRequest._meta.db_table
FUNCTION = "open311_circle_page"
# A report's cell in a grid of 1/CELLS_PER_DEGREE of a degree, as the sr_public_cell index
# (migration 0021) computes it: row and column numbers in one integer, row · 100,000 +
# column (see cells_around).
CELLS_PER_DEGREE = 400
CELL_OF = (
    f"((floor({{lat}} * {CELLS_PER_DEGREE}) * 100000 + floor({{long}} * {CELLS_PER_DEGREE}))"
    "::bigint)"
)
CELL = CELL_OF.format(lat="r.lat", long="r.long")
METRES = (
    f"2 * {EARTH_RADIUS} * asin(sqrt(power(sin((radians(r.lat) - p_phi) / 2), 2)"
    " + p_cos * cos(radians(r.lat)) * power(sin((radians(r.long) - p_lam) / 2), 2)))"
)


MAX_CELLS = 120  # about a 1.2 km radius in mid latitudes; larger circles read the box


def circle_cells(lat: float, long: float, radius: float) -> list[int] | None:
    """The cells listing.around() reads the circle by (see cells_around), or None where it reads
    a box (on SQLite always)."""
    return cells_around(lat, long, radius) if connection.vendor == "postgresql" else None


def cells_around(lat: float, long: float, radius: float) -> list[int] | None:
    """The cells of the grid that hold a point of the circle, or None when they are more
    than MAX_CELLS. Every point of the circle is in the box, and floor() of the scaled
    coordinates is monotonic, so the cells of the box's rows and columns hold every point
    of the circle whatever the rounding; a cell whose nearest point to the centre is
    farther than the radius holds none and is left out (with a margin: on a sphere the
    clamped point is the nearest only to within centimetres at these sizes)."""
    south, west, north, east = bbox_around(lat, long, radius)
    rows = range(math.floor(south * CELLS_PER_DEGREE), math.floor(north * CELLS_PER_DEGREE) + 1)
    columns = range(math.floor(west * CELLS_PER_DEGREE), math.floor(east * CELLS_PER_DEGREE) + 1)
    if len(rows) * len(columns) > MAX_CELLS:
        return None
    size = 1 / CELLS_PER_DEGREE
    cells = []
    for row in rows:
        nearest_lat = min(max(lat, row * size), (row + 1) * size)
        for column in columns:
            nearest_long = min(max(long, column * size), (column + 1) * size)
            if distance_metres(lat, long, nearest_lat, nearest_long) <= radius * 1.001 + 1:
                cells.append(row * 100000 + column)
    return cells


class Circle(NamedTuple):
    """A radius search narrowed by nothing but its window of requested times: the public
    reports requested between `start` and `end` (both included), as seen at `now`, within
    `radius` metres of (lat, long), whose `cells` (cells_around) hold them all on
    PostgreSQL (None when they are too many, and on SQLite, which reads the circle's box:
    listing.circle_source)."""

    lat: float
    long: float
    radius: float
    cells: list[int] | None
    start: datetime
    end: datetime
    now: datetime


def page_source(
    circle: Circle,
    *,
    inner: list[int] | None,
    by_distance: bool,
    size: int,
    cursor: tuple[datetime, int] | None,
) -> tuple[str, list[Any]]:
    """Where the first `size` rows of `circle` come from, nearest or newest first (after
    `cursor`, newest first), as the SQL after a statement's FROM and its parameters: the
    function's rows, named as the report table's "id", "requested_datetime" and
    "doc_version", in order (documents.read_page selects from it). `inner` are the cells of
    the circle of half the radius (nearest first).

    The function gives each row's id, time and document version from the index: the
    stored documents are read by them, with no second visit to the report table (whose
    thirty-odd indexes cost 0.2 ms to plan a query over)."""
    phi = math.radians(circle.lat)
    after_time, after_pk = cursor if cursor is not None else (None, None)
    sql = (
        f"{FUNCTION}(%s::bigint[], %s::bigint[], %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
        f'WITH ORDINALITY AS "{REPORTS}" ("id", "requested_datetime", "doc_version", "place") '
        'ORDER BY "place"'
    )
    params = [
        circle.cells, inner, circle.radius / 2, phi, math.cos(phi), math.radians(circle.long),
        circle.radius, circle.start, circle.end, circle.now, by_distance, size, after_time,
        after_pk,
    ]  # fmt: skip
    return sql, params


# Nearest first, the reports of the cells in `cells` (each by its own index scan: OFFSET 0
# keeps the subquery from being flattened into a hash join over the time index) whose
# distance is `within` bounds, at most what the page still needs.
_NEAREST = f"""
RETURN QUERY SELECT n.id, n.requested_datetime, n.doc_version
FROM unnest({{cells}}) AS c (cell), LATERAL (
    SELECT r.id, r.requested_datetime, r.doc_version, {METRES} AS metres FROM {REPORTS} r
    WHERE {CELL} = c.cell AND NOT r.hidden
    AND r.requested_datetime >= p_start AND r.requested_datetime <= p_end
    AND r.published_at <= p_now OFFSET 0
) AS n WHERE {{within}}
ORDER BY n.metres, n.requested_datetime DESC, n.id DESC LIMIT p_limit - found;"""

# Newest first, the reports requested from `low` to `high` (at `high`, those with an id
# below top_id), each cell's newest first and at most what the page still needs.
_NEWEST = f"""
RETURN QUERY SELECT n.id, n.requested_datetime, n.doc_version
FROM unnest(p_cells) AS c (cell), LATERAL (
    SELECT r.id, r.requested_datetime, r.doc_version FROM {REPORTS} r
    WHERE {CELL} = c.cell AND NOT r.hidden
    AND r.requested_datetime >= low AND r.requested_datetime <= high
    AND (r.requested_datetime < high OR r.id < top_id)
    AND r.published_at <= p_now AND {METRES} <= p_radius
    ORDER BY r.requested_datetime DESC, r.id DESC LIMIT p_limit - found
) AS n ORDER BY n.requested_datetime DESC, n.id DESC LIMIT p_limit - found;"""

# The page's rows in order (a RETURN QUERY adds its rows after those already returned).
# Nearest first: the reports nearer than half the radius, from the inner cells, are the
# nearest of all; when they are fewer than a page, the page goes on with the reports from
# half the radius to the radius, read from all the cells.
FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}(
    p_cells bigint[], p_inner bigint[], p_inner_radius float8,
    p_phi float8, p_cos float8, p_lam float8, p_radius float8,
    p_start timestamptz, p_end timestamptz, p_now timestamptz,
    p_by_distance boolean, p_limit int, p_after timestamptz, p_after_id bigint
) RETURNS TABLE (id bigint, requested timestamptz, version bigint)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $fn$
DECLARE
    found bigint := 0;
    n bigint;
    top timestamptz := p_end;
    high timestamptz;
    low timestamptz;
    top_id bigint := 9223372036854775807;
    span interval := interval '1 day';
BEGIN
    IF p_by_distance THEN
        IF p_inner IS NULL THEN
            p_inner_radius := 0;
        END IF;
        {_NEAREST.format(cells="p_inner", within="n.metres < p_inner_radius")}
        GET DIAGNOSTICS found = ROW_COUNT;
        IF found < p_limit THEN
            {
    _NEAREST.format(cells="p_cells", within="n.metres >= p_inner_radius AND n.metres <= p_radius")
}
        END IF;
        RETURN;
    END IF;
    IF p_after IS NOT NULL AND p_after <= p_end THEN
        top := p_after;
        top_id := p_after_id;
    END IF;
    high := top;
    LOOP
        low := greatest(high - span, p_start);
        {_NEWEST}
        GET DIAGNOSTICS n = ROW_COUNT;
        found := found + n;
        EXIT WHEN found >= p_limit OR low <= p_start;
        -- The next span, from the rate so far: half again what the rest of the page needs.
        IF found = 0 THEN
            span := top - p_start;
        ELSE
            span := greatest((top - low) * (1.5 * (p_limit - found) / found), interval '1 minute');
        END IF;
        high := low;
        top_id := 0;
    END LOOP;
END
$fn$
"""
DROP_SQL = (
    f"DROP FUNCTION IF EXISTS {FUNCTION}(bigint[], bigint[], float8, float8, float8, float8, "
    "float8, timestamptz, timestamptz, timestamptz, boolean, int, timestamptz, bigint)"
)
