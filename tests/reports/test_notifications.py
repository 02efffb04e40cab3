"""The emails of reports: each is an outbox row written in the transaction of its change,
sent after the commit, to one recipient, with no private data; followers get updates only
once confirmed, with one-click unsubscribe headers."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.utils import timezone

from departments.models import Department, StaffMembership
from reports.links import subscription_link
from reports.models import OutboxMessage, ServiceRequest, Subscription
from reports.notifications import notify_department_digest
from reports.outbox import outbox_send_due
from reports.services import triage
from reports.services.requests import report_create
from reports.services.subscriptions import subscription_cancel
from reports.tasks import send_department_digests
from tests.conftest import PRIVATE_VALUES, assert_no_private_data
from tests.factories import (
    CITY_CENTRE,
    DepartmentFactory,
    ServiceFactory,
    ServiceRequestFactory,
    StaffMembershipFactory,
    SubscriptionFactory,
    UserFactory,
)
from tests.reports.test_follow import confirmation_in

pytestmark = pytest.mark.django_db
State = ServiceRequest.State
ONE_CLICK = "List-Unsubscribe=One-Click"


class FailingBackend(BaseEmailBackend):
    """A mail server that is down."""

    attempts = 0

    def send_messages(self, email_messages):
        FailingBackend.attempts += 1
        raise ConnectionRefusedError("mail server down")


def everything(message) -> str:
    """Subject, plain text, HTML and headers of one email."""
    html = "".join(content for content, _type in message.alternatives)
    return f"{message.subject}\n{message.body}\n{html}\n{message.extra_headers}"


def create_report(django_capture_on_commit_callbacks, **kwargs):
    service = kwargs.pop("service", None) or ServiceFactory(
        name="Found syringe",
        department=DepartmentFactory(name="Health", email="health@city.example.org"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        return report_create(
            service=service,
            description="Syringe next to the swings.",
            lat=CITY_CENTRE[0],
            long=CITY_CENTRE[1],
            reporter_name=PRIVATE_VALUES[0],
            reporter_email=PRIVATE_VALUES[1],
            reporter_phone=PRIVATE_VALUES[2],
            device_id=PRIVATE_VALUES[3],
            **kwargs,
        )


def sent_to(address: str) -> list:
    return [m for m in mail.outbox if m.to == [address]]


def test_new_report_emails_the_routed_department_with_admin_link(
    django_capture_on_commit_callbacks,
):
    report = create_report(django_capture_on_commit_callbacks)
    # The department's email, and the reporter's acknowledgement (tests/reports/test_followup.py).
    assert sorted(m.to[0] for m in mail.outbox) == ["health@city.example.org", PRIVATE_VALUES[1]]
    [message] = sent_to("health@city.example.org")
    assert f"New report #{report.pk}: Found syringe" in message.subject
    text = everything(message)
    assert f"{settings.SITE_URL}/admin/reports/servicerequest/{report.pk}/change/" in text
    assert "Syringe next to the swings." in text and message.alternatives[0][1] == "text/html"
    assert "List-Unsubscribe" not in message.extra_headers
    assert_no_private_data(text)
    row = OutboxMessage.objects.get(kind="report_new")
    assert row.state == OutboxMessage.State.SENT and row.to == "health@city.example.org"


def test_new_report_emails_are_recorded_in_the_reports_transaction(
    django_capture_on_commit_callbacks,
):
    service = ServiceFactory(department=DepartmentFactory(email="health@city.example.org"))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = report_create(
            service=service,
            description="Broken bench.",
            address="1 Main St",
            reporter_email="me@example.org",
        )
        # Recorded with the report, not by a task that may never run.
        kinds = sorted(OutboxMessage.objects.values_list("kind", flat=True))
        assert kinds == ["report_new", "report_received"]
    assert mail.outbox == [] and callbacks  # nothing leaves before the commit
    with pytest.raises(RuntimeError), transaction.atomic():
        report_create(service=service, description="Rolled back.", address="2 Main St")
        raise RuntimeError("the change failed")
    assert OutboxMessage.objects.count() == 2
    assert ServiceRequest.objects.get() == report


def test_new_report_without_department_address_sends_nothing(django_capture_on_commit_callbacks):
    service = ServiceFactory(department=DepartmentFactory(email=""))
    create_report(django_capture_on_commit_callbacks, service=service)
    assert sent_to("health@city.example.org") == []
    assert not OutboxMessage.objects.filter(kind="report_new").exists()
    assert [m.to for m in mail.outbox] == [[PRIVATE_VALUES[1]]]  # the acknowledgement only


def test_mail_outage_never_loses_the_report_nor_the_email(
    settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.reports.test_notifications.FailingBackend"
    FailingBackend.attempts = 0
    report = create_report(django_capture_on_commit_callbacks)
    assert ServiceRequest.objects.filter(pk=report.pk).exists()
    assert FailingBackend.attempts > 1  # the worker retried
    row = OutboxMessage.objects.get(kind="report_new")
    assert row.state != OutboxMessage.State.SENT and "mail server down" in row.last_error


def test_reporter_is_asked_to_confirm_and_gets_no_update_before(
    django_capture_on_commit_callbacks,
):
    report = create_report(django_capture_on_commit_callbacks)
    subscription = Subscription.objects.get(request=report)
    assert subscription.email == PRIVATE_VALUES[1] and subscription.confirmed_at is None
    [ask] = sent_to(PRIVATE_VALUES[1])
    assert confirmation_in(ask.body) == subscription
    assert f"Your reference: #{report.pk}" in ask.body  # the acknowledgement carries it
    assert "List-Unsubscribe" not in ask.extra_headers  # nothing to stop yet
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        triage.report_update(report=report, author=None, state=State.ACKNOWLEDGED)
    assert mail.outbox == []
    assert not OutboxMessage.objects.filter(kind="follower_update").exists()


def test_public_update_email_has_one_recipient_one_click_unsubscribe_and_no_private_data(
    django_capture_on_commit_callbacks,
):
    report = create_report(django_capture_on_commit_callbacks)
    Subscription.objects.filter(request=report).update(confirmed_at=timezone.now())
    SubscriptionFactory(request=report, email="neighbour@example.com")
    SubscriptionFactory(request=report, email="unconfirmed@example.com", confirmed_at=None)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        triage.report_update(
            report=report, author=None, state=State.FIXED, text="Collected safely."
        )
    assert sorted(m.to[0] for m in mail.outbox) == ["neighbour@example.com", PRIVATE_VALUES[1]]
    for message in mail.outbox:
        subscription = Subscription.objects.get(request=report, email=message.to[0])
        text = everything(message)
        link = subscription_link(subscription, "unsubscribe")
        assert link.startswith(f"{settings.SITE_URL}/reports/unsubscribe/")
        assert link in message.body and link in message.alternatives[0][0]
        assert message.extra_headers["List-Unsubscribe"] == f"<{link}>"
        assert message.extra_headers["List-Unsubscribe-Post"] == ONE_CLICK
        assert "Collected safely." in text and "Closed: fixed" in text
        others = {"neighbour@example.com", PRIVATE_VALUES[1]} - {message.to[0]}
        assert not any(other in text for other in others)
        for value in (PRIVATE_VALUES[0], PRIVATE_VALUES[2], PRIVATE_VALUES[3]):
            assert value not in text


def test_internal_notes_and_hidden_reports_send_nothing(django_capture_on_commit_callbacks):
    report = create_report(django_capture_on_commit_callbacks)
    SubscriptionFactory(request=report)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        triage.report_note_add(report=report, author=None, text="Police informed.", public=False)
        triage.report_moderate(
            report=report, author=None, hidden=True, description_redacted=False, reason="Spam"
        )
        triage.report_note_add(report=report, author=None, text="Public but hidden.", public=True)
    assert mail.outbox == []


def test_unsubscribed_follower_gets_nothing(django_capture_on_commit_callbacks):
    report = create_report(django_capture_on_commit_callbacks)
    SubscriptionFactory(request=report, active=False)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        triage.report_note_add(report=report, author=None, text="Update.", public=True)
    assert mail.outbox == []


def test_follower_updates_wait_out_a_broker_outage_and_go_once(
    monkeypatch, caplog, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError as BrokerError

    import reports.tasks

    def refuse(*args, **kwargs):
        raise BrokerError("Connection refused.")

    report = ServiceRequestFactory()
    SubscriptionFactory.create_batch(3, request=report)
    monkeypatch.setattr(reports.tasks.outbox_deliver, "delay", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        triage.report_note_add(report=report, author=None, text="Crew booked.", public=True)
    assert mail.outbox == [] and "Broker unreachable" in caplog.text
    assert OutboxMessage.objects.pending().count() == 3
    later = timezone.now() + timedelta(minutes=2)
    assert outbox_send_due(now=later) == 3
    assert outbox_send_due(now=later) == 0
    assert len(mail.outbox) == 3 and len({m.to[0] for m in mail.outbox}) == 3


def test_duplicate_tells_moved_followers_which_report_they_now_follow(
    django_capture_on_commit_callbacks,
):
    report = create_report(django_capture_on_commit_callbacks)
    Subscription.objects.filter(request=report).update(confirmed_at=timezone.now())
    master = ServiceRequestFactory(service=report.service, department=report.department)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        triage.report_close_as_duplicate(report=report, author=None, master=master)
    assert [m.to for m in mail.outbox] == [[PRIVATE_VALUES[1]]]
    assert f"You now follow report #{master.pk}" in mail.outbox[0].body
    assert mail.outbox[0].extra_headers["List-Unsubscribe-Post"] == ONE_CLICK


def test_forward_emails_the_new_department(django_capture_on_commit_callbacks):
    report = create_report(django_capture_on_commit_callbacks)
    Subscription.objects.filter(request=report).update(confirmed_at=timezone.now())
    works = DepartmentFactory(name="Public Works", email="works@city.example.org")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        triage.report_forward(report=report, author=None, department=works, note="Their bin.")
    [to_works] = sent_to("works@city.example.org")
    assert "Forwarded from Health to Public Works." in to_works.body
    assert "Their bin." in to_works.body
    assert_no_private_data(everything(to_works))
    # The citizen hears about the forward, never the internal note.
    [to_citizen] = sent_to(PRIVATE_VALUES[1])
    assert "Their bin." not in everything(to_citizen)
    assert OutboxMessage.objects.filter(kind="report_forwarded").count() == 1


def test_forward_email_carries_only_its_own_note(django_capture_on_commit_callbacks, monkeypatch):
    """An unrelated internal note written in the same instant is not the forward's note."""
    report = create_report(django_capture_on_commit_callbacks)
    works = DepartmentFactory(name="Public Works", email="works@city.example.org")
    instant = timezone.now()
    monkeypatch.setattr("reports.services.triage.timezone.now", lambda: instant)
    with django_capture_on_commit_callbacks(execute=True):
        triage.report_note_add(report=report, author=None, text="Staff only.", public=False)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        triage.report_forward(report=report, author=None, department=works)
    (to_works,) = sent_to("works@city.example.org")
    assert "Staff only." not in everything(to_works)


def test_digest_goes_to_managers_with_new_overdue_and_closed(django_capture_on_commit_callbacks):
    health = DepartmentFactory(name="Health")
    manager = StaffMembershipFactory(department=health, role=StaffMembership.Role.MANAGER).user
    StaffMembershipFactory(department=health)  # an agent: no digest
    now = timezone.now()
    new = ServiceRequestFactory(department=health, requested_datetime=now - timedelta(hours=3))
    late = ServiceRequestFactory(
        department=health,
        requested_datetime=now - timedelta(days=5),
        expected_datetime=now - timedelta(days=1),
    )
    done = ServiceRequestFactory(
        department=health,
        requested_datetime=now - timedelta(days=3),
        state=State.FIXED,
        status="closed",
        closed_datetime=now - timedelta(hours=2),
    )
    ServiceRequestFactory(requested_datetime=now - timedelta(hours=1))  # another department
    with django_capture_on_commit_callbacks(execute=True):
        assert notify_department_digest(department=health, now=now) == 1
    message = mail.outbox[0]
    assert message.to == [manager.email]
    assert "New: 1" in message.body and "Overdue (open past their target): 1" in message.body
    assert "Closed: 1" in message.body
    for report in (new, late, done):
        assert f"#{report.pk} " in message.body
    assert_no_private_data(everything(message))
    # A second run the same day (a retried beat job, two beats) adds nothing.
    assert notify_department_digest(department=health, now=now) == 0
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    ("today", "yesterday"),
    [
        ("2026-11-01T07:00:00-05:00", "2026-10-31T07:00:00-04:00"),  # clocks went back: 25 h
        ("2026-03-08T07:00:00-04:00", "2026-03-07T07:00:00-05:00"),  # clocks went forward: 23 h
    ],
)
def test_digest_covers_the_day_since_yesterdays_when_the_clocks_change(today, yesterday):
    health = DepartmentFactory()
    StaffMembershipFactory(department=health, role=StaffMembership.Role.MANAGER)
    now, before = datetime.fromisoformat(today), datetime.fromisoformat(yesterday)
    inside = ServiceRequestFactory(
        department=health, requested_datetime=before + timedelta(minutes=30)
    )
    outside = ServiceRequestFactory(
        department=health, requested_datetime=before - timedelta(minutes=30)
    )
    assert notify_department_digest(department=health, now=now) == 1
    body = OutboxMessage.objects.get().body
    assert "New: 1" in body and f"#{inside.pk} " in body and f"#{outside.pk} " not in body


def test_digest_skips_quiet_departments_and_departments_without_managers():
    quiet = DepartmentFactory()
    StaffMembershipFactory(department=quiet, role=StaffMembership.Role.MANAGER)
    busy_without_manager = DepartmentFactory()
    ServiceRequestFactory(department=busy_without_manager)
    assert notify_department_digest(department=quiet) == 0
    assert notify_department_digest(department=busy_without_manager) == 0
    assert mail.outbox == [] and not OutboxMessage.objects.exists()


def test_digest_task_covers_every_active_department_and_is_scheduled(
    django_capture_on_commit_callbacks,
):
    health = DepartmentFactory()
    StaffMembershipFactory(
        department=health,
        role=StaffMembership.Role.MANAGER,
        user=UserFactory(email="m@example.org"),
    )
    ServiceRequestFactory(department=health)
    asleep = DepartmentFactory(active=False)
    StaffMembershipFactory(department=asleep, role=StaffMembership.Role.MANAGER)
    ServiceRequestFactory(department=asleep)
    with django_capture_on_commit_callbacks(execute=True):
        assert send_department_digests() == 1
    assert [m.to for m in mail.outbox] == [["m@example.org"]]
    assert OutboxMessage.objects.get().kind == "department_digest"
    assert Department.objects.filter(active=True).exists()
    entry = settings.CELERY_BEAT_SCHEDULE["department-digests"]
    assert entry["task"] == "reports.tasks.send_department_digests"


SENDING = re.compile(
    r"(?<!def )\bsend_mail\(|\bsend_mass_mail\(|EmailMessage\(|EmailMultiAlternatives\("
)


def test_only_the_outbox_talks_to_the_mail_server():
    """Every email goes through the outbox: no module but reports/outbox.py builds or sends
    a message itself."""
    root = Path(settings.BASE_DIR)
    offenders = [
        str(path.relative_to(root))
        for app in ("civic311", "accounts", "departments", "reports", "adoptions")
        for path in (root / app).rglob("*.py")
        if "migrations" not in path.parts
        and path != root / "reports" / "outbox.py"
        and SENDING.search(path.read_text())
    ]
    assert offenders == []


def test_deploy_check_wants_an_https_site_url(settings):
    from reports.checks import site_url_is_https

    settings.SITE_URL = "http://311.example.org"
    assert [m.id for m in site_url_is_https()] == ["civic311.W001"]
    settings.SITE_URL = "https://311.example.org"
    assert site_url_is_https() == []


def test_a_follower_email_queued_in_an_outage_is_written_again_when_sent(
    monkeypatch, django_capture_on_commit_callbacks
):
    """Sent hours later (a broker outage, retries), a follower's email is checked against
    what is public then: an unsubscribed follower or a report hidden meanwhile gets nothing."""
    from kombu.exceptions import OperationalError as BrokerError

    import reports.tasks

    def refuse(*args, **kwargs):
        raise BrokerError("Connection refused.")

    report = ServiceRequestFactory()
    stays, leaves = SubscriptionFactory.create_batch(2, request=report)
    monkeypatch.setattr(reports.tasks.outbox_deliver, "delay", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        triage.report_note_add(report=report, author=None, text="Crew booked.", public=True)
    subscription_cancel(subscription=leaves)
    later = timezone.now() + timedelta(minutes=2)
    assert outbox_send_due(now=later) == 1
    assert [m.to[0] for m in mail.outbox] == [stays.email]
    assert "Crew booked." in mail.outbox[0].body

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        triage.report_note_add(report=report, author=None, text="Second visit.", public=True)
        triage.report_moderate(
            report=report, author=None, hidden=True, description_redacted=False, reason="Spam"
        )
    assert outbox_send_due(now=later + timedelta(minutes=2)) == 0
    assert mail.outbox == []
    dropped = OutboxMessage.objects.filter(state=OutboxMessage.State.DROPPED)
    assert sorted(dropped.values_list("to", flat=True)) == sorted([leaves.email, stays.email])
