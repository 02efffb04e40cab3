"""Logging a care visit, hiding a care visit's photo or note, and staff deleting visits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from adoptions import rules
from adoptions.models import Adoption, AssetType, CareLog
from adoptions.photos import care_photo_files_sync
from civic311.input import has_visible, invisible_only
from civic311.queue import queue_after_commit
from reports.limits import MAX_TEXT
from reports.photos import photo_files_delete_on_commit, validate_photo


def care_log_add(
    *,
    adoption: Adoption,
    volunteer: Any,
    day: date,
    tasks: Sequence[str] = (),
    note: str = "",
    photo: UploadedFile | IO[bytes] | None = None,
    now: datetime | None = None,
) -> CareLog:
    """Record a care visit on an active adoption, by its volunteer only. The date may not be
    in the future nor before the adoption, and has one visit at most; the tasks come from the
    asset type's checklist; the photo is checked now and processed after the commit. The next
    visit falls due one cadence after the latest visit (adoptions/rules.py)."""
    now = now or timezone.now()
    note = (note or "").strip()
    errors: dict[str, list[str]] = {}
    if adoption.volunteer_id is None or adoption.volunteer_id != getattr(volunteer, "pk", None):
        raise ValidationError({"adoption": ["Only the volunteer who adopted it can log care."]})
    asset_type = adoption.asset.asset_type
    date_error = rules.care_date_error(
        day=day, started=timezone.localdate(adoption.started), today=timezone.localdate(now)
    )
    if date_error:
        errors["date"] = [date_error]
    unknown = [task for task in tasks if task not in asset_type.checklist]
    if unknown:
        errors["tasks"] = [f"Not on the checklist: {', '.join(unknown)}."]
    if len(note) > MAX_TEXT:
        errors["note"] = [f"The note is {len(note)} characters; at most {MAX_TEXT}."]
    elif note and not has_visible(note):
        errors["note"] = [invisible_only("The note")]
    if photo is not None:
        try:
            validate_photo(photo)
        except ValidationError as exc:
            errors["photo"] = exc.messages
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = Adoption.objects.select_for_update().get(pk=adoption.pk)
        if locked.ended is not None:
            raise ValidationError({"adoption": ["This adoption has ended."]})
        # One visit a day: a second tap on "Log this visit" (or a resent form) would list
        # the visit twice and count it twice on the thanks page. Checked under the lock.
        if CareLog.objects.filter(adoption=locked, date=day).exists():
            raise ValidationError(
                {"date": [f"A visit on {day:%b %-d, %Y} is already logged (see the care history)."]}
            )
        log = CareLog(
            adoption=locked,
            volunteer=volunteer,
            date=day,
            tasks=[task for task in asset_type.checklist if task in tasks],
            note=note,
        )
        if photo is not None:
            content = photo if isinstance(photo, File) else File(photo)
            log.original.save(_upload_name(photo), content, save=False)
            log.photo_state = CareLog.PhotoState.PENDING
        log.save()
        latest = max(day, locked.last_cared_on or day)
        locked.last_cared_on = latest
        locked.due_on = _due_after(locked, latest)
        locked.save(update_fields=["last_cared_on", "due_on"])
        adoption.last_cared_on, adoption.due_on = locked.last_cared_on, locked.due_on
        if photo is not None:
            from adoptions.tasks import process_care_photo

            queue_after_commit(process_care_photo, log.pk)
    return log


def care_logs_delete(*, log_ids: Sequence[int]) -> int:
    """Delete care visits (staff, in the admin) and work out again, from the visits left,
    each adoption's last visit and next due date, which the reminders, the lapse and the
    "overdue" lists read (deleting a mistaken visit once left the due date counted from
    it); their photos' files go once this commits. Under the adoption's row lock, as
    `care_log_add` takes it, so a visit logged meanwhile is counted; the visits themselves
    are locked too, so a photo being processed is deleted with its new files. Returns how
    many visits were deleted."""
    with transaction.atomic():
        adoption_ids = set(
            CareLog.objects.filter(pk__in=log_ids).values_list("adoption_id", flat=True)
        )
        locked = list(
            Adoption.objects.select_for_update().filter(pk__in=adoption_ids).order_by("pk")
        )
        doomed = list(CareLog.objects.select_for_update().filter(pk__in=log_ids))
        CareLog.objects.filter(pk__in=[log.pk for log in doomed]).delete()
        # A deleted visit's photo must stop being served, and its original (EXIF) go.
        photo_files_delete_on_commit(doomed)
        for adoption in locked:
            _due_dates_recompute(adoption)
    return len(doomed)


def _due_dates_recompute(adoption: Adoption) -> None:
    """The last visit and the next due date from the visits stored."""
    latest = CareLog.objects.filter(adoption=adoption).aggregate(latest=Max("date"))["latest"]
    adoption.last_cared_on = latest
    adoption.due_on = _due_after(adoption, latest)
    adoption.save(update_fields=["last_cared_on", "due_on"])


def _due_after(adoption: Adoption, last_cared_on: date | None) -> date:
    """The next due date after the last visit, with the cadence as it is now, read under
    the adoption's lock (the callers hold it): a new cadence saved in the admin since the
    adoption was read has rescheduled the other adoptions already."""
    cadence_months, since = AssetType.objects.values_list("cadence_months", "cadence_since").get(
        assets__pk=adoption.asset_id
    )
    return rules.next_due(
        started=timezone.localdate(adoption.started),
        last_cared_on=last_cared_on,
        cadence_months=cadence_months,
        since=since,
    )


def _upload_name(upload: UploadedFile | IO[bytes]) -> str:
    name = getattr(upload, "name", "") or ""
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else "jpg"
    return f"care.{ext if ext in {'jpg', 'jpeg', 'png', 'webp'} else 'img'}"


def care_photo_hide(*, log: CareLog, hidden: bool = True) -> CareLog:
    """Hide a care visit's photo from every public page (or show it again). Its files move
    under hidden/ once the change commits, so they stop being served at once."""
    with transaction.atomic():
        locked = CareLog.objects.select_for_update().get(pk=log.pk)
        if locked.photo_hidden != hidden:
            locked.photo_hidden = hidden
            locked.save(update_fields=["photo_hidden"])
        transaction.on_commit(lambda: care_photo_files_sync(log=locked), robust=True)
    return locked


def care_note_hide(*, log: CareLog, hidden: bool = True) -> CareLog:
    """Hide a care visit's note from the public pages (or show it again). The note is kept,
    for staff, as a hidden citizen's comment is."""
    with transaction.atomic():
        locked = CareLog.objects.select_for_update().get(pk=log.pk)
        if locked.note_hidden != hidden:
            locked.note_hidden = hidden
            locked.save(update_fields=["note_hidden"])
    return locked
