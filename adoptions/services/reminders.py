"""The daily reminders: a few days before a care visit is due, once per missed period (a
calendar month for bus shelters, adoptions/rules.py) after that, and, after
ADOPTION_LAPSE_AFTER_MISSED missed periods, the lapse (the adoption ends, the asset is
available again, and the volunteer is told why and invited to adopt again).

Each (adoption, kind, period) is recorded in ReminderSent under a unique constraint, in the
same transaction as its email in the outbox: running the job twice, or twice at once, sends
nothing twice, and a broker outage only delays the emails (the outbox sweeps them)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from adoptions import rules
from adoptions.emails import adoption_email
from adoptions.models import Adoption, ReminderSent
from adoptions.services.adoptions import adoption_end


def reminders_send(*, now: datetime | None = None) -> Counter[str]:
    """Send what is owed today; returns how many of each kind were recorded.

    What is owed is worked out from one read of the candidates and of the reminders already
    recorded for them; only those still owed are locked and recorded, one transaction each
    (so one failure loses nothing else)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    days_before = int(settings.ADOPTION_REMINDER_DAYS_BEFORE)
    lapse_after = int(settings.ADOPTION_LAPSE_AFTER_MISSED)
    # The stored due date (rules.next_due) picks the candidates in SQL; the rules say what
    # each is owed from the same dates.
    candidates = list(
        Adoption.objects.due_by(today + timedelta(days=days_before))
        .order_by("pk")
        .values_list(
            "pk",
            "due_on",
            "started",
            "last_cared_on",
            "asset__asset_type__cadence_months",
            "asset__asset_type__cadence_since",
        )
    )
    recorded = set(
        ReminderSent.objects.filter(adoption_id__in=[row[0] for row in candidates])
        .filter(period__gte=min((row[1] for row in candidates), default=today))
        .values_list("adoption_id", "kind", "period")
    )
    done: Counter[str] = Counter()
    for adoption_id, _, started, last_cared_on, cadence_months, since in candidates:
        owed = rules.reminder_for(
            started=timezone.localdate(started),
            last_cared_on=last_cared_on,
            today=today,
            cadence_months=cadence_months,
            days_before=days_before,
            lapse_after=lapse_after,
            since=since,
        )
        if owed is None or (adoption_id, owed.kind, owed.period) in recorded:
            continue
        kind = _remind(adoption_id, now=now, days_before=days_before)
        if kind:
            done[kind] += 1
    return done


def _remind(adoption_id: int, *, now: datetime, days_before: int) -> str | None:
    with transaction.atomic():
        adoption = (
            Adoption.objects.select_for_update(of=("self",))
            .select_related("asset__asset_type", "volunteer")
            .filter(pk=adoption_id, ended__isnull=True)
            .first()
        )
        if adoption is None:
            return None
        reminder = rules.reminder_for(
            started=timezone.localdate(adoption.started),
            last_cared_on=adoption.last_cared_on,
            today=timezone.localdate(now),
            cadence_months=adoption.asset.asset_type.cadence_months,
            days_before=days_before,
            lapse_after=int(settings.ADOPTION_LAPSE_AFTER_MISSED),
            since=adoption.asset.asset_type.cadence_since,
        )
        if reminder is None:
            return None
        try:
            with transaction.atomic():
                ReminderSent.objects.create(
                    adoption=adoption, kind=reminder.kind, period=reminder.period, sent_at=now
                )
        except IntegrityError:
            return None  # recorded already: by an earlier run, or by one running now
        if reminder.kind == rules.LAPSED:
            adoption_end(adoption=adoption, reason=Adoption.EndReason.LAPSED, now=now)
        elif adoption.reminders:
            adoption_email(adoption, kind=reminder.kind, now=now, period=reminder.period)
        return reminder.kind
