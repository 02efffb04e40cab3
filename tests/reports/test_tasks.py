"""Background work: a dead broker never fails a submission, a real worker processes photos."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from kombu import pools

from civic311.celery import app as celery_app
from reports.models import Photo, ServiceRequest
from reports.services import service_request_create
from reports.tasks import photos_process_pending
from tests.factories import CITY_CENTRE, ServiceFactory, image_upload

LAT, LNG = CITY_CENTRE


@pytest.fixture
def dead_broker():  # type: ignore[no-untyped-def]
    """Point Celery at a closed local port, as if Redis were down."""
    conf = celery_app.conf
    saved = (conf.broker_url, conf.broker_write_url, conf.task_always_eager)
    dead = "redis://127.0.0.1:9/0"
    conf.broker_url, conf.broker_write_url, conf.task_always_eager = dead, dead, False
    _reset_connections()
    yield
    conf.broker_url, conf.broker_write_url, conf.task_always_eager = saved
    _reset_connections()


def _reset_connections() -> None:
    # Celery and kombu cache connection and producer pools (kombu's globally, by URL); drop
    # them all so that the next publish connects to the URL now configured.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    pools.reset()


@pytest.mark.django_db(transaction=True)
def test_submission_survives_broker_outage_and_sweeper_catches_up(dead_broker, caplog):
    request = service_request_create(
        service=ServiceFactory(),
        description="Pothole",
        lat=LAT,
        long=LNG,
        photos=[image_upload()],
    )
    assert ServiceRequest.objects.filter(pk=request.pk).exists()
    photo = Photo.objects.get(request=request)
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
    request = service_request_create(
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
