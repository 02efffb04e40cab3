"""Care visit photos, through the reports' photo pipeline (reports/photos.py): the same
upload checks, the same re-encoding that keeps nothing but pixels (no EXIF, no GPS), random
names, and hidden photos' files under hidden/, which is never served."""

from __future__ import annotations

import io
import logging

from django.db import transaction

from adoptions.models import CareLog
from reports.photos import (
    IMAGE_FOLDER,
    THUMBNAIL_FOLDER,
    file_place,
    processed_name,
    render_versions,
)

logger = logging.getLogger(__name__)


def care_photo_process(*, care_log_id: int) -> CareLog | None:
    """Make the public versions of a care visit's photo. Idempotent, and safe against a
    second worker (the row is claimed with SKIP LOCKED). A file that cannot be decoded is
    marked failed; a storage error propagates so that the task retries."""
    with transaction.atomic():
        log = (
            CareLog.objects.select_for_update(skip_locked=True)
            .filter(pk=care_log_id, photo_state=CareLog.PhotoState.PENDING)
            .first()
        )
        if log is None:
            return None
        try:
            with log.original.open("rb") as source:
                data = source.read()
        except FileNotFoundError as exc:
            return _failed(log, str(exc))
        try:
            web, thumb, (_width, _height) = render_versions(io.BytesIO(data))
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            return _failed(log, str(exc))
        public = not log.photo_hidden
        storage = log.image.storage
        log.image.name = storage.save(processed_name(IMAGE_FOLDER, public=public), web)
        log.thumbnail.name = storage.save(processed_name(THUMBNAIL_FOLDER, public=public), thumb)
        log.photo_state = CareLog.PhotoState.PROCESSED
        log.save(update_fields=["image", "thumbnail", "photo_state"])
    return log


def _failed(log: CareLog, reason: str) -> CareLog:
    logger.warning("Care visit %s: photo could not be processed: %s", log.pk, reason)
    log.photo_state = CareLog.PhotoState.FAILED
    log.save(update_fields=["photo_state"])
    return log


def care_photo_files_sync(*, log: CareLog) -> None:
    """Put a processed photo's files where `photo_hidden` says (hidden/ or public)."""
    if log.photo_state != CareLog.PhotoState.PROCESSED:
        return
    public = not log.photo_hidden
    moved = [
        field.field.name
        for field in (log.image, log.thumbnail)
        if field.name and file_place(field, public=public)
    ]
    if moved:
        log.save(update_fields=moved)
