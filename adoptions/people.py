"""What the adoption pages may say about a volunteer: a public display name, never an email
address. The accounts app owns profiles; this is the one place that asks it."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models import Q

FORMER_VOLUNTEER = "A former volunteer"


def display_name(user: Any) -> str:
    """The volunteer's chosen public name (never their email)."""
    if user is None:
        return FORMER_VOLUNTEER
    if apps.is_installed("accounts"):
        from accounts.profiles import display_name_for

        return str(display_name_for(user))
    return user.first_name.strip() or f"Volunteer {user.pk}"


def leaderboard_filter(prefix: str = "volunteer") -> Q:
    """Only volunteers who agreed to appear on the public leaderboard."""
    if apps.is_installed("accounts"):
        return Q(**{f"{prefix}__profile__show_on_leaderboard": True})
    return Q(**{f"{prefix}__isnull": False})
