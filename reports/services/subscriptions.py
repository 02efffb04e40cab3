"""Following a report by email."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from reports.models import ServiceRequest, Subscription


def subscription_create(*, report: ServiceRequest, email: str) -> Subscription:
    """Follow a report by email. Idempotent: following twice (or again after unsubscribing)
    leaves one active subscription, so the caller can answer the same either way and never
    reveal whether an address already followed the report."""
    if report.hidden:
        raise ValidationError({"request": ["This report is not public."]})
    email = email.strip().lower()
    # Validate the address before touching the table (the service is also called by code
    # that has no form in front of it).
    Subscription(request=report, email=email).full_clean(
        exclude=["request"], validate_unique=False, validate_constraints=False
    )
    with transaction.atomic():
        # get_or_create copes with two clicks racing on the unique (request, email) pair.
        subscription, created = Subscription.objects.get_or_create(request=report, email=email)
        if not created and not subscription.active:
            subscription.active = True
            subscription.save(update_fields=["active"])
    return subscription


def subscription_cancel(*, subscription: Subscription) -> Subscription:
    """Stop the emails of one subscription. Idempotent."""
    if subscription.active:
        subscription.active = False
        subscription.save(update_fields=["active"])
    return subscription


def subscriptions_move(*, report: ServiceRequest, master: ServiceRequest) -> list[int]:
    """Move a duplicate's active subscriptions to its master; return the ids to tell about it.

    Called by report_close_as_duplicate inside its transaction.

    Someone already following the master keeps that subscription (an unsubscribe from the
    master is respected) and their subscription to the duplicate is switched off."""
    on_master = set(Subscription.objects.filter(request=master).values_list("email", flat=True))
    ids: list[int] = []
    for subscription in Subscription.objects.filter(request=report, active=True):
        if subscription.email in on_master:
            subscription.active = False
            subscription.save(update_fields=["active"])
        else:
            subscription.request = master
            subscription.save(update_fields=["request"])
            ids.append(subscription.pk)
    return ids
