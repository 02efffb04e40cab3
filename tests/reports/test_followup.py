"""After a report is filed: the acknowledgement, and the preview window before it is public
(the reporter's answer to "Is it fixed?" is in test_fixed_question.py)."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from reports.models import (
    OutboxMessage,
    Photo,
    RequestUpdate,
    ServiceRequest,
)
from reports.services import triage
from reports.tokens import preview_token
from tests.conftest import assert_no_private_data
from tests.factories import (
    StaffMembershipFactory,
    api_key_create,
    image_upload,
)
from tests.reports.followup_support import (
    LAT,
    LNG,
    REPORTER,
    file_report,
    form_data,
    published,
)

# Real commits: what is queued after a commit (emails through the outbox, photo
# processing) runs then, in-process, as it does in production.
pytestmark = pytest.mark.django_db(transaction=True)


# --- The acknowledgement -----------------------------------------------------------------


def test_web_report_is_acknowledged_with_its_reference_and_link(client, service):
    report, _ = file_report(client, service)
    [message] = OutboxMessage.objects.filter(kind="report_received")
    assert message.to == REPORTER
    assert f"#{report.pk}" in message.subject and f"#{report.pk}" in message.body
    assert f"http://testserver/reports/{report.pk}/" in message.body.replace(
        "http://127.0.0.1:8000", "http://testserver"
    )
    assert "becomes public at" in message.body
    # Sent by the outbox worker (in-process here).
    assert [m.to for m in mail.outbox if "We received" in m.subject] == [[REPORTER]]
    # The reporter's own page until it is public, which a phone's closed tab had lost.
    [edit_link] = [line for line in message.body.split() if "/preview/" in line]
    page = client.get(edit_link.split("127.0.0.1:8000")[-1])
    assert page.status_code == 200 and "Change the description" in page.content.decode()
    assert f'href="{edit_link}"' in message.html


def test_no_acknowledgement_without_an_email_or_for_a_refused_report(client, service):
    file_report(client, service, reporter_email="")
    response = client.post(reverse("reports:new"), form_data(service, description="short"))
    assert response.status_code == 400
    assert ServiceRequest.objects.count() == 1
    assert not OutboxMessage.objects.filter(kind="report_received").exists()


def test_open311_post_with_an_email_is_acknowledged_and_public_at_once(client, service):
    raw_key = api_key_create()[1]
    data = {
        "api_key": raw_key,
        "service_code": service.service_code,
        "lat": str(LAT),
        "long": str(LNG),
        "description": "Syringe by the bench.",
        "email": REPORTER,
    }
    response = client.post("/open311/v2/requests.json", data)
    assert response.status_code == 200
    report = ServiceRequest.objects.get()
    assert report.published_at == report.requested_datetime
    [message] = OutboxMessage.objects.filter(kind="report_received")
    assert message.to == REPORTER and f"#{report.pk}" in message.body
    assert "becomes public at" not in message.body
    listed = client.get("/open311/v2/requests.json").json()
    assert [r["service_request_id"] for r in listed] == [str(report.pk)]


# --- The preview window ------------------------------------------------------------------


def public_pages(client, report: ServiceRequest) -> dict[str, str]:
    """Every public surface, as text."""
    pages = {
        "home": "/",
        "list": reverse("reports:list"),
        "open311": "/open311/v2/requests.json",
        "open311-one": f"/open311/v2/requests/{report.pk}.json",
        "feed": "/insights/feeds/reports/",
        "csv": "/data/reports.csv",
    }
    texts = {}
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code in (200, 404), (name, response.status_code)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        texts[name] = body.decode()
    return texts


def test_web_report_is_routed_at_once_but_public_only_after_the_window(
    client, service, health, staff_group
):
    report, preview = file_report(client, service)
    assert report.department == health
    assert report.published_at - report.requested_datetime == timedelta(minutes=10)
    assert [m.to for m in mail.outbox if "New report" in m.subject] == [[health.email]]
    marker = "Syringe lying next to the swings"
    for name, text in public_pages(client, report).items():
        assert marker not in text, f"{name} shows a report in its preview window"
    detail = client.get(report.get_absolute_url())
    assert detail.status_code == 404
    assert "not public yet" in detail.content.decode()
    assert marker not in detail.content.decode()
    # Staff see it in the queue at once.
    staff = StaffMembershipFactory(department=health).user
    staff.groups.add(staff_group)
    client.force_login(staff)
    assert marker in client.get(reverse("admin:reports_servicerequest_changelist")).content.decode()
    client.logout()

    published(report)
    for name, text in public_pages(client, report).items():
        assert marker in text, f"{name} does not show a published report"
    assert client.get(report.get_absolute_url()).status_code == 200


def test_a_report_is_never_updated_before_it_is_public(client, service):
    """Open311 clients poll with updated_after: a report published later must still be new."""
    report, _ = file_report(client, service)
    assert report.updated_datetime >= report.published_at
    triage.report_acknowledge(report=report, author=None)
    report.refresh_from_db()
    assert report.updated_datetime >= report.published_at


def test_preview_shows_the_public_page_without_contact_data(client, service):
    report, preview = file_report(client, service, photos=[image_upload("a.jpg")])
    response = client.get(preview)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Check your report before it is public" in html
    assert "Syringe lying next to the swings" in html and "12 Oak Street" in html
    assert "Publish now" in html and "Remove photo 1" in html
    assert report.photos.get().thumbnail.url in html
    assert "Get email updates" not in html  # no follow or comment forms before it is public
    assert_no_private_data(html)


def test_preview_edit_changes_the_text_and_keeps_the_old_one_for_staff(client, service):
    report, preview = file_report(client, service)
    new_text = "Two syringes next to the swings, one under the slide."
    response = client.post(preview, {"action": "edit", "description": new_text})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.description == new_text
    note = report.updates.get(kind=RequestUpdate.Kind.NOTE)
    assert not note.public and "Syringe lying next to the swings" in note.text
    assert new_text in client.get(preview).content.decode()

    response = client.post(preview, {"action": "edit", "description": "short"})
    assert response.status_code == 400
    assert "at least" in response.content.decode()
    report.refresh_from_db()
    assert report.description == new_text


def test_preview_remove_photo_deletes_it_and_its_files(client, service, settings):
    report, preview = file_report(client, service, photos=[image_upload("a.jpg")])
    photo = report.photos.get()
    files = [photo.original.path, photo.image.path, photo.thumbnail.path]
    response = client.post(preview, {"action": "remove-photo", "photo": str(photo.pk)})
    assert response.status_code == 302
    assert not Photo.objects.filter(pk=photo.pk).exists()
    for path in files:
        assert not __import__("os").path.exists(path)
    assert "removed a photo" in report.updates.get(kind=RequestUpdate.Kind.NOTE).text


def test_preview_refuses_another_reports_photo(client, service):
    other, _ = file_report(client, service, photos=[image_upload("a.jpg")])
    report, preview = file_report(client, service)
    photo = other.photos.get()
    response = client.post(preview, {"action": "remove-photo", "photo": str(photo.pk)})
    assert response.status_code == 302
    assert Photo.objects.filter(pk=photo.pk).exists()
    assert "not part of this report" in client.get(preview).content.decode()


@pytest.mark.parametrize("odd", ["²", "٣", "99999999999999999999999", ""])
def test_preview_remove_photo_with_an_odd_number_is_refused_plainly(client, service, odd):
    """str.isdigit() passes "²", which int() refuses, and "٣", which int() reads as 3; 23
    digits overflow the database's integers: none names a photo (never a 500)."""
    report, preview = file_report(client, service, photos=[image_upload("a.jpg")])
    response = client.post(preview, {"action": "remove-photo", "photo": odd}, follow=True)
    assert response.status_code == 200
    assert "Choose a photo to remove." in response.content.decode()
    assert report.photos.count() == 1


def test_publish_now_ends_the_window_and_the_link_then_changes_nothing(client, service):
    report, preview = file_report(client, service)
    response = client.post(preview, {"action": "publish"})
    assert response.status_code == 302 and response["Location"] == report.get_absolute_url()
    report.refresh_from_db()
    assert report.published_at <= timezone.now()
    assert client.get(report.get_absolute_url()).status_code == 200
    assert client.get(preview)["Location"] == report.get_absolute_url()
    client.post(preview, {"action": "edit", "description": "A different text, long enough."})
    report.refresh_from_db()
    assert report.description.startswith("Syringe lying")


def test_preview_says_how_long_until_it_is_public(client, service):
    report, preview = file_report(client, service)
    ServiceRequest.objects.filter(pk=report.pk).update(
        published_at=timezone.now() + timedelta(minutes=6, seconds=30)
    )
    report.refresh_from_db()
    html = client.get(preview).content.decode()
    at = timezone.localtime(report.published_at)
    assert "in <span data-preview-left>7 minutes</span>" in html
    assert f"{at:%-I:%M %p} on {at:%B} {at.day}" in html
    # The script that warns two minutes before the end, and its live region.
    assert 'aria-live="polite" data-preview-alert' in html
    assert "js/civic311-preview" in html and "<script>" not in html


def test_more_time_moves_publication_later_and_keeps_it_private(client, service):
    report, preview = file_report(client, service)
    ServiceRequest.objects.filter(pk=report.pk).update(
        published_at=timezone.now() + timedelta(seconds=30)
    )
    assert "I need more time" in client.get(preview).content.decode()
    before = timezone.now()
    response = client.post(preview, {"action": "extend"})
    assert response.status_code == 302 and response["Location"] == preview
    report.refresh_from_db()
    assert (
        before + timedelta(minutes=10)
        <= report.published_at
        <= timezone.now() + timedelta(minutes=10)
    )
    assert report.updated_datetime == report.published_at  # new to Open311 pollers then
    note = report.updates.get(kind=RequestUpdate.Kind.NOTE)
    assert not note.public and "asked for more time" in note.text
    assert "stays private until" in client.get(preview).content.decode()
    marker = "Syringe lying next to the swings"
    for name, text in public_pages(client, report).items():
        assert marker not in text, f"{name} shows a report whose reporter asked for more time"
    assert client.get(report.get_absolute_url()).status_code == 404


def test_more_time_stops_at_ten_more_windows(client, service):
    report, preview = file_report(client, service)
    ServiceRequest.objects.filter(pk=report.pk).update(
        requested_datetime=timezone.now() - timedelta(minutes=105),
        published_at=timezone.now() + timedelta(seconds=30),
    )
    report.refresh_from_db()
    latest = report.requested_datetime + timedelta(minutes=110)
    client.post(preview, {"action": "extend"})
    report.refresh_from_db()
    assert report.published_at == latest  # 5 minutes more, not 10
    html = client.get(preview).content.decode()
    assert "I need more time" not in html and "cannot be held back" in html
    response = client.post(preview, {"action": "extend"})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.published_at == latest
    assert report.updates.filter(kind=RequestUpdate.Kind.NOTE).count() == 1
    assert "cannot be held back any longer" in client.get(preview).content.decode()


def test_the_link_works_as_long_as_the_longest_window(client, service):
    report, preview = file_report(client, service)
    ServiceRequest.objects.filter(pk=report.pk).update(
        published_at=timezone.now() + timedelta(minutes=100)
    )
    with mock.patch("django.core.signing.time.time", return_value=time.time() + 95 * 60):
        assert client.get(preview).status_code == 200


def test_an_edit_sent_too_late_is_given_back_to_comment(client, service):
    report, preview = file_report(client, service)
    published(report)
    new_text = "Two syringes next to the swings, one under the slide."
    response = client.post(preview, {"action": "edit", "description": new_text})
    assert response.status_code == 409
    report.refresh_from_db()
    assert report.description.startswith("Syringe lying")
    html = response.content.decode()
    assert "Your report is public now" in html
    assert f'<textarea id="late-text" rows="6" readonly>{new_text}</textarea>' in html
    assert 'href="#id_comment-text"' in html
    # The comment form on the public page, filled in with it.
    assert re.search(r'<textarea name="comment-text"[^>]*>\s*' + re.escape(new_text), html)
    assert_no_private_data(html)
    response = client.post(reverse("reports:comment", args=[report.pk]), {"comment-text": new_text})
    assert response.status_code == 302
    assert report.comments.get().text == new_text


def test_preview_link_is_refused_when_forged_or_for_another_report(client, service):
    report, preview = file_report(client, service)
    other, _ = file_report(client, service)
    assert client.get(preview + "x").status_code in (404,)
    forged = reverse("reports:preview", args=[other.pk, preview_token(report)])
    assert client.get(forged).status_code == 404
    assert client.post(forged, {"action": "publish"}).status_code == 404
    other.refresh_from_db()
    assert other.published_at > timezone.now()


def test_preview_of_a_hidden_report_is_gone(client, service):
    report, preview = file_report(client, service)
    triage.report_moderate(
        report=report, author=None, hidden=True, description_redacted=False, reason="Abuse"
    )
    assert client.get(preview).status_code == 404


def test_no_preview_window_when_the_setting_is_zero(client, service, settings):
    settings.REPORT_PREVIEW_MINUTES = 0
    report, location = file_report(client, service)
    assert location == report.get_absolute_url()
    assert client.get(location).status_code == 200
