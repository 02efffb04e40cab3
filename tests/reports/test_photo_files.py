"""Public photo files: names nobody can guess, and a hidden photo (or any photo of a hidden
report) is not in the public folders at all, so no web server can serve it."""

from __future__ import annotations

import csv
import importlib
import re
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.core.files.storage import default_storage
from django.urls import reverse

import reports.photos
from reports.browse import clusters
from reports.insights import exports
from reports.insights.tasks import open_data_dump
from reports.models import Photo
from reports.photos import photo_files_sync, photo_process, photos_files_sync_misplaced
from reports.services.photos import photo_moderate
from reports.services.requests import report_create
from reports.services.triage import report_moderate
from tests.factories import (
    CITY_CENTRE,
    ServiceFactory,
    StaffMembershipFactory,
    UserFactory,
    image_upload,
)

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.media_urls")]

LAT, LNG = CITY_CENTRE
RANDOM = r"[A-Za-z0-9_-]{22}"


@pytest.fixture
def agent(staff_group):
    user = StaffMembershipFactory(user__username="agent").user
    user.groups.add(staff_group)
    return user


def _photos(count: int = 1, *, process: bool = True) -> list[Photo]:
    report = report_create(
        service=ServiceFactory(),
        description="Pothole",
        lat=LAT,
        long=LNG,
        photos=[image_upload(color=c) for c in ("red", "blue", "green")[:count]],
    )
    photos = list(Photo.objects.filter(request=report))
    if process:
        for photo in photos:
            photo_process(photo=photo)
    return photos


def _urls(photo: Photo) -> list[str]:
    return [photo.image.url, photo.thumbnail.url]


def _status(client, urls: list[str]) -> list[int]:
    return [client.get(url).status_code for url in urls]


def test_file_names_are_random_not_counted(settings):
    first, second = _photos(2)
    third = _photos(1)[0]
    names = [p.image.name for p in (first, second, third)]
    names += [p.thumbnail.name for p in (first, second, third)]
    for photo in (first, second, third):
        assert re.fullmatch(rf"photos/{RANDOM}\.jpg", photo.image.name)
        assert re.fullmatch(rf"thumbnails/{RANDOM}\.jpg", photo.thumbnail.name)
        assert re.fullmatch(rf"originals/{RANDOM}\.jpg", photo.original.name)
    assert len(set(names)) == len(names)
    # Nothing but random names in the public folders: no id, date or order to count up.
    public = [
        p.name
        for folder in ("photos", "thumbnails")
        for p in (Path(settings.MEDIA_ROOT) / folder).rglob("*")
        if p.is_file()
    ]
    assert len(public) == 6
    assert all(re.fullmatch(rf"{RANDOM}\.jpg", name) for name in public)


def test_hidden_photo_is_not_served_and_comes_back_when_shown(
    client, agent, django_capture_on_commit_callbacks
):
    hidden, kept = _photos(2)
    urls = _urls(hidden)
    assert _status(client, urls + _urls(kept)) == [200] * 4
    with django_capture_on_commit_callbacks(execute=True):
        photo_moderate(photo=hidden, author=agent, hidden=True, reason="A face")
    assert _status(client, urls) == [404, 404]
    assert _status(client, _urls(kept)) == [200, 200]
    hidden.refresh_from_db()
    assert hidden.image.name.startswith("hidden/photos/")
    assert hidden.thumbnail.name.startswith("hidden/thumbnails/")
    assert hidden.image.storage.exists(hidden.image.name)
    assert not hidden.image.storage.exists(urls[0].removeprefix("/media/"))

    with django_capture_on_commit_callbacks(execute=True):
        photo_moderate(photo=hidden, author=agent, hidden=False, reason="")
    hidden.refresh_from_db()
    assert _urls(hidden) == urls
    assert _status(client, urls) == [200, 200]


def test_hidden_report_photos_are_not_served(client, agent, django_capture_on_commit_callbacks):
    photos = _photos(2)
    urls = [url for photo in photos for url in _urls(photo)]
    report = photos[0].request
    with django_capture_on_commit_callbacks(execute=True):
        report_moderate(
            report=report, author=agent, hidden=True, description_redacted=False, reason="Spam"
        )
    assert _status(client, urls) == [404] * 4
    with django_capture_on_commit_callbacks(execute=True):
        report_moderate(
            report=report, author=agent, hidden=False, description_redacted=False, reason=""
        )
    assert _status(client, urls) == [200] * 4


def test_photo_of_an_already_hidden_report_is_never_published(
    client, agent, settings, django_capture_on_commit_callbacks
):
    photo = _photos(1, process=False)[0]
    with django_capture_on_commit_callbacks(execute=True):
        report_moderate(
            report=photo.request,
            author=agent,
            hidden=True,
            description_redacted=False,
            reason="Spam",
        )
    photo_process(photo=photo)
    assert photo.image.name.startswith("hidden/photos/")
    assert photo.thumbnail.name.startswith("hidden/thumbnails/")
    assert not any((Path(settings.MEDIA_ROOT) / "photos").rglob("*.jpg"))
    assert _status(client, _urls(photo)) == [404, 404]


def test_photo_hidden_before_processing_is_processed_into_the_hidden_folder(
    agent, django_capture_on_commit_callbacks
):
    photo = _photos(1, process=False)[0]
    with django_capture_on_commit_callbacks(execute=True):
        photo_moderate(photo=photo, author=agent, hidden=True, reason="A face")
    photo_process(photo=photo)
    assert photo.image.name.startswith("hidden/photos/")


def test_a_failed_move_never_fails_moderation_and_the_sweeper_finishes_it(
    client, agent, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    photo = _photos(1)[0]
    urls = _urls(photo)

    def broken(storage, source, target):
        raise OSError("disk full")

    monkeypatch.setattr(reports.photos, "_move", broken)
    with django_capture_on_commit_callbacks(execute=True):
        photo_moderate(photo=photo, author=agent, hidden=True, reason="A face")
    photo.refresh_from_db()
    assert photo.hidden
    assert photo.image.name.startswith("photos/")  # the name follows the file, not the wish
    monkeypatch.undo()
    assert photos_files_sync_misplaced() == 1
    assert _status(client, urls) == [404, 404]
    assert photos_files_sync_misplaced() == 0


def test_sync_is_idempotent_and_finishes_an_interrupted_move():
    photo = _photos(1)[0]
    storage = photo.image.storage
    before = photo.image.name
    assert photo_files_sync(photo_id=photo.pk).image.name == before  # nothing to do
    # The file was moved but the row was not updated (a crash between the two).
    Photo.objects.filter(pk=photo.pk).update(hidden=True)
    Path(storage.path("hidden/photos")).mkdir(parents=True)
    Path(storage.path(before)).rename(storage.path(f"hidden/{before}"))
    photo = photo_files_sync(photo_id=photo.pk)
    assert photo.image.name == f"hidden/{before}"
    assert storage.exists(photo.image.name) and not storage.exists(before)


def test_staff_see_hidden_photos_through_their_own_view(
    client, agent, django_capture_on_commit_callbacks
):
    photo = _photos(1)[0]
    with django_capture_on_commit_callbacks(execute=True):
        photo_moderate(photo=photo, author=agent, hidden=True, reason="A face")
    url = reverse("reports:photo_file_staff", args=[photo.pk, "image"])
    client.force_login(agent)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
    assert (
        client.get(reverse("reports:photo_file_staff", args=[photo.pk, "original"])).status_code
        == 404
    )


@pytest.mark.parametrize("who", ["anonymous", "citizen", "staff without the permission"])
def test_outsiders_cannot_use_the_staff_photo_view(client, who):
    photo = _photos(1)[0]
    if who == "citizen":
        client.force_login(UserFactory())
    elif who != "anonymous":
        client.force_login(UserFactory(is_staff=True))
    url = reverse("reports:photo_file_staff", args=[photo.pk, "image"])
    assert client.get(url).status_code == 404


def test_migration_gives_existing_files_random_names_and_hides_hidden_ones(settings):
    """Files named the old way (photo-<id>.jpg in dated folders) are renamed; those of a
    hidden report go under hidden/; a missing file keeps its row as it was."""
    migration = importlib.import_module("reports.migrations.0004_photo_files")
    shown, hidden = _photos(2)
    lost = _photos(1)[0]
    root = Path(settings.MEDIA_ROOT)
    for photo in (shown, hidden, lost):
        for field, old in (
            ("original", f"originals/2026/11/upload-{photo.pk}.jpg"),
            ("image", f"photos/2026/11/photo-{photo.pk}.jpg"),
            ("thumbnail", f"thumbnails/2026/11/thumb-{photo.pk}.jpg"),
        ):
            (root / old).parent.mkdir(parents=True, exist_ok=True)
            (root / getattr(photo, field).name).rename(root / old)
            setattr(photo, field, old)
        photo.save()
    Photo.objects.filter(pk=hidden.pk).update(hidden=True)
    (root / lost.image.name).unlink()

    migration.rename_files(django_apps, None)
    migration.rename_files(django_apps, None)  # again: nothing to do

    shown.refresh_from_db()
    hidden.refresh_from_db()
    lost.refresh_from_db()
    assert re.fullmatch(rf"photos/{RANDOM}\.jpg", shown.image.name)
    assert re.fullmatch(rf"originals/{RANDOM}\.jpg", shown.original.name)
    assert re.fullmatch(rf"hidden/thumbnails/{RANDOM}\.jpg", hidden.thumbnail.name)
    assert re.fullmatch(rf"originals/{RANDOM}\.jpg", hidden.original.name)
    assert lost.image.name == f"photos/2026/11/photo-{lost.pk}.jpg"
    for photo in (shown, hidden):
        for field in (photo.original, photo.image, photo.thumbnail):
            assert (root / field.name).is_file()
    # Nothing is left under an old, countable name (the lost image is simply gone).
    public = [p for folder in ("photos", "thumbnails") for p in (root / folder).rglob("*.jpg")]
    assert [p.name for p in public if not re.fullmatch(rf"{RANDOM}\.jpg", p.name)] == []


@pytest.mark.parametrize("how", ["report page", "delete selected"])
def test_a_report_deleted_in_the_admin_takes_its_files_and_dump_row_with_it(
    client, agent, superuser, how, django_capture_on_commit_callbacks
):
    photos = _photos(2)
    report = photos[0].request
    with django_capture_on_commit_callbacks(execute=True):
        photo_moderate(photo=photos[1], author=agent, hidden=True, reason="A face")
    photos[1].refresh_from_db()  # its files under hidden/
    urls = _urls(photos[0])
    names = [f.name for photo in photos for f in (photo.original, photo.image, photo.thumbnail)]
    kept = _photos(1)[0]
    open_data_dump()
    assert _dump_ids() == {report.pk, kept.request_id}
    generation = clusters.generation()

    client.force_login(superuser)
    with django_capture_on_commit_callbacks(execute=True):
        if how == "report page":
            url = reverse("admin:reports_servicerequest_delete", args=[report.pk])
            response = client.post(url, {"post": "yes"})
        else:
            response = client.post(
                reverse("admin:reports_servicerequest_changelist"),
                {"action": "delete_selected", "_selected_action": [report.pk], "post": "yes"},
            )
    assert response.status_code == 302
    assert not Photo.objects.filter(request_id=report.pk).exists()
    assert _status(client, urls) == [404, 404]
    assert not any(default_storage.exists(name) for name in names)
    assert _status(client, _urls(kept)) == [200, 200]
    assert _dump_ids() == {kept.request_id}  # taken down, then written again
    assert clusters.generation() != generation


def _dump_ids() -> set[int]:
    with exports.dump_path("csv").open(newline="") as dump:
        return {int(row["service_request_id"]) for row in csv.DictReader(dump)}


def test_a_photo_deleted_in_the_admin_takes_its_files_with_it(
    client, superuser, django_capture_on_commit_callbacks
):
    photo, kept = _photos(2)
    urls = _urls(photo)
    names = [f.name for f in (photo.original, photo.image, photo.thumbnail)]
    client.force_login(superuser)
    with django_capture_on_commit_callbacks(execute=True):
        url = reverse("admin:reports_photo_delete", args=[photo.pk])
        assert client.post(url, {"post": "yes"}).status_code == 302
    assert list(Photo.objects.all()) == [kept]
    assert _status(client, urls) == [404, 404]
    assert not any(default_storage.exists(name) for name in names)
    assert _status(client, _urls(kept)) == [200, 200]
