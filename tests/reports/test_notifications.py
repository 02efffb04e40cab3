from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from departments.models import Department, StaffMembership
from reports.models import ServiceRequest, Subscription
from reports.notifications import send_department_digest, unsubscribe_url
from reports.services import triage
from reports.services.requests import report_create
from reports.tasks import send_department_digests
from tests.conftest import PRIVATE_VALUES, assert_no_private_data
from tests.factories import (
    CITY_CENTRE,
    DepartmentFactory,
    ServiceFactory,
    ServiceRequestFactory,
    StaffMembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
State = ServiceRequest.State


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


def test_new_report_emails_the_routed_department_with_admin_link(
    django_capture_on_commit_callbacks,
):
    report = create_report(django_capture_on_commit_callbacks)
    # The department's email, and the reporter's acknowledgement (tests/reports/test_followup.py).
    assert sorted(m.to[0] for m in mail.outbox) == ["health@city.example.org", PRIVATE_VALUES[1]]
    [message] = [m for m in mail.outbox if m.to == ["health@city.example.org"]]
    assert f"New report #{report.pk}: Found syringe" in message.subject
    text = everything(message)
    assert f"{settings.SITE_URL}/admin/reports/servicerequest/{report.pk}/change/" in text
    assert "Syringe next to the swings." in text and message.alternatives[0][1] == "text/html"
    assert_no_private_data(text)


def test_new_report_without_department_address_sends_nothing(django_capture_on_commit_callbacks):
    service = ServiceFactory(department=DepartmentFactory(email=""))
    create_report(django_capture_on_commit_callbacks, service=service)
    assert [m.to for m in mail.outbox] == [[PRIVATE_VALUES[1]]]  # the acknowledgement only


def test_mail_outage_never_loses_the_report(settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "tests.reports.test_notifications.FailingBackend"
    FailingBackend.attempts = 0
    report = create_report(django_capture_on_commit_callbacks)
    assert ServiceRequest.objects.filter(pk=report.pk).exists()
    assert FailingBackend.attempts > 1  # the task retried


def test_public_update_email_has_one_recipient_unsubscribe_and_no_private_data(
    django_capture_on_commit_callbacks,
):
    report = create_report(django_capture_on_commit_callbacks)
    Subscription.objects.create(request=report, email="neighbour@example.com")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        triage.report_update(
            report=report, author=None, state=State.FIXED, text="Collected safely."
        )
    assert sorted(m.to[0] for m in mail.outbox) == ["neighbour@example.com", PRIVATE_VALUES[1]]
    for message in mail.outbox:
        subscription = Subscription.objects.get(request=report, email=message.to[0])
        text = everything(message)
        link = f"{settings.SITE_URL}/reports/unsubscribe/{subscription.token}/"
        assert link in message.body and link in message.alternatives[0][0]
        assert message.extra_headers["List-Unsubscribe"] == f"<{link}>"
        assert "Collected safely." in text and "Closed: fixed" in text
        others = {"neighbour@example.com", PRIVATE_VALUES[1]} - {message.to[0]}
        assert not any(other in text for other in others)
        for value in (PRIVATE_VALUES[0], PRIVATE_VALUES[2], PRIVATE_VALUES[3]):
            assert value not in text


def test_internal_notes_and_hidden_reports_send_nothing(django_capture_on_commit_callbacks):
    report = create_report(django_capture_on_commit_callbacks)
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
    Subscription.objects.filter(request=report).update(active=False)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        triage.report_note_add(report=report, author=None, text="Update.", public=True)
    assert mail.outbox == []


def test_unsubscribe_url_is_absolute_and_tokenised():
    subscription = Subscription.objects.create(
        request=ServiceRequestFactory(), email="a@example.net"
    )
    assert unsubscribe_url(subscription) == (
        f"{settings.SITE_URL}/reports/unsubscribe/{subscription.token}/"
    )


def test_duplicate_tells_moved_followers_which_report_they_now_follow(
    django_capture_on_commit_callbacks,
):
    report = create_report(django_capture_on_commit_callbacks)
    master = ServiceRequestFactory(service=report.service, department=report.department)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        triage.report_close_as_duplicate(report=report, author=None, master=master)
    assert [m.to for m in mail.outbox] == [[PRIVATE_VALUES[1]]]
    assert f"You now follow report #{master.pk}" in mail.outbox[0].body


def test_forward_emails_the_new_department(django_capture_on_commit_callbacks):
    report = create_report(django_capture_on_commit_callbacks)
    works = DepartmentFactory(name="Public Works", email="works@city.example.org")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        triage.report_forward(report=report, author=None, department=works, note="Their bin.")
    to_works = [m for m in mail.outbox if m.to == ["works@city.example.org"]]
    assert len(to_works) == 1
    assert "Forwarded from Health to Public Works." in to_works[0].body
    assert "Their bin." in to_works[0].body
    assert_no_private_data(everything(to_works[0]))
    # The citizen hears about the forward, never the internal note.
    to_citizen = [m for m in mail.outbox if m.to == [PRIVATE_VALUES[1]]]
    assert len(to_citizen) == 1 and "Their bin." not in everything(to_citizen[0])


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
    (to_works,) = [m for m in mail.outbox if m.to == ["works@city.example.org"]]
    assert "Staff only." not in everything(to_works)


def test_digest_goes_to_managers_with_new_overdue_and_closed():
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
    assert send_department_digest(department_id=health.pk, now=now) == 1
    message = mail.outbox[0]
    assert message.to == [manager.email]
    assert "New: 1" in message.body and "Overdue (open past their target): 1" in message.body
    assert "Closed: 1" in message.body
    for report in (new, late, done):
        assert f"#{report.pk} " in message.body
    assert_no_private_data(everything(message))


def test_digest_skips_quiet_departments_and_departments_without_managers():
    quiet = DepartmentFactory()
    StaffMembershipFactory(department=quiet, role=StaffMembership.Role.MANAGER)
    busy_without_manager = DepartmentFactory()
    ServiceRequestFactory(department=busy_without_manager)
    assert send_department_digest(department_id=quiet.pk) == 0
    assert send_department_digest(department_id=busy_without_manager.pk) == 0
    assert mail.outbox == []


def test_digest_task_runs_for_every_active_department_and_is_scheduled():
    health = DepartmentFactory()
    StaffMembershipFactory(
        department=health,
        role=StaffMembership.Role.MANAGER,
        user=UserFactory(email="m@example.org"),
    )
    ServiceRequestFactory(department=health)
    DepartmentFactory(active=False)
    assert send_department_digests() == Department.objects.filter(active=True).count()
    assert [m.to for m in mail.outbox] == [["m@example.org"]]
    entry = settings.CELERY_BEAT_SCHEDULE["department-digests"]
    assert entry["task"] == "reports.tasks.send_department_digests"
