"""A broker outage, end to end, with a real Celery worker in another process (CI starts one
on Redis with this test database, the shared MEDIA_ROOT and EMAIL_URL=file:////dir, so each
email the worker sends lands in a file there).

While the broker is unreachable from this process, citizens file reports with photos, follow
them, confirm, and staff post updates: everything is saved, no task reaches the worker. Once
the broker is back, what Celery beat sends every minute (the photo sweep and the outbox
sweep) makes the worker process every photo and send every email; late copies of the lost
tasks and a second sweep then send nothing more. Each email is counted in the files the
worker wrote: exactly once."""

from __future__ import annotations

import email
import email.policy
import os
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from civic311.celery import app as celery_app
from reports.models import OutboxMessage, Photo, ServiceRequest, Subscription
from reports.outbox import outbox_add
from reports.services import triage
from reports.services.requests import report_create
from reports.services.subscriptions import subscription_confirm, subscription_create
from reports.tasks import outbox_deliver, process_request_photos
from tests.broker import broker_unreachable
from tests.factories import CITY_CENTRE, DepartmentFactory, ServiceFactory, image_upload

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        os.environ.get("CIVIC311_CELERY_WORKER") != "1",
        reason="needs a Celery worker on CELERY_BROKER_URL using this test database and "
        "EMAIL_URL=file:////<dir> (CI starts one; set CIVIC311_CELERY_WORKER=1 when you run "
        "one yourself)",
    ),
]
SWEEPS = ("process-pending-photos", "outbox-deliver-due")
SEPARATOR = b"\n" + b"-" * 79 + b"\n"  # what Django's file backend writes after each message


def emails_in(folder: Path, tag: str) -> Counter[tuple[str, str]]:
    """(recipient, subject) of every email the worker wrote to `folder` for this test."""
    found: Counter[tuple[str, str]] = Counter()
    for path in folder.glob("*.log"):
        for raw in path.read_bytes().split(SEPARATOR):
            if not raw.strip():
                continue
            message = email.message_from_bytes(raw, policy=email.policy.default)
            if tag in str(message["To"]):
                found[(str(message["To"]), str(message["Subject"]))] += 1
    return found


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"the worker did not finish: {what}")
        time.sleep(0.25)


def run_beat_sweeps() -> None:
    """What Celery beat sends every minute: the same task names, through the broker."""
    for name in SWEEPS:
        celery_app.send_task(settings.CELERY_BEAT_SCHEDULE[name]["task"])


def file_and_follow(service, tag: str, n: int) -> ServiceRequest:
    """A citizen files a report with two photos and confirms its updates; a neighbour
    follows it and confirms; staff acknowledge it with a public note."""
    reporter = f"reporter{n}-{tag}@example.net"
    report = report_create(
        service=service,
        description=f"Fallen branch number {n} blocks the path.",
        lat=CITY_CENTRE[0],
        long=CITY_CENTRE[1],
        photos=[image_upload("a.jpg"), image_upload("b.png", fmt="PNG")],
        reporter_email=reporter,
    )
    subscription_confirm(subscription=Subscription.objects.get(request=report, email=reporter))
    neighbour = subscription_create(report=report, email=f"neighbour{n}-{tag}@example.net")
    subscription_confirm(subscription=neighbour)
    triage.report_update(
        report=report, author=None, state=ServiceRequest.State.ACKNOWLEDGED, text="Crew booked."
    )
    return report


def test_broker_outage_loses_no_photo_and_sends_every_email_once(caplog):
    assert settings.EMAIL_FILE_PATH, "the worker must write emails to files: EMAIL_URL=file:////dir"
    folder = Path(settings.EMAIL_FILE_PATH)
    tag = uuid.uuid4().hex[:10]
    service = ServiceFactory(department=DepartmentFactory(email=f"works-{tag}@example.org"))

    with broker_unreachable():
        reports = [file_and_follow(service, tag, n) for n in range(2)]

    assert "Broker unreachable" in caplog.text
    photos = Photo.objects.filter(request__in=reports)
    assert photos.count() == 4 and not photos.exclude(state=Photo.State.PENDING).exists()
    rows = OutboxMessage.objects.filter(to__contains=tag)
    # Per report: the department's email, two confirmations, the update to two followers.
    assert rows.count() == 10 and not rows.exclude(state=OutboxMessage.State.PENDING).exists()
    expected = Counter((row.to, row.subject) for row in rows)
    assert len(expected) == 10
    assert emails_in(folder, tag) == Counter()

    # The broker is back. The outage lasted a few minutes: the sweeps' grace periods are over.
    long_ago = timezone.now() - timedelta(minutes=5)
    photos.update(created=long_ago)
    rows.update(next_attempt_at=long_ago)
    run_beat_sweeps()
    wait_for(lambda: not photos.filter(state=Photo.State.PENDING).exists(), "photos")
    wait_for(lambda: not rows.filter(state=OutboxMessage.State.PENDING).exists(), "emails")
    assert not photos.exclude(state=Photo.State.PROCESSED).exists()
    assert all(photo.thumbnail.name and photo.width for photo in photos)
    assert not rows.exclude(state=OutboxMessage.State.SENT).exists()

    # Late copies of every lost task, and beat's next round, must change nothing.
    for row in rows:
        outbox_deliver.delay(row.pk)
    for report in reports:
        process_request_photos.delay(report.pk)
    run_beat_sweeps()
    # The worker takes tasks in order: once this last message is sent, the others ran.
    with transaction.atomic():
        last = outbox_add(
            to=f"last-{tag}@example.org",
            subject="Last",
            template="reports/emails/new_request",
            context={"report": reports[0], "admin_url": settings.SITE_URL},
            kind="test",
        )
    assert last is not None
    wait_for(lambda: OutboxMessage.objects.get(pk=last.pk).state == "sent", "the last email")

    sent = emails_in(folder, tag)
    assert sent.pop((last.to, last.subject)) == 1
    assert sent == expected  # every email, each exactly once
    assert set(rows.values_list("attempts", flat=True)) == {1}
