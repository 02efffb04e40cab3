"""Following a report by email: follow, confirm by the emailed link, stop."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from reports.models import ServiceRequest, Subscription, Supporter
from reports.notifications import notify_subscription_confirm


def subscription_create(
    *, report: ServiceRequest, email: str, now: datetime | None = None
) -> Subscription:
    """Ask to follow a report by email: the address gets a link to confirm (recorded in the
    outbox), and updates only once it is clicked.

    Idempotent: following twice leaves one subscription, so the caller can answer the same
    either way and never reveal whether an address already followed the report. An address
    that had unsubscribed must confirm again; one already confirmed gets no email; one still
    unconfirmed gets its link again, at most once a day."""
    if report.hidden:
        raise ValidationError({"request": ["This report is not public."]})
    email = email.strip().lower()
    # Validate the address before touching the table (the service is also called by code
    # that has no form in front of it).
    Subscription(request=report, email=email).full_clean(
        exclude=["request"], validate_unique=False, validate_constraints=False
    )
    now = now or timezone.now()
    with transaction.atomic():
        # get_or_create copes with two clicks racing on the unique (request, email) pair.
        subscription, created = Subscription.objects.select_for_update().get_or_create(
            request=report, email=email
        )
        if not subscription.active:
            subscription.active = True
            subscription.confirmed_at = None
            subscription.save(update_fields=["active", "confirmed_at"])
        if subscription.confirmed_at is None:
            notify_subscription_confirm(subscription=subscription, now=now)
    return subscription


def subscription_confirm(*, subscription: Subscription) -> Subscription:
    """The follower clicked the link in the confirmation email: updates start. Idempotent.
    Refused once they have unsubscribed (an old link must not undo that)."""
    with transaction.atomic():
        subscription.refresh_from_db(from_queryset=Subscription.objects.select_for_update())
        if not subscription.active:
            raise ValidationError(
                "You unsubscribed from this report; follow it again from its page."
            )
        now = timezone.now()
        if subscription.confirmed_at is None:
            subscription.confirmed_at = now
            subscription.save(update_fields=["confirmed_at"])
        _support_count(subscription, now)
    return subscription


def support_pending(subscription: Subscription) -> bool:
    """Whether the address said "this is my problem too" and has yet to confirm it."""
    return _pending(subscription).exists()


def _pending(subscription: Subscription) -> QuerySet[Supporter]:
    return Supporter.objects.filter(
        request_id=subscription.request_id,
        email_digest=Supporter.digest(subscription.email),
        counted_at__isnull=True,
    )


def _support_count(subscription: Subscription, now: datetime) -> None:
    """The address confirmed: its "this is my problem too", if any, counts, once. The
    reporter's own does not: the report itself counts them."""
    if not _pending(subscription).update(counted_at=now):
        return
    report = subscription.request
    if subscription.email != report.reporter_email.strip().lower():
        ServiceRequest.objects.filter(pk=report.pk).update(supporters=F("supporters") + 1)


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
