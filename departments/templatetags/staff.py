"""Who is signed in to the staff admin, shown in its header: name, role and department."""

from __future__ import annotations

from django import template
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from departments.models import StaffMembership
from departments.permissions import is_superuser

register = template.Library()


@register.simple_tag
def staff_role(user: AbstractBaseUser | AnonymousUser) -> str:
    """ "Agent, Health Department", "Manager, Water", "Superuser" or "Staff"."""
    if is_superuser(user):
        return "Superuser"
    memberships = StaffMembership.objects.filter(user_id=user.pk, department__active=True)
    roles = [
        f"{m.get_role_display()}, {m.department.name}"
        for m in memberships.select_related("department").order_by("department__name")
    ]
    return "; ".join(roles) or "Staff"
