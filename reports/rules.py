"""The rules that tie a report's fields together, in one place.

Pure functions of plain values and unsaved model instances (no queries, no saves), so the
services, the admin forms and both data generators (`seed_demo`, and `generate_reports`,
which bulk-creates history) apply the same rules. Every function that depends on the time
takes an explicit `now`, so history can be generated as well as recorded. The database
backs the rules it can check with constraints on ServiceRequest (see its Meta).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from departments.areasets import area_set_for
from departments.routing import RoutingDecision
from reports.models import ServiceRequest

State = ServiceRequest.State
Status = ServiceRequest.Status

OPEN_STATES = frozenset(ServiceRequest.OPEN_STATES)
CLOSED_STATES = frozenset(ServiceRequest.CLOSED_STATES)
# Where a report may go from each state. Closing as duplicate needs a master report, so it
# has its own service; a closed report can only be reopened (to acknowledged or in progress).
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


def allowed_states(report: ServiceRequest) -> list[str]:
    """The states a report may move to now, in workflow order (for forms)."""
    allowed = TRANSITIONS.get(report.state, frozenset())
    return [value for value, _label in State.choices if value in allowed]


def status_for(state: str) -> str:
    """Open311's two-valued status for a workflow state."""
    return Status.CLOSED if state in CLOSED_STATES else Status.OPEN


def closed_datetime_for(state: str, *, now: datetime) -> datetime | None:
    """When a report put in `state` at `now` counts as closed: `now` for a closed state,
    None for an open one."""
    return now if state in CLOSED_STATES else None


def apply_state(report: ServiceRequest, state: str, *, now: datetime) -> None:
    """Put the report in `state` at `now`: status follows the state, and a closed report
    carries the time it closed (an open one none). A duplicate goes through
    `apply_duplicate`, which also names the master; any other state leaves no master named
    (a reopened duplicate is a report of its own again)."""
    if state == State.DUPLICATE and report.duplicate_of_id is None:
        raise ValueError("A duplicate names its master: use apply_duplicate().")
    if state != State.DUPLICATE:
        report.duplicate_of_id = None
    report.state = state
    report.status = status_for(state)
    report.closed_datetime = closed_datetime_for(state, now=now)


def apply_duplicate(report: ServiceRequest, master_id: int, *, now: datetime) -> None:
    """Close the report at `now` as a duplicate of the report numbered `master_id`."""
    if master_id == report.pk:
        raise ValueError("A report can't be a duplicate of itself.")
    report.duplicate_of_id = master_id
    apply_state(report, State.DUPLICATE, now=now)


def duplicate_text(master_id: int, text: str = "") -> str:
    """The public timeline text of closing a report as a duplicate."""
    message = f"Closed as a duplicate of report #{master_id}."
    return f"{message} {text}" if text else message


def expected_datetime(requested: datetime, sla_hours: int | None) -> datetime | None:
    """When the city aims to have closed a report requested at `requested` (Open311's
    expected_datetime); None for a category without a target time."""
    return requested + timedelta(hours=sla_hours) if sla_hours else None


def apply_routing(report: ServiceRequest, decision: RoutingDecision) -> None:
    """Give the report the department and area routing chose, and the target time of its
    category (counted from when it was requested)."""
    report.department_id = decision.department_id
    report.area_id = decision.area_id
    report.area_set_id = decision.area_set_id or area_set_for(decision.area_ids)
    # The rows routing read, kept on the report: its email and timeline read them next.
    if decision.department is not None:
        report.department = decision.department
    if decision.area is not None:
        report.area = decision.area
    report.expected_datetime = expected_datetime(
        report.requested_datetime, report.service.sla_hours
    )


def routed_text(department_name: str, decision: RoutingDecision) -> str:
    """The internal timeline text saying where routing sent a report, and why."""
    how = "by routing rule" if decision.rule_id else "as the category's default"
    return f"Routed to {department_name} {how}."


def is_overdue(report: ServiceRequest, *, now: datetime) -> bool:
    """Open and past its target time."""
    return bool(
        report.status == Status.OPEN
        and report.expected_datetime is not None
        and report.expected_datetime < now
    )


# The reporter's follow-up: the preview window and the "Is it fixed?" question.


def published_at(requested: datetime, preview_minutes: int) -> datetime:
    """When a report becomes public: after the reporter's preview window (0: at once)."""
    return requested + timedelta(minutes=max(0, preview_minutes))


def in_preview(report: ServiceRequest, *, now: datetime) -> bool:
    """Whether the reporter may still edit the report before it is public."""
    return now < report.published_at


# How many more windows a reporter may add with "I need more time". WCAG 2.2.1 (Timing
# Adjustable) asks that a time limit can be extended at least ten times; capping the total
# (rather than counting clicks) keeps a report from staying private for ever, since the
# public, followers and other reporters looking for duplicates are waiting for it, while
# an early click, which gains less than a window, costs the reporter nothing.
PREVIEW_EXTENSIONS = 10


def preview_latest(report: ServiceRequest, preview_minutes: int) -> datetime:
    """The latest a reporter may hold their report back: the first window and
    PREVIEW_EXTENSIONS more, counted from its sending."""
    return report.requested_datetime + timedelta(
        minutes=max(0, preview_minutes) * (1 + PREVIEW_EXTENSIONS)
    )


def preview_extended(report: ServiceRequest, *, now: datetime, preview_minutes: int) -> datetime:
    """When the report becomes public after "I need more time" at `now`: a whole window
    from now, never earlier than already set nor later than `preview_latest`."""
    later = min(now + timedelta(minutes=preview_minutes), preview_latest(report, preview_minutes))
    return max(report.published_at, later)


def can_extend_preview(report: ServiceRequest, *, now: datetime, preview_minutes: int) -> bool:
    """Whether "I need more time" can still move the report's publication later."""
    return in_preview(report, now=now) and report.published_at < preview_latest(
        report, preview_minutes
    )


def updated_at(report: ServiceRequest, now: datetime) -> datetime:
    """The Open311 `updated_datetime` of a change at `now`: never before the report became
    public, so a client polling with `updated_after` sees a report once it is published
    even though it was filed (and perhaps changed) before."""
    return max(now, report.published_at) if report.published_at else now


def asks_if_fixed(report: ServiceRequest) -> bool:
    """Whether closing this report asks its reporter "Is it fixed?": a closed report
    (not a duplicate, not hidden) with a reporter's email, who has not already confirmed
    it fixed."""
    return (
        report.state in CLOSED_STATES
        and report.state != State.DUPLICATE
        and not report.hidden
        and bool(report.reporter_email)
        and report.fixed_confirmed_at is None
    )


class FixedAnswer:
    """Where a reporter's answer to the question about the closing at `closed_at` stands."""

    ASK = "ask"  # the question is open: the report is still closed by that closing
    CONFIRMED = "confirmed"  # the reporter said it is fixed
    REOPENED = "reopened"  # the reporter said it is not fixed (this closing or a later one)
    STALE = "stale"  # staff reopened or closed it again since; nothing to answer
    UNAVAILABLE = "unavailable"  # hidden by a moderator


def fixed_answer(report: ServiceRequest, closed_at: datetime) -> str:
    if report.hidden:
        return FixedAnswer.UNAVAILABLE
    if report.fixed_confirmed_at is not None:
        return FixedAnswer.CONFIRMED
    reopened = report.reopened_by_reporter_at
    if reopened is not None and reopened >= closed_at:
        return FixedAnswer.REOPENED
    if report.status == Status.CLOSED and report.closed_datetime == closed_at:
        return FixedAnswer.ASK
    return FixedAnswer.STALE
