"""The "My reports" section of My account: the reports a signed-in person filed and follows.

Matched by email, since a report is filed without an account: only the person's *verified*
addresses count, so typing someone else's address into an account shows nothing. At most
`SHOWN` of each, newest first, in three queries whatever the numbers."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from accounts.profiles import verified_emails
from reports.models import ServiceRequest, Subscription

SHOWN = 50


def my_reports_context(request: HttpRequest) -> dict[str, Any]:
    emails = verified_emails(request.user)
    if not emails:
        return {"has_verified_email": False, "filed": [], "followed": []}
    filed = list(
        ServiceRequest.objects.reported_by(emails)
        .select_related("service")
        .order_by("-requested_datetime", "-pk")[: SHOWN + 1]
    )
    followed = list(
        Subscription.objects.filter(email__in=emails, active=True)
        .select_related("request__service")
        .order_by("-request__requested_datetime", "-request__pk")[: SHOWN + 1]
    )
    return {
        "has_verified_email": True,
        "now": timezone.now(),
        "filed": filed[:SHOWN],
        "filed_more": len(filed) > SHOWN,
        "followed": [subscription.request for subscription in followed[:SHOWN]],
        "followed_more": len(followed) > SHOWN,
        "shown": SHOWN,
    }
