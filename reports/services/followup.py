"""What a reporter does after filing: review the report in its preview window (edit the
text, remove a photo, ask for more time, publish it now), and answer "Is it fixed?" after
staff close it.

The reporter has no account here: the views check a signed link (reports/tokens.py) and
call these functions, which check the report's own state under its row lock, so an old
link, a second click or a race with staff changes nothing twice."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from civic311.input import has_visible, visible_length
from civic311.queue import queue_after_commit
from reports import rules
from reports.limits import MAX_TEXT, MIN_WEB_DESCRIPTION
from reports.models import Comment, Photo, RequestUpdate, ServiceRequest
from reports.notifications import outbox_reopened_by_reporter
from reports.photos import photo_files_delete_on_commit, validate_photo
from reports.rules import FixedAnswer
from reports.services.requests import photo_save
from reports.services.timeline import clean_text, report_lock, report_touch, timeline_add
from reports.services.triage import report_reopen
from reports.tasks import process_request_photos

Kind = RequestUpdate.Kind

NOT_FIXED_TEXT = "The reporter says it is not fixed."
FIXED_TEXT = "The reporter confirmed that it is fixed."


def _check_preview(report: ServiceRequest, now: datetime) -> None:
    if not rules.in_preview(report, now=now):
        raise ValidationError("The report is public now; it can no longer be changed.")


def _preview_note(report: ServiceRequest, now: datetime, text: str) -> None:
    """What the reporter did in the preview window, on the report's internal timeline."""
    timeline_add(report, kind=Kind.NOTE, author=None, public=False, now=now, text=text)


def report_preview_edit(*, report: ServiceRequest, description: str) -> ServiceRequest:
    """The reporter's new text, before the report is public. The old text stays on the
    internal timeline for staff."""
    description = (description or "").strip()
    if visible_length(description) < MIN_WEB_DESCRIPTION:
        raise ValidationError(
            {
                "description": [
                    f"Please describe the problem in at least {MIN_WEB_DESCRIPTION} characters."
                ]
            }
        )
    description = clean_text(description, field="description", limit=MAX_TEXT)
    with transaction.atomic():
        report_lock(report)
        now = timezone.now()
        _check_preview(report, now)
        if description == report.description:
            return report
        previous = report.description
        report.description = description
        _preview_note(
            report,
            now,
            f"The reporter changed the description before publication. It was:\n{previous}",
        )
        report_touch(report, now, "description")
    return report


def report_preview_photo_remove(*, report: ServiceRequest, photo_id: int) -> ServiceRequest:
    """Delete one of the report's photos, files and all, before the report is public."""
    with transaction.atomic():
        report_lock(report)
        now = timezone.now()
        _check_preview(report, now)
        photo = Photo.objects.select_for_update().filter(pk=photo_id, request=report).first()
        if photo is None:
            raise ValidationError("That photo is not part of this report.")
        photo.delete()
        photo_files_delete_on_commit([photo])
        _preview_note(report, now, "The reporter removed a photo before publication.")
        report_touch(report, now)
    return report


def report_preview_extend(*, report: ServiceRequest) -> ServiceRequest:
    """The reporter's "I need more time": the report stays private REPORT_PREVIEW_MINUTES
    from now, up to `rules.preview_latest`. Only `published_at` moves: everything public
    reads it at the time of reading (the public() querysets, the insights' and Open311
    list's subtraction of reports in their window, alerts' matching), and the touch moves
    `updated_datetime` with it, so the report is new to Open311 pollers when it is public."""
    minutes = settings.REPORT_PREVIEW_MINUTES
    with transaction.atomic():
        report_lock(report)
        now = timezone.now()
        _check_preview(report, now)
        if not rules.can_extend_preview(report, now=now, preview_minutes=minutes):
            raise ValidationError("Your report cannot be held back any longer.")
        later = rules.preview_extended(report, now=now, preview_minutes=minutes)
        if later == report.published_at:
            return report
        report.published_at = later
        _preview_note(
            report,
            now,
            "The reporter asked for more time before publication: public at "
            f"{timezone.localtime(later):%H:%M}.",
        )
        report_touch(report, now, "published_at")
    return report


def report_publish(*, report: ServiceRequest) -> ServiceRequest:
    """The reporter's "Publish now": the preview window ends at once. Idempotent."""
    with transaction.atomic():
        report_lock(report)
        now = timezone.now()
        if not rules.in_preview(report, now=now):
            return report
        report.published_at = now
        report_touch(report, now, "published_at")
    return report


def report_fixed_confirm(*, report: ServiceRequest, closed_at: datetime) -> str:
    """The reporter's "yes, it is fixed" to the question about the closing at `closed_at`:
    recorded on the public timeline, and no further question is asked about this report.
    Returns where the answer stands (a `FixedAnswer`); a second click changes nothing."""
    with transaction.atomic():
        report_lock(report)
        answer = rules.fixed_answer(report, closed_at)
        if answer != FixedAnswer.ASK:
            return answer
        now = timezone.now()
        report.fixed_confirmed_at = now
        timeline_add(
            report, kind=Kind.NOTE, author=None, public=True, now=now, text=FIXED_TEXT, notify=False
        )
        report_touch(report, now, "fixed_confirmed_at")
    return FixedAnswer.CONFIRMED


def report_fixed_deny(
    *,
    report: ServiceRequest,
    closed_at: datetime,
    text: str,
    photo: UploadedFile | None = None,
) -> str:
    """The reporter's "no, it is not fixed": reopen the report (public timeline entry), keep
    the comment and photo on it, mark it for the department's queue and email the
    department. Returns where the answer stands; only the first answer acts."""
    text = clean_text(text, field="text")
    if not has_visible(text):
        raise ValidationError({"text": ["Please say what is still wrong."]})
    if photo is not None:
        try:
            validate_photo(photo)
        except ValidationError as exc:
            raise ValidationError({"photo": exc.messages}) from exc
    with transaction.atomic():
        report_lock(report)
        answer = rules.fixed_answer(report, closed_at)
        if answer != FixedAnswer.ASK:
            return answer
        report_reopen(report=report, author=None, text=NOT_FIXED_TEXT, by_reporter=True)
        now = timezone.now()
        comment = Comment.objects.create(
            request=report,
            text=text,
            author_email=report.reporter_email,
            from_reporter=True,
            created=now,
        )
        if photo is not None:
            photo_save(
                report=report, upload=photo, order=report.photos.count() + 1, comment=comment
            )
            queue_after_commit(process_request_photos, report.pk)
        report.reopened_by_reporter_at = now
        report_touch(report, now, "reopened_by_reporter_at")
        outbox_reopened_by_reporter(report=report, comment=comment)
    return FixedAnswer.REOPENED
