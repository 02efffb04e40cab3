""" "This is my problem too": a citizen joins an open report instead of filing a duplicate.
They follow it (emails on its updates) and, once their address confirms by the emailed link,
its public count of supporters goes up, once per person. Counting only confirmed addresses
keeps the count from being pushed up with made-up ones, and keeps the page from telling
anything about an address typed into the form: whether it is the reporter's, or already
supported or followed the report, since nothing shows until its owner clicks."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from reports.models import ServiceRequest, Supporter
from reports.notifications import notify_support_confirm
from reports.services.subscriptions import subscription_create


def report_support(*, report: ServiceRequest, email: str) -> int:
    """Follow the report with `email` and ask the address to confirm, which counts its
    voice (see `subscriptions.subscription_confirm`); answer the count, which this call
    does not change. The same for any address."""
    if report.hidden:
        raise ValidationError({"request": ["This report is not public."]})
    if not report.is_open:
        raise ValidationError(
            {"request": ["This report is closed. If the problem is back, make a new report."]}
        )
    with transaction.atomic():
        # First, so that the follow's confirmation email speaks of the voice too.
        supporter, _ = Supporter.objects.get_or_create(
            request=report, email_digest=Supporter.digest(email)
        )
        # Asks an address that has not confirmed its follow yet to confirm it.
        subscription = subscription_create(report=report, email=email)
        if supporter.counted_at is None and subscription.confirmed_at is not None:
            # It follows already: its own link, to add its voice.
            notify_support_confirm(subscription=subscription)
        report.refresh_from_db(fields=["supporters"])
    return report.supporters
