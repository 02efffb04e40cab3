"""Reading a person's public name, for the apps that show one."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from django.core.exceptions import ObjectDoesNotExist

from civic311.input import bidi_controls_in, has_visible

FALLBACK_NAME = "A volunteer"


def display_name_for(user: Any) -> str:
    """The name a person chose to show publicly, or a neutral stand-in (never the email or
    username, which are private). Reads `user.profile`: select_related("profile") first when
    naming many people."""
    if user is None or not getattr(user, "is_authenticated", False):
        return FALLBACK_NAME
    try:
        name = user.profile.display_name
    except ObjectDoesNotExist:
        return FALLBACK_NAME
    # A name saved before invisible and direction-control characters were refused.
    if not has_visible(name) or bidi_controls_in(name):
        return FALLBACK_NAME
    return name.strip()


def verified_emails(user: Any) -> list[str]:
    """The addresses a person has proved are theirs (lower case, one query). Anything found
    by email for "My account" (reports filed, reports followed) goes by these only: an
    address someone merely typed in shows nothing."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    return sorted(
        {
            email.lower()
            for email in EmailAddress.objects.filter(user=user, verified=True).values_list(
                "email", flat=True
            )
        }
    )
