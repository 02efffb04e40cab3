"""The emails of reports: what each one says and to whom. Every function records its
messages in the outbox (`reports.outbox.outbox_add`) and must run inside the transaction of
the change that causes them, so a message exists if and only if the change does; the worker
sends it after the commit, retries it, and never sends it twice.

Privacy: a follower's email names only the report and its public text; the reporter's
contact data and other followers' addresses never appear (one message per recipient)."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from departments.models import Department, StaffMembership
from reports import rules
from reports.links import confirm_max_age, subscription_link
from reports.models import (
    Comment,
    OutboxMessage,
    RequestUpdate,
    ServiceRequest,
    Subscription,
    Supporter,
)
from reports.outbox import outbox_add, outbox_render
from reports.querysets import SubscriptionQuerySet
from reports.tokens import fixed_token, preview_url

DIGEST_LIST_LIMIT = 25
FOLLOWER_UPDATE, FOLLOWER_UPDATE_KIND = "reports/emails/update", "follower_update"
# notify_followers' dedupe key, which follower_update_rewrite reads the message's rows from.
FOLLOWER_UPDATE_KEY = re.compile(r"update:([0-9]{1,18}):subscription:([0-9]{1,18})")

logger = logging.getLogger(__name__)


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def admin_url(report: ServiceRequest) -> str:
    return absolute(reverse("admin:reports_servicerequest_change", args=[report.pk]))


def public_url(report: ServiceRequest) -> str:
    return absolute(report.get_absolute_url())


def notify_new_report(*, report: ServiceRequest) -> int:
    """Tell the routed department's contact address about a new report."""
    department = report.department
    if department is None or not department.email:
        return 0
    message = outbox_add(
        to=department.email,
        subject=f"New report #{report.pk}: {report.service.name}",
        template="reports/emails/new_request",
        context={"report": report, "admin_url": admin_url(report)},
        kind="report_new",
        dedupe_key=f"report:{report.pk}:new",
    )
    return int(message is not None)


def notify_forwarded(*, update: RequestUpdate, note: str = "") -> int:
    """Tell the department a report was forwarded to, with the forwarder's internal note
    (given here, never read back from the timeline, so no other note can slip in)."""
    department = update.department_to
    if department is None or not department.email:
        return 0
    report = update.request
    message = outbox_add(
        to=department.email,
        subject=f"Report #{report.pk} forwarded to {department}",
        template="reports/emails/forwarded",
        context={"report": report, "update": update, "note": note, "admin_url": admin_url(report)},
        kind="report_forwarded",
        dedupe_key=f"update:{update.pk}:forwarded",
    )
    return int(message is not None)


def notify_followers(
    *, update: RequestUpdate, subscriptions: SubscriptionQuerySet | None = None
) -> int:
    """One public timeline entry, to each confirmed, active follower of its report (or of
    `subscriptions`, e.g. the followers a duplicate just moved to its master), one message
    each. A hidden report or an internal entry sends nothing."""
    report = update.request
    if not update.public or report.hidden:
        return 0
    if subscriptions is None:
        subscriptions = Subscription.objects.filter(request_id=report.pk)
    added = 0
    for subscription in subscriptions.receiving().select_related("request"):
        subject, context = _follower_update(update, subscription)
        message = outbox_add(
            to=subscription.email,
            subject=subject,
            template=FOLLOWER_UPDATE,
            context=context,
            unsubscribe_url=subscription_link(subscription, "unsubscribe"),
            kind=FOLLOWER_UPDATE_KIND,
            dedupe_key=f"update:{update.pk}:subscription:{subscription.pk}",
            reports=[report.pk],
        )
        added += message is not None
    return added


def _follower_update(
    update: RequestUpdate, subscription: Subscription
) -> tuple[str, dict[str, Any]]:
    """A follower's email about one timeline entry: its subject and template context."""
    report, followed = update.request, subscription.request
    context = {
        "report": report,
        "update": update,
        "followed": followed if followed.pk != report.pk else None,
        "public_url": public_url(report),
    }
    return f"Update on report #{report.pk}: {report.get_state_display()}", context


def follower_update_rewrite(message: OutboxMessage) -> bool:
    """Write a follower's email again when it is sent, as notify_followers would write it
    now: an entry made internal, a report hidden or an entry's text edited after the email
    was queued (a worker outage or a retry can keep it pending for hours) is not mailed as
    it was, and a follower who unsubscribed meanwhile gets nothing. False drops it.

    It works from the dedupe key alone, so a row queued before messages named their
    reports is checked too; one whose key is not notify_followers' can't be checked and is
    dropped (staff see it in the outbox) rather than stopping every sweep at it."""
    match = FOLLOWER_UPDATE_KEY.fullmatch(message.dedupe_key)
    if match is None:
        logger.warning("Outbox message %s: follower update key %r", message.pk, message.dedupe_key)
        return False
    update_id, subscription_id = (int(found) for found in match.groups())
    update = (
        RequestUpdate.objects.filter(pk=update_id, public=True, request__hidden=False)
        .select_related("request__service")
        .first()
    )
    subscription = (
        Subscription.objects.receiving().filter(pk=subscription_id).select_related("request")
    ).first()
    # Addresses are matched in lower case, as everywhere (an admin may tidy one's case).
    if update is None or subscription is None or not _same_address(subscription.email, message.to):
        return False
    subject, context = _follower_update(update, subscription)
    unsubscribe = subscription_link(subscription, "unsubscribe")
    message.subject, message.body, message.html = outbox_render(
        subject=subject, template=FOLLOWER_UPDATE, context=context, unsubscribe_url=unsubscribe
    )
    message.reports = [update.request_id]
    message.save(update_fields=["subject", "body", "html", "reports"])
    return True


def _same_address(one: str, other: str) -> bool:
    return one.strip().lower() == other.strip().lower()


def notify_subscription_confirm(*, subscription: Subscription, now: datetime) -> int:
    """Ask a new follower to confirm their address. At most one a day per subscription, so
    the follow form can't be used to flood someone's inbox."""
    report = subscription.request
    added = _confirm_email(
        subscription,
        now=now,
        subject=f"Confirm: updates on report #{report.pk}",
        kind="follower_confirm",
    )
    if added:
        Subscription.objects.filter(pk=subscription.pk).update(confirm_sent_at=now)
        subscription.confirm_sent_at = now
    return added


def notify_support_confirm(*, subscription: Subscription) -> int:
    """Ask an address that already follows a report to confirm its "this is my problem
    too" (the follow's own link, which counts it). At most one a day per address."""
    return _confirm_email(
        subscription,
        now=timezone.now(),
        subject=f"Confirm: report #{subscription.request_id} is your problem too",
        kind="supporter_confirm",
    )


def _confirm_email(subscription: Subscription, *, now: datetime, subject: str, kind: str) -> int:
    """The email with the follow's confirmation link, once a day per kind and subscription
    at most; 1 if it was added."""
    report = subscription.request
    day = timezone.localdate(now).isoformat()
    message = outbox_add(
        to=subscription.email,
        subject=subject,
        template="reports/emails/follow_confirm",
        context={
            "report": report,
            "confirm_url": subscription_link(subscription, "confirm"),
            "public_url": public_url(report),
            "days": confirm_max_age().days,
            "reporter": subscription.email == report.reporter_email,
            # It said "this is my problem too" (report_support adds it first).
            "support": Supporter.objects.filter(
                request=report, email_digest=Supporter.digest(subscription.email)
            ).exists(),
            "following": subscription.confirmed_at is not None,
        },
        kind=kind,
        dedupe_key=f"subscription:{subscription.pk}:{kind}:{day}",
    )
    return 0 if message is None else 1


@dataclass
class Digest:
    department: Department
    new: QuerySet[ServiceRequest]
    overdue: QuerySet[ServiceRequest]
    closed: QuerySet[ServiceRequest]
    new_count: int
    overdue_count: int
    closed_count: int

    @property
    def empty(self) -> bool:
        return not (self.new_count or self.overdue_count or self.closed_count)


def digest_build(*, department: Department, now: datetime) -> Digest:
    """What happened since the same time of day yesterday, on the city's clock: the day the
    clocks change is 23 or 25 hours long, and the digest still misses or repeats no hour."""
    since = timezone.localtime(now) - timedelta(days=1)  # wall-clock arithmetic in the zone
    mine = ServiceRequest.objects.filter(department=department).select_related("service")
    new = mine.filter(requested_datetime__gte=since, requested_datetime__lt=now)
    overdue = mine.open().filter(expected_datetime__lt=now).order_by("expected_datetime")
    closed = mine.closed().filter(closed_datetime__gte=since, closed_datetime__lt=now)
    return Digest(
        department=department,
        new=new[:DIGEST_LIST_LIMIT],
        overdue=overdue[:DIGEST_LIST_LIMIT],
        closed=closed[:DIGEST_LIST_LIMIT],
        new_count=new.count(),
        overdue_count=overdue.count(),
        closed_count=closed.count(),
    )


def _address_key(email: str) -> str:
    # Dedupe keys name a recipient without spelling out their address.
    return hashlib.sha256(email.lower().encode()).hexdigest()[:16]


def notify_department_digest(*, department: Department, now: datetime | None = None) -> int:
    """The daily summary for a department's managers: new, overdue and closed reports. One
    per manager and day, however often this runs. Returns how many were recorded."""
    now = now or timezone.now()
    managers = sorted(
        set(
            StaffMembership.objects.filter(
                department=department,
                role=StaffMembership.Role.MANAGER,
                user__is_active=True,
            )
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    )
    if not managers:
        return 0
    digest = digest_build(department=department, now=now)
    if digest.empty:
        return 0
    queue = absolute(reverse("admin:reports_servicerequest_changelist"))
    day = timezone.localdate(now)
    added = 0
    with transaction.atomic():
        for email in managers:
            message = outbox_add(
                to=email,
                subject=f"{department}: daily digest for {day:%b %d, %Y}",
                template="reports/emails/digest",
                context={"digest": digest, "queue_url": f"{queue}?department={department.pk}"},
                kind="department_digest",
                dedupe_key=f"digest:{department.pk}:{day.isoformat()}:{_address_key(email)}",
            )
            added += message is not None
    return added


def notify_department_digests(*, now: datetime | None = None) -> int:
    """Every active department's digest (the daily beat job). Returns how many messages
    were recorded."""
    now = now or timezone.now()
    return sum(
        notify_department_digest(department=department, now=now)
        for department in Department.objects.filter(active=True).order_by("pk")
    )


# Messages to the reporter and the department about the reporter's follow-up, recorded in
# the outbox inside the transaction of the change (see reports/outbox.py).

EMAILS = "reports/emails"


def _reporter_subscription(report: ServiceRequest) -> Subscription | None:
    return Subscription.objects.filter(request=report, email=report.reporter_email).first()


def outbox_report_received(
    *, report: ServiceRequest, subscription: Subscription | None = None
) -> OutboxMessage | None:
    """The acknowledgement to the reporter: the reference, the link, when it is public, and
    (for the reporter's `subscription`, not yet confirmed) the link that starts updates."""
    if not report.reporter_email:
        return None
    confirm_url = ""
    if subscription is not None and subscription.confirmed_at is None:
        confirm_url = subscription_link(subscription, "confirm")
    in_preview = report.published_at > report.requested_datetime
    return outbox_add(
        to=report.reporter_email,
        subject=f"We received your report #{report.pk}: {report.service.name}",
        template=f"{EMAILS}/received",
        context={
            "report": report,
            "public_url": public_url(report),
            "in_preview": in_preview,
            # The reporter's own page until it is public: a phone's tab is soon closed.
            "preview_url": absolute(preview_url(report)) if in_preview else "",
            "confirm_url": confirm_url,
            "days": confirm_max_age().days,
        },
        dedupe_key=f"report:{report.pk}:received",
        kind="report_received",
    )


def outbox_fixed_question(*, report: ServiceRequest, update: RequestUpdate) -> Subscription | None:
    """Ask the reporter "Is it fixed?" after a closing (`update`), with signed links, when
    `rules.asks_if_fixed` says so and the reporter follows the report: confirmed and still
    subscribed (an unsubscribed reporter asked for no more email). The email carries the
    city's closing note, so it replaces the ordinary update email: returns the reporter's
    subscription, which the caller leaves out of that update's followers."""
    subscription = _reporter_subscription(report)
    receiving = subscription is not None and subscription.active and subscription.confirmed_at
    if not rules.asks_if_fixed(report) or not receiving:
        return None
    assert subscription is not None
    token = fixed_token(report)
    outbox_add(
        to=report.reporter_email,
        subject=f"Is it fixed? Report #{report.pk}: {report.service.name}",
        template=f"{EMAILS}/fixed_question",
        context={
            "report": report,
            "update": update,
            "public_url": public_url(report),
            "yes_url": absolute(reverse("reports:fixed_yes", args=[token])),
            "no_url": absolute(reverse("reports:fixed_no", args=[token])),
            "max_age_days": settings.FIXED_QUESTION_MAX_AGE_DAYS,
        },
        unsubscribe_url=subscription_link(subscription, "unsubscribe"),
        dedupe_key=f"report:{report.pk}:fixed-question:{update.pk}",
        kind="fixed_question",
    )
    return subscription


def outbox_reopened_by_reporter(*, report: ServiceRequest, comment: Comment) -> None:
    """Tell the department its closed report was reopened: the reporter says not fixed."""
    if report.department is None or not report.department.email:
        return
    outbox_add(
        to=report.department.email,
        subject=f"Report #{report.pk} reopened: the reporter says it is not fixed",
        template=f"{EMAILS}/reopened_by_reporter",
        context={"report": report, "comment": comment, "admin_url": admin_url(report)},
        kind="reopened_by_reporter",
    )


def outbox_comment_added(*, report: ServiceRequest, comment: Comment) -> None:
    """Tell the department a citizen commented on one of its open reports."""
    if report.department is None or not report.department.email:
        return
    outbox_add(
        to=report.department.email,
        subject=f"New comment on report #{report.pk}: {report.service.name}",
        template=f"{EMAILS}/comment_added",
        context={
            "report": report,
            "comment": comment,
            "photos": comment.photos.count(),
            "admin_url": admin_url(report),
            "comment_admin_url": absolute(
                reverse("admin:reports_comment_change", args=[comment.pk])
            ),
        },
        kind="comment_added",
    )
