"""Staff moderation of a report's photos. (Processing the uploads is in reports.photos.)"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from reports.limits import MAX_REASON
from reports.models import Photo, RequestUpdate, ServiceRequest
from reports.photos import photo_files_delete_on_commit, photo_files_sync_on_commit
from reports.services.timeline import Author, clean_text, report_lock, report_touch, timeline_add

Kind = RequestUpdate.Kind


def photo_moderate(*, photo: Photo, author: Author, hidden: bool, reason: str) -> Photo:
    """Hide (or show again) one photo of a report, with a reason. Once committed, its files
    leave the public folders (or return to them): a hidden photo is not served at all."""
    reason = clean_text(reason, field="reason", limit=MAX_REASON)
    with transaction.atomic():
        photo.refresh_from_db(from_queryset=Photo.objects.select_for_update())
        if photo.hidden == hidden:
            raise ValidationError("Nothing to change.")
        if hidden and not reason:
            raise ValidationError({"reason": ["Say why, for the record."]})
        report = report_lock(photo.request)
        now = timezone.now()
        photo.hidden = hidden
        photo.hidden_reason = reason if hidden else ""
        photo.save(update_fields=["hidden", "hidden_reason"])
        verb = "hidden" if hidden else "shown again"
        text = f"Photo {photo.order} {verb}" + (f": {reason}" if reason else ".")
        timeline_add(report, kind=Kind.MODERATION, author=author, public=False, now=now, text=text)
        report_touch(report, now)
        photo_files_sync_on_commit(photo_id=photo.pk)
    return photo


def photos_delete(*, photos: QuerySet[Photo]) -> int:
    """Delete photos for good (superusers, in the admin), their files once this commits; their
    reports count as updated (media_url changes for apps that sync). Returns how many."""
    with transaction.atomic():
        doomed = list(Photo.objects.filter(pk__in=photos.values("pk")).select_for_update())
        Photo.objects.filter(pk__in=[photo.pk for photo in doomed]).delete()
        photo_files_delete_on_commit(doomed)
        now = timezone.now()
        for report in ServiceRequest.objects.filter(
            pk__in={photo.request_id for photo in doomed}
        ).select_for_update():
            report_touch(report, now)
    return len(doomed)
