"""Serving uploads in development. Production serves MEDIA_URL from the web server (see the
README), with the same rule: only the public folders."""

from django.conf import settings
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.views.static import serve

from reports.photos import PUBLIC_FOLDERS


def serve_public_media(request: HttpRequest, path: str) -> HttpResponseBase:
    """Serve processed photos and thumbnails; refuse the originals, which keep EXIF/GPS."""
    if path.split("/", 1)[0] not in PUBLIC_FOLDERS:
        raise Http404("Not a public file.")
    # MEDIA_ROOT is read per request so that tests can give each test its own folder.
    return serve(request, path, document_root=str(settings.MEDIA_ROOT))
