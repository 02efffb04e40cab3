"""Photos kept for a form that bounced keep their EXIF until processed: never served."""

from __future__ import annotations

from io import BytesIO

import pytest

from reports.photo_drafts import draft_keep, draft_read
from tests.factories import image_bytes

pytestmark = pytest.mark.django_db


@pytest.mark.urls("tests.media_urls")
def test_a_kept_photo_is_not_a_public_file(client, settings):
    _, path = draft_read(draft_keep(BytesIO(image_bytes())).token)
    assert path.startswith("drafts/")
    assert (settings.MEDIA_ROOT / path).is_file()
    assert client.get(f"{settings.MEDIA_URL}{path}").status_code == 404
    # The same view serves a public folder, so the 404 above is the rule, not a dead URL.
    (settings.MEDIA_ROOT / "thumbnails").mkdir(parents=True, exist_ok=True)
    (settings.MEDIA_ROOT / "thumbnails" / "a.jpg").write_bytes(image_bytes())
    assert client.get(f"{settings.MEDIA_URL}thumbnails/a.jpg").status_code == 200
