from __future__ import annotations

import pytest

from departments.models import Boundary
from departments.routing import boundaries_containing, route
from tests.factories import (
    BoundaryFactory,
    DepartmentFactory,
    RoutingRuleFactory,
    ServiceFactory,
    square,
)

pytestmark = pytest.mark.django_db

# Two neighbourhoods sharing the edge at longitude -78.64.
WEST = square(35.77, -78.66, 35.79, -78.64)
EAST = square(35.77, -78.64, 35.79, -78.62)


def decide(service, lat: float | None, long: float | None):
    return route(
        service_id=service.pk,
        group=service.group,
        default_department_id=service.department_id,
        lat=lat,
        long=long,
    )


def test_route_point_inside_area_uses_area_rule():
    service = ServiceFactory()
    area = BoundaryFactory(geometry=WEST)
    rule = RoutingRuleFactory(service=service, boundary=area)
    decision = decide(service, 35.78, -78.65)
    assert (decision.department_id, decision.rule_id, decision.area_id) == (
        rule.department_id,
        rule.pk,
        area.pk,
    )


def test_route_point_outside_every_area_falls_back_to_default_department():
    service = ServiceFactory()
    RoutingRuleFactory(service=service, boundary=BoundaryFactory(geometry=WEST))
    decision = decide(service, 35.75, -78.70)
    assert decision == decision.__class__(service.department_id, None, None)


def test_route_without_rules_uses_default_department():
    service = ServiceFactory()
    assert decide(service, 35.78, -78.65).department_id == service.department_id


def test_route_without_location_ignores_area_rules():
    service = ServiceFactory()
    RoutingRuleFactory(service=service, boundary=BoundaryFactory(geometry=WEST))
    plain = RoutingRuleFactory(service=service)
    decision = decide(service, None, None)
    assert (decision.rule_id, decision.area_id) == (plain.pk, None)


def test_point_on_shared_edge_lies_in_both_and_routing_is_stable():
    service = ServiceFactory()
    west = BoundaryFactory(name="West", geometry=WEST)
    east = BoundaryFactory(name="East", geometry=EAST)
    west_rule = RoutingRuleFactory(service=service, boundary=west)
    RoutingRuleFactory(service=service, boundary=east)
    found = boundaries_containing(35.78, -78.64)
    assert {b.pk for b in found} == {west.pk, east.pk}
    # Same area size: the older boundary wins, whatever the row order.
    first = decide(service, 35.78, -78.64)
    assert first.rule_id == west_rule.pk and first == decide(service, 35.78, -78.64)


def test_point_in_hole_is_not_in_the_polygon():
    service = ServiceFactory()
    donut = {
        "type": "Polygon",
        "coordinates": [
            [[-78.66, 35.77], [-78.62, 35.77], [-78.62, 35.79], [-78.66, 35.79], [-78.66, 35.77]],
            [
                [-78.65, 35.775],
                [-78.63, 35.775],
                [-78.63, 35.785],
                [-78.65, 35.785],
                [-78.65, 35.775],
            ],
        ],
    }
    area = BoundaryFactory(geometry=donut)
    RoutingRuleFactory(service=service, boundary=area)
    assert decide(service, 35.78, -78.64).department_id == service.department_id
    assert decide(service, 35.772, -78.64).area_id == area.pk


def test_multipolygon_matches_each_part_and_not_the_gap():
    service = ServiceFactory()
    parts = {
        "type": "MultiPolygon",
        "coordinates": [WEST["coordinates"], square(35.80, -78.60, 35.82, -78.58)["coordinates"]],
    }
    area = BoundaryFactory(geometry=parts)
    rule = RoutingRuleFactory(service=service, boundary=area)
    assert decide(service, 35.78, -78.65).rule_id == rule.pk
    assert decide(service, 35.81, -78.59).rule_id == rule.pk
    assert decide(service, 35.795, -78.61).rule_id is None


def test_group_rule_applies_to_every_service_of_the_group():
    service = ServiceFactory(group="Health")
    health = DepartmentFactory(name="Health")
    RoutingRuleFactory(service=None, group="Health", department=health)
    assert decide(service, 35.78, -78.65).department_id == health.pk
    other = ServiceFactory(group="Streets")
    assert decide(other, 35.78, -78.65).department_id == other.department_id


def test_service_rule_beats_group_rule_and_area_beats_none():
    service = ServiceFactory(group="Health")
    RoutingRuleFactory(service=None, group="Health")
    plain = RoutingRuleFactory(service=service)
    assert decide(service, 35.78, -78.65).rule_id == plain.pk
    area_rule = RoutingRuleFactory(service=service, boundary=BoundaryFactory(geometry=WEST))
    assert decide(service, 35.78, -78.65).rule_id == area_rule.pk


def test_smaller_area_beats_larger_then_priority_decides():
    service = ServiceFactory()
    district = BoundaryFactory(
        name="District", kind="district", geometry=square(35.70, -78.70, 35.85, -78.55)
    )
    hood = BoundaryFactory(name="Hood", geometry=WEST)
    RoutingRuleFactory(service=service, boundary=district, priority=1)
    hood_rule = RoutingRuleFactory(service=service, boundary=hood, priority=50)
    assert decide(service, 35.78, -78.65).rule_id == hood_rule.pk
    urgent = RoutingRuleFactory(service=service, boundary=hood, priority=10)
    assert decide(service, 35.78, -78.65).rule_id == urgent.pk


def test_inactive_rules_and_departments_are_ignored():
    service = ServiceFactory()
    RoutingRuleFactory(service=service, active=False)
    RoutingRuleFactory(service=service, department=DepartmentFactory(active=False))
    assert decide(service, 35.78, -78.65).department_id == service.department_id


def test_an_area_saved_without_clean_is_found_by_routing():
    """A data migration or the shell may save an area without clean(): its box, which
    routing narrows areas by, follows its shape all the same."""
    service = ServiceFactory()
    area = Boundary.objects.create(name="Saved plainly", kind="district", geometry=WEST)
    assert (area.min_lat, area.min_long, area.max_lat, area.max_long) == (
        35.77, -78.66, 35.79, -78.64,
    )  # fmt: skip
    assert decide(service, 35.78, -78.65).area_id == area.pk
