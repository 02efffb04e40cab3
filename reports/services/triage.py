"""Staff triage: every change a department makes to a report goes through these functions.

Each one validates, locks the report row, writes one or more timeline entries (author, time,
public or internal), keeps the derived Open311 fields (`status`, `closed_datetime`,
`updated_datetime`, `status_notes`) in step, and queues notification emails after commit.
Permission checks (may this user touch this department's report?) belong to the caller,
the admin; these functions only enforce what makes sense for the report itself.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from departments.areasets import area_set_for
from departments.models import Department, StaffMembership
from reports import rules
from reports.browse import clusters
from reports.insights import exports
from reports.limits import MAX_REASON
from reports.models import (
    Photo,
    RequestUpdate,
    ResponseTemplate,
    Service,
    ServiceRequest,
    Subscription,
)
from reports.notifications import notify_followers, notify_forwarded, outbox_fixed_question
from reports.photos import photo_files_delete_on_commit, photo_files_sync_on_commit
from reports.rules import CLOSED_STATES, OPEN_STATES, TRANSITIONS
from reports.services.subscriptions import subscriptions_move
from reports.services.timeline import Author, clean_text, report_lock, report_touch, timeline_add

State = ServiceRequest.State
Kind = RequestUpdate.Kind


def _check_template(template: ResponseTemplate, report: ServiceRequest) -> None:
    if not template.active:
        raise ValidationError({"template": ["That response template is no longer active."]})
    if template.department_id != report.department_id or (
        template.service_id and template.service_id != report.service_id
    ):
        raise ValidationError({"template": ["That template is not for this report's category."]})


def report_update(
    *,
    report: ServiceRequest,
    author: Author,
    state: str = "",
    text: str = "",
    public: bool = True,
    template: ResponseTemplate | None = None,
    only_from: Collection[str] = (),
    quiet_for: str = "",
) -> ServiceRequest:
    """Change the workflow state and/or add a note: the staff "reply" in one call.

    `quiet_for`: a follower's address that gets no email about a state change (the person
    who made it, e.g. the reporter reopening their report, already knows).

    `only_from` narrows the states the change may start from (e.g. bulk "acknowledge" must
    not quietly reopen a closed report); it is checked under the row lock.

    `state` empty keeps the state. `text` (or the template's text when `text` is empty) goes
    on the timeline: with the state change when public, as a separate internal note when not.
    A public text becomes the Open311 `status_notes`."""
    text = clean_text(text)
    with transaction.atomic():
        report_lock(report)
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
            rules.apply_state(report, state, now=now)
            fields += ["state", "status", "closed_datetime", "duplicate_of"]
            update = timeline_add(
                report,
                kind=Kind.STATE,
                author=author,
                public=True,
                now=now,
                text=text if public else "",
                state_from=previous,
                state_to=state,
                notify=False,
            )
            _notify_state_change(report, update, quiet_for=quiet_for)
        if text and (public and not changing):
            timeline_add(report, kind=Kind.NOTE, author=author, public=True, now=now, text=text)
        if text and not public:
            timeline_add(report, kind=Kind.NOTE, author=author, public=False, now=now, text=text)
        if text and public:
            report.status_notes = text
            fields.append("status_notes")
        report_touch(report, now, *fields)
    return report


def _notify_state_change(
    report: ServiceRequest, update: RequestUpdate, *, quiet_for: str = ""
) -> None:
    """Email a state change to the followers; a closing asks the reporter "Is it fixed?"
    instead of sending them the plain update (the question carries the same news)."""
    asked = outbox_fixed_question(report=report, update=update) if not report.is_open else None
    if report.hidden:
        return
    followers = Subscription.objects.filter(request=report)
    if asked is not None:
        followers = followers.exclude(pk=asked.pk)
    if quiet_for:
        followers = followers.exclude(email=quiet_for)
    notify_followers(update=update, subscriptions=followers)


def report_acknowledge(*, report: ServiceRequest, author: Author) -> ServiceRequest:
    return report_update(
        report=report, author=author, state=State.ACKNOWLEDGED, only_from=[State.NEW]
    )


def report_start(*, report: ServiceRequest, author: Author) -> ServiceRequest:
    return report_update(
        report=report,
        author=author,
        state=State.IN_PROGRESS,
        only_from=[State.NEW, State.ACKNOWLEDGED],
    )


def report_close(
    *,
    report: ServiceRequest,
    author: Author,
    state: str = State.FIXED,
    text: str = "",
    template: ResponseTemplate | None = None,
) -> ServiceRequest:
    if state not in CLOSED_STATES:
        raise ValidationError({"state": ["Choose how the report was closed."]})
    return report_update(
        report=report,
        author=author,
        state=state,
        text=text,
        template=template,
        only_from=[s for s in State.values if s in OPEN_STATES],
    )


def report_reopen(
    *, report: ServiceRequest, author: Author, text: str = "", by_reporter: bool = False
) -> ServiceRequest:
    """Open a closed report again. `by_reporter`: the reporter said it is not fixed; the
    other followers are told, the reporter (who just said so) is not emailed about it."""
    return report_update(
        report=report,
        author=author,
        state=State.ACKNOWLEDGED,
        text=text,
        only_from=[s for s in State.values if s in CLOSED_STATES],
        quiet_for=report.reporter_email if by_reporter else "",
    )


def report_note_add(
    *, report: ServiceRequest, author: Author, text: str, public: bool
) -> ServiceRequest:
    if not (text or "").strip():
        raise ValidationError({"text": ["A note needs some text."]})
    return report_update(report=report, author=author, text=text, public=public)


def report_assign(
    *,
    report: ServiceRequest,
    author: Author,
    assignee: User | None,
) -> ServiceRequest:
    """Give the report to one staff member of its department (None: unassign)."""
    with transaction.atomic():
        report_lock(report)
        if assignee is not None and not (
            assignee.is_active
            and assignee.is_staff
            and report.department_id is not None
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
        timeline_add(report, kind=Kind.ASSIGN, author=author, public=False, now=now, text=text)
        report_touch(report, now, "assigned_to")
    return report


def _forward_in_lock(
    report: ServiceRequest,
    department: Department,
    *,
    author: Author,
    now: datetime,
    note: str = "",
) -> RequestUpdate:
    """Move a locked report to another department and tell the citizen and that department
    (with the forwarder's internal note, a separate entry the citizen never sees)."""
    previous = report.department
    report.department = department
    report.assigned_to = None
    text = (
        f"Forwarded from {previous} to {department}." if previous else f"Forwarded to {department}."
    )
    update = timeline_add(
        report,
        kind=Kind.FORWARD,
        author=author,
        public=True,
        now=now,
        text=text,
        department_from=previous,
        department_to=department,
    )
    if note:
        timeline_add(report, kind=Kind.NOTE, author=author, public=False, now=now, text=note)
    notify_forwarded(update=update, note=note)
    return update


def report_forward(
    *,
    report: ServiceRequest,
    author: Author,
    department: Department,
    note: str = "",
) -> ServiceRequest:
    """Hand the report to another department, keeping its history.

    The citizen's timeline gets "Forwarded from A to B"; the note is internal (a separate
    entry the citizen never sees); the new department gets an email."""
    note = clean_text(note, field="note")
    with transaction.atomic():
        report_lock(report)
        if not department.active:
            raise ValidationError({"department": [f"{department} is not active."]})
        if department.pk == report.department_id:
            raise ValidationError({"department": [f"The report is already with {department}."]})
        if report.state in CLOSED_STATES:
            raise ValidationError({"department": ["Reopen a closed report before forwarding it."]})
        now = timezone.now()
        _forward_in_lock(report, department, author=author, now=now, note=note)
        report_touch(report, now, "department", "assigned_to")
    return report


def report_close_as_duplicate(
    *,
    report: ServiceRequest,
    author: Author,
    master: ServiceRequest,
    text: str = "",
) -> ServiceRequest:
    """Close a report as a duplicate of `master` and move its followers to the master.

    Refuses the report itself, a closed report (reopen it first), a hidden master (its
    page is not public) and any master whose own duplicate chain leads back here. A master
    that is itself a duplicate is replaced by the report it duplicates, and reports that
    were duplicates of this one now point at the master, so chains stay flat."""
    text = clean_text(text)
    with transaction.atomic():
        if master.pk == report.pk:
            raise ValidationError({"master": ["A report can't be a duplicate of itself."]})
        # The master's row is locked too, both in id order: two staff members closing two
        # reports as duplicates of each other at once each saw the other still open, and
        # left both closed, each naming the other. Now the second waits, then sees the loop.
        rows = ServiceRequest.objects.select_for_update().filter(pk__in=[report.pk, master.pk])
        fresh = {row.pk: row for row in rows.order_by("pk")}
        report_lock(report)
        master = fresh.get(master.pk, master)
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
        rules.apply_duplicate(report, master.pk, now=now)
        public_text = rules.duplicate_text(master.pk, text)
        followers = subscriptions_move(report=report, master=master)
        update = timeline_add(
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
        if followers:
            notify_followers(
                update=update, subscriptions=Subscription.objects.filter(pk__in=followers)
            )
        ServiceRequest.objects.filter(duplicate_of=report).update(duplicate_of=master)
        report.status_notes = public_text
        fields = ["state", "status", "closed_datetime", "duplicate_of", "status_notes"]
        report_touch(report, now, *fields)
    return report


def report_moderate(
    *,
    report: ServiceRequest,
    author: Author,
    hidden: bool,
    description_redacted: bool,
    reason: str,
) -> ServiceRequest:
    """Hide a report or redact its description from every public place; staff still see it."""
    reason = clean_text(reason, field="reason", limit=MAX_REASON)
    with transaction.atomic():
        report_lock(report)
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
        timeline_add(report, kind=Kind.MODERATION, author=author, public=False, now=now, text=text)
        report_touch(report, now, "hidden", "description_redacted", "moderation_reason")
        if "report hidden" in changes or "report shown again" in changes:
            # Its photos' files leave the public folders (or return) once this commits.
            photo_files_sync_on_commit(report_id=report.pk)
        if "report hidden" in changes or "description redacted" in changes:
            exports.dumps_retract_on_commit()
        if "report hidden" in changes:
            clusters.answers_forget_on_commit()  # the map's kept answers name it
    return report


def reports_delete(*, reports: QuerySet[ServiceRequest]) -> int:
    """Delete reports for good (superusers, in the admin) and take down what was published
    of them: their photos' files once this commits, and, as a hiding does, the dumps (taken
    down and written again) and the map's kept answers. Returns how many were deleted."""
    with transaction.atomic():
        # The same reports for the photos and the deletion, whatever is filed meanwhile.
        ids = list(reports.values_list("pk", flat=True))
        photos = list(Photo.objects.filter(request__in=ids).only("original", "image", "thumbnail"))
        deleted = ServiceRequest.objects.filter(pk__in=ids).delete()[1]
        photo_files_delete_on_commit(photos)
        exports.dumps_retract_on_commit()
        clusters.answers_forget_on_commit()
    return deleted.get(ServiceRequest._meta.label, 0)


def report_recategorise(
    *, report: ServiceRequest, author: Author, service: Service
) -> ServiceRequest:
    """Change the category: re-route, recompute the target time, record both on the timeline."""
    with transaction.atomic():
        report_lock(report)
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
        decision = service.route(lat=report.lat, long=report.long)
        # The category's own department is the fallback, so routing always names one.
        assert decision.department_id is not None
        target = Department.objects.get(pk=decision.department_id)
        if not target.active:  # as a forward to it is refused
            raise ValidationError(
                {"service": [f"{target} is inactive: “{service}” can't send it reports."]}
            )
        report.service = service
        report.area_id = decision.area_id
        report.area_set_id = decision.area_set_id or area_set_for(decision.area_ids)
        report.expected_datetime = rules.expected_datetime(
            report.requested_datetime, service.sla_hours
        )
        timeline_add(
            report,
            kind=Kind.ROUTED,
            author=author,
            public=False,
            now=now,
            text=f"Category changed from {previous_service} to {service}. "
            + rules.routed_text(target.name, decision),
            department_from=report.department,
            department_to=target,
        )
        if target.pk != report.department_id:
            _forward_in_lock(report, target, author=author, now=now)
        fields = ["service", "area", "area_set", "expected_datetime", "department", "assigned_to"]
        report_touch(report, now, *fields)
    return report
