"""The emails Civic311 sends. Each function sends one kind of message and returns how many
went out; Celery tasks in reports/tasks.py call them after the write has committed and retry
on failure, so a mail outage never loses or blocks a report.

Privacy: a subscriber's email names only the report and its public text; the reporter's
contact data and other subscribers' addresses never appear (one message per recipient)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from departments.models import Department, StaffMembership
from reports import rules
from reports.models import Comment, OutboxMessage, RequestUpdate, ServiceRequest, Subscription
from reports.outbox import outbox_add
from reports.tokens import fixed_token

DIGEST_LIST_LIMIT = 25


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def unsubscribe_url(subscription: Subscription) -> str:
    """The one-click, no-login unsubscribe link (the citizen pages own the view)."""
    return absolute(reverse("reports:unsubscribe", args=[subscription.token]))


def admin_url(report: ServiceRequest) -> str:
    return absolute(reverse("admin:reports_servicerequest_change", args=[report.pk]))


def public_url(report: ServiceRequest) -> str:
    return absolute(report.get_absolute_url())


def _send(
    *,
    to: list[str],
    subject: str,
    template: str,
    context: dict[str, object],
    headers: dict[str, str] | None = None,
) -> int:
    context = {"CITY_NAME": settings.CITY_NAME, **context}
    message = EmailMultiAlternatives(
        subject=f"[{settings.CITY_NAME} 311] {subject}",
        body=render_to_string(f"reports/emails/{template}.txt", context),
        to=to,
        headers=headers or {},
    )
    message.attach_alternative(
        render_to_string(f"reports/emails/{template}.html", context), "text/html"
    )
    return message.send()


def send_new_request(*, request_id: int) -> int:
    """Tell the routed department's contact address about a new report."""
    report = ServiceRequest.objects.select_related("service", "department", "area").get(
        pk=request_id
    )
    if report.department is None or not report.department.email:
        return 0
    return _send(
        to=[report.department.email],
        subject=f"New report #{report.pk}: {report.service.name}",
        template="new_request",
        context={"report": report, "admin_url": admin_url(report)},
    )


def send_forwarded(*, update_id: int, note_id: int | None = None) -> int:
    """Tell the department a report was forwarded to, with the forwarder's internal note
    (the timeline entry `note_id`, written with the forward)."""
    update = RequestUpdate.objects.select_related(
        "request__service", "department_from", "department_to", "author"
    ).get(pk=update_id)
    department = update.department_to
    if department is None or not department.email:
        return 0
    note = ""
    if note_id is not None:
        note = (
            RequestUpdate.objects.filter(pk=note_id, request_id=update.request_id)
            .values_list("text", flat=True)
            .first()
        ) or ""
    report = update.request
    return _send(
        to=[department.email],
        subject=f"Report #{report.pk} forwarded to {department}",
        template="forwarded",
        context={
            "report": report,
            "update": update,
            "note": note,
            "admin_url": admin_url(report),
        },
    )


def send_update_to_subscriber(*, update_id: int, subscription_id: int) -> int:
    """One public timeline entry, to one follower. Inactive subscriptions get nothing."""
    update = RequestUpdate.objects.select_related("request__service").get(pk=update_id)
    subscription = Subscription.objects.select_related("request").get(pk=subscription_id)
    report = update.request
    if not (subscription.active and update.public) or report.hidden:
        return 0
    link = unsubscribe_url(subscription)
    followed = subscription.request
    return _send(
        to=[subscription.email],
        subject=f"Update on report #{report.pk}: {report.get_state_display()}",
        template="update",
        context={
            "report": report,
            "update": update,
            "followed": followed if followed.pk != report.pk else None,
            "public_url": public_url(report),
            "unsubscribe_url": link,
        },
        headers={"List-Unsubscribe": f"<{link}>"},
    )


def subscriber_ids(update_id: int) -> list[int]:
    """Who follows the report of this update now."""
    update = RequestUpdate.objects.only("request_id").get(pk=update_id)
    return list(
        Subscription.objects.filter(request_id=update.request_id, active=True).values_list(
            "pk", flat=True
        )
    )


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


def send_department_digest(*, department_id: int, now: datetime | None = None) -> int:
    """The daily summary for a department's managers: new, overdue and closed reports."""
    department = Department.objects.get(pk=department_id)
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
    sent = 0
    for email in managers:
        sent += _send(
            to=[email],
            subject=f"{department}: daily digest for {timezone.localdate(now):%b %d, %Y}",
            template="digest",
            context={"digest": digest, "queue_url": f"{queue}?department={department.pk}"},
        )
    return sent


# Messages to the reporter and the department about the reporter's follow-up, recorded in
# the outbox inside the transaction of the change (see reports/outbox.py).

EMAILS = "reports/emails"


def _reporter_subscription(report: ServiceRequest) -> Subscription | None:
    return Subscription.objects.filter(request=report, email=report.reporter_email).first()


def outbox_report_received(*, report: ServiceRequest) -> OutboxMessage | None:
    """The acknowledgement to the reporter: the reference, the link, when it is public."""
    if not report.reporter_email:
        return None
    return outbox_add(
        to=report.reporter_email,
        subject=f"We received your report #{report.pk}: {report.service.name}",
        template=f"{EMAILS}/received",
        context={
            "report": report,
            "public_url": public_url(report),
            "in_preview": report.published_at > report.requested_datetime,
        },
        dedupe_key=f"report:{report.pk}:received",
        kind="report_received",
    )


def outbox_fixed_question(*, report: ServiceRequest, update: RequestUpdate) -> Subscription | None:
    """Ask the reporter "Is it fixed?" after a closing (`update`), with signed links, when
    `rules.asks_if_fixed` says so and the reporter still follows the report (an unsubscribed
    reporter asked for no more email). The email carries the city's closing note, so it
    replaces the ordinary update email: returns the reporter's subscription, which the
    caller leaves out of that update's followers."""
    subscription = _reporter_subscription(report)
    if not rules.asks_if_fixed(report) or subscription is None or not subscription.active:
        return None
    token = fixed_token(report)
    unsubscribe = unsubscribe_url(subscription)
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
            "unsubscribe_url": unsubscribe,
            "max_age_days": settings.FIXED_QUESTION_MAX_AGE_DAYS,
        },
        headers={"List-Unsubscribe": f"<{unsubscribe}>"},
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
