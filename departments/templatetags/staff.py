"""Who is signed in to the staff admin, shown in its header: name, role and department."""

from __future__ import annotations

from django import template

from departments.models import Department, StaffMembership
from departments.permissions import User, department_roles, is_superuser

register = template.Library()


@register.simple_tag
def staff_role(user: User) -> str:
    """ "Agent, Health Department", "Manager, Water", "Superuser" or "Staff"."""
    if is_superuser(user):
        return "Superuser"
    roles = department_roles(user)  # cached on the user for this request
    labels = dict(StaffMembership.Role.choices)
    names = Department.objects.filter(pk__in=roles).order_by("name").values_list("pk", "name")
    return "; ".join(f"{labels[roles[pk]]}, {name}" for pk, name in names) or "Staff"
