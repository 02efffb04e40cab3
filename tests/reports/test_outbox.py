"""The outbox: an email is stored with the change that causes it, sent once by the worker,
retried with backoff, and swept up when its task was lost with the broker."""

from __future__ import annotations

import logging
import smtplib
import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

import reports.tasks
from reports.models import OutboxMessage
from reports.outbox import (
    MAX_ATTEMPTS,
    SWEEP_GRACE,
    outbox_add,
    outbox_retry,
    outbox_send,
    outbox_send_due,
    retry_delay,
    unsubscribe_headers,
)

pytestmark = pytest.mark.django_db
Sent = OutboxMessage.State

TEMPLATE = "reports/emails/new_request"


def add(**kwargs):
    from tests.factories import ServiceRequestFactory

    report = kwargs.pop("report", None) or ServiceRequestFactory()
    values = {
        "to": "works@city.example.org",
        "subject": f"New report #{report.pk}",
        "template": TEMPLATE,
        "context": {"report": report, "admin_url": "https://example.org/admin/"},
        "kind": "test",
    }
    values.update(kwargs)
    return outbox_add(**values)


@pytest.fixture
def broker_down(monkeypatch):
    """Every publish fails as it does when Redis is stopped."""

    def refuse(*args, **kwargs):
        raise BrokerError("Error 111 connecting to 127.0.0.1:9. Connection refused.")

    monkeypatch.setattr(reports.tasks.outbox_deliver, "delay", refuse)
    monkeypatch.setattr(reports.tasks.outbox_deliver, "apply_async", refuse)


def test_add_stores_then_worker_sends_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message = add(headers={"X-Test": "yes"})
        # Nothing leaves before the transaction commits.
        assert mail.outbox == []
        assert message is not None and message.state == Sent.PENDING
    assert len(callbacks) == 1
    message.refresh_from_db()
    assert message.state == Sent.SENT and message.attempts == 1 and message.sent_at
    [email] = mail.outbox
    assert email.to == ["works@city.example.org"]
    assert email.subject == f"[{settings.CITY_NAME} 311] {message.subject.split('] ', 1)[1]}"
    assert email.extra_headers == {"X-Test": "yes"}
    assert email.body == message.body and "A new report" in email.body
    assert email.alternatives[0] == (message.html, "text/html")


def test_rolled_back_change_leaves_no_message(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):  # noqa: SIM117
        with transaction.atomic():
            add()
            raise RuntimeError("the change failed")
    assert not OutboxMessage.objects.exists()
    assert mail.outbox == []


def test_dedupe_key_adds_a_message_once():
    assert add(dedupe_key="reminder:1:2026-11") is not None
    assert add(dedupe_key="reminder:1:2026-11") is None
    assert add() is not None and add() is not None  # no key: no deduplication
    assert OutboxMessage.objects.filter(dedupe_key="reminder:1:2026-11").count() == 1
    assert OutboxMessage.objects.count() == 3


def test_dedupe_race_keeps_the_callers_transaction_usable():
    assert add(dedupe_key="digest:1") is not None
    # The insert itself skips a taken key (there is no look-up first for another worker to
    # race), and the caller's transaction goes on.
    with transaction.atomic():
        assert add(dedupe_key="digest:1") is None
        assert add(dedupe_key="digest:2") is not None  # the transaction goes on
    assert OutboxMessage.objects.count() == 2


def test_invalid_recipient_is_refused():
    with pytest.raises(ValidationError):
        add(to="not an address")
    assert not OutboxMessage.objects.exists()


def test_header_and_subject_newlines_are_flattened():
    message = add(subject="Hello\r\nBcc: victim@example.org", headers={"X-A": "1\nBcc: x@y.z"})
    assert "\n" not in message.subject and "\r" not in message.subject
    assert message.headers == {"X-A": "1 Bcc: x@y.z"}


def test_unsubscribe_url_adds_the_one_click_headers():
    url = "https://311.example.org/reports/unsubscribe/abc:def/"
    message = add(headers={"X-Test": "yes"}, unsubscribe_url=url)
    assert message.headers == {
        "X-Test": "yes",
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    assert unsubscribe_headers(url) == {
        k: v for k, v in message.headers.items() if k.startswith("List-")
    }
    assert outbox_send(message_id=message.pk) == "sent"
    assert mail.outbox[0].extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_broker_outage_leaves_message_pending_and_sweep_sends_it_once(
    broker_down, caplog, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = add()
    assert "Broker unreachable" in caplog.text
    message.refresh_from_db()
    assert message.state == Sent.PENDING and mail.outbox == []
    # A task may still be on its way: the sweep leaves fresh messages alone.
    assert outbox_send_due() == 0
    later = timezone.now() + SWEEP_GRACE + timedelta(seconds=1)
    assert outbox_send_due(now=later) == 1
    assert outbox_send_due(now=later) == 0
    assert outbox_send(message_id=message.pk) == "skipped"
    assert len(mail.outbox) == 1
    message.refresh_from_db()
    assert message.state == Sent.SENT


def test_sending_twice_sends_once():
    message = add()
    assert outbox_send(message_id=message.pk) == "sent"
    assert outbox_send(message_id=message.pk) == "skipped"
    assert len(mail.outbox) == 1


def test_failed_attempt_is_recorded_and_retried_with_backoff(settings):
    settings.EMAIL_BACKEND = "tests.reports.test_notifications.FailingBackend"
    message = add()
    before = timezone.now()
    assert outbox_send(message_id=message.pk) == "retry"
    message.refresh_from_db()
    assert message.state == Sent.PENDING and message.attempts == 1
    assert "ConnectionRefusedError: mail server down" in message.last_error
    assert message.next_attempt_at >= before + retry_delay(1)
    # Not due yet: neither a task nor the sweep tries again before the backoff.
    assert outbox_send(message_id=message.pk) == "skipped"
    assert outbox_send_due(now=timezone.now() + SWEEP_GRACE) == 0
    assert retry_delay(1) < retry_delay(2) < retry_delay(3) <= retry_delay(30)


def test_attempts_spent_mark_the_message_failed_and_staff_can_retry(settings):
    settings.EMAIL_BACKEND = "tests.reports.test_notifications.FailingBackend"
    message = add()
    for _ in range(MAX_ATTEMPTS):
        OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
        outcome = outbox_send(message_id=message.pk)
    assert outcome == "failed"
    message.refresh_from_db()
    assert message.state == Sent.FAILED and message.attempts == MAX_ATTEMPTS
    assert outbox_send_due(now=timezone.now() + timedelta(days=1)) == 0

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    message = outbox_retry(message=message)
    assert message.state == Sent.PENDING and message.attempts == 0
    assert outbox_send(message_id=message.pk) == "sent"
    assert len(mail.outbox) == 1
    with pytest.raises(ValidationError):
        outbox_retry(message=message)


def test_delivery_task_requeues_a_failed_attempt(settings, monkeypatch):
    settings.EMAIL_BACKEND = "tests.reports.test_notifications.FailingBackend"
    message = add()
    queued: list[tuple[object, float]] = []
    monkeypatch.setattr(
        reports.tasks.outbox_deliver,
        "apply_async",
        lambda args, countdown: queued.append((args, countdown)),
    )
    assert reports.tasks.outbox_deliver(message.pk) == "retry"
    assert queued == [((message.pk,), retry_delay(1).total_seconds())]


def test_sweeps_run_every_minute():
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["outbox-deliver-due"]["task"] == "reports.tasks.outbox_deliver_due"
    assert schedule["outbox-deliver-due"]["schedule"] == 60
    assert schedule["process-pending-photos"]["schedule"] == 60
    assert reports.tasks.PHOTO_SWEEP_AFTER.total_seconds() <= 60


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL (SQLite has none)"
)
def test_a_message_being_sent_by_one_worker_is_skipped_by_another(broker_down):
    message = add()  # autocommit: its task would run at once, so the broker is "down"
    assert mail.outbox == []
    outcome: list[str] = []
    with transaction.atomic():
        # This transaction is the first worker, holding the row while it talks to SMTP.
        OutboxMessage.objects.select_for_update().get(pk=message.pk)

        def second_worker() -> None:
            try:
                outcome.append(outbox_send(message_id=message.pk))
            finally:
                connection.close()

        thread = threading.Thread(target=second_worker)
        thread.start()
        thread.join()
    assert outcome == ["skipped"]
    assert mail.outbox == []
    assert outbox_send(message_id=message.pk) == "sent"


class RefusingBackend(BaseEmailBackend):
    """A mail server that refuses the recipient, quoting the address as SMTP servers do."""

    def send_messages(self, email_messages):
        refused = {address: (550, b"5.1.1 User unknown") for address in email_messages[0].to}
        raise smtplib.SMTPRecipientsRefused(refused)


def test_a_failed_attempt_logs_no_recipient_address(settings, caplog):
    """The warning carried the exception's traceback, whose text is the refused address:
    a reporter's email in the server's log. The row keeps the error for outbox readers."""
    settings.EMAIL_BACKEND = "tests.reports.test_outbox.RefusingBackend"
    message = add(to="jane.reporter@mail.example")
    with caplog.at_level(logging.WARNING, logger="reports.outbox"):
        assert outbox_send(message_id=message.pk) == "retry"
    assert "jane.reporter" not in caplog.text
    assert f"Outbox message {message.pk}: attempt 1 failed (SMTPRecipientsRefused" in caplog.text
    message.refresh_from_db()
    assert "jane.reporter@mail.example" in message.last_error
