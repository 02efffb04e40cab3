"""The rules that tie an adoption's dates together: when the next care visit is due, how
many care periods have been missed, and which reminder (if any) is owed on a given day.

Pure functions of plain values, no queries: the services, the reminder job and the demo
data all call them with an explicit `today`, so tests freeze time by passing it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

DUE_SOON = "due_soon"
OVERDUE = "overdue"
LAPSED = "lapsed"


def next_due(*, started: date, last_cared_on: date | None, cadence_days: int) -> date:
    """A visit is due one cadence after the last one (or after the adoption started)."""
    return (last_cared_on or started) + timedelta(days=cadence_days)


def missed_periods(*, due_on: date, today: date, cadence_days: int) -> int:
    """How many care periods have passed without a visit: 0 up to the due date, 1 the day
    after it, 2 one more cadence later, and so on."""
    if today <= due_on:
        return 0
    return -(-(today - due_on).days // cadence_days)


@dataclass(frozen=True)
class Reminder:
    kind: str
    period: date  # the due date of the care period the reminder is about


def reminder_for(
    *,
    due_on: date,
    today: date,
    cadence_days: int,
    days_before: int,
    lapse_after: int,
) -> Reminder | None:
    """The reminder owed today, if any: "due soon" within `days_before` days of the due
    date, "overdue" once per missed period, and "lapsed" once `lapse_after` periods are
    missed (the adoption then ends). The caller records each (kind, period) once."""
    missed = missed_periods(due_on=due_on, today=today, cadence_days=cadence_days)
    if missed >= lapse_after:
        return Reminder(LAPSED, due_on)
    if missed:
        return Reminder(OVERDUE, due_on + timedelta(days=(missed - 1) * cadence_days))
    if (due_on - today).days <= days_before:
        return Reminder(DUE_SOON, due_on)
    return None


def care_date_error(*, day: date, started: date, today: date) -> str | None:
    """Why a care visit cannot be logged on `day`, or None."""
    if day > today:
        return "The date of the visit cannot be in the future."
    if day < started:
        return f"The date cannot be before the adoption started ({started:%b %-d, %Y})."
    return None
