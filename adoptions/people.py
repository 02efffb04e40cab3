"""What the adoption pages may say about a volunteer: the public display name of their
profile (accounts), never their email address or username."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from accounts.profiles import display_name_for

FORMER_VOLUNTEER = "A former volunteer"


def display_name(user: Any) -> str:
    """The volunteer's chosen public name; a neutral one once the account is gone."""
    if user is None:
        return FORMER_VOLUNTEER
    return display_name_for(user)


def leaderboard_filter(prefix: str = "volunteer") -> Q:
    """Only volunteers who agreed to appear on public rankings."""
    return Q(**{f"{prefix}__profile__show_on_leaderboard": True})
