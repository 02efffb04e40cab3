"""A person's public face: the name shown on leaderboards and care logs, never the email."""

from __future__ import annotations

from django.conf import settings
from django.db import models

DISPLAY_NAME_MAX = 60


class Profile(models.Model):
    """What a citizen or volunteer chose to show publicly. Staff made with createsuperuser
    have none until they save one on "My account"; `accounts.profiles.display_name_for`
    answers a neutral name for them."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, related_name="profile", on_delete=models.CASCADE
    )
    display_name = models.CharField(
        max_length=DISPLAY_NAME_MAX,
        help_text="Shown publicly, for example on the volunteers' leaderboard.",
    )
    show_on_leaderboard = models.BooleanField(
        default=True, help_text="Unticked: the person's name is left off public rankings."
    )

    def __str__(self) -> str:
        return self.display_name
