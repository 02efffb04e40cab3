"""Citizens' comments on open reports: published at once, moderated after (staff hide a
comment, with its photo, in the admin), and the department is told of each new one."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from civic311.input import has_visible
from civic311.queue import queue_after_commit
from reports.limits import MAX_REASON
from reports.models import Comment, RequestUpdate, ServiceRequest
from reports.notifications import outbox_comment_added
from reports.photos import photo_files_sync_on_commit, validate_photo
from reports.services.requests import photo_save
from reports.services.timeline import Author, clean_text, report_lock, timeline_add
from reports.tasks import process_request_photos

Kind = RequestUpdate.Kind


def comment_add(
    *,
    report: ServiceRequest,
    text: str,
    author_name: str = "",
    author_email: str = "",
    photo: UploadedFile | None = None,
) -> Comment:
    """Add a public comment (and photo) to an open, public report and email the department.
    Raises ValidationError (nothing saved) on bad input or a report that takes none."""
    text = clean_text(text, field="text")
    errors: dict[str, list[str]] = {}
    if not has_visible(text):
        errors["text"] = ["Please write a comment."]
    if photo is not None:
        try:
            validate_photo(photo)
        except ValidationError as exc:
            errors["photo"] = exc.messages
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        report_lock(report)
        now = timezone.now()
        if not report.is_published(now):
            raise ValidationError("This report is not public.")
        if not report.is_open:
            raise ValidationError("This report is closed; comments are for open reports.")
        comment = Comment.objects.create(
            request=report,
            text=text,
            author_name=author_name.strip()[:120],
            author_email=author_email.strip().lower(),
            created=now,
        )
        if photo is not None:
            photo_save(
                report=report, upload=photo, order=report.photos.count() + 1, comment=comment
            )
            queue_after_commit(process_request_photos, report.pk)
        outbox_comment_added(report=report, comment=comment)
    return comment


def comment_moderate(*, comment: Comment, author: Author, hidden: bool, reason: str) -> Comment:
    """Hide a comment (its photos' files leave the public folders with it) or show it
    again; recorded on the report's internal timeline. A hidden comment kept hidden with
    another reason has its reason replaced, recorded on the timeline as the hiding was."""
    reason = clean_text(reason, field="reason", limit=MAX_REASON)
    with transaction.atomic():
        comment.refresh_from_db(from_queryset=Comment.objects.select_for_update())
        if hidden and not reason:
            raise ValidationError({"reason": ["Say why, for the record."]})
        if comment.hidden == hidden and not (hidden and reason != comment.hidden_reason):
            raise ValidationError("Nothing to change.")
        report = report_lock(comment.request)
        if comment.hidden == hidden:
            # The record says why it is hidden now, and the timeline why it was before.
            comment.hidden_reason = reason
            comment.save(update_fields=["hidden_reason"])
            text = f"Comment {comment.pk} still hidden, now because: {reason}"
            timeline_add(
                report,
                kind=Kind.MODERATION,
                author=author,
                public=False,
                now=timezone.now(),
                text=text,
            )
            return comment
        comment.hidden = hidden
        comment.hidden_reason = reason if hidden else ""
        comment.save(update_fields=["hidden", "hidden_reason"])
        # The comment's photos keep their own flags (one hidden on its own stays hidden when
        # the comment is shown again); a photo is public only while its comment is too.
        verb = "hidden" if hidden else "shown again"
        text = f"Comment {comment.pk} {verb}" + (f": {reason}" if reason else ".")
        now = timezone.now()
        timeline_add(report, kind=Kind.MODERATION, author=author, public=False, now=now, text=text)
        photo_files_sync_on_commit(report_id=report.pk)
    return comment
