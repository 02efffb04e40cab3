"""The "My reports" section of My account: the reports a signed-in person filed and follows.

Matched by email, since a report is filed without an account: only the person's *verified*
addresses count, so typing someone else's address into an account shows nothing. At most
`SHOWN` of each, newest first, in three queries whatever the numbers."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from accounts.profiles import verified_emails
from reports import rules
from reports.models import ServiceRequest, Subscription
from reports.tokens import preview_url

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
    now = timezone.now()
    for report in filed:
        # Its public page says "not public yet": the reporter's own page is the preview,
        # where they may still change it (the same link their acknowledgement carries).
        if rules.in_preview(report, now=now) and not report.hidden:
            report.preview_link = preview_url(report)  # type: ignore[attr-defined]
    return {
        "has_verified_email": True,
        "now": now,
        "filed": filed[:SHOWN],
        "filed_more": len(filed) > SHOWN,
        "followed": [_followed(subscription) for subscription in followed[:SHOWN]],
        "followed_more": len(followed) > SHOWN,
        "shown": SHOWN,
    }


def _followed(subscription: Subscription) -> ServiceRequest:
    """The report a subscription follows, marked when the follow is not confirmed: no
    update is sent until the emailed link is clicked, and the follow may even have been
    typed in by someone else (the form takes any address)."""
    report = subscription.request
    report.follow_unconfirmed = subscription.confirmed_at is None  # type: ignore[attr-defined]
    return report
