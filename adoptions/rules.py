"""The rules that tie an adoption's dates together: when the next care visit is due, how
many care periods have been missed, and which reminder (if any) is owed on a given day.

A volunteer promises one visit every `cadence_months` calendar months ("once a month" for
bus shelters). A care period runs from the last visit logged (or the day of adopting, when
there is none yet), its *anchor*, to the same day of the month `cadence_months` later,
clamped to the month's last day: a visit on January 31st is due by February 28th (29th in
a leap year), one on April 30th by May 30th. The n-th period after the anchor ends n times
that far from the anchor itself, so a clamped month does not pull later ones earlier.

Every due date goes through `next_due` or `period_due`: the one stored on the adoption
(which the "overdue" filters and the lists compare with today in SQL), the pages, the
emails and the reminders. Pure functions of plain dates in the city's time zone, no
queries: callers pass an explicit `today`, so tests freeze time by passing it."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

DUE_SOON = "due_soon"
OVERDUE = "overdue"
LAPSED = "lapsed"


def add_months(day: date, months: int) -> date:
    """`day` moved `months` calendar months on, clamped to the last day of that month."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def anchor_of(*, started: date, last_cared_on: date | None, since: date | None = None) -> date:
    """Where the care periods are counted from: the last visit (or the start), or the day
    the asset type's cadence last changed when that is later (`since`): a cadence made
    shorter does not turn the months before the change into missed periods (from every
    12 months to every month, an adoption visited 10 months ago would lapse the next
    morning), and a longer one starts its first period that day."""
    anchor = last_cared_on or started
    return max(anchor, since) if since is not None else anchor


def period_due(
    *,
    started: date,
    last_cared_on: date | None,
    cadence_months: int,
    n: int,
    since: date | None = None,
) -> date:
    """The due date of the n-th care period (n >= 1) after the last visit (or the start)."""
    anchor = anchor_of(started=started, last_cared_on=last_cared_on, since=since)
    return add_months(anchor, n * cadence_months)


def next_due(
    *, started: date, last_cared_on: date | None, cadence_months: int, since: date | None = None
) -> date:
    """A visit is due one cadence after the last one (or after the adoption started)."""
    return period_due(
        started=started,
        last_cared_on=last_cared_on,
        cadence_months=cadence_months,
        n=1,
        since=since,
    )


def missed_periods(
    *,
    started: date,
    last_cared_on: date | None,
    today: date,
    cadence_months: int,
    since: date | None = None,
) -> int:
    """How many care periods have passed without a visit: 0 up to the due date, 1 the day
    after it, 2 the day after the next period's due date, and so on."""
    anchor = anchor_of(started=started, last_cared_on=last_cared_on, since=since)
    months = (today.year - anchor.year) * 12 + today.month - anchor.month
    missed = max(0, months // cadence_months)  # one too many when in today's month

    def due(n: int) -> date:
        return add_months(anchor, n * cadence_months)

    while missed and due(missed) >= today:
        missed -= 1
    return missed


def cadence_phrase(cadence_months: int) -> str:
    """How the pages and emails say the promise: "once a month", "every 3 months"."""
    return "once a month" if cadence_months == 1 else f"every {cadence_months} months"


@dataclass(frozen=True)
class Reminder:
    kind: str
    period: date  # the due date of the care period the reminder is about


def reminder_for(
    *,
    started: date,
    last_cared_on: date | None,
    today: date,
    cadence_months: int,
    days_before: int,
    lapse_after: int,
    since: date | None = None,
) -> Reminder | None:
    """The reminder owed today, if any: "due soon" within `days_before` days of the due
    date, "overdue" once per missed period, and "lapsed" once `lapse_after` periods are
    missed (the adoption then ends). The caller records each (kind, period) once."""
    anchor = anchor_of(started=started, last_cared_on=last_cared_on, since=since)
    due_on = add_months(anchor, cadence_months)
    missed = missed_periods(
        started=started,
        last_cared_on=last_cared_on,
        today=today,
        cadence_months=cadence_months,
        since=since,
    )
    if missed >= lapse_after:
        return Reminder(LAPSED, due_on)
    if missed:
        return Reminder(OVERDUE, add_months(anchor, missed * cadence_months))
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
