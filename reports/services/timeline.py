"""What every write to a report shares: the row lock, the timeline entry and the touch of
`updated_datetime`. Used by the other service modules, not by views."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError

from accounts.services import former_staff_account
from departments.models import Department
from reports import rules
from reports.limits import MAX_TEXT
from reports.models import RequestUpdate, ServiceRequest
from reports.notifications import notify_followers

# Who made a change: a staff user, or nobody (an anonymous user or a system job counts as
# nobody on the timeline).
Author = User | AnonymousUser | None


def author_or_none(user: Author) -> User | None:
    if user is None or not user.is_authenticated:
        return None
    return user


def clean_text(text: str, *, field: str = "text", limit: int = MAX_TEXT) -> str:
    """`text` stripped; a ValidationError on `field` when it is longer than `limit`."""
    text = (text or "").strip()
    if len(text) > limit:
        raise ValidationError({field: [f"At most {limit} characters (got {len(text)})."]})
    return text


def report_lock(report: ServiceRequest) -> ServiceRequest:
    """Re-read the report under a row lock so two staff members can't race a transition.

    The caller's instance is refreshed in place, so it shows the result afterwards."""
    report.refresh_from_db(from_queryset=ServiceRequest.objects.select_for_update())
    return report


def timeline_add(
    report: ServiceRequest,
    *,
    kind: str,
    author: Author,
    public: bool,
    now: datetime,
    text: str = "",
    state_from: str = "",
    state_to: str = "",
    department_from: Department | None = None,
    department_to: Department | None = None,
    notify: bool = True,
) -> RequestUpdate:
    """Add one entry to the report's timeline; a public one is emailed to its confirmed
    followers (recorded in the outbox now, sent after commit) unless `notify` is off or the
    report is hidden."""
    update = RequestUpdate.objects.create(
        request=report,
        kind=kind,
        author=author_or_none(author),
        public=public,
        text=text,
        state_from=state_from,
        state_to=state_to,
        department_from=department_from,
        department_to=department_to,
        created=now,
    )
    if public and notify and not report.hidden:
        notify_followers(update=update)
    return update


def timeline_add_quietly(entries: list[RequestUpdate]) -> list[RequestUpdate]:
    """Add entries that email nobody (internal ones, or a new report's CREATED) in one
    INSERT; timeline_add's rules otherwise (author and text as given)."""
    return RequestUpdate.objects.bulk_create(entries)


def report_touch(report: ServiceRequest, now: datetime, *fields: str) -> None:
    """Save `fields` and mark the report updated at `now` (Open311's updated_datetime; not
    before the report is public, see `rules.updated_at`)."""
    report.updated_datetime = rules.updated_at(report, now)
    report.save(update_fields=["updated_datetime", *fields])


def timeline_credit_former_staff(*, user: User) -> int:
    """Before `user`'s account is deleted: their entries (replies, notes, state changes,
    forwards) stay on the timelines, credited to the neutral former-staff account rather
    than to nobody, which the admin would show as the system's. Returns how many."""
    entries = RequestUpdate.objects.filter(author=user)
    if not entries.exists():
        return 0
    return entries.update(author=former_staff_account())
