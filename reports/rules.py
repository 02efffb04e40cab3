"""The rules that tie a report's fields together, in one place.

Pure functions of plain values (no queries, no saves), so the services, the admin forms and
the data generators (which bulk-create history) all apply the same rules."""

from __future__ import annotations

from reports.models import ServiceRequest

State = ServiceRequest.State

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
