"""Background work: a dead broker never fails a submission, a real worker processes photos."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from django.utils import timezone

import reports.tasks
from reports.models import Photo, ServiceRequest
from reports.services.requests import report_create
from reports.tasks import photos_process_pending
from tests.broker import broker_unreachable
from tests.factories import CITY_CENTRE, ServiceFactory, image_upload

LAT, LNG = CITY_CENTRE


@pytest.fixture
def dead_broker():
    """Point Celery at a closed local port, as if Redis were down."""
    with broker_unreachable():
        yield


@pytest.mark.django_db(transaction=True)
def test_submission_survives_broker_outage_and_sweeper_catches_up(dead_broker, caplog):
    photo = _report_with_photo()
    assert ServiceRequest.objects.filter(pk=photo.request_id).exists()
    assert photo.state == Photo.State.PENDING
    assert "Broker unreachable" in caplog.text
    # The beat sweeper processes what the broker never got, once it is old enough.
    assert photos_process_pending() == 0
    Photo.objects.filter(pk=photo.pk).update(created=timezone.now() - timedelta(minutes=10))
    assert photos_process_pending() == 1
    photo.refresh_from_db()
    assert photo.state == Photo.State.PROCESSED


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    os.environ.get("CIVIC311_CELERY_WORKER") != "1",
    reason="needs a Celery worker on CELERY_BROKER_URL using this test database "
    "(CI starts one; set CIVIC311_CELERY_WORKER=1 when you run one yourself)",
)
def test_real_worker_processes_photos_after_commit():
    request = report_create(
        service=ServiceFactory(),
        description="Graffiti on the wall",
        lat=LAT,
        long=LNG,
        photos=[image_upload(size=(1200, 900))],
    )
    photo = Photo.objects.get(request=request)
    deadline = time.monotonic() + 60
    while photo.state == Photo.State.PENDING and time.monotonic() < deadline:
        time.sleep(0.25)
        photo.refresh_from_db()
    assert photo.state == Photo.State.PROCESSED
    assert photo.width == 1200 and photo.thumbnail.name


def _report_with_photo() -> Photo:
    request = report_create(
        service=ServiceFactory(),
        description="Pothole",
        lat=LAT,
        long=LNG,
        photos=[image_upload()],
    )
    return Photo.objects.get(request=request)


@pytest.mark.django_db
def test_storage_error_is_retried_then_succeeds(monkeypatch):
    photo = _report_with_photo()
    real, calls = reports.tasks.photo_process, []

    def flaky(*, photo: Photo) -> Photo:
        calls.append(photo.pk)
        if len(calls) == 1:
            raise OSError("storage hiccup")
        return real(photo=photo)

    monkeypatch.setattr(reports.tasks, "photo_process", flaky)
    reports.tasks.process_request_photos.apply(args=[photo.request_id])
    photo.refresh_from_db()
    assert len(calls) == 2 and photo.state == Photo.State.PROCESSED


@pytest.mark.django_db
def test_photo_is_marked_failed_when_retries_are_spent(monkeypatch):
    photo = _report_with_photo()
    calls = []

    def broken(*, photo: Photo) -> Photo:
        calls.append(photo.pk)
        raise OSError("disk gone")

    monkeypatch.setattr(reports.tasks, "photo_process", broken)
    reports.tasks.process_request_photos.apply(args=[photo.request_id])
    photo.refresh_from_db()
    assert photo.state == Photo.State.FAILED
    assert len(calls) == reports.tasks.process_request_photos.max_retries + 1


@pytest.mark.django_db
def test_sweeper_marks_a_lost_original_failed_and_carries_on():
    lost, fine = _report_with_photo(), _report_with_photo()
    Photo.objects.update(created=timezone.now() - timedelta(minutes=10))
    lost.original.storage.delete(lost.original.name)
    assert photos_process_pending() == 1
    lost.refresh_from_db()
    fine.refresh_from_db()
    assert lost.state == Photo.State.FAILED and fine.state == Photo.State.PROCESSED
