"""Which department gets a report, and which area it lies in.

Takes plain values (a service id, its group, a point) so that `departments` never imports
`reports`. The rules and areas are the process's copy of them (departments/catalogue.py):
routing a report reads the catalogue's version and makes a few point-in-polygon tests, with
shapely, on shapes parsed once per version.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import shapely
from django.db.models import Q
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from civic311.geo import parse_area
from departments import catalogue
from departments.areasets import set_key
from departments.models import AreaSet, Boundary, Department, RoutingRule


@dataclass(frozen=True)
class RoutingDecision:
    department_id: int | None
    rule_id: int | None
    area_id: int | None
    # The rows themselves when routing read them anyway (the winning rule's department,
    # the smallest area), so that a caller need not read them again. Not part of the
    # decision's identity.
    department: Department | None = field(default=None, compare=False, repr=False)
    area: Boundary | None = field(default=None, compare=False, repr=False)
    # Every area the point lies in, smallest first (area_id is the first): the report's
    # set of areas (departments/areasets.py).
    area_ids: tuple[int, ...] = field(default=(), compare=False, repr=False)
    # Their set's id, when the set exists already (departments/areasets.py makes new ones).
    area_set_id: int | None = field(default=None, compare=False, repr=False)


class RoutingRows(NamedTuple):
    """The catalogue's part that routing reads: the rules that take part (active, to an
    active department; in their default order, with their department), every area, and
    each area's shape, parsed and prepared with the rows (so it is as current as they are,
    whatever changed them, and prepared before any thread tests a point against it)."""

    rules: list[RoutingRule]
    areas: list[Boundary]
    shapes: dict[int, BaseGeometry]
    # Every set of areas (key → id), so that filing a report needs no query for its set.
    area_sets: dict[str, int]


def _routing_rows() -> RoutingRows:
    rules = RoutingRule.objects.filter(active_rules()).select_related("department")
    areas = list(Boundary.objects.order_by("pk"))
    shapes = {}
    for area in areas:
        shape = parse_area(area.geometry)
        shapely.prepare(shape)
        shape.covers(Point(area.min_long, area.min_lat))  # GEOS prepares lazily: now
        shapes[area.pk] = shape
    area_sets = dict(AreaSet.objects.values_list("key", "pk"))
    return RoutingRows(list(rules), areas, shapes, area_sets)


def boundaries_containing(lat: float, long: float) -> list[Boundary]:
    """Every boundary that covers the point (its edge included), smallest area first.

    A point on an edge shared by two areas lies in both; the smaller (then the older) wins
    wherever one area must be chosen, so the answer never depends on row order."""
    return _containing(catalogue.current("routing"), lat, long)


def _containing(rows: RoutingRows, lat: float, long: float) -> list[Boundary]:
    point, shapes = Point(long, lat), rows.shapes
    found = [
        copy.copy(b)
        for b in rows.areas
        if b.min_lat <= lat <= b.max_lat and b.min_long <= long <= b.max_long
        and shapes[b.pk].covers(point)
    ]  # fmt: skip
    found.sort(key=lambda b: (shapes[b.pk].area, b.pk))
    return found


def route(
    *,
    service_id: int,
    group: str,
    default_department_id: int | None,
    lat: float | None,
    long: float | None,
) -> RoutingDecision:
    """The most specific active rule that matches wins; else the service's default department.

    Specificity: a rule naming the service beats one naming its group; a rule with an area
    beats one without, and a smaller area beats a larger one; then the lower priority number.
    """
    rows: RoutingRows = catalogue.current("routing")
    areas = _containing(rows, lat, long) if lat is not None and long is not None else []
    decision = choose(
        _matching(rows.rules, service_id, group),
        area_ids=[b.pk for b in areas],
        default_department_id=default_department_id,
    )
    if not areas:
        return decision
    area_set_id = rows.area_sets.get(set_key(b.pk for b in areas))
    return replace(decision, area=areas[0], area_set_id=area_set_id)


def active_rules() -> Q:
    """The rules that take part in routing: active, to an active department."""
    return Q(active=True, department__active=True)


def rules_for(service_id: int, group: str) -> list[RoutingRule]:
    """The active rules that may route a report of this service (by its id or its group).
    They are the process's copy: read them, don't change them."""
    return _matching(catalogue.current("routing").rules, service_id, group)


def _matching(rules: list[RoutingRule], service_id: int, group: str) -> list[RoutingRule]:
    return [
        rule
        for rule in rules
        if rule.service_id == service_id
        or (group and rule.service_id is None and rule.group == group)
    ]


def choose(
    rules: list[RoutingRule], *, area_ids: list[int], default_department_id: int | None
) -> RoutingDecision:
    """route()'s choice among `rules` (in their default order) for a point inside
    `area_ids` (smallest area first, as boundaries_containing orders them). No queries."""
    area_rank = {pk: rank for rank, pk in enumerate(area_ids)}
    best: tuple[tuple[int, int, int, int], RoutingRule] | None = None
    for rule in rules:
        if rule.boundary_id is not None and rule.boundary_id not in area_rank:
            continue
        key = (
            0 if rule.service_id else 1,
            0 if rule.boundary_id else 1,
            area_rank.get(rule.boundary_id, 0) if rule.boundary_id else 0,
            rule.priority,
        )
        if best is None or key < best[0]:
            best = (key, rule)
    area_id = area_ids[0] if area_ids else None
    if best is not None:
        rule = best[1]
        department = copy.copy(rule.department) if RoutingRule.department.is_cached(rule) else None
        return RoutingDecision(
            rule.department_id, rule.pk, area_id, department=department, area_ids=tuple(area_ids)
        )
    return RoutingDecision(default_department_id, None, area_id, area_ids=tuple(area_ids))


catalogue.register("routing", _routing_rows)
