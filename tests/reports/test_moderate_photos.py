"""The moderate page shows each photo it offers to hide, hidden ones too, through the staff
photo view only: "Photo 1", "Photo 2" alone did not tell a moderator which was which."""

from __future__ import annotations

import pytest
from django.test import Client

from reports.models import Photo
from reports.photos import photo_process
from reports.services.photos import photo_moderate
from reports.services.requests import report_create
from tests.factories import CITY_CENTRE, ServiceFactory, UserFactory, image_upload
from tests.reports.admin_support import change_url, login
from tests.reports.html_support import by_id, parse

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.media_urls")]


def test_moderate_page_shows_each_photos_staff_thumbnail_and_only_staff_get_it(
    client, world, django_capture_on_commit_callbacks
):
    service = ServiceFactory(department=world["health"])
    report = report_create(
        service=service,
        description="Needles by the swings",
        lat=CITY_CENTRE[0],
        long=CITY_CENTRE[1],
        photos=[image_upload(color="red"), image_upload(color="blue")],
    )
    shown, hidden = Photo.objects.filter(request=report).order_by("order")
    for photo in (shown, hidden):
        photo_process(photo=photo)
    with django_capture_on_commit_callbacks(execute=True):
        photo_moderate(photo=hidden, author=world["agent_a"], hidden=True, reason="A face")
    hidden.refresh_from_db()
    assert hidden.thumbnail.name.startswith("hidden/")

    page = login(client, world, "agent_a").get(change_url(report, "moderate"))
    assert page.status_code == 200
    root = parse(page.content.decode())
    for index, photo in enumerate((shown, hidden)):
        box = by_id(root, f"id_hidden_photos_{index}")
        assert box is not None
        label = box.parent
        assert label is not None and label.tag == "label" and label.text == f"Photo {photo.order}"
        card = label.parent  # the photo's card: its thumbnail beside its box
        assert card is not None
        images = [e for e in card.iter() if e.tag == "img"]
        assert [i.attrs["src"] for i in images] == [photo.staff_thumbnail_url]
        assert images[0].attrs["alt"].startswith(f"Photo {photo.order}")
        # Never a public or original address on the page.
        assert photo.original.name not in page.content.decode()
        assert client.get(photo.staff_thumbnail_url).status_code == 200

    outsiders = [Client(), Client()]
    outsiders[1].force_login(UserFactory())
    for outsider in outsiders:
        for photo in (shown, hidden):
            assert outsider.get(photo.staff_thumbnail_url).status_code in (302, 403, 404)
