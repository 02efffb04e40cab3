"""Serving uploads in development. Production serves MEDIA_URL from the web server (see the
README), with the same rule: only the public folders, nothing reached by leaving them."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.urls import URLPattern, re_path
from django.views.static import serve

from reports.photos import PUBLIC_FOLDERS

# Every segment of a public file's path: letters, digits, "_", "-" and dots, but not "." or
# ".." alone. Public names are random tokens plus ".jpg", so this refuses only attacks
# (encoded or not: "%", "\\" and NUL fail here, after Django has decoded the URL once).
_SEGMENT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")


def serve_public_media(request: HttpRequest, path: str) -> HttpResponseBase:
    """Serve a file from the public folders (processed photos and thumbnails) and nothing
    else: not the originals, which keep EXIF/GPS, not photos a moderator hid, and no path
    that leaves a public folder (`..`, links). Anything else is a 404."""
    segments = path.split("/")
    if (
        len(segments) < 2
        or segments[0] not in PUBLIC_FOLDERS
        or not all(_SEGMENT.fullmatch(segment) for segment in segments)
    ):
        raise Http404("Not a public file.")
    # MEDIA_ROOT is read per request so that tests can give each test its own folder.
    root = Path(settings.MEDIA_ROOT).resolve()
    folder = (root / segments[0]).resolve()
    target = (root / path).resolve()  # follows links: one pointing out is refused below
    if not target.is_relative_to(folder) or not target.is_file():
        raise Http404("Not a public file.")
    return serve(request, target.relative_to(root).as_posix(), document_root=str(root))


def media_urlpatterns() -> list[URLPattern]:
    """The development route for MEDIA_URL (urls.py adds it only with DEBUG on)."""
    prefix = re.escape(settings.MEDIA_URL.lstrip("/"))
    return [re_path(rf"^{prefix}(?P<path>.+)$", serve_public_media)]
