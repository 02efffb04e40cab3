"""The "once a month" promise follows calendar months: a visit is due on the same day of the
next month as the last one (or as the adoption's start), clamped to the month's last day.
The due date, the overdue filters (SQL, on both databases) and the reminders agree."""

from __future__ import annotations

import importlib
from collections import Counter
from datetime import date, timedelta

import pytest
from django.apps import apps as django_apps
from django.db import IntegrityError, transaction
from django.utils import timezone

from adoptions.models import Adoption, AssetType, ReminderSent
from adoptions.services.adoptions import adoption_release, adoption_start
from adoptions.services.care import care_log_add
from adoptions.services.reminders import reminders_send
from reports.models import OutboxMessage
from tests.adoptions.conftest import AssetFactory, local
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def at(day: date, hour: int) -> object:
    return local(day.year, day.month, day.day, hour)


def sent() -> Counter[str]:
    return Counter(
        OutboxMessage.objects.exclude(kind="adoption-adopted").values_list("kind", flat=True)
    )


@pytest.mark.parametrize("year", [2026, 2028])  # 2028: a leap year
def test_the_first_of_the_month_volunteer_is_never_overdue(asset, volunteer, year):
    """Adopted on December 1st, cleans on the 1st of every month (after the 8:00 job)."""
    adoption = adoption_start(
        asset=asset, volunteer=volunteer, accept_terms=True, now=local(year - 1, 12, 1)
    )
    assert adoption.due_on == date(year, 1, 1)
    for day in days(date(year - 1, 12, 2), date(year, 12, 31)):
        reminders_send(now=at(day, 8))
        assert not Adoption.objects.overdue(day).exists(), day
        if day.day == 1:
            care_log_add(adoption=adoption, volunteer=volunteer, day=day, now=at(day, 17))
            adoption.refresh_from_db()
            assert adoption.due_on == (day + timedelta(days=32)).replace(day=1)
    # One a month (January's on December 29th, next January's on December 29th), no other.
    assert sent() == Counter({"adoption-due_soon": 13})
    assert adoption.reminders_sent.filter(kind__in=["overdue", "lapsed"]).count() == 0


@pytest.mark.parametrize(
    ("visit", "due"),
    [
        (date(2026, 1, 1), date(2026, 2, 1)),
        (date(2026, 1, 31), date(2026, 2, 28)),
        (date(2028, 1, 31), date(2028, 2, 29)),  # leap year
        (date(2028, 1, 29), date(2028, 2, 29)),
        (date(2026, 1, 29), date(2026, 2, 28)),
        (date(2026, 2, 28), date(2026, 3, 28)),
        (date(2028, 2, 29), date(2028, 3, 29)),
        (date(2026, 3, 31), date(2026, 4, 30)),
        (date(2026, 4, 30), date(2026, 5, 30)),
        (date(2026, 12, 31), date(2027, 1, 31)),
    ],
)
def test_a_visit_falls_due_the_same_day_next_month_clamped(asset, volunteer, visit, due):
    adoption = adoption_start(
        asset=asset, volunteer=volunteer, accept_terms=True,
        now=at(visit - timedelta(days=10), 9),
    )  # fmt: skip
    care_log_add(adoption=adoption, volunteer=volunteer, day=visit, now=at(visit, 12))
    adoption.refresh_from_db()
    assert adoption.due_on == due
    # The SQL filters agree: not overdue on the due date, overdue the day after.
    assert not Adoption.objects.overdue(due).exists()
    assert list(Adoption.objects.overdue(due + timedelta(days=1))) == [adoption]
    assert list(Adoption.objects.due_by(due)) == [adoption]
    assert not Adoption.objects.due_by(due - timedelta(days=1)).exists()


@pytest.mark.parametrize(
    ("started", "due"),
    [
        (local(2026, 1, 31, 23), date(2026, 2, 28)),  # late evening: still the 31st locally
        (local(2028, 1, 31, 0), date(2028, 2, 29)),
        (local(2026, 4, 30), date(2026, 5, 30)),
        (local(2026, 8, 31), date(2026, 9, 30)),
    ],
)
def test_the_first_visit_falls_due_a_calendar_month_after_adopting(asset, volunteer, started, due):
    adoption = adoption_start(asset=asset, volunteer=volunteer, accept_terms=True, now=started)
    assert adoption.due_on == due


def test_a_missed_month_is_overdue_the_day_after_and_emailed_once(asset, volunteer):
    """Cleaned on January 1st, then not again: due soon three days before February 1st (as
    before the due date moved), overdue on February 2nd (one email, not repeated), the
    lapse after the second missed month (due March 1st) on March 2nd."""
    adoption = adoption_start(
        asset=asset, volunteer=volunteer, accept_terms=True, now=local(2025, 12, 20)
    )
    care_log_add(adoption=adoption, volunteer=volunteer, day=date(2026, 1, 1),
                 now=local(2026, 1, 1, 12))  # fmt: skip
    first_sent: dict[str, date] = {}
    for day in days(date(2026, 1, 2), date(2026, 4, 1)):
        assert Adoption.objects.overdue(day).exists() == (
            date(2026, 2, 1) < day <= date(2026, 3, 2)
        )
        for kind in reminders_send(now=at(day, 8)):
            first_sent.setdefault(kind, day)
    assert first_sent == {
        "due_soon": date(2026, 1, 29),
        "overdue": date(2026, 2, 2),
        "lapsed": date(2026, 3, 2),
    }
    assert sent() == Counter({"adoption-due_soon": 1, "adoption-overdue": 1, "adoption-lapsed": 1})
    adoption.refresh_from_db()
    assert adoption.end_reason == "lapsed" and adoption.ended == local(2026, 3, 2, 8)


def test_a_month_end_volunteer_lapses_a_calendar_month_apart(asset, volunteer):
    """Last cleaned on January 31st: due February 28th, overdue March 1st; the second
    missed month ends on March 31st (the anchor's day, not the 28th)."""
    adoption = adoption_start(
        asset=asset, volunteer=volunteer, accept_terms=True, now=local(2026, 1, 20)
    )
    care_log_add(adoption=adoption, volunteer=volunteer, day=date(2026, 1, 31),
                 now=local(2026, 1, 31, 12))  # fmt: skip
    assert reminders_send(now=local(2026, 2, 28, 8)) == {"due_soon": 1}
    assert reminders_send(now=local(2026, 3, 1, 8)) == {"overdue": 1}
    assert reminders_send(now=local(2026, 3, 31, 8)) == {}
    assert reminders_send(now=local(2026, 4, 1, 8)) == {"lapsed": 1}


def test_migration_moves_due_dates_and_their_reminders_to_calendar_months(asset, volunteer):
    """Adoptions made under the 30-day rule get the calendar-month due date, and the
    reminders already sent for the current period move with it: none is sent twice."""
    migration = importlib.import_module("adoptions.migrations.0003_cadence_in_calendar_months")
    adoption = adoption_start(
        asset=asset, volunteer=volunteer, accept_terms=True, now=local(2025, 11, 20)
    )
    care_log_add(adoption=adoption, volunteer=volunteer, day=date(2026, 1, 1),
                 now=local(2026, 1, 1, 12))  # fmt: skip
    ended = adoption_start(
        asset=AssetFactory(asset_type=asset.asset_type), volunteer=volunteer,
        accept_terms=True, now=local(2026, 1, 1),
    )  # fmt: skip
    adoption_release(adoption=ended, volunteer=volunteer)
    # As the 30-day rule left them: due January 31st, reminded and told it is overdue.
    Adoption.objects.update(due_on=date(2026, 1, 31))
    for kind, period in [("overdue", date(2025, 12, 20)), ("due_soon", date(2026, 1, 31)),
                         ("overdue", date(2026, 1, 31))]:  # fmt: skip
        ReminderSent.objects.create(
            adoption=adoption, kind=kind, period=period, sent_at=local(2026, 2, 1, 8)
        )

    assert migration.reschedule(django_apps, {asset.asset_type_id: 30}) == 1
    assert migration.reschedule(django_apps, {asset.asset_type_id: 30}) == 0  # done
    adoption.refresh_from_db()
    ended.refresh_from_db()
    assert adoption.due_on == date(2026, 2, 1) and ended.due_on == date(2026, 1, 31)
    assert set(adoption.reminders_sent.values_list("kind", "period")) == {
        ("overdue", date(2025, 12, 20)),  # an earlier period: history, as it was
        ("due_soon", date(2026, 2, 1)),
        ("overdue", date(2026, 2, 1)),
    }
    assert reminders_send(now=local(2026, 2, 2, 8)) == {}  # told already
    assert reminders_send(now=local(2026, 3, 2, 8)) == {"lapsed": 1}


def test_the_pages_show_the_calendar_due_date(client, monkeypatch, asset, volunteer):
    """On February 1st the volunteer who cleaned on January 1st is due today, not overdue,
    on the shelter's page and in "My account"; the staff's overdue filter agrees."""
    adoption = adoption_start(
        asset=asset, volunteer=volunteer, accept_terms=True, now=local(2025, 12, 20)
    )
    care_log_add(adoption=adoption, volunteer=volunteer, day=date(2026, 1, 1),
                 now=local(2026, 1, 1, 12))  # fmt: skip
    monkeypatch.setattr(timezone, "now", lambda: local(2026, 2, 1, 12))
    client.force_login(volunteer)
    page = client.get(asset.get_absolute_url()).content.decode()
    assert "Next care visit due by <strong>Feb 1, 2026</strong>." in page
    assert "(overdue)" not in page
    account = client.get("/account/").content.decode()
    assert "Next care visit by Feb 1, 2026" in account and "Care visit overdue" not in account
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.get("/admin/adoptions/adoption/", {"state": "overdue"})
    assert list(response.context["cl"].result_list) == []
    monkeypatch.setattr(timezone, "now", lambda: local(2026, 2, 2, 12))
    response = client.get("/admin/adoptions/adoption/", {"state": "overdue"})
    assert list(response.context["cl"].result_list) == [adoption]


def test_pages_and_emails_say_once_a_month(client, asset, volunteer):
    page = client.get(asset.get_absolute_url()).content.decode()
    assert "promise a care visit once a month." in page and "every 30 days" not in page
    adoption_start(asset=asset, volunteer=volunteer, accept_terms=True, now=local(2026, 1, 31))
    body = OutboxMessage.objects.get(kind="adoption-adopted").body
    assert "Please visit it once a month" in body and "30 days" not in body
    assert "The first care visit is due by February 28, 2026." in body


def test_migration_moves_later_periods_reminders_when_the_first_due_date_stays(
    settings, asset, volunteer
):
    """Adopted on April 1st: due May 1st by either rule, but the second period ended on May
    31st by 30 days and ends on June 1st by the calendar. A city that lapses after three
    missed periods had already told the volunteer about both; the overdue email for the
    second is not sent again the day after the upgrade."""
    settings.ADOPTION_LAPSE_AFTER_MISSED = 3
    migration = importlib.import_module("adoptions.migrations.0003_cadence_in_calendar_months")
    adoption = adoption_start(
        asset=asset, volunteer=volunteer, accept_terms=True, now=local(2026, 4, 1)
    )
    assert adoption.due_on == date(2026, 5, 1)
    for kind, period in [("due_soon", date(2026, 5, 1)), ("overdue", date(2026, 5, 1)),
                         ("overdue", date(2026, 5, 31))]:  # fmt: skip
        ReminderSent.objects.create(
            adoption=adoption, kind=kind, period=period, sent_at=local(2026, 6, 1, 8)
        )

    assert migration.reschedule(django_apps, {asset.asset_type_id: 30}) == 1
    assert migration.reschedule(django_apps, {asset.asset_type_id: 30}) == 0  # done
    adoption.refresh_from_db()
    assert adoption.due_on == date(2026, 5, 1)
    assert set(adoption.reminders_sent.values_list("kind", "period")) == {
        ("due_soon", date(2026, 5, 1)),
        ("overdue", date(2026, 5, 1)),
        ("overdue", date(2026, 6, 1)),
    }
    assert reminders_send(now=local(2026, 6, 2, 8)) == {}  # told already
    assert reminders_send(now=local(2026, 7, 2, 8)) == {"lapsed": 1}


@pytest.mark.parametrize("months", [0, 13])
def test_the_database_refuses_a_cadence_out_of_range(asset_type, months):
    """A 0 set from the shell would stop the reminder job for every adoption (it divides)."""
    with pytest.raises(IntegrityError), transaction.atomic():
        AssetType.objects.filter(pk=asset_type.pk).update(cadence_months=months)
    asset_type.refresh_from_db()
    assert asset_type.cadence_months == 1
