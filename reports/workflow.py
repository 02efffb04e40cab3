"""Staff triage: every change a department makes to a report goes through these functions.

Each one validates, locks the report row, writes one or more timeline entries (author, time,
public or internal), keeps the derived Open311 fields (`status`, `closed_datetime`,
`updated_datetime`, `status_notes`) in step, and queues notification emails after commit.
Permission checks (may this user touch this department's report?) belong to the caller,
the admin; these functions only enforce what makes sense for the report itself.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from departments.models import Department, StaffMembership
from departments.routing import route
from reports.models import (
    Photo,
    RequestUpdate,
    ResponseTemplate,
    Service,
    ServiceRequest,
    Subscription,
)
from reports.services import queue_after_commit
from reports.tasks import notify_forwarded, notify_public_update

State = ServiceRequest.State
Kind = RequestUpdate.Kind

OPEN_STATES = frozenset(ServiceRequest.OPEN_STATES)
CLOSED_STATES = frozenset(ServiceRequest.CLOSED_STATES)
# Where a report may go from each state. Closing as duplicate needs a master report, so it
# has its own function; a closed report can only be reopened (to acknowledged or in progress).
TRANSITIONS: dict[str, frozenset[str]] = {
    State.NEW: frozenset(
        {State.ACKNOWLEDGED, State.IN_PROGRESS, State.FIXED, State.NOT_ACTIONABLE, State.REFERRED}
    ),
    State.ACKNOWLEDGED: frozenset(
        {State.IN_PROGRESS, State.FIXED, State.NOT_ACTIONABLE, State.REFERRED}
    ),
    State.IN_PROGRESS: frozenset({State.FIXED, State.NOT_ACTIONABLE, State.REFERRED}),
    **{closed: frozenset({State.ACKNOWLEDGED, State.IN_PROGRESS}) for closed in CLOSED_STATES},
}
MAX_NOTE = 4000


def allowed_states(request: ServiceRequest) -> list[str]:
    """The states a report may move to now, in workflow order (for forms)."""
    allowed = TRANSITIONS.get(request.state, frozenset())
    return [value for value, _label in State.choices if value in allowed]


def _author(user: AbstractBaseUser | None) -> AbstractBaseUser | None:
    return user if user is not None and user.is_authenticated else None


def _clean_text(text: str, *, field: str = "text") -> str:
    text = (text or "").strip()
    if len(text) > MAX_NOTE:
        raise ValidationError({field: [f"At most {MAX_NOTE} characters (got {len(text)})."]})
    return text


def _lock(request: ServiceRequest) -> ServiceRequest:
    """Re-read the report under a row lock so two staff members can't race a transition.

    The caller's instance is refreshed in place, so it shows the result afterwards."""
    request.refresh_from_db(from_queryset=ServiceRequest.objects.select_for_update())
    return request


def _record(
    report: ServiceRequest,
    *,
    kind: str,
    author: AbstractBaseUser | None,
    public: bool,
    now: datetime,
    text: str = "",
    state_from: str = "",
    state_to: str = "",
    department_from: Department | None = None,
    department_to: Department | None = None,
    notify: bool = True,
) -> RequestUpdate:
    update = RequestUpdate.objects.create(
        request=report,
        kind=kind,
        author=_author(author),
        public=public,
        text=text,
        state_from=state_from,
        state_to=state_to,
        department_from=department_from,
        department_to=department_to,
        created=now,
    )
    if public and notify and not report.hidden:
        queue_after_commit(notify_public_update, update.pk)
    return update


def _set_state(report: ServiceRequest, state: str, now: datetime) -> None:
    report.state = state
    if state in CLOSED_STATES:
        report.status = ServiceRequest.Status.CLOSED
        report.closed_datetime = now
    else:
        report.status = ServiceRequest.Status.OPEN
        report.closed_datetime = None


def _save(report: ServiceRequest, now: datetime, *fields: str) -> None:
    report.updated_datetime = now
    report.save(update_fields=["updated_datetime", *fields])


def _check_template(template: ResponseTemplate, report: ServiceRequest) -> None:
    if not template.active:
        raise ValidationError({"template": ["That response template is no longer active."]})
    if template.department_id != report.department_id or (
        template.service_id and template.service_id != report.service_id
    ):
        raise ValidationError({"template": ["That template is not for this report's category."]})


def templates_for(report: ServiceRequest) -> list[ResponseTemplate]:
    """Active response templates usable on this report (its department, its category or any)."""
    return list(
        ResponseTemplate.objects.filter(department_id=report.department_id, active=True)
        .filter(Q(service__isnull=True) | Q(service_id=report.service_id))
        .order_by("title")
    )


def request_update(
    *,
    request: ServiceRequest,
    author: AbstractBaseUser | None,
    state: str = "",
    text: str = "",
    public: bool = True,
    template: ResponseTemplate | None = None,
    only_from: Collection[str] = (),
) -> ServiceRequest:
    """Change the workflow state and/or add a note: the staff "reply" in one call.

    `only_from` narrows the states the change may start from (e.g. bulk "acknowledge" must
    not quietly reopen a closed report); it is checked under the row lock.

    `state` empty keeps the state. `text` (or the template's text when `text` is empty) goes
    on the timeline: with the state change when public, as a separate internal note when not.
    A public text becomes the Open311 `status_notes`."""
    text = _clean_text(text)
    with transaction.atomic():
        report = _lock(request)
        if template is not None:
            _check_template(template, report)
            text = text or template.text
        changing = bool(state) and state != report.state
        if only_from and report.state not in only_from:
            allowed = " or ".join(f"“{dict(State.choices)[s]}”" for s in only_from)
            current = report.get_state_display()
            message = f"Only a report that is {allowed} can do this; this one is “{current}”."
            raise ValidationError({"state": [message]})
        if state == State.DUPLICATE:
            raise ValidationError(
                {"state": ["Use “close as duplicate” and name the master report."]}
            )
        if changing and state not in TRANSITIONS.get(report.state, frozenset()):
            raise ValidationError(
                {
                    "state": [
                        f"A report that is “{report.get_state_display()}” can't become "
                        f"“{dict(State.choices).get(state, state)}”."
                    ]
                }
            )
        if not changing and not text:
            raise ValidationError({"text": ["Choose a new state or write a note."]})
        now = timezone.now()
        fields: list[str] = []
        if changing:
            previous = report.state
            _set_state(report, state, now)
            fields += ["state", "status", "closed_datetime"]
            _record(
                report,
                kind=Kind.STATE,
                author=author,
                public=True,
                now=now,
                text=text if public else "",
                state_from=previous,
                state_to=state,
            )
        if text and (public and not changing):
            _record(report, kind=Kind.NOTE, author=author, public=True, now=now, text=text)
        if text and not public:
            _record(report, kind=Kind.NOTE, author=author, public=False, now=now, text=text)
        if text and public:
            report.status_notes = text
            fields.append("status_notes")
        _save(report, now, *fields)
    return report


def request_acknowledge(
    *, request: ServiceRequest, author: AbstractBaseUser | None
) -> ServiceRequest:
    return request_update(
        request=request, author=author, state=State.ACKNOWLEDGED, only_from=[State.NEW]
    )


def request_start(*, request: ServiceRequest, author: AbstractBaseUser | None) -> ServiceRequest:
    return request_update(
        request=request,
        author=author,
        state=State.IN_PROGRESS,
        only_from=[State.NEW, State.ACKNOWLEDGED],
    )


def request_close(
    *,
    request: ServiceRequest,
    author: AbstractBaseUser | None,
    state: str = State.FIXED,
    text: str = "",
    template: ResponseTemplate | None = None,
) -> ServiceRequest:
    if state not in CLOSED_STATES:
        raise ValidationError({"state": ["Choose how the report was closed."]})
    return request_update(
        request=request,
        author=author,
        state=state,
        text=text,
        template=template,
        only_from=[s for s in State.values if s in OPEN_STATES],
    )


def request_reopen(
    *, request: ServiceRequest, author: AbstractBaseUser | None, text: str = ""
) -> ServiceRequest:
    return request_update(
        request=request,
        author=author,
        state=State.ACKNOWLEDGED,
        text=text,
        only_from=[s for s in State.values if s in CLOSED_STATES],
    )


def request_note_add(
    *, request: ServiceRequest, author: AbstractBaseUser | None, text: str, public: bool
) -> ServiceRequest:
    if not (text or "").strip():
        raise ValidationError({"text": ["A note needs some text."]})
    return request_update(request=request, author=author, text=text, public=public)


def assignable_users(department_id: int | None) -> list[AbstractBaseUser]:
    """Active staff members of the department, for the assign forms."""
    if department_id is None:
        return []
    return list(
        get_user_model()
        .objects.filter(
            is_active=True,
            is_staff=True,
            memberships__department_id=department_id,
        )
        .order_by("username")
    )


def request_assign(
    *,
    request: ServiceRequest,
    author: AbstractBaseUser | None,
    assignee: AbstractBaseUser | None,
) -> ServiceRequest:
    """Give the report to one staff member of its department (None: unassign)."""
    with transaction.atomic():
        report = _lock(request)
        if assignee is not None and not (
            assignee.is_active
            and assignee.is_staff
            and StaffMembership.objects.filter(
                user=assignee, department_id=report.department_id
            ).exists()
        ):
            raise ValidationError(
                {"assignee": [f"{assignee} is not a staff member of {report.department}."]}
            )
        if assignee is None and report.assigned_to_id is None:
            raise ValidationError({"assignee": ["The report is not assigned to anyone."]})
        if assignee is not None and assignee.pk == report.assigned_to_id:
            raise ValidationError({"assignee": [f"The report is already assigned to {assignee}."]})
        now = timezone.now()
        report.assigned_to = assignee
        text = f"Assigned to {assignee}." if assignee else "Unassigned."
        _record(report, kind=Kind.ASSIGN, author=author, public=False, now=now, text=text)
        _save(report, now, "assigned_to")
    return report


def _forward_in_lock(
    report: ServiceRequest,
    department: Department,
    *,
    author: AbstractBaseUser | None,
    now: datetime,
) -> RequestUpdate:
    """Move a locked report to another department and tell the citizen and that department."""
    previous = report.department
    report.department = department
    report.assigned_to = None
    text = (
        f"Forwarded from {previous} to {department}." if previous else f"Forwarded to {department}."
    )
    update = _record(
        report,
        kind=Kind.FORWARD,
        author=author,
        public=True,
        now=now,
        text=text,
        department_from=previous,
        department_to=department,
    )
    queue_after_commit(notify_forwarded, update.pk)
    return update


def request_forward(
    *,
    request: ServiceRequest,
    author: AbstractBaseUser | None,
    department: Department,
    note: str = "",
) -> ServiceRequest:
    """Hand the report to another department, keeping its history.

    The citizen's timeline gets "Forwarded from A to B"; the note is internal (a separate
    entry the citizen never sees); the new department gets an email."""
    note = _clean_text(note, field="note")
    with transaction.atomic():
        report = _lock(request)
        if not department.active:
            raise ValidationError({"department": [f"{department} is not active."]})
        if department.pk == report.department_id:
            raise ValidationError({"department": [f"The report is already with {department}."]})
        if report.state in CLOSED_STATES:
            raise ValidationError({"department": ["Reopen a closed report before forwarding it."]})
        now = timezone.now()
        _forward_in_lock(report, department, author=author, now=now)
        if note:
            _record(report, kind=Kind.NOTE, author=author, public=False, now=now, text=note)
        _save(report, now, "department", "assigned_to")
    return report


def request_close_as_duplicate(
    *,
    request: ServiceRequest,
    author: AbstractBaseUser | None,
    master: ServiceRequest,
    text: str = "",
) -> ServiceRequest:
    """Close a report as a duplicate of `master` and move its followers to the master.

    Refuses the report itself, a closed report (reopen it first), a hidden master (its
    page is not public) and any master whose own duplicate chain leads back here. A master
    that is itself a duplicate is replaced by the report it duplicates, and reports that
    were duplicates of this one now point at the master, so chains stay flat."""
    text = _clean_text(text)
    with transaction.atomic():
        report = _lock(request)
        if master.pk == report.pk:
            raise ValidationError({"master": ["A report can't be a duplicate of itself."]})
        seen = {report.pk}
        cursor: ServiceRequest | None = master
        while cursor is not None:
            if cursor.pk in seen:
                raise ValidationError(
                    {"master": [f"#{master.pk} is itself a duplicate of this report."]}
                )
            seen.add(cursor.pk)
            master, cursor = cursor, cursor.duplicate_of
        if report.state == State.DUPLICATE and report.duplicate_of_id == master.pk:
            raise ValidationError({"master": [f"Already closed as a duplicate of #{master.pk}."]})
        if report.state in CLOSED_STATES:
            raise ValidationError(
                {"master": ["Reopen a closed report before closing it as a duplicate."]}
            )
        if master.hidden:
            raise ValidationError(
                {"master": [f"#{master.pk} is hidden from the public; choose a visible report."]}
            )
        now = timezone.now()
        previous = report.state
        _set_state(report, State.DUPLICATE, now)
        report.duplicate_of = master
        message = f"Closed as a duplicate of report #{master.pk}."
        public_text = f"{message} {text}" if text else message
        followers = _followers_move(report, master)
        update = _record(
            report,
            kind=Kind.STATE,
            author=author,
            public=True,
            now=now,
            text=public_text,
            state_from=previous,
            state_to=State.DUPLICATE,
            notify=False,
        )
        if followers and not report.hidden:
            queue_after_commit(notify_public_update, update.pk, followers)
        ServiceRequest.objects.filter(duplicate_of=report).update(duplicate_of=master)
        report.status_notes = public_text
        _save(report, now, "state", "status", "closed_datetime", "duplicate_of", "status_notes")
    return report


def _followers_move(report: ServiceRequest, master: ServiceRequest) -> list[int]:
    """Move active subscriptions to the master; return the ids to tell about it.

    Someone already following the master keeps that subscription (an unsubscribe from the
    master is respected) and their subscription to the duplicate is switched off."""
    on_master = set(Subscription.objects.filter(request=master).values_list("email", flat=True))
    ids: list[int] = []
    for subscription in Subscription.objects.filter(request=report, active=True):
        if subscription.email in on_master:
            subscription.active = False
            subscription.save(update_fields=["active"])
        else:
            subscription.request = master
            subscription.save(update_fields=["request"])
            ids.append(subscription.pk)
    return ids


def request_moderate(
    *,
    request: ServiceRequest,
    author: AbstractBaseUser | None,
    hidden: bool,
    description_redacted: bool,
    reason: str,
) -> ServiceRequest:
    """Hide a report or redact its description from every public place; staff still see it."""
    reason = _clean_text(reason, field="reason")[:255]
    with transaction.atomic():
        report = _lock(request)
        if hidden == report.hidden and description_redacted == report.description_redacted:
            raise ValidationError("Nothing to change.")
        if (hidden or description_redacted) and not reason:
            raise ValidationError({"reason": ["Say why, for the record."]})
        changes = []
        if hidden != report.hidden:
            changes.append("report hidden" if hidden else "report shown again")
        if description_redacted != report.description_redacted:
            changes.append(
                "description redacted" if description_redacted else "description restored"
            )
        now = timezone.now()
        report.hidden = hidden
        report.description_redacted = description_redacted
        report.moderation_reason = reason if (hidden or description_redacted) else ""
        text = "; ".join(changes).capitalize() + (f": {reason}" if reason else ".")
        _record(report, kind=Kind.MODERATION, author=author, public=False, now=now, text=text)
        _save(report, now, "hidden", "description_redacted", "moderation_reason")
    return report


def photo_moderate(
    *, photo: Photo, author: AbstractBaseUser | None, hidden: bool, reason: str
) -> Photo:
    """Hide (or show again) one photo of a report, with a reason."""
    reason = _clean_text(reason, field="reason")[:255]
    with transaction.atomic():
        photo.refresh_from_db(from_queryset=Photo.objects.select_for_update())
        if photo.hidden == hidden:
            raise ValidationError("Nothing to change.")
        if hidden and not reason:
            raise ValidationError({"reason": ["Say why, for the record."]})
        report = _lock(photo.request)
        now = timezone.now()
        photo.hidden = hidden
        photo.hidden_reason = reason if hidden else ""
        photo.save(update_fields=["hidden", "hidden_reason"])
        verb = "hidden" if hidden else "shown again"
        text = f"Photo {photo.order} {verb}" + (f": {reason}" if reason else ".")
        _record(report, kind=Kind.MODERATION, author=author, public=False, now=now, text=text)
        _save(report, now)
    return photo


def request_recategorise(
    *, request: ServiceRequest, author: AbstractBaseUser | None, service: Service
) -> ServiceRequest:
    """Change the category: re-route, recompute the target time, record both on the timeline."""
    with transaction.atomic():
        report = _lock(request)
        if service.pk == report.service_id:
            raise ValidationError({"service": ["The report is already in that category."]})
        if not service.active:
            raise ValidationError({"service": [f"“{service}” is not accepting reports."]})
        if report.state in CLOSED_STATES:
            # Re-routing would forward a finished report to a department with nothing to do.
            raise ValidationError(
                {"service": ["Reopen a closed report before changing its category."]}
            )
        now = timezone.now()
        previous_service = report.service
        decision = route(
            service_id=service.pk,
            group=service.group,
            default_department_id=service.department_id,
            lat=report.lat,
            lng=report.long,
        )
        report.service = service
        report.area_id = decision.area_id
        report.expected_datetime = (
            report.requested_datetime + timedelta(hours=service.sla_hours)
            if service.sla_hours
            else None
        )
        how = "by routing rule" if decision.rule_id else "as the category's default"
        target = Department.objects.get(pk=decision.department_id)
        _record(
            report,
            kind=Kind.ROUTED,
            author=author,
            public=False,
            now=now,
            text=f"Category changed from {previous_service} to {service}; "
            f"routed to {target} {how}.",
            department_from=report.department,
            department_to=target,
        )
        if target.pk != report.department_id:
            _forward_in_lock(report, target, author=author, now=now)
        _save(report, now, "service", "area", "expected_datetime", "department", "assigned_to")
    return report
