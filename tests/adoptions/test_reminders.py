"""Due dates and reminders with frozen time (`now` passed explicitly): due soon, overdue once
per missed period, the lapse, no duplicate, unsubscribe."""

from __future__ import annotations

from datetime import date

import pytest

from adoptions import rules
from adoptions.models import Adoption, Asset, ReminderSent
from adoptions.services.adoptions import adoption_release, adoption_start
from adoptions.services.care import care_log_add
from adoptions.services.reminders import reminders_send
from reports.models import OutboxMessage
from tests.adoptions.conftest import local

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 3, 28), None),
        (date(2026, 3, 29), ("due_soon", date(2026, 4, 1))),
        (date(2026, 4, 1), ("due_soon", date(2026, 4, 1))),
        (date(2026, 4, 2), ("overdue", date(2026, 4, 1))),
        (date(2026, 5, 1), ("overdue", date(2026, 4, 1))),
        (date(2026, 5, 2), ("lapsed", date(2026, 4, 1))),
    ],
)
def test_reminder_rules(today, expected):
    """Adopted (or last cared for) on March 1st: due April 1st, a calendar month later."""
    found = rules.reminder_for(
        started=date(2026, 3, 1), last_cared_on=None, today=today, cadence_months=1,
        days_before=3, lapse_after=2,
    )  # fmt: skip
    assert (found.kind, found.period) == expected if expected else found is None


def test_missed_periods():
    assert [
        rules.missed_periods(
            started=date(2026, 2, 1), last_cared_on=date(2026, 3, 1), today=day, cadence_months=1
        )
        for day in (date(2026, 4, 1), date(2026, 4, 2), date(2026, 5, 1), date(2026, 5, 2))
    ] == [0, 1, 1, 2]


def reminders(kind: str) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(kind=f"adoption-{kind}"))


def test_due_soon_reminder_once_with_one_click_unsubscribe(adoption, volunteer):
    assert reminders_send(now=local(2026, 3, 28)) == {}
    assert reminders_send(now=local(2026, 3, 29)) == {"due_soon": 1}  # due April 1st
    assert reminders_send(now=local(2026, 3, 30)) == {}  # same period: not again
    (message,) = reminders("due_soon")
    assert message.to == volunteer.email
    link = f"/adopt/unsubscribe/{adoption.reminder_token}/"
    assert message.headers["List-Unsubscribe"].endswith(f"{link}>")
    assert message.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in message.body


def test_overdue_once_per_period_then_lapse(client, adoption, volunteer):
    assert reminders_send(now=local(2026, 4, 2)) == {"overdue": 1}
    assert reminders_send(now=local(2026, 4, 20)) == {}
    assert reminders_send(now=local(2026, 5, 2)) == {"lapsed": 1}
    adoption.refresh_from_db()
    assert adoption.end_reason == "lapsed" and adoption.ended == local(2026, 5, 2)
    (notice,) = reminders("lapsed")
    assert "has lapsed" in notice.body and "/adopt/" in notice.body  # invited back
    assert "List-Unsubscribe" not in notice.headers
    assert reminders_send(now=local(2026, 5, 3)) == {}
    # The asset is available again.
    assert adoption_start(asset=adoption.asset, volunteer=volunteer, accept_terms=True)


def test_a_removed_shelter_lapses_without_being_offered_again(adoption):
    Asset.objects.filter(pk=adoption.asset_id).update(active=False, flagged_for_staff=True)
    assert reminders_send(now=local(2026, 5, 2)) == {"lapsed": 1}
    (notice,) = reminders("lapsed")
    assert "has lapsed" in notice.body and "no longer offered for adoption" in notice.body
    assert "available for adoption again" not in notice.body
    assert "adopt it again" not in notice.body


def test_a_care_visit_resets_the_schedule(adoption, volunteer):
    reminders_send(now=local(2026, 4, 2))
    care_log_add(adoption=adoption, volunteer=volunteer, day=date(2026, 4, 2),
                 now=local(2026, 4, 2))  # fmt: skip
    assert reminders_send(now=local(2026, 4, 3)) == {}
    assert reminders_send(now=local(2026, 4, 29)) == {"due_soon": 1}  # due May 2


def test_no_duplicate_reminder_across_runs(adoption):
    for _ in range(3):
        reminders_send(now=local(2026, 4, 2))
    assert ReminderSent.objects.count() == 1 and len(reminders("overdue")) == 1


def test_unsubscribed_adoption_gets_no_reminders_but_still_lapses(client, adoption):
    response = client.post(f"/adopt/unsubscribe/{adoption.reminder_token}/",
                           {"List-Unsubscribe": "One-Click"})  # fmt: skip
    assert response.status_code == 200
    adoption.refresh_from_db()
    assert not adoption.reminders
    reminders_send(now=local(2026, 4, 2))
    assert reminders("overdue") == []
    reminders_send(now=local(2026, 5, 2))
    adoption.refresh_from_db()
    assert adoption.end_reason == "lapsed"


def test_unsubscribe_get_asks_first(client, adoption):
    response = client.get(f"/adopt/unsubscribe/{adoption.reminder_token}/")
    assert response.status_code == 200 and b"Stop reminders" in response.content
    adoption.refresh_from_db()
    assert adoption.reminders
    unknown = "/adopt/unsubscribe/00000000-0000-0000-0000-000000000000/"
    assert client.post(unknown).status_code == 404


def test_the_adopter_turns_reminders_back_on(client, adoption, volunteer, other_volunteer):
    client.post(f"/adopt/unsubscribe/{adoption.reminder_token}/")
    url = f"{adoption.asset.get_absolute_url()}reminders/"
    client.force_login(other_volunteer)
    assert client.post(url).status_code == 404  # not theirs
    client.force_login(volunteer)
    page = client.get(adoption.asset.get_absolute_url()).content.decode()
    assert "Turn reminders back on" in page
    assert client.post(url).status_code == 302
    adoption.refresh_from_db()
    assert adoption.reminders
    page = client.get(adoption.asset.get_absolute_url()).content.decode()
    assert "Turn reminders back on" not in page
    assert reminders_send(now=local(2026, 3, 29)) == {"due_soon": 1}
    assert len(reminders("due_soon")) == 1


def test_unsubscribe_link_of_an_ended_adoption_says_it_has_ended(client, adoption, volunteer):
    adoption_release(adoption=adoption, volunteer=volunteer)
    response = client.get(f"/adopt/unsubscribe/{adoption.reminder_token}/")
    assert response.status_code == 200 and b"has ended" in response.content
    assert b"Your adoption stays as it is" not in response.content
    assert b"Stop reminders" not in response.content


def test_the_daily_task_runs_the_reminders(adoption):
    from adoptions.tasks import adoption_reminders

    Adoption.objects.filter(pk=adoption.pk).update(
        started=local(2000, 1, 1), due_on=date(2000, 2, 1)
    )
    assert adoption_reminders.delay().get() == {"lapsed": 1}
