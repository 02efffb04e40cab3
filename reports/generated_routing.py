"""How generate_reports routes its reports: what Service.route would decide, once per
distinct (category, areas around the point), and each combination of areas' AreaSet id.

Runs on the generator's thread, which has no database: the rows it reads are read when it
is made, new sets take ids reserved beforehand (`spare`), and the loading thread saves the
sets made meanwhile (`new_sets`) before the reports that name them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from django.core.management.base import CommandError

from civic311.geo import parse_area
from departments import routing
from departments.areasets import set_key
from departments.models import AreaSet, Boundary, Department
from reports import rules
from reports.models import Service

SPARE_SETS = 1000  # ids reserved for combinations of areas not seen before


@dataclass(frozen=True)
class Area:
    pk: int
    size: float
    shape: Any


@dataclass(frozen=True)
class Routed:
    """What routing decided for a (service, areas) pair, and the timeline text saying so."""

    department_id: int | None
    area_id: int | None
    area_set_id: int | None
    text: str


class Router:
    def __init__(self, services: list[Service]) -> None:
        self.services = services
        self.areas = [
            Area(b.pk, shape.area, shape)
            for b in Boundary.objects.order_by("pk")
            for shape in [parse_area(b.geometry)]
        ]
        for area in self.areas:
            shapely.prepare(area.shape)
        # Each category's routing rules, read once (the ones route() reads for it).
        self.rules = {s.pk: routing.rules_for(s.pk, s.group) for s in services}
        self.routed: dict[tuple[int, bytes], Routed] = {}
        # Each combination of areas a point lies in (departments.AreaSet): the known ones,
        # ids reserved for new ones (the dry run's are never saved), and those not saved yet.
        self.set_ids: dict[str, int] = dict(AreaSet.objects.values_list("key", "pk"))
        self.spare: list[int] = list(range(-SPARE_SETS, 0))
        self.new_sets: list[AreaSet] = []
        self.department_names = dict(Department.objects.values_list("pk", "name"))
        self.route_calls = 0

    def containing(self, lat: np.ndarray, long: np.ndarray) -> np.ndarray:
        """For each point, which areas cover it: one row of booleans (one per area)."""
        inside = np.zeros((len(lat), len(self.areas)), dtype=bool)
        for column, area in enumerate(self.areas):
            inside[:, column] = shapely.intersects_xy(area.shape, long, lat)
        return inside

    def route(self, service_index: int, inside: np.ndarray) -> Routed:
        """What Service.route decides for the service at a point inside the areas marked
        in `inside`: it depends only on those, so each combination is decided once."""
        key = (service_index, inside.tobytes())
        found = self.routed.get(key)
        if found is None:
            service = self.services[service_index]
            covering = sorted(
                (area for area, hit in zip(self.areas, inside.tolist(), strict=True) if hit),
                key=lambda a: (a.size, a.pk),
            )
            decision = routing.choose(
                self.rules[service.pk],
                area_ids=[a.pk for a in covering],
                default_department_id=service.department_id,
            )
            self.route_calls += 1
            text = ""
            if decision.department_id is not None:
                name = self.department_names[decision.department_id]
                text = rules.routed_text(name, decision)
            areas = set_key(a.pk for a in covering)
            found = Routed(decision.department_id, decision.area_id, self.area_set(areas), text)
            self.routed[key] = found
        return found

    def area_set(self, key: str) -> int | None:
        """The AreaSet id of a combination of areas (ids by commas), None for none. A new
        combination takes one of the ids reserved for it (`spare`): its row is saved by the
        loading thread (Command._load), since this one has no database."""
        if not key:
            return None
        if key not in self.set_ids:
            if not self.spare:
                raise CommandError("The areas overlap in more ways than ids were reserved for.")
            self.set_ids[key] = self.spare.pop()
            self.new_sets.append(AreaSet(pk=self.set_ids[key], key=key))
        return self.set_ids[key]

    def routes(self, service_index: np.ndarray, inside: np.ndarray) -> list[Routed]:
        """route() for every row, one call per distinct (service, areas) in the batch."""
        size = len(service_index)
        service_bytes = service_index.astype(">u4").view(np.uint8).reshape(size, 4)
        keys = np.ascontiguousarray(np.column_stack([service_bytes, np.packbits(inside, axis=1)]))
        _, first, which = np.unique(
            keys.view(np.dtype((np.void, keys.shape[1]))).ravel(),
            return_index=True,
            return_inverse=True,
        )
        decided = [self.route(int(service_index[i]), inside[i]) for i in first.tolist()]
        return [decided[i] for i in which.ravel().tolist()]
