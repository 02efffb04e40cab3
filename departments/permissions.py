"""Who may do what in the staff admin.

Staff see every department's reports (read-only) and change only their own department's;
managers also edit their department's categories (SLA) and response templates; superusers
do everything. The membership lookup is cached on the user object for the length of one
HTTP request, because the admin asks these questions once per row."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as AuthUser

from departments.models import StaffMembership

STAFF_GROUP_NAME = "Department staff"
_CACHE_ATTR = "_civic311_roles"

User = AuthUser | AnonymousUser


def department_roles(user: User) -> dict[int, str]:
    """{department id: role} for an active staff user; empty for everyone else."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return {}
    roles = getattr(user, _CACHE_ATTR, None)
    if roles is None:
        roles = dict(
            StaffMembership.objects.filter(user=user, department__active=True).values_list(
                "department_id", "role"
            )
        )
        setattr(user, _CACHE_ATTR, roles)
    return roles


def department_ids(user: User) -> set[int]:
    return set(department_roles(user))


def managed_department_ids(user: User) -> set[int]:
    return {
        dept
        for dept, role in department_roles(user).items()
        if role == StaffMembership.Role.MANAGER
    }


def is_superuser(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_superuser)


def can_edit_department_work(user: User, department_id: int | None) -> bool:
    """May the user triage reports routed to this department?"""
    if is_superuser(user):
        return True
    return department_id is not None and department_id in department_ids(user)


def can_manage_department(user: User, department_id: int | None) -> bool:
    """May the user edit this department's categories' SLA and response templates?"""
    if is_superuser(user):
        return True
    return department_id is not None and department_id in managed_department_ids(user)
