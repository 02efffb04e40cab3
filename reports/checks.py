"""System checks of the settings the reports' emails depend on."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def site_url_is_https(**kwargs: Any) -> list[CheckMessage]:
    """Links in emails start with SITE_URL; one-click unsubscribe (RFC 8058) requires an
    https address, and mail providers ignore the header otherwise."""
    if settings.SITE_URL.startswith("https://"):
        return []
    return [
        Warning(
            f"SITE_URL is {settings.SITE_URL!r}: links in emails should use https, and "
            "one-click unsubscribe (List-Unsubscribe-Post) requires it.",
            hint="Set SITE_URL to the portal's public https address.",
            id="civic311.W001",
        )
    ]
