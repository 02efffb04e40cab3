"""Stored Open311 documents: the list sends them as they are, and any change to what a
report publishes, by whatever path it is made, shows in the very next answer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models import F
from django.utils import timezone

from reports.api import documents
from reports.models import Open311Document, Photo, RequestUpdate, ServiceRequest
from reports.photos import photo_process
from tests.factories import PhotoFactory, RequestUpdateFactory, ServiceRequestFactory
from tests.reports.open311_support import json_of, xml_of

BASE = "/open311/v2"
LIST = f"{BASE}/requests.json"


def listed(client: Any, report: ServiceRequest, **query: str) -> dict[str, Any]:
    """The report's document in the list (extensions=true unless asked otherwise)."""
    answer = json_of(client.get(LIST, {"extensions": "true", **query}))
    return next(item for item in answer if item["service_request_id"] == str(report.pk))


@pytest.fixture
def report(db) -> ServiceRequest:
    report = ServiceRequestFactory(description="Cracked slab by the bus stop.")
    RequestUpdateFactory(request=report, public=True, text="Crew booked.")
    return report


def test_the_stored_answer_is_the_built_one_in_every_format_and_variant(client, report):
    photo_process(photo=PhotoFactory(request=report))
    for path in (LIST, f"{BASE}/requests.xml", f"{BASE}/requests/{report.pk}.json"):
        for extensions in ("", "true"):
            built = client.get(path, {"extensions": extensions})
            stored = client.get(path, {"extensions": extensions})
            assert built.status_code == stored.status_code == 200
            assert stored.content == built.content
    assert Open311Document.objects.filter(request=report).count() == 1
    xml = xml_of(client.get(f"{BASE}/requests.xml", {"extensions": "true"}))
    assert xml.findtext("request/notes/note/text") == "Crew booked."
    assert xml.findtext("request/media_url").startswith("http://testserver/media/photos/")


def test_a_document_is_sent_as_stored_while_its_version_stands(client, report):
    listed(client, report)
    # Only a stored text could say this: the report's row still says something else.
    Open311Document.objects.filter(request=report).update(
        json=json_of_text(client, report).replace("Cracked slab", "From the store")
    )
    assert listed(client, report, extensions="")["description"] == "From the store by the bus stop."


def json_of_text(client: Any, report: ServiceRequest) -> str:
    return Open311Document.objects.get(request=report).json


@pytest.mark.parametrize(
    "change, check",
    [
        (
            lambda r: ServiceRequest.objects.filter(pk=r.pk).update(description_redacted=True),
            lambda d: d["description"] == "[Description removed by moderator]",
        ),
        (
            lambda r: ServiceRequest.objects.filter(pk=r.pk).update(supporters=F("supporters") + 2),
            lambda d: d["supporters"] == 2,
        ),
        (
            lambda r: setattr(r, "status_notes", "Patched on Monday.") or r.save(),
            lambda d: d["status_notes"] == "Patched on Monday.",
        ),
        (
            lambda r: RequestUpdateFactory(request=r, public=True, text="Second visit."),
            lambda d: [n["text"] for n in d["notes"]] == ["Crew booked.", "Second visit."],
        ),
        (
            lambda r: RequestUpdate.objects.filter(request=r).update(public=False),
            lambda d: d["notes"] == [],
        ),
        (
            lambda r: RequestUpdate.objects.filter(request=r).delete(),
            lambda d: d["notes"] == [],
        ),
        (
            lambda r: photo_process(photo=PhotoFactory(request=r)),
            lambda d: (
                (d["media_url"] or "").startswith("http://testserver/media/photos/")
                and len(d["photos"]) == 1
            ),
        ),
        (
            lambda r: type(r.service).objects.filter(pk=r.service_id).update(name="Road surface"),
            lambda d: d["service_name"] == "Road surface",
        ),
        (
            lambda r: type(r.department).objects.filter(pk=r.department_id).update(name="Streets"),
            lambda d: d["agency_responsible"] == "Streets",
        ),
    ],
    ids=[
        "redacted",
        "supported",
        "saved",
        "note added",
        "note made internal",
        "note deleted",
        "photo processed",
        "service renamed",
        "department renamed",
    ],
)
def test_every_change_shows_in_the_next_answer(client, report, change, check):
    before = listed(client, report)
    assert not check(before)
    change(report)
    assert check(listed(client, report))
    # And once stored again, the same.
    assert check(listed(client, report))


def test_a_hidden_photo_leaves_the_document(client, report):
    photo = photo_process(photo=PhotoFactory(request=report))
    assert listed(client, report)["photos"]
    Photo.objects.filter(pk=photo.pk).update(hidden=True)
    document = listed(client, report)
    assert document["photos"] == [] and document["media_url"] is None


def test_media_urls_carry_the_address_the_client_asked(client, report, settings):
    settings.ALLOWED_HOSTS = ["testserver", "311.example.org"]
    photo_process(photo=PhotoFactory(request=report))
    first = listed(client, report, extensions="")["media_url"]
    other = json_of(client.get(LIST, HTTP_HOST="311.example.org"))[0]["media_url"]
    assert first.startswith("http://testserver/media/photos/")
    assert other == first.replace("http://testserver", "http://311.example.org")


def test_a_document_built_under_another_time_zone_is_built_again(client, report, settings):
    listed(client, report)
    settings.TIME_ZONE = "Asia/Tokyo"
    assert listed(client, report)["requested_datetime"].endswith("+09:00")


def test_text_that_looks_like_the_address_mark_is_sent_as_written(client, db):
    report = ServiceRequestFactory(description="Tag \x01 and <b>&</b>")
    for _ in range(2):
        assert listed(client, report)["description"] == "Tag \x01 and <b>&</b>"
        xml = xml_of(client.get(f"{BASE}/requests.xml"))
        assert xml.findtext("request/description") == "Tag  and <b>&</b>"


def test_the_version_moves_on_for_each_kind_of_change(report):
    def version() -> int:
        return ServiceRequest.objects.values_list("doc_version", flat=True).get(pk=report.pk)

    seen = [version()]
    report.save()  # writes the in-memory (old) version: the database moves it on anyway
    seen.append(version())
    photo = PhotoFactory(request=report)  # pending: not shown, no change
    seen.append(version())
    photo_process(photo=photo)
    seen.append(version())
    RequestUpdateFactory(request=report, public=False)  # internal: not shown
    seen.append(version())
    assert seen[1] > seen[0]
    assert seen[2] == seen[1]
    assert seen[3] > seen[2]
    assert seen[4] == seen[3]


def test_a_new_reports_version_is_left_alone_and_its_first_answer_has_its_timeline(client, db):
    from reports.services.requests import report_create
    from tests.factories import CITY_CENTRE, ServiceFactory

    report = report_create(
        service=ServiceFactory(), description="Bins not collected.", lat=CITY_CENTRE[0],
        long=CITY_CENTRE[1],
    )  # fmt: skip
    # The CREATED entry went in with the report: the row was not touched again.
    assert ServiceRequest.objects.values_list("doc_version", flat=True).get(pk=report.pk) == 0
    notes = listed(client, report)["notes"]
    assert [note["kind"] for note in notes] == ["created"]
    # A later public entry still moves it on.
    RequestUpdateFactory(request=report, public=True, kind=RequestUpdate.Kind.NOTE, text="Seen.")
    assert [note["text"] for note in listed(client, report)["notes"]][-1] == "Seen."


def test_a_photo_made_public_brings_the_report_back_to_clients_syncing_by_time(client, db):
    """Its media_url changes, so its updated_datetime moves on (not before the report is
    public: one in its preview window keeps its publication time)."""
    moment = timezone.now() - timedelta(hours=1)
    report = ServiceRequestFactory(requested_datetime=moment, updated_datetime=moment)
    previewed = ServiceRequestFactory(published_at=timezone.now() + timedelta(minutes=10))
    synced = timezone.now()
    since = {"updated_after": synced.isoformat()}
    assert json_of(client.get(LIST, since)) == []
    photo_process(photo=PhotoFactory(request=report))
    photo_process(photo=PhotoFactory(request=previewed))
    found = json_of(client.get(LIST, since))
    assert [item["service_request_id"] for item in found] == [str(report.pk)]
    assert found[0]["media_url"]
    updated = ServiceRequest.objects.values_list("updated_datetime", flat=True)
    assert updated.get(pk=report.pk) >= synced
    assert updated.get(pk=previewed.pk) == previewed.published_at


def changed_before_build(monkeypatch, change: Any) -> None:
    """Make `change` happen after the page's rows are read and before their documents are
    built: a writer committing in between, as it may under load."""
    real = documents.build

    def racing(pks: list[int], key: str) -> dict[int, Open311Document]:
        change()
        return real(pks, key)

    monkeypatch.setattr(documents, "build", racing)


RACES = {
    "deleted": lambda pk: ServiceRequest.objects.filter(pk=pk).delete(),
    "hidden": lambda pk: ServiceRequest.objects.filter(pk=pk).update(
        hidden=True, description="Moderated text."
    ),
}


@pytest.mark.parametrize("race", RACES)
def test_a_report_changed_while_its_page_is_built_is_left_out(client, db, monkeypatch, race):
    """Its document would be built from the row as it is now (or from nothing): the page
    goes out without it, in either format, and the other reports are sent as ever."""
    gone, kept = ServiceRequestFactory(), ServiceRequestFactory(description="Still here.")
    changed_before_build(monkeypatch, lambda: RACES[race](gone.pk))
    answer = json_of(client.get(LIST, {"extensions": "true"}))
    assert [item["service_request_id"] for item in answer] == [str(kept.pk)]
    assert answer[0]["description"] == "Still here."
    Open311Document.objects.all().delete()
    ServiceRequestFactory()  # read again, then changed likewise
    gone = ServiceRequest.objects.order_by("-pk").first()
    changed_before_build(monkeypatch, lambda: RACES[race](gone.pk))
    body = client.get(f"{BASE}/requests.xml")
    ids = [item.findtext("service_request_id") for item in xml_of(body)]
    assert ids == [str(kept.pk)]
    assert b"None" not in body.content and b"Moderated" not in body.content


@pytest.mark.parametrize("race", RACES)
def test_a_single_report_changed_while_it_is_built_is_not_found(client, db, monkeypatch, race):
    report = ServiceRequestFactory(description="Before moderation.")
    changed_before_build(monkeypatch, lambda: RACES[race](report.pk))
    response = client.get(f"{BASE}/requests/{report.pk}.json")
    assert response.status_code == 404
    assert b"Moderated" not in response.content
    assert not Open311Document.objects.filter(request_id=report.pk).exists()


def test_every_trigger_is_installed_after_the_migrations(db):
    """A migration that rebuilds a table (SQLite's way to alter a column) would drop its
    triggers without a word: they must all still be there."""
    import re

    from departments import catalogue
    from reports import document_triggers
    from reports.insights import hours

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
            statements = document_triggers.POSTGRESQL
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            statements = [*document_triggers.SQLITE, *hours.TRIGGERS]
        installed = {row[0] for row in cursor.fetchall()}
    tables = (
        *catalogue.TABLES,
        "reports_service",
        "reports_serviceattribute",
        "reports_attributevalue",
    )
    statements = [*statements, *catalogue.trigger_statements(connection.vendor, tables)]
    expected = {m for s in statements for m in re.findall(r"CREATE TRIGGER (\w+)", s)}
    assert len(expected) >= 10
    assert expected <= installed
    if connection.vendor == "sqlite":  # the preview's index of the hourly counts' readers
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
            assert "insights_sr_published" in {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)
def test_bulk_loading_pauses_the_triggers_and_puts_them_back():
    from reports.bulk import loading

    def triggers() -> set[str]:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D'"
                )
            else:
                cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            return {row[0] for row in cursor.fetchall()}

    before = triggers()
    assert "reports_requestupdate_doc_insert" in before
    from django.db import transaction

    with transaction.atomic(), loading(ServiceRequest, RequestUpdate):
        assert "reports_requestupdate_doc_insert" not in triggers()
    assert triggers() == before
