"""Area alerts: services (create, confirm, cancel) and the senders the beat schedule runs.

Every email goes through the outbox inside the transaction of the change that causes it.
Senders are beat jobs, not hooks on report creation: "immediate" alerts go out within
ALERTS_IMMEDIATE_MINUTES of a report, daily digests each morning. Each report is sent to an
alert once at most (the outbox's dedupe key names the alert and the report, or the alert and
the day), so a re-run, two workers or a broker outage never double or lose a message."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from civic311.geo import bbox_around, distance_metres
from departments.models import Boundary
from reports.insights.filters import area_condition, city_zone
from reports.insights.models import AreaAlert
from reports.models import OutboxMessage, Service, ServiceRequest
from reports.outbox import outbox_add, outbox_render

DIGEST_LIMIT = 50  # reports listed in one email; the rest are counted
KIND, TEMPLATE = "alert", "insights/emails/alert_reports"
# A report is stamped before its transaction commits: look this far behind "now" so that a
# report still committing during a run is picked up by the next one, not skipped.
GRACE = timedelta(minutes=1)


def alert_create(
    *,
    email: str,
    frequency: str,
    area: Boundary | None = None,
    lat: float | None = None,
    long: float | None = None,
    radius_m: int | None = None,
    service: Service | None = None,
    now: datetime | None = None,
) -> AreaAlert:
    """Record an alert and ask its address to confirm (nothing else is sent before).

    Idempotent: signing up again with the same settings (address, place, category,
    frequency) leaves one alert, so each report is emailed once, and the form can answer the
    same either way without revealing what a stranger's address is subscribed to. An alert
    still unconfirmed gets its link again, at most once a day, so the form can't be used to
    flood someone's inbox; one already confirmed gets no email. A cancelled alert stays
    cancelled: signing up again makes a new one, which confirms afresh."""
    same = {
        "email": email.strip().lower(),
        "frequency": frequency,
        "area": area,
        "lat": lat,
        "long": long,
        "radius_m": radius_m,
        "service": service,
    }
    alert = AreaAlert(**same)
    if (area is None) == (lat is None or long is None or radius_m is None):
        raise ValidationError("Choose a neighbourhood or a circle on the map, not both.")
    # The one-alert-per-setting constraint is the lookup below, not an error for the form.
    alert.full_clean(validate_constraints=False)
    now = now or timezone.now()
    with transaction.atomic():
        existing = (
            AreaAlert.objects.select_for_update()
            .filter(cancelled__isnull=True, **same)
            .order_by("pk")
            .first()
        )
        if existing is not None:
            alert = existing
        else:
            try:
                with transaction.atomic():
                    alert.save()
            except IntegrityError:
                # The same sign-up sent twice at once: the one that got in first stands.
                alert = AreaAlert.objects.get(cancelled__isnull=True, **same)
        if alert.confirmed is None:
            outbox_add(
                to=alert.email,
                subject="Confirm your alert",
                template="insights/emails/alert_confirm",
                context={
                    "alert": alert,
                    "confirm_url": _absolute("insights:alert-confirm", alert),
                },
                kind="alert-confirm",
                dedupe_key=f"alert:{alert.pk}:confirm:{timezone.localdate(now).isoformat()}",
            )
    return alert


def alert_confirm(*, alert: AreaAlert) -> AreaAlert:
    """Start sending. Reports from now on count, not the area's history."""
    if alert.cancelled is not None:
        raise ValidationError("This alert was cancelled; create a new one.")
    if alert.confirmed is None:
        now = timezone.now()
        alert.confirmed = now
        alert.sent_until = now
        alert.save(update_fields=["confirmed", "sent_until"])
    return alert


def alert_cancel(*, alert: AreaAlert) -> AreaAlert:
    if alert.cancelled is None:
        alert.cancelled = timezone.now()
        alert.save(update_fields=["cancelled"])
    return alert


def _absolute(name: str, alert: AreaAlert) -> str:
    return settings.SITE_URL + reverse(name, args=[alert.token])


def matching_reports(
    alert: AreaAlert, since: datetime, until: datetime
) -> QuerySet[ServiceRequest] | list[ServiceRequest]:
    """Public reports of the alert's area (and category) published in (since, until]: a
    report in its reporter's preview window is announced when it becomes public."""
    reports = (
        ServiceRequest.objects.public(now=until)
        .filter(published_at__gt=since)
        .select_related("service")
        .order_by("published_at", "pk")
    )
    if alert.service_id:
        reports = reports.filter(service_id=alert.service_id)
    if alert.area_id:
        return reports.filter(area_condition(alert.area))  # type: ignore[arg-type]
    assert alert.lat is not None and alert.long is not None and alert.radius_m is not None
    # A bounding box in the database (the sr_public_point index), the exact circle here.
    candidates = reports.in_bbox(*bbox_around(alert.lat, alert.long, alert.radius_m))
    centre, radius = (alert.lat, alert.long), alert.radius_m
    return [
        r
        for r in candidates
        if r.lat is not None
        and r.long is not None
        and distance_metres(*centre, r.lat, r.long) <= radius
    ]


def _active(frequency: str) -> QuerySet[AreaAlert]:
    return AreaAlert.objects.filter(
        frequency=frequency, confirmed__isnull=False, cancelled__isnull=True
    ).select_related("area", "service")


def alerts_send_immediate(*, now: datetime | None = None) -> int:
    """One email per new report per immediate alert, DIGEST_LIMIT per alert and run at
    most: the rest go out on the next runs. Returns how many were queued."""
    until = (now or timezone.now()) - GRACE
    queued = 0
    for alert in _active(AreaAlert.Frequency.IMMEDIATE):
        with transaction.atomic():
            reports = list(matching_reports(alert, alert.sent_until or alert.confirmed, until))  # type: ignore[arg-type]
            sent, sent_until = 0, until
            for report in reports:
                if sent == DIGEST_LIMIT:
                    # The next run starts just before the first one left. Those already sent
                    # that were published in the same microsecond are not sent again (their
                    # keys) nor counted.
                    sent_until = report.published_at - timedelta(microseconds=1)
                    break
                sent += _send(alert, [report], f"alert:{alert.pk}:report:{report.pk}", until)
            AreaAlert.objects.filter(pk=alert.pk).update(sent_until=sent_until)
            queued += sent
    return queued


def alerts_send_daily(*, now: datetime | None = None) -> int:
    """One digest per daily alert that has new reports since the last one."""
    until = (now or timezone.now()) - GRACE
    day = until.astimezone(city_zone()).date().isoformat()
    queued = 0
    for alert in _active(AreaAlert.Frequency.DAILY):
        with transaction.atomic():
            reports = list(matching_reports(alert, alert.sent_until or alert.confirmed, until))  # type: ignore[arg-type]
            sent = _send(alert, reports, f"alert:{alert.pk}:digest:{day}", until) if reports else 0
            # A second run on the same day finds the day's digest sent: its reports wait for
            # tomorrow's rather than being passed over.
            if sent or not reports:
                AreaAlert.objects.filter(pk=alert.pk).update(sent_until=until)
            queued += sent
    return queued


def _send(alert: AreaAlert, reports: Iterable[ServiceRequest], key: str, until: datetime) -> int:
    reports = list(reports)
    subject, context = _content(alert, reports)
    message = outbox_add(
        to=alert.email,
        subject=subject,
        template=TEMPLATE,
        context={**context, "until": until},
        unsubscribe_url=_absolute("insights:alert-unsubscribe", alert),
        kind=KIND,
        dedupe_key=key,
        reports=[report.pk for report in reports],
    )
    return 1 if message is not None else 0


def _content(alert: AreaAlert, reports: list[ServiceRequest]) -> tuple[str, dict[str, Any]]:
    """An alert email's subject and its template's context for these reports."""
    subject = (
        f"New report: {reports[0].service.name} #{reports[0].pk}"
        if alert.frequency == AreaAlert.Frequency.IMMEDIATE
        else f"{len(reports)} new report{'s' if len(reports) != 1 else ''}: {alert.describe()}"
    )
    first = min(timezone.localdate(report.requested_datetime) for report in reports)
    context = {
        "alert": alert,
        "reports": reports[:DIGEST_LIMIT],
        "more": max(0, len(reports) - DIGEST_LIMIT),
        "more_url": alert.reports_url(since=first),
    }
    return subject, context


def alert_message_rewrite(message: OutboxMessage) -> bool:
    """Write an alert email again, when it is sent, from those of its reports that are
    still public, with their public text: a report hidden (or a description redacted) after
    the email was queued, which a worker outage or a retry may leave pending for hours, is
    not mailed. False when none is left (the email is dropped) or the alert is gone. One
    queued before alert emails named their reports is sent as it was written."""
    if not message.reports:
        return True
    alert_id = message.dedupe_key.split(":")[1]
    alert = AreaAlert.objects.filter(pk=alert_id, cancelled__isnull=True).first()
    public = ServiceRequest.objects.public().select_related("service").in_bulk(message.reports)
    reports = [public[pk] for pk in message.reports if pk in public]
    if alert is None or not reports:
        return False
    subject, context = _content(alert, reports)
    unsubscribe = _absolute("insights:alert-unsubscribe", alert)
    rewritten = outbox_render(
        subject=subject, template=TEMPLATE, context=context, unsubscribe_url=unsubscribe
    )
    message.subject, message.body, message.html = rewritten
    message.reports = [report.pk for report in reports]
    message.save(update_fields=["subject", "body", "html", "reports"])
    return True
