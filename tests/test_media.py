"""Uploads served in development: public processed photos yes; originals (EXIF, GPS), hidden
photos and anything reached by a path that leaves the public folders, never."""

from __future__ import annotations

import pytest
from django.http import Http404
from django.test import RequestFactory

from civic311.media import serve_public_media

ORIGINAL = "originals/2026/11/upload-1.jpg"


@pytest.fixture
def media(settings):
    root = settings.MEDIA_ROOT
    for folder in ("photos", "thumbnails", "originals/2026/11", "hidden/photos"):
        (root / folder).mkdir(parents=True)
    (root / "photos/p.jpg").write_bytes(b"public jpeg")
    (root / "thumbnails/t.jpg").write_bytes(b"public thumbnail")
    (root / ORIGINAL).write_bytes(b"exif gps")
    (root / "hidden/photos/h.jpg").write_bytes(b"hidden by a moderator")
    return root


@pytest.mark.parametrize("path", ["photos/p.jpg", "thumbnails/t.jpg"])
def test_public_folders_are_served(media, path):
    response = serve_public_media(RequestFactory().get("/"), path)
    assert response.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        ORIGINAL,
        "hidden/photos/h.jpg",
        "../secret",
        "other/x.jpg",
        "photos",
        "photos/",
        # What /media/photos/%2e%2e/originals/... arrives as once the URL is decoded.
        f"photos/../{ORIGINAL}",
        f"thumbnails/../{ORIGINAL}",
        f"photos/./../{ORIGINAL}",
        f"photos//../{ORIGINAL}",
        "photos/../hidden/photos/h.jpg",
        "photos/../../../etc/passwd",
        f"photos/%2e%2e/{ORIGINAL}",
        f"photos/%2E%2E%2F{ORIGINAL}",
        f"photos/..\\{ORIGINAL}",
        "photos/p.jpg\x00.png",
        "/photos/p.jpg",
        "photos/.",
    ],
)
def test_originals_hidden_files_and_traversal_are_refused(media, path):
    with pytest.raises(Http404):
        serve_public_media(RequestFactory().get("/"), path)


def test_a_link_out_of_a_public_folder_is_refused(media):
    (media / "photos/link.jpg").symlink_to(media / ORIGINAL)
    with pytest.raises(Http404):
        serve_public_media(RequestFactory().get("/"), "photos/link.jpg")


@pytest.mark.urls("tests.media_urls")
@pytest.mark.parametrize(
    "url",
    [
        f"/media/photos/%2e%2e/{ORIGINAL}",
        f"/media/photos/%2E%2E/{ORIGINAL}",
        f"/media/photos/..%2f{ORIGINAL}",
        f"/media/photos/%2e%2e%2f{ORIGINAL}",
        f"/media/thumbnails/%2e%2e/%2e%2e/{ORIGINAL}",
        f"/media/photos/%252e%252e/{ORIGINAL}",
        f"/media/photos/.%2e/{ORIGINAL}",
        "/media/photos/%2e%2e/hidden/photos/h.jpg",
        f"/media/{ORIGINAL}",
    ],
)
def test_encoded_traversal_through_the_url_is_refused(client, media, url):
    assert client.get(url).status_code == 404


@pytest.mark.urls("tests.media_urls")
def test_public_file_through_the_url(client, media):
    response = client.get("/media/photos/p.jpg")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"public jpeg"
