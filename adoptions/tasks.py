"""Celery entry points for adoptions: they take ids (or nothing) and call a function below."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import Task, shared_task
from django.utils import timezone

from adoptions.models import CareLog
from adoptions.photos import care_photo_process
from adoptions.services.reminders import reminders_send

logger = logging.getLogger(__name__)

# The sweep leaves a photo this long to the task queued when its visit was logged.
PHOTO_SWEEP_AFTER = timedelta(seconds=60)


@shared_task(bind=True, max_retries=8)
def process_care_photo(self: Task, care_log_id: int) -> bool:
    """Process one care visit's photo; a storage error is retried with back-off."""
    try:
        log = care_photo_process(care_log_id=care_log_id)
    except OSError as exc:
        raise self.retry(exc=exc, countdown=min(600, 5 * 2**self.request.retries)) from exc
    return log is not None and log.photo_state == CareLog.PhotoState.PROCESSED


@shared_task
def care_photos_process_pending() -> int:
    """Every few minutes (Celery beat): photos whose task never ran (broker down)."""
    cutoff = timezone.now() - PHOTO_SWEEP_AFTER
    done = 0
    for log_id in (
        CareLog.objects.pending_photos().filter(created__lt=cutoff).values_list("pk", flat=True)
    ):
        try:
            log = care_photo_process(care_log_id=log_id)
        except OSError:
            logger.warning("Care photo %s: storage error, will try again", log_id, exc_info=True)
            continue
        done += log is not None and log.photo_state == CareLog.PhotoState.PROCESSED
    return done


@shared_task
def adoption_reminders() -> dict[str, int]:
    """Daily (Celery beat): reminders before and after a care visit is due, and lapses."""
    return dict(reminders_send())
