"""The emails of reports: what each one says and to whom. Every function records its
messages in the outbox (`reports.outbox.outbox_add`) and must run inside the transaction of
the change that causes them, so a message exists if and only if the change does; the worker
sends it after the commit, retries it, and never sends it twice.

Privacy: a follower's email names only the report and its public text; the reporter's
contact data and other followers' addresses never appear (one message per recipient)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from departments.models import Department, StaffMembership
from reports.links import confirm_max_age, subscription_link
from reports.models import RequestUpdate, ServiceRequest, Subscription
from reports.outbox import outbox_add
from reports.querysets import SubscriptionQuerySet

DIGEST_LIST_LIMIT = 25


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
        kind="report-new",
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
        kind="report-forwarded",
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
        followed = subscription.request
        message = outbox_add(
            to=subscription.email,
            subject=f"Update on report #{report.pk}: {report.get_state_display()}",
            template="reports/emails/update",
            context={
                "report": report,
                "update": update,
                "followed": followed if followed.pk != report.pk else None,
                "public_url": public_url(report),
            },
            unsubscribe_url=subscription_link(subscription, "unsubscribe"),
            kind="follower-update",
            dedupe_key=f"update:{update.pk}:subscription:{subscription.pk}",
        )
        added += message is not None
    return added


def notify_subscription_confirm(*, subscription: Subscription, now: datetime) -> int:
    """Ask a new follower to confirm their address. At most one a day per subscription, so
    the follow form can't be used to flood someone's inbox."""
    report = subscription.request
    day = timezone.localdate(now).isoformat()
    message = outbox_add(
        to=subscription.email,
        subject=f"Confirm: updates on report #{report.pk}",
        template="reports/emails/follow_confirm",
        context={
            "report": report,
            "confirm_url": subscription_link(subscription, "confirm"),
            "public_url": public_url(report),
            "days": confirm_max_age().days,
            "reporter": subscription.email == report.reporter_email,
        },
        kind="follower-confirm",
        dedupe_key=f"subscription:{subscription.pk}:confirm:{day}",
    )
    if message is None:
        return 0
    Subscription.objects.filter(pk=subscription.pk).update(confirm_sent_at=now)
    subscription.confirm_sent_at = now
    return 1


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
    since = now - timedelta(days=1)
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
                kind="department-digest",
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
