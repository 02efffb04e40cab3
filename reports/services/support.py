""" "This is my problem too": a citizen joins an open report instead of filing a duplicate.
They follow it (emails on its updates) and its public count of supporters goes up, once per
person."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from reports.models import ServiceRequest, Supporter
from reports.services.subscriptions import subscription_create


def supporter_digest(email: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, email.strip().lower().encode(), hashlib.sha256).hexdigest()


def report_support(*, report: ServiceRequest, email: str) -> int:
    """Add `email` as a follower and, the first time, as a supporter; answer the count.

    The reporter is already counted by the report itself. Idempotent, so the answer does
    not reveal whether the address had supported the report before."""
    if report.hidden:
        raise ValidationError({"request": ["This report is not public."]})
    if not report.is_open:
        raise ValidationError(
            {"request": ["This report is closed. If the problem is back, make a new report."]}
        )
    with transaction.atomic():
        subscription = subscription_create(report=report, email=email)
        if subscription.email != report.reporter_email.lower():
            _, created = Supporter.objects.get_or_create(
                request=report, email_digest=supporter_digest(subscription.email)
            )
            if created:
                ServiceRequest.objects.filter(pk=report.pk).update(supporters=F("supporters") + 1)
        report.refresh_from_db(fields=["supporters"])
    return report.supporters
