"""Celery entry points: they take ids and call a service."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from reports.models import Photo
from reports.services import photo_process


@shared_task(
    bind=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def process_request_photos(self, request_id: int) -> int:  # type: ignore[no-untyped-def]
    """Process every pending photo of one report; safe to run twice."""
    done = 0
    for photo in Photo.objects.filter(request_id=request_id, state=Photo.State.PENDING):
        photo_process(photo=photo)
        done += 1
    return done


@shared_task
def photos_process_pending() -> int:
    """Sweep up photos whose task never ran (e.g. the broker was down at submission)."""
    cutoff = timezone.now() - timedelta(minutes=5)
    request_ids = (
        Photo.objects.filter(state=Photo.State.PENDING, created__lt=cutoff)
        .values_list("request_id", flat=True)
        .distinct()
    )
    count = 0
    for request_id in request_ids:
        count += process_request_photos(request_id)
    return count
