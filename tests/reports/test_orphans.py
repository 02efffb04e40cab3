"""Uploads a rolled-back submission left behind are swept; every file a row names stays."""

from __future__ import annotations

import os
import time
from datetime import date

import pytest
from django.core.files.storage import default_storage
from django.db import OperationalError

from adoptions.services.care import care_log_add
from reports import orphans
from reports.models import Photo, ServiceRequest
from reports.services import requests as report_services
from reports.services.requests import report_create
from reports.tasks import orphaned_uploads_sweep
from tests.adoptions.conftest import adoption, asset, asset_type, local, volunteer  # noqa: F401
from tests.factories import CITY_CENTRE, ServiceFactory, image_upload

pytestmark = pytest.mark.django_db


def age(name: str, hours: float) -> None:
    then = time.time() - hours * 3600
    os.utime(default_storage.path(name), (then, then))


def originals() -> set[str]:
    _, files = default_storage.listdir(orphans.FOLDER)
    return {f"{orphans.FOLDER}/{name}" for name in files}


def test_a_rolled_back_submissions_upload_is_swept_and_named_ones_stay(monkeypatch, request):
    # The adoptions' fixtures, by name (imported above so that pytest finds them here).
    adopted, caretaker = (request.getfixturevalue(n) for n in ("adoption", "volunteer"))
    kept = report_create(
        service=ServiceFactory(), description="Pothole", lat=CITY_CENTRE[0],
        long=CITY_CENTRE[1], photos=[image_upload()],
    ).photos.get().original.name  # fmt: skip
    care = care_log_add(
        adoption=adopted, volunteer=caretaker, day=date(2026, 3, 20), photo=image_upload(),
        now=local(2026, 3, 21),
    ).original.name  # fmt: skip

    def broken(**kwargs):
        raise OperationalError("the database went away")

    monkeypatch.setattr(report_services, "notify_new_report", broken)
    with pytest.raises(OperationalError):
        report_create(
            service=ServiceFactory(), description="Another", lat=CITY_CENTRE[0],
            long=CITY_CENTRE[1], photos=[image_upload()],
        )  # fmt: skip
    assert ServiceRequest.objects.count() == 1 and Photo.objects.count() == 1
    (left,) = originals() - {kept, care}  # the original, EXIF and all, stayed behind
    assert orphaned_uploads_sweep() == 0  # too young: its transaction could still be open
    for name in (kept, care, left):
        age(name, 2)
    assert orphaned_uploads_sweep() == 1
    assert originals() == {kept, care}
