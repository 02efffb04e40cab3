"""Celery entry points: they take ids and call a service."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from departments.models import Department
from reports.models import Photo
from reports.notifications import (
    send_department_digest,
    send_forwarded,
    send_new_request,
    send_update_to_subscriber,
    subscriber_ids,
)
from reports.photos import photo_mark_failed, photo_process

logger = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=8)
def process_request_photos(self, request_id: int) -> int:  # type: ignore[no-untyped-def]
    """Process every pending photo of one report; safe to run twice. Returns how many
    photos are now processed.

    A storage error is retried with back-off; once the retries are spent the photo is
    marked failed rather than left "being processed" for ever."""
    done = 0
    for photo in Photo.objects.filter(request_id=request_id, state=Photo.State.PENDING):
        try:
            photo = photo_process(photo=photo)
        except OSError as exc:
            if self.request.retries >= self.max_retries:
                photo_mark_failed(photo=photo, reason=str(exc))
                continue
            raise self.retry(exc=exc, countdown=min(600, 5 * 2**self.request.retries)) from exc
        done += photo.state == Photo.State.PROCESSED
    return done


@shared_task
def photos_process_pending() -> int:
    """Sweep up photos whose task never ran (e.g. the broker was down at submission).

    One photo that fails must not stop the sweep: it is logged, stays pending and is tried
    again on the next sweep (a photo that can never work is marked failed by the service)."""
    cutoff = timezone.now() - timedelta(minutes=5)
    count = 0
    for photo in Photo.objects.filter(state=Photo.State.PENDING, created__lt=cutoff):
        try:
            photo = photo_process(photo=photo)
        except OSError:
            logger.warning("Photo %s: storage error, will try again", photo.pk, exc_info=True)
            continue
        count += photo.state == Photo.State.PROCESSED
    return count


# Notification emails. Every write has committed before these run; a mail server outage
# (OSError covers smtplib's errors) is retried with backoff and never touches the report.
EMAIL_TASK = {
    "bind": True,
    "autoretry_for": (OSError,),
    "retry_backoff": 30,
    "retry_backoff_max": 3600,
    "retry_jitter": True,
    "max_retries": 6,
}


@shared_task(**EMAIL_TASK)
def notify_new_request(self, request_id: int) -> int:  # type: ignore[no-untyped-def]
    return send_new_request(request_id=request_id)


@shared_task(**EMAIL_TASK)
def notify_forwarded(self, update_id: int) -> int:  # type: ignore[no-untyped-def]
    return send_forwarded(update_id=update_id)


@shared_task
def notify_public_update(update_id: int, subscription_ids: list[int] | None = None) -> int:
    """Fan out one email task per follower, so a failure retries one message, not all."""
    ids = subscriber_ids(update_id) if subscription_ids is None else subscription_ids
    for subscription_id in ids:
        email_subscriber.delay(update_id, subscription_id)
    return len(ids)


@shared_task(**EMAIL_TASK)
def email_subscriber(self, update_id: int, subscription_id: int) -> int:  # type: ignore[no-untyped-def]
    return send_update_to_subscriber(update_id=update_id, subscription_id=subscription_id)


@shared_task
def send_department_digests() -> int:
    """Daily (Celery beat): queue one digest per active department."""
    ids = list(Department.objects.filter(active=True).values_list("pk", flat=True))
    for department_id in ids:
        department_digest.delay(department_id)
    return len(ids)


@shared_task(**EMAIL_TASK)
def department_digest(self, department_id: int) -> int:  # type: ignore[no-untyped-def]
    return send_department_digest(department_id=department_id)
