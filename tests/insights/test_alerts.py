"""Area alerts: confirmation first, immediate and daily sending through the outbox, each
report once, one-click unsubscribe (RFC 8058), and the outsider refused."""

from __future__ import annotations

import math
import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from civic311.geo import EARTH_RADIUS
from reports.insights import alerts
from reports.insights.models import AreaAlert
from reports.models import OutboxMessage, ServiceRequest
from reports.outbox import outbox_send
from reports.services import triage
from tests.conftest import assert_errors_described
from tests.factories import (
    BoundaryFactory,
    ServiceFactory,
    ServiceRequestFactory,
    UserFactory,
    square,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def oakwood():
    return BoundaryFactory(name="Oakwood", geometry=square(35.78, -78.66, 35.80, -78.62))


def confirm_url_from(message: OutboxMessage) -> str:
    line = next(x for x in message.body.splitlines() if "/confirm/" in x)
    return line.strip().split("testserver")[-1].split("127.0.0.1:8000")[-1]


def test_subscribe_sends_a_confirmation_and_nothing_else(client, oakwood) -> None:
    response = client.post(
        "/insights/alerts/new/",
        {"email": "Neighbour@Example.org", "where": "area", "area": oakwood.pk,
         "radius_m": 500, "frequency": "immediate"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "Check your email" in response.content.decode()
    alert = AreaAlert.objects.get()
    assert alert.email == "neighbour@example.org" and alert.area == oakwood
    assert not alert.is_active
    [message] = OutboxMessage.objects.all()
    assert message.kind == "alert-confirm"
    assert f"/insights/alerts/{alert.token}/confirm/" in message.body
    ServiceRequestFactory(area=oakwood, requested_datetime=timezone.now() - timedelta(minutes=3))
    assert alerts.alerts_send_immediate() == 0  # not confirmed: nothing is sent


def test_confirm_needs_a_post_then_reports_arrive_once(client, oakwood) -> None:
    alert = alerts.alert_create(email="n@example.org", frequency="immediate", area=oakwood)
    url = f"/insights/alerts/{alert.token}/confirm/"
    assert client.get(url).status_code == 200
    alert.refresh_from_db()
    assert alert.confirmed is None  # a mail scanner's GET confirms nothing
    assert client.post(url).status_code == 200
    alert.refresh_from_db()
    assert alert.is_active

    # Reports from the confirmation on count, not the area's history.
    ServiceRequestFactory(area=oakwood, requested_datetime=alert.confirmed - timedelta(hours=1))
    now = timezone.now() + timedelta(minutes=1)
    inside = ServiceRequestFactory(area=oakwood, requested_datetime=now)
    ServiceRequestFactory(requested_datetime=now)  # elsewhere
    ServiceRequestFactory(area=oakwood, hidden=True, requested_datetime=now)
    assert alerts.alerts_send_immediate(now=now + timedelta(minutes=5)) == 1
    assert alerts.alerts_send_immediate(now=now + timedelta(minutes=10)) == 0  # never twice
    message = OutboxMessage.objects.get(kind="alert")
    assert f"#{inside.pk}" in message.subject
    assert message.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"/insights/alerts/{alert.token}/unsubscribe/" in message.headers["List-Unsubscribe"]
    assert "private.person@example.net" not in message.body


def test_circle_alert_matches_by_distance_and_category() -> None:
    syringe = ServiceFactory(name="Found syringe")
    alert = alerts.alert_create(
        email="n@example.org", frequency="immediate", lat=35.78, long=-78.64, radius_m=500,
        service=syringe,
    )  # fmt: skip
    alerts.alert_confirm(alert=alert)
    now = timezone.now()
    near = ServiceRequestFactory(service=syringe, lat=35.7820, long=-78.64, requested_datetime=now)
    ServiceRequestFactory(
        service=syringe, lat=35.7860, long=-78.64, requested_datetime=now
    )  # ~670 m
    ServiceRequestFactory(lat=35.78, long=-78.64, requested_datetime=now)  # other category
    found = alerts.matching_reports(alert, now - timedelta(minutes=1), now + timedelta(minutes=1))
    assert [r.pk for r in found] == [near.pk]


def test_circle_alert_reaches_the_circles_edge_due_north() -> None:
    """The box that narrows the candidates holds the whole circle: a report 499.5 m due north
    of a 500 m alert's centre is in it (a box drawn with 111,320 m to a degree, more than
    the earth's mean radius gives, stopped 0.6 m short)."""
    alert = alerts.alert_create(
        email="n@example.org", frequency="immediate", lat=35.78, long=-78.64, radius_m=500
    )
    alerts.alert_confirm(alert=alert)
    now = timezone.now()
    north = 35.78 + math.degrees(499.5 / EARTH_RADIUS)
    edge = ServiceRequestFactory(lat=north, long=-78.64, requested_datetime=now)
    ServiceRequestFactory(  # 500.5 m: outside
        lat=35.78 + math.degrees(500.5 / EARTH_RADIUS), long=-78.64, requested_datetime=now
    )
    found = alerts.matching_reports(alert, now - timedelta(minutes=1), now + timedelta(minutes=1))
    assert [r.pk for r in found] == [edge.pk]


def test_daily_digest_lists_the_days_reports_in_one_email(oakwood) -> None:
    alert = alerts.alert_create(email="n@example.org", frequency="daily", area=oakwood)
    alerts.alert_confirm(alert=alert)
    now = timezone.now()
    for minutes in (10, 20, 30):
        ServiceRequestFactory(area=oakwood, requested_datetime=now + timedelta(minutes=minutes))
    later = now + timedelta(hours=20)
    assert alerts.alerts_send_daily(now=later) == 1
    assert alerts.alerts_send_daily(now=later) == 0
    message = OutboxMessage.objects.get(kind="alert")
    assert message.subject.endswith("3 new reports: all reports in Oakwood")
    assert message.body.count("/reports/") == 3


def test_a_second_digest_run_on_the_same_day_keeps_its_reports_for_tomorrow(oakwood) -> None:
    alert = alerts.alert_create(email="n@example.org", frequency="daily", area=oakwood)
    alerts.alert_confirm(alert=alert)
    # Tomorrow at noon, city time: every run but the last on the same day, whenever this runs.
    now = (timezone.localtime() + timedelta(days=1)).replace(hour=12, minute=0)
    first = ServiceRequestFactory(area=oakwood, requested_datetime=now + timedelta(minutes=5))
    assert alerts.alerts_send_daily(now=now + timedelta(minutes=10)) == 1
    # A report, then the job again the same day (run by hand, or a restarted beat).
    second = ServiceRequestFactory(area=oakwood, requested_datetime=now + timedelta(minutes=15))
    assert alerts.alerts_send_daily(now=now + timedelta(minutes=20)) == 0
    assert alerts.alerts_send_daily(now=now + timedelta(days=1, minutes=20)) == 1
    today, tomorrow = OutboxMessage.objects.filter(kind="alert").order_by("pk")
    assert f"/reports/{first.pk}/" in today.body and f"/reports/{second.pk}/" not in today.body
    assert (
        f"/reports/{second.pk}/" in tomorrow.body and f"/reports/{first.pk}/" not in tomorrow.body
    )


def test_immediate_alerts_past_the_limit_go_out_on_the_next_run(oakwood) -> None:
    alert = alerts.alert_create(email="n@example.org", frequency="immediate", area=oakwood)
    alerts.alert_confirm(alert=alert)
    now = timezone.now() + timedelta(minutes=2)
    # Published in the same microsecond: the limit falls inside a tie.
    reports = ServiceRequestFactory.create_batch(
        alerts.DIGEST_LIMIT + 5, area=oakwood, requested_datetime=now
    )
    ServiceRequest.objects.update(published_at=now)
    assert alerts.alerts_send_immediate(now=now + timedelta(minutes=5)) == alerts.DIGEST_LIMIT
    assert alerts.alerts_send_immediate(now=now + timedelta(minutes=10)) == 5
    assert alerts.alerts_send_immediate(now=now + timedelta(minutes=15)) == 0
    subjects = OutboxMessage.objects.filter(kind="alert").values_list("subject", flat=True)
    assert sorted(s.rsplit("#", 1)[1] for s in subjects) == sorted(str(r.pk) for r in reports)


def test_digest_is_sent_through_the_outbox(oakwood, django_capture_on_commit_callbacks) -> None:
    alert = alerts.alert_create(email="n@example.org", frequency="daily", area=oakwood)
    alerts.alert_confirm(alert=alert)
    ServiceRequestFactory(area=oakwood, requested_datetime=timezone.now())
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        alerts.alerts_send_daily(now=timezone.now() + timedelta(hours=2))
    # Tasks run in-process in tests: after the commit the outbox worker has sent it.
    assert [m.to for m in mail.outbox] == [["n@example.org"]]


def test_a_report_hidden_before_its_email_goes_is_not_mailed(oakwood) -> None:
    """The email is written when queued; the worker may send it hours later (an outage, a
    retry). Whatever a moderator hid or redacted meanwhile is left out when it goes, and an
    email with nothing left is dropped."""
    alert = alerts.alert_create(email="n@example.org", frequency="daily", area=oakwood)
    alerts.alert_confirm(alert=alert)
    now = timezone.now()
    AreaAlert.objects.update(
        confirmed=now - timedelta(hours=3), sent_until=now - timedelta(hours=3)
    )
    kept, hidden, redacted = (
        ServiceRequestFactory(
            area=oakwood, description=text, requested_datetime=now - timedelta(minutes=minutes)
        )
        for minutes, text in ((90, "Kept pothole"), (80, "Neighbour's name"), (70, "Call 555-0100"))
    )
    assert alerts.alerts_send_daily(now=timezone.now() + timedelta(minutes=5)) == 1
    message = OutboxMessage.objects.get(kind="alert")
    assert "Neighbour's name" in message.body and "555-0100" in message.body
    staff = UserFactory(is_staff=True, is_superuser=True)
    triage.report_moderate(
        report=hidden, author=staff, hidden=True, description_redacted=False, reason="Names"
    )
    triage.report_moderate(
        report=redacted, author=staff, hidden=False, description_redacted=True, reason="Phone"
    )
    mail.outbox.clear()

    assert outbox_send(message_id=message.pk) == "sent"

    [sent] = mail.outbox
    assert "Kept pothole" in sent.body and f"/reports/{kept.pk}/" in sent.body
    assert f"/reports/{hidden.pk}/" not in sent.body and "Neighbour's name" not in sent.body
    assert f"/reports/{redacted.pk}/" in sent.body and "555-0100" not in sent.body
    assert sent.subject.endswith("2 new reports: all reports in Oakwood")
    message.refresh_from_db()
    assert message.reports == [kept.pk, redacted.pk] and "555-0100" not in message.body


def test_an_alert_email_whose_reports_were_all_hidden_is_dropped(oakwood) -> None:
    alert = alerts.alert_create(email="n@example.org", frequency="immediate", area=oakwood)
    alerts.alert_confirm(alert=alert)
    report = ServiceRequestFactory(area=oakwood, requested_datetime=timezone.now())
    ServiceRequest.objects.update(published_at=timezone.now())
    assert alerts.alerts_send_immediate(now=timezone.now() + timedelta(minutes=5)) == 1
    ServiceRequest.objects.filter(pk=report.pk).update(hidden=True)
    mail.outbox.clear()
    message = OutboxMessage.objects.get(kind="alert")
    assert outbox_send(message_id=message.pk) == "dropped"
    assert mail.outbox == []
    assert OutboxMessage.objects.get(pk=message.pk).state == OutboxMessage.State.DROPPED


def test_one_click_unsubscribe_without_csrf_token(oakwood) -> None:
    from django.test import Client

    alert = alerts.alert_create(email="n@example.org", frequency="immediate", area=oakwood)
    alerts.alert_confirm(alert=alert)
    client = Client(enforce_csrf_checks=True)
    url = f"/insights/alerts/{alert.token}/unsubscribe/"
    assert client.get(url).status_code == 200
    alert.refresh_from_db()
    assert alert.is_active
    response = client.post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    alert.refresh_from_db()
    assert alert.cancelled is not None and not alert.is_active
    ServiceRequestFactory(area=oakwood, requested_datetime=timezone.now())
    assert alerts.alerts_send_immediate(now=timezone.now() + timedelta(minutes=5)) == 0


def test_unknown_token_is_refused(client) -> None:
    token = uuid.uuid4()
    assert client.get(f"/insights/alerts/{token}/confirm/").status_code == 404
    assert client.post(f"/insights/alerts/{token}/confirm/").status_code == 404
    assert client.post(f"/insights/alerts/{token}/unsubscribe/").status_code == 404


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "nope", "where": "area"}, "email"),
        ({"email": "a@example.org", "where": "area"}, "area"),
        ({"email": "a@example.org", "where": "circle", "radius_m": 500}, "lat"),
        (
            {"email": "a@example.org", "where": "circle", "lat": 10, "long": 10, "radius_m": 500},
            "lat",
        ),
    ],
)
def test_bad_alert_form_shows_errors_and_stores_nothing(client, data, field) -> None:
    response = client.post("/insights/alerts/new/", {"frequency": "daily", **data})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not AreaAlert.objects.exists() and not OutboxMessage.objects.exists()


def test_bad_alert_form_lists_its_errors_at_the_top_linked_to_their_fields(client) -> None:
    """The summary that takes the focus said only "Please check the form": a screen reader
    heard that and nothing of what to fix, nor could a keyboard user jump to the field."""
    response = client.post(
        "/insights/alerts/new/",
        {"frequency": "daily", "email": "nope", "where": "circle", "radius_m": 500},
    )
    html = response.content.decode()
    summary = html.split('class="error-summary"')[1].split("</div>")[0]
    assert 'href="#id_email"' in summary and "Enter a valid email address." in summary
    assert 'href="#id_lat"' in summary and "Click the map" in summary
    assert_errors_described(html)


def test_alert_form_preselects_the_area_from_the_link(client, oakwood) -> None:
    response = client.get(f"/insights/alerts/new/?area={oakwood.pk}")
    assert response.status_code == 200
    assert f'<option value="{oakwood.pk}" selected>Oakwood' in response.content.decode()
    assert 'id="alert-map"' in response.content.decode()


def more_url_from(message: OutboxMessage) -> str:
    line = next(x for x in message.body.splitlines() if x.startswith("…and "))
    return line.split(": ", 1)[1].split("127.0.0.1:8000")[-1].split("testserver")[-1]


def test_digest_more_link_lists_the_alerts_own_reports(client, oakwood, monkeypatch) -> None:
    """ "…and N more" leads to the alert's area and category, not to the whole city."""
    monkeypatch.setattr(alerts, "DIGEST_LIMIT", 2)
    syringe = ServiceFactory(name="Found syringe")
    alert = alerts.alert_create(
        email="n@example.org", frequency="daily", area=oakwood, service=syringe
    )
    alerts.alert_confirm(alert=alert)
    # Confirmed an hour ago: the reports are public by the time the link is followed.
    now = timezone.now() - timedelta(hours=1)
    AreaAlert.objects.update(confirmed=now, sent_until=now)
    ours = [
        ServiceRequestFactory(
            area=oakwood,
            service=syringe,
            lat=35.79,
            long=-78.64,
            requested_datetime=now + timedelta(minutes=m),
        )  # fmt: skip
        for m in (10, 20, 30)
    ]
    elsewhere = ServiceRequestFactory(service=syringe, requested_datetime=now)
    other_category = ServiceRequestFactory(
        area=oakwood, lat=35.79, long=-78.64, requested_datetime=now
    )
    assert alerts.alerts_send_daily(now=now + timedelta(minutes=45)) == 1
    message = OutboxMessage.objects.get(kind="alert")
    url = more_url_from(message)
    assert url.startswith("/insights/map/reports/?")
    response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Reports in Oakwood" in page
    assert {r.pk for r in response.context["reports"]} == {r.pk for r in ours}
    assert f"/reports/{elsewhere.pk}/" not in page
    assert f"/reports/{other_category.pk}/" not in page


def test_circle_digest_more_link_lists_the_circles_reports(client, monkeypatch) -> None:
    monkeypatch.setattr(alerts, "DIGEST_LIMIT", 1)
    syringe = ServiceFactory(name="Found syringe")
    alert = alerts.alert_create(
        email="n@example.org", frequency="daily", lat=35.78, long=-78.64, radius_m=500,
        service=syringe,
    )  # fmt: skip
    alerts.alert_confirm(alert=alert)
    # Confirmed an hour ago: the reports are public by the time the link is followed.
    now = timezone.now() - timedelta(hours=1)
    AreaAlert.objects.update(confirmed=now, sent_until=now)
    ours = [
        ServiceRequestFactory(
            service=syringe, lat=35.7810, long=-78.64, requested_datetime=now + timedelta(minutes=m)
        )
        for m in (10, 20)
    ]
    far = ServiceRequestFactory(service=syringe, lat=35.7860, long=-78.64, requested_datetime=now)
    other_category = ServiceRequestFactory(lat=35.78, long=-78.64, requested_datetime=now)
    # Nearer the centre, but from before the email's reports: the list starts on their day.
    last_year = ServiceRequestFactory(
        service=syringe, lat=35.7801, long=-78.64, requested_datetime=now - timedelta(days=365)
    )
    assert alerts.alerts_send_daily(now=now + timedelta(minutes=45)) == 1
    url = more_url_from(OutboxMessage.objects.get(kind="alert"))
    assert url.startswith("/reports/?")
    assert f"start={timezone.localdate(ours[0].requested_datetime).isoformat()}" in url
    page = client.get(url).content.decode()
    for report in ours:
        assert f"/reports/{report.pk}/" in page
    assert f"/reports/{far.pk}/" not in page
    assert f"/reports/{other_category.pk}/" not in page
    assert f"/reports/{last_year.pk}/" not in page


def test_circle_digest_without_a_listable_radius_has_no_more_link(monkeypatch) -> None:
    monkeypatch.setattr(alerts, "DIGEST_LIMIT", 1)
    alert = alerts.alert_create(
        email="n@example.org", frequency="daily", lat=35.78, long=-78.64, radius_m=300
    )
    alerts.alert_confirm(alert=alert)
    # Confirmed an hour ago: the reports are public by the time the link is followed.
    now = timezone.now() - timedelta(hours=1)
    AreaAlert.objects.update(confirmed=now, sent_until=now)
    for minutes in (10, 20):
        ServiceRequestFactory(
            lat=35.78, long=-78.64, requested_datetime=now + timedelta(minutes=minutes)
        )
    assert alerts.alerts_send_daily(now=now + timedelta(minutes=45)) == 1
    body = OutboxMessage.objects.get(kind="alert").body
    assert "…and 1 more." in body and "/insights/map/reports/" not in body


def test_confirmation_link_after_unsubscribing_says_the_alert_is_off(client, oakwood) -> None:
    alert = alerts.alert_create(email="n@example.org", frequency="daily", area=oakwood)
    alerts.alert_confirm(alert=alert)
    alerts.alert_cancel(alert=alert)
    response = client.get(f"/insights/alerts/{alert.token}/confirm/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "This alert is off" in page and "Your alert is on" not in page
    assert "Confirm</button>" not in page
    assert f'href="/insights/alerts/new/?area={oakwood.pk}"' in page
    alert.refresh_from_db()
    assert alert.cancelled is not None and not alert.is_active


def test_confirmation_link_of_an_unconfirmed_cancelled_alert_offers_no_button(
    client, oakwood
) -> None:
    alert = alerts.alert_create(email="n@example.org", frequency="daily", area=oakwood)
    alerts.alert_cancel(alert=alert)
    page = client.get(f"/insights/alerts/{alert.token}/confirm/").content.decode()
    assert "This alert is off" in page and "Confirm</button>" not in page


def sign_up(client, area, email="n@example.org"):
    return client.post(
        "/insights/alerts/new/",
        {"email": email, "where": "area", "area": area.pk, "radius_m": 500, "frequency": "daily"},
    )


def test_signing_up_twice_makes_one_alert_and_one_digest_per_report(client, oakwood) -> None:
    first, second = sign_up(client, oakwood), sign_up(client, oakwood, email=" N@Example.org")
    assert first.status_code == second.status_code == 200
    assert first.content == second.content  # the same answer either way
    alert = AreaAlert.objects.get()
    # Once a day at most: the form can't flood an address with confirmation links.
    assert OutboxMessage.objects.filter(kind="alert-confirm").count() == 1
    alerts.alert_confirm(alert=alert)
    assert sign_up(client, oakwood).content == first.content
    assert AreaAlert.objects.count() == 1
    assert OutboxMessage.objects.filter(kind="alert-confirm").count() == 1  # confirmed: no mail

    report = ServiceRequestFactory(area=oakwood, requested_datetime=timezone.now())
    assert alerts.alerts_send_daily(now=timezone.now() + timedelta(hours=2)) == 1
    [digest] = OutboxMessage.objects.filter(kind="alert")
    assert f"/reports/{report.pk}/" in digest.body
    alerts.alert_cancel(alert=alert)
    assert not AreaAlert.objects.filter(cancelled__isnull=True).exists()


def test_the_form_answers_a_stranger_the_same_whatever_the_address_has(client, oakwood) -> None:
    alert = alerts.alert_create(email="owner@example.org", frequency="daily", area=oakwood)
    alerts.alert_confirm(alert=alert)
    known = sign_up(client, oakwood, email="owner@example.org")
    unknown = sign_up(client, oakwood, email="nobody@example.org")
    assert known.status_code == unknown.status_code == 200
    assert known.content == unknown.content
    assert OutboxMessage.objects.filter(to="owner@example.org", kind="alert-confirm").count() == 1


def test_an_unconfirmed_alert_signed_up_again_gets_its_link_again_next_day(oakwood) -> None:
    now = timezone.now()
    alert = alerts.alert_create(email="n@example.org", frequency="daily", area=oakwood, now=now)
    again = alerts.alert_create(email="n@example.org", frequency="daily", area=oakwood, now=now)
    later = alerts.alert_create(
        email="n@example.org", frequency="daily", area=oakwood, now=now + timedelta(days=1)
    )
    assert alert.pk == again.pk == later.pk
    links = OutboxMessage.objects.filter(kind="alert-confirm").values_list("body", flat=True)
    assert len(links) == 2 and all(str(alert.token) in body for body in links)


def test_other_settings_or_a_cancelled_alert_make_a_new_alert(oakwood) -> None:
    syringe = ServiceFactory()
    alert = alerts.alert_create(email="n@example.org", frequency="daily", area=oakwood)
    alerts.alert_create(email="n@example.org", frequency="immediate", area=oakwood)
    alerts.alert_create(email="n@example.org", frequency="daily", area=oakwood, service=syringe)
    alerts.alert_create(
        email="n@example.org", frequency="daily", lat=35.78, long=-78.64, radius_m=500
    )
    alerts.alert_create(
        email="n@example.org", frequency="daily", lat=35.78, long=-78.64, radius_m=500
    )
    assert AreaAlert.objects.count() == 4
    alerts.alert_cancel(alert=alert)
    new = alerts.alert_create(email="n@example.org", frequency="daily", area=oakwood)
    assert new.pk != alert.pk and new.confirmed is None and AreaAlert.objects.count() == 5


def test_the_database_refuses_a_second_live_alert_with_the_same_settings(oakwood) -> None:
    from django.db import IntegrityError, transaction

    AreaAlert.objects.create(email="n@example.org", frequency="daily", area=oakwood)
    with pytest.raises(IntegrityError), transaction.atomic():
        AreaAlert.objects.create(email="n@example.org", frequency="daily", area=oakwood)
    AreaAlert.objects.create(
        email="n@example.org", frequency="daily", lat=1.0, long=2.0, radius_m=500
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        AreaAlert.objects.create(
            email="n@example.org", frequency="daily", lat=1.0, long=2.0, radius_m=500
        )


def test_migration_cancels_duplicate_alerts_keeping_the_oldest_confirmed(oakwood) -> None:
    import importlib

    from django.apps import apps as django_apps
    from django.db import connection

    migration = importlib.import_module("reports.insights.migrations.0008_one_alert_per_setting")
    with connection.cursor() as cursor:  # as before the migration (rolled back with the test)
        cursor.execute("DROP INDEX areaalert_one_per_setting")
    now = timezone.now()
    unconfirmed = AreaAlert.objects.create(email="n@example.org", frequency="daily", area=oakwood)
    confirmed = AreaAlert.objects.create(
        email="n@example.org", frequency="daily", area=oakwood, confirmed=now
    )
    confirmed_later = AreaAlert.objects.create(
        email="n@example.org", frequency="daily", area=oakwood, confirmed=now
    )
    other = AreaAlert.objects.create(email="n@example.org", frequency="immediate", area=oakwood)
    migration.cancel_duplicates(django_apps, None)
    migration.cancel_duplicates(django_apps, None)  # again: nothing to do
    live = set(AreaAlert.objects.filter(cancelled__isnull=True).values_list("pk", flat=True))
    assert live == {confirmed.pk, other.pk}
    assert unconfirmed.pk not in live and confirmed_later.pk not in live
