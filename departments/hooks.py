"""What departments plugs into the apps it builds on (registered in DepartmentsConfig.ready)."""

from __future__ import annotations

from django.contrib.auth.models import User

from departments.models import StaffMembership


def is_department_staff(user: User) -> bool:
    """A member of any department, even one whose staff flag was taken away: their
    memberships and the admin's record of their work must outlive a click on the citizens'
    "Delete account"."""
    return StaffMembership.objects.filter(user=user).exists()


def connect_accounts() -> None:
    from accounts.services import register_staff_check

    register_staff_check(key="departments", check=is_department_staff)
