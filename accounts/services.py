"""Every write of the accounts app: profiles and leaving."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import DISPLAY_NAME_MAX, Profile
from accounts.signals import account_deleting


def clean_display_name(value: str) -> str:
    """A display name is public, so it must not be an email address; spaces are squeezed."""
    name = " ".join(str(value).split())
    if not name:
        raise ValidationError("Enter a display name.", code="required")
    if len(name) > DISPLAY_NAME_MAX:
        raise ValidationError(
            f"Keep your display name to {DISPLAY_NAME_MAX} characters.", code="max_length"
        )
    if "@" in name:
        raise ValidationError(
            "Your display name is public: please don't use your email address.", code="email"
        )
    return name


def profile_create(*, user: User, display_name: str) -> Profile:
    """A new account's profile (sign-up), with the name the person chose."""
    profile = Profile(user=user, display_name=clean_display_name(display_name))
    profile.full_clean()
    profile.save()
    return profile


def profile_save(*, user: User, display_name: str, show_on_leaderboard: bool) -> Profile:
    """Change a profile, or make one for an account that has none (staff created on the
    command line)."""
    name = clean_display_name(display_name)
    with transaction.atomic():
        profile = Profile.objects.select_for_update().filter(user=user).first()
        if profile is None:
            profile = Profile(user=user)
        profile.display_name = name
        profile.show_on_leaderboard = show_on_leaderboard
        profile.full_clean()
        profile.save()
    return profile


def account_delete(*, user: User) -> None:
    """Delete an account and what hangs on it. Apps above clean up their own rows in
    `account_deleting` receivers, in this same transaction, before the user row goes (its
    profile and email addresses go with it by cascade)."""
    with transaction.atomic():
        account_deleting.send(sender=type(user), user=user)
        user.delete()
