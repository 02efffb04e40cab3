"""Celery entry points: they take ids and call a service."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import Task, shared_task
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from reports.links import confirm_max_age
from reports.models import OutboxMessage, Photo, Subscription
from reports.notifications import notify_department_digests
from reports.orphans import originals_sweep
from reports.outbox import outbox_send, outbox_send_due, retry_delay
from reports.photo_drafts import drafts_sweep
from reports.photos import photo_mark_failed, photo_process, photos_files_sync_misplaced
from reports.services.areas import areas_relocate_pending

logger = logging.getLogger(__name__)


# The sweep leaves a photo this long to the task queued when its report was saved.
PHOTO_SWEEP_AFTER = timedelta(seconds=60)


def _photo_process_claimed(photo_id: int) -> Photo | None:
    """Process one pending photo under a row lock, so that the task and the sweep (or two
    workers) never process the same photo at once. None: done already, or being done."""
    with transaction.atomic():
        photo = (
            Photo.objects.select_for_update(skip_locked=True)
            .filter(pk=photo_id, state=Photo.State.PENDING)
            .first()
        )
        return None if photo is None else photo_process(photo=photo)


def _pending_photo_ids(**filters: object) -> list[int]:
    return list(
        Photo.objects.filter(state=Photo.State.PENDING, **filters)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@shared_task(bind=True, max_retries=8)
def process_request_photos(self: Task, request_id: int) -> int:
    """Process every pending photo of one report; safe to run twice. Returns how many
    photos this run processed.

    A storage error is retried with back-off; once the retries are spent the photo is
    marked failed rather than left "being processed" for ever."""
    done = 0
    for photo_id in _pending_photo_ids(request_id=request_id):
        try:
            photo = _photo_process_claimed(photo_id)
        except OSError as exc:
            if self.request.retries >= self.max_retries:
                photo_mark_failed(photo=Photo.objects.get(pk=photo_id), reason=str(exc))
                continue
            raise self.retry(exc=exc, countdown=min(600, 5 * 2**self.request.retries)) from exc
        done += photo is not None and photo.state == Photo.State.PROCESSED
    return done


@shared_task
def outbox_deliver(message_id: int) -> str:
    """Send one outbox message (queued when the transaction that recorded it commits).

    A failed attempt is recorded on the row by the service; this queues the next attempt
    after the backoff. If that can't be queued (broker down), the beat sweep sends it."""
    outcome = outbox_send(message_id=message_id)
    if outcome == "retry":
        attempts = OutboxMessage.objects.filter(pk=message_id).values_list("attempts", flat=True)
        countdown = retry_delay(attempts.first() or 1).total_seconds()
        try:
            outbox_deliver.apply_async((message_id,), countdown=countdown)
        except BrokerError:
            logger.warning("Broker unreachable; outbox message %s left for the sweep", message_id)
    return outcome


@shared_task
def outbox_deliver_due() -> int:
    """Every minute (Celery beat): send what is pending and due but no task delivered."""
    return outbox_send_due()


@shared_task
def photos_process_pending() -> int:
    """Every minute (Celery beat): process photos whose task never ran (e.g. the broker was
    down at submission) once they are PHOTO_SWEEP_AFTER old.

    One photo that fails must not stop the sweep: it is logged, stays pending and is tried
    again on the next sweep (a photo that can never work is marked failed by the service)."""
    cutoff = timezone.now() - PHOTO_SWEEP_AFTER
    count = 0
    for photo_id in _pending_photo_ids(created__lt=cutoff):
        try:
            photo = _photo_process_claimed(photo_id)
        except OSError:
            logger.warning("Photo %s: storage error, will try again", photo_id, exc_info=True)
            continue
        count += photo is not None and photo.state == Photo.State.PROCESSED
    return count


@shared_task
def photos_files_sync() -> int:
    """Finish moving the files of photos hidden or shown again whose move failed at the time
    (moderation moves them at once; this is the retry)."""
    return photos_files_sync_misplaced()


@shared_task
def photo_drafts_sweep() -> int:
    """Hourly (Celery beat): delete photos kept for report forms that were never sent."""
    return drafts_sweep()


@shared_task
def orphaned_uploads_sweep() -> int:
    """Daily (Celery beat): delete uploads whose submission rolled back (reports/orphans.py)."""
    return originals_sweep()


@shared_task
def send_department_digests() -> int:
    """Daily (Celery beat): record each active department's digest in the outbox."""
    return notify_department_digests()


@shared_task
def subscriptions_expire() -> int:
    """Daily (Celery beat): delete follows whose confirmation link was never clicked within
    SUBSCRIPTION_CONFIRM_DAYS (the link has stopped working by then). Returns how many."""
    cutoff = timezone.now() - confirm_max_age()
    deleted, _ = Subscription.objects.expired(before=cutoff).delete()
    return deleted


@shared_task
def areas_relocate() -> int:
    """When an area changed (queued then), and every five minutes (Celery beat, for a task
    lost meanwhile): locate the reports around it again. Returns how many moved."""
    return areas_relocate_pending()
