"""Reports located again in the areas as they are now (ServiceRequest.area and area_set).

Routing gives a new report its smallest area and its set of areas (departments.AreaSet).
When an area is drawn, redrawn or deleted, the reports around it are located again here,
so that a filter by any area (a district, a neighbourhood, a service area) keeps finding
exactly the reports inside it. Only the location moves: no report is routed to another
department, and nothing is written on a timeline.

`relocate` takes the model classes, so that a migration can call it with its own.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import shapely
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from civic311.geo import parse_area
from departments.areasets import set_key, set_made

logger = logging.getLogger(__name__)

CHUNK = 5000
# Reports filed this recently are located again by every relocation, whatever changed: one
# filed while an area was being redrawn was routed with the area as it was, and the
# relocation that the change queued could not see it before it committed.
RECENT = timedelta(minutes=15)
# One relocation at a time (PostgreSQL's transaction-level advisory lock; SQLite writes one
# at a time anyway): two at once could each read another version of an area, and the one
# that read the older could write last.
LOCK = 3110032


@dataclass(frozen=True)
class Shape:
    pk: int
    size: float
    shape: Any


def shapes(boundaries: QuerySet[Any]) -> list[Shape]:
    """Every boundary's shape, prepared, with its size (routing's order: smallest first)."""
    found = []
    for area in boundaries.order_by("pk"):
        shape = parse_area(area.geometry)
        shapely.prepare(shape)
        found.append(Shape(area.pk, shape.area, shape))
    return found


def locate(areas: list[Shape], lat: list[float], long: list[float]) -> list[list[int]]:
    """Each point's areas, smallest first (then the older), as routing finds them: a point
    on an edge lies in both areas."""
    lats, longs = np.asarray(lat, dtype=float), np.asarray(long, dtype=float)
    inside = [shapely.intersects_xy(area.shape, longs, lats) for area in areas]
    order = sorted(range(len(areas)), key=lambda i: (areas[i].size, areas[i].pk))
    return [[areas[i].pk for i in order if inside[i][row]] for row in range(len(lats))]


class SetIds:
    """The AreaSet id of each combination of areas, made the first time it is needed."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.known: dict[str, int] = dict(model.objects.values_list("key", "pk"))

    def __call__(self, area_ids: list[int]) -> int | None:
        key = set_key(area_ids)
        if not key:
            return None
        if key not in self.known:
            self.known[key] = set_made(self.model, key)
        return self.known[key]


def relocate(reports: QuerySet[Any], *, boundaries: QuerySet[Any], area_sets: Any) -> int:
    """Give each report of `reports` that has a point the smallest area and the set of
    areas its point lies in now (of `boundaries`; `area_sets` is the AreaSet model),
    reading CHUNK reports at a time and writing only those that move (their department,
    timeline and updated_datetime stay). Returns how many moved."""
    areas = shapes(boundaries)
    set_ids = SetIds(area_sets)
    model = reports.model
    rows = reports.filter(lat__isnull=False, long__isnull=False).order_by("pk")
    changed, after = 0, 0
    while True:
        chunk = list(
            rows.filter(pk__gt=after).values_list("pk", "lat", "long", "area_id", "area_set_id")[
                :CHUNK
            ]
        )
        if not chunk:
            return changed
        after = chunk[-1][0]
        found = locate(areas, [r[1] for r in chunk], [r[2] for r in chunk])
        moves: dict[tuple[int | None, int | None], list[int]] = defaultdict(list)
        for (pk, _lat, _long, area_id, set_id), inside in zip(chunk, found, strict=True):
            target = (inside[0] if inside else None, set_ids(inside))
            if target != (area_id, set_id):
                moves[target].append(pk)
        with transaction.atomic():
            for (area_id, set_id), pks in moves.items():
                model.objects.filter(pk__in=pks).update(area_id=area_id, area_set_id=set_id)
        changed += sum(len(pks) for pks in moves.values())


def around(area_id: int, area_set_ids: list[int], box: tuple[float, ...] | None) -> Q:
    """The reports an area's change may move: those of the sets that name it (inside it
    before), and those inside its box now (south, west, north, east), if it still exists."""
    condition = Q(area_set_id__in=area_set_ids)
    if box is not None:
        south, west, north, east = box
        condition |= Q(lat__gte=south, lat__lte=north, long__gte=west, long__lte=east)
    return condition


# Every area drawn (inserted), redrawn (its shape changed) or deleted is recorded in the
# same transaction by the database, whatever wrote it (the admin, import_boundaries, a data
# migration, the shell), as the catalogue's version is (departments/catalogue.py). Installed
# by migration 0033.
AREA_CHANGE_TRIGGERS = {
    "postgresql": [
        """
        CREATE FUNCTION reports_area_change() RETURNS trigger AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                INSERT INTO reports_areachange (area_id) VALUES (OLD.id);
            ELSIF TG_OP = 'INSERT' OR NEW.geometry IS DISTINCT FROM OLD.geometry THEN
                INSERT INTO reports_areachange (area_id) VALUES (NEW.id);
            END IF;
            RETURN NULL;
        END $$ LANGUAGE plpgsql
        """,
        "CREATE TRIGGER reports_area_change AFTER INSERT OR UPDATE OR DELETE "
        "ON departments_boundary FOR EACH ROW EXECUTE FUNCTION reports_area_change()",
    ],
    "sqlite": [
        "CREATE TRIGGER reports_area_change_insert AFTER INSERT ON departments_boundary "
        "BEGIN INSERT INTO reports_areachange (area_id) VALUES (NEW.id); END",
        "CREATE TRIGGER reports_area_change_update AFTER UPDATE ON departments_boundary "
        "WHEN NEW.geometry IS NOT OLD.geometry "
        "BEGIN INSERT INTO reports_areachange (area_id) VALUES (NEW.id); END",
        "CREATE TRIGGER reports_area_change_delete AFTER DELETE ON departments_boundary "
        "BEGIN INSERT INTO reports_areachange (area_id) VALUES (OLD.id); END",
    ],
}
AREA_CHANGE_DROP = {
    "postgresql": [
        "DROP TRIGGER IF EXISTS reports_area_change ON departments_boundary",
        "DROP FUNCTION IF EXISTS reports_area_change()",
    ],
    "sqlite": [
        f"DROP TRIGGER IF EXISTS reports_area_change_{op}" for op in ("insert", "update", "delete")
    ],
}


def areas_relocate_soon() -> None:
    """Queue the relocation of what the triggers recorded (run once a change to areas has
    committed: departments.services.areas_changed_on_commit). A task the broker can't take
    is left to the beat sweep."""
    from reports.tasks import areas_relocate

    try:
        areas_relocate.delay()
    except BrokerError:
        logger.warning("Broker unreachable; the areas changed are left for the sweep")


def areas_relocate_pending(*, now: datetime | None = None) -> int:
    """Locate again the reports around every area recorded as changed, and the reports
    filed in the last RECENT whatever changed, in one transaction that deletes the records
    it handled. Returns how many reports moved."""
    from departments.areasets import area_sets_in
    from departments.models import AreaSet, Boundary
    from reports.models import AreaChange, ServiceRequest

    now = now or timezone.now()
    boundaries = Boundary.objects.all()
    moved = 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK])
        changes = list(AreaChange.objects.order_by("pk"))
        for area_id in dict.fromkeys(change.area_id for change in changes):
            area = boundaries.filter(pk=area_id).first()
            box = None if area is None else (
                area.min_lat, area.min_long, area.max_lat, area.max_long
            )  # fmt: skip
            reports = ServiceRequest.objects.filter(around(area_id, area_sets_in(area_id), box))
            moved += relocate(reports, boundaries=boundaries, area_sets=AreaSet)
        recent = ServiceRequest.objects.filter(requested_datetime__gte=now - RECENT)
        moved += relocate(recent, boundaries=boundaries, area_sets=AreaSet)
        AreaChange.objects.filter(pk__in=[change.pk for change in changes]).delete()
    return moved
