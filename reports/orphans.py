"""Uploads no row names any more: the files of a submission whose transaction rolled back
after they were stored (storage is not transactional: a report whose notification failed
left its photo's original, EXIF and GPS included, in `originals/` for good).

The sweep looks at the upload folder every photo model keeps its originals in (reports'
photos and care visits' photos alike), asks every file field of every model whether a row
names each file, and deletes what none names once it is older than MAX_AGE, so a file
stored by a transaction still open is never taken."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from django.apps import apps
from django.core.files.storage import default_storage
from django.db import models
from django.utils import timezone

logger = logging.getLogger(__name__)

FOLDER = "originals"
MAX_AGE = timedelta(hours=1)
BATCH = 500


def _file_fields() -> Iterator[tuple[type[models.Model], str]]:
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.FileField):
                yield model, field.name


def _named(names: list[str]) -> set[str]:
    found: set[str] = set()
    for model, field in _file_fields():
        rows = model._default_manager.filter(**{f"{field}__in": names})
        found.update(rows.values_list(field, flat=True))
    return found


def originals_sweep() -> int:
    """Delete the uploads in FOLDER that no row names and that are older than MAX_AGE;
    returns how many were deleted."""
    try:
        _, files = default_storage.listdir(FOLDER)
    except FileNotFoundError:
        return 0
    cutoff = timezone.now() - MAX_AGE
    names = [f"{FOLDER}/{name}" for name in files]
    removed = 0
    for start in range(0, len(names), BATCH):
        batch = names[start : start + BATCH]
        removed += delete_older(sorted(set(batch) - _named(batch)), cutoff, what="upload")
    if removed:
        logger.info("Deleted %s uploads that no row names", removed)
    return removed


def delete_older(names: Iterable[str], cutoff: datetime, *, what: str) -> int:
    """Delete the stored files among `names` last written before `cutoff`; how many. One
    that can't be read or deleted is logged and left for the next sweep."""
    removed = 0
    for name in names:
        try:
            if default_storage.get_modified_time(name) < cutoff:
                default_storage.delete(name)
                removed += 1
        except (FileNotFoundError, NotImplementedError):
            logger.warning("Could not sweep the %s %s", what, name)
    return removed
