from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from departments import addresses
from departments.models import Boundary
from departments.routing import boundaries_containing


def assignable_users(department_id: int | None) -> QuerySet[Any]:
    """Active staff members of the department, by username: whom a report can be given to."""
    users = get_user_model().objects.filter(is_active=True, is_staff=True)
    if department_id is None:
        return users.none()
    return users.filter(memberships__department_id=department_id).order_by("username")


def neighbourhoods() -> QuerySet[Boundary]:
    """The city's neighbourhoods, by name: the areas citizens browse reports by."""
    return Boundary.objects.filter(kind=Boundary.Kind.NEIGHBOURHOOD).order_by("name", "pk")


def area_slug(area: Boundary) -> str:
    """The address of a neighbourhood's page, `/areas/<this>/`: its name slugified, or
    `area-<id>` (departments/addresses.py). Every link to the page is built with this."""
    return addresses.address(name=area.name, pk=area.pk)


def neighbourhood_by_slug(slug: str) -> Boundary | None:
    """The neighbourhood at `/areas/<slug>/`; failing that, the one that had `slug` as its
    address before (a bare id, a name of digits) or whose id the id form names (an area
    renamed since): for those, area_slug(area) differs from `slug` and the page redirects.
    There are few neighbourhoods, so they are read whole, oldest first."""
    areas = list(neighbourhoods().order_by("pk"))
    for area in areas:
        if area_slug(area) == slug:
            return area
    for area in areas:
        if addresses.former_address(name=area.name, pk=area.pk) == slug:
            return area
    pk = addresses.id_in_address(slug)
    return next((area for area in areas if area.pk == pk), None)


def neighbourhood_at(lat: float | None, long: float | None) -> dict[str, str] | None:
    """The name and slug of the neighbourhood the point lies in (the smallest, where two
    overlap), or None: one bounding-box query."""
    if lat is None or long is None:
        return None
    for area in boundaries_containing(lat, long):
        if area.kind == Boundary.Kind.NEIGHBOURHOOD:
            return {"name": area.name, "slug": area_slug(area)}
    return None
