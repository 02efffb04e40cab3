"""Uploads served in development: processed photos yes, originals (EXIF, GPS) never."""

from __future__ import annotations

import pytest
from django.http import Http404
from django.test import RequestFactory

from civic311.media import serve_public_media


@pytest.mark.parametrize("folder", ["photos", "thumbnails"])
def test_public_folders_are_served(settings, folder):
    (settings.MEDIA_ROOT / folder).mkdir(parents=True)
    (settings.MEDIA_ROOT / folder / "p.jpg").write_bytes(b"jpeg")
    response = serve_public_media(RequestFactory().get("/"), f"{folder}/p.jpg")
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["originals/2026/11/upload-1.jpg", "../secret", "other/x.jpg"])
def test_originals_and_anything_else_are_refused(settings, path):
    (settings.MEDIA_ROOT / "originals/2026/11").mkdir(parents=True)
    (settings.MEDIA_ROOT / "originals/2026/11/upload-1.jpg").write_bytes(b"exif gps")
    with pytest.raises(Http404):
        serve_public_media(RequestFactory().get("/"), path)
