from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet


def assignable_users(department_id: int | None) -> QuerySet[Any]:
    """Active staff members of the department, by username: whom a report can be given to."""
    users = get_user_model().objects.filter(is_active=True, is_staff=True)
    if department_id is None:
        return users.none()
    return users.filter(memberships__department_id=department_id).order_by("username")
