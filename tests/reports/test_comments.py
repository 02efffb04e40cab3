"""Citizens' comments on a report: published at once, the department told, moderated in
the admin; refused on closed, hidden and not yet public reports."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from reports.models import Comment, OutboxMessage, Photo, RequestUpdate, ServiceRequest
from reports.services.comments import comment_add, comment_moderate
from reports.services.photos import photo_moderate
from tests.conftest import assert_no_private_data
from tests.factories import (
    DepartmentFactory,
    ServiceRequestFactory,
    StaffMembershipFactory,
    UserFactory,
)
from tests.factories import image_upload as upload

pytestmark = pytest.mark.django_db(transaction=True)
State = ServiceRequest.State


@pytest.fixture
def report():
    health = DepartmentFactory(name="Health", email="health@city.example.org")
    return ServiceRequestFactory(service__department=health, department=health)


def comment_url(report: ServiceRequest) -> str:
    return reverse("reports:comment", args=[report.pk])


def data(**overrides) -> dict:
    values = {
        "comment-text": "Another syringe appeared by the gate this morning.",
        "comment-author_name": "Sam Neighbour",
        "comment-author_email": "sam.secret@example.org",
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def test_comment_is_published_at_once_and_the_department_told(client, report):
    response = client.post(comment_url(report), data(**{"comment-photo": upload("p.jpg")}))
    assert response.status_code == 302
    assert response["Location"] == report.get_absolute_url() + "#comments"
    comment = Comment.objects.get()
    assert comment.author_email == "sam.secret@example.org" and not comment.hidden
    photo = comment.photos.get()
    html = client.get(report.get_absolute_url()).content.decode()
    assert "Another syringe appeared by the gate" in html and "Sam Neighbour" in html
    assert photo.thumbnail.url in html
    assert "sam.secret@example.org" not in html
    assert_no_private_data(html)
    [message] = OutboxMessage.objects.filter(kind="comment_added")
    assert message.to == "health@city.example.org"
    assert "Another syringe appeared" in message.body and "With 1 photo" in message.body
    assert reverse("admin:reports_comment_change", args=[comment.pk]) in message.body


def test_anonymous_comment_shows_no_name(client, report):
    anonymous = data(**{"comment-author_name": "", "comment-author_email": ""})
    client.post(comment_url(report), anonymous)
    html = client.get(report.get_absolute_url()).content.decode()
    assert "A resident" in html


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"comment-text": ""}, "This field is required"),
        ({"comment-author_email": "not-an-email"}, "Enter a valid email address"),
        ({"comment-website": "http://spam.example"}, "could not be accepted"),
    ],
)
def test_bad_comment_shows_errors_and_stores_nothing(client, report, overrides, message):
    response = client.post(comment_url(report), data(**overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Comment.objects.exists() and not OutboxMessage.objects.exists()


def test_comment_with_a_fake_photo_is_refused(client, report):
    fake = io.BytesIO(b"GIF89a not really")
    fake.name = "x.jpg"
    response = client.post(comment_url(report), data(**{"comment-photo": fake}))
    assert response.status_code == 400
    assert "Photo:" in response.content.decode()
    assert not Comment.objects.exists()


def test_closed_report_takes_no_comment(client, report):
    ServiceRequest.objects.filter(pk=report.pk).update(
        state=State.FIXED, status="closed", closed_datetime=timezone.now()
    )
    page = client.get(report.get_absolute_url()).content.decode()
    assert "Add a comment" not in page and "takes no more comments" in page
    response = client.post(comment_url(report), data())
    assert response.status_code == 400
    assert "comments are for open reports" in response.content.decode()
    assert not Comment.objects.exists()


@pytest.mark.parametrize("case", ["hidden", "in preview", "missing"])
def test_comment_on_a_report_that_is_not_public_is_not_found(client, report, case):
    if case == "hidden":
        ServiceRequest.objects.filter(pk=report.pk).update(hidden=True)
    if case == "in preview":
        later = timezone.now() + timedelta(minutes=5)
        ServiceRequest.objects.filter(pk=report.pk).update(published_at=later)
    pk = report.pk + 1000 if case == "missing" else report.pk
    response = client.post(reverse("reports:comment", args=[pk]), data())
    assert response.status_code == 404
    assert not Comment.objects.exists()


def test_comments_are_rate_limited(client, report, settings):
    settings.RATELIMIT_COMMENT = "1/hour"
    assert client.post(comment_url(report), data()).status_code == 302
    response = client.post(comment_url(report), data())
    assert response.status_code == 429 and "Retry-After" in response
    assert Comment.objects.count() == 1


def test_department_staff_hide_a_comment_and_its_photo(client, report, staff_group):
    client.post(comment_url(report), data(**{"comment-photo": upload("p.jpg")}))
    comment = Comment.objects.get()
    photo = comment.photos.get()
    url = reverse("admin:reports_comment_change", args=[comment.pk])

    outsider = StaffMembershipFactory(department=DepartmentFactory(name="Works")).user
    outsider.groups.add(staff_group)
    client.force_login(outsider)
    assert client.get(url).status_code == 200  # may read
    response = client.post(url, {"hidden": "on", "hidden_reason": "Abusive"})
    assert response.status_code == 403
    client.logout()

    agent = StaffMembershipFactory(department=report.department).user
    agent.groups.add(staff_group)
    client.force_login(agent)
    response = client.post(url, {"hidden": "on", "hidden_reason": ""})
    assert response.status_code == 200 and "Say why" in response.content.decode()
    comment.refresh_from_db()
    assert not comment.hidden
    response = client.post(url, {"hidden": "on", "hidden_reason": "Abusive"})
    assert response.status_code == 302
    comment.refresh_from_db()
    photo.refresh_from_db()
    # The photo keeps its own flag; its files leave with the comment.
    assert comment.hidden and not photo.hidden and photo.image.name.startswith("hidden/")
    assert photo.thumbnail.name.startswith("hidden/")
    entry = report.updates.get(kind=RequestUpdate.Kind.MODERATION)
    assert not entry.public and "Abusive" in entry.text
    client.logout()

    html = client.get(report.get_absolute_url()).content.decode()
    assert "Another syringe appeared" not in html
    assert photo.image.name.split("/")[-1] not in html


def test_citizen_cannot_open_comment_admin(client, report, citizen):
    client.post(comment_url(report), data())
    client.force_login(citizen)
    url = reverse("admin:reports_comment_change", args=[Comment.objects.get().pk])
    response = client.get(url)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_report_page_in_the_admin_lists_comments_and_the_email_is_for_its_department(
    client, report, staff_group
):
    client.post(comment_url(report), data())
    comment = Comment.objects.get()
    agent = StaffMembershipFactory(department=report.department).user
    outsider = StaffMembershipFactory(department=DepartmentFactory(name="Works")).user
    for user in (agent, outsider):
        user.groups.add(staff_group)
    report_page = reverse("admin:reports_servicerequest_change", args=[report.pk])
    comment_page = reverse("admin:reports_comment_change", args=[comment.pk])

    client.force_login(agent)
    html = client.get(report_page).content.decode()
    assert "Another syringe appeared by the gate" in html and comment_page in html
    assert "sam.secret@example.org" in client.get(comment_page).content.decode()

    client.force_login(outsider)
    assert "Another syringe appeared" in client.get(report_page).content.decode()
    html = client.get(comment_page).content.decode()
    assert "Another syringe appeared" in html and "sam.secret@example.org" not in html


@pytest.mark.parametrize("lookup", ["author_email", "author_email__startswith", "author_name"])
def test_comment_list_refuses_filters_on_the_authors_contact(client, report, staff_group, lookup):
    # Otherwise any department could test guesses of an address only the report's sees.
    client.post(comment_url(report), data())
    outsider = StaffMembershipFactory(department=DepartmentFactory(name="Works")).user
    outsider.groups.add(staff_group)
    client.force_login(outsider)
    changelist = reverse("admin:reports_comment_changelist")
    assert client.get(changelist).status_code == 200
    response = client.get(changelist, {lookup: "sam"})
    assert response.status_code == 400
    assert "sam.secret@example.org" not in response.content.decode()


def test_a_photo_hidden_on_its_own_stays_hidden_when_its_comment_is_shown_again(client, report):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.post(comment_url(report), data(**{"comment-photo": upload("p.jpg")}))
    comment = Comment.objects.get()
    photo = comment.photos.get()
    photo_moderate(photo=photo, author=staff, hidden=True, reason="A child's face")
    comment_moderate(comment=comment, author=staff, hidden=True, reason="Checking")
    comment_moderate(comment=Comment.objects.get(), author=staff, hidden=False, reason="")
    photo.refresh_from_db()
    assert photo.hidden and photo.image.name.startswith("hidden/")
    assert (
        photo.thumbnail.name.split("/")[-1]
        not in client.get(report.get_absolute_url()).content.decode()
    )


def test_showing_the_photo_of_a_hidden_comment_keeps_its_files_hidden(client, report):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.post(comment_url(report), data(**{"comment-photo": upload("p.jpg")}))
    comment = Comment.objects.get()
    photo = comment.photos.get()
    photo_moderate(photo=photo, author=staff, hidden=True, reason="Blurry face")
    comment_moderate(comment=comment, author=staff, hidden=True, reason="Abuse")
    photo_moderate(photo=Photo.objects.get(), author=staff, hidden=False, reason="")
    photo.refresh_from_db()
    assert not photo.hidden and photo.image.name.startswith("hidden/")  # the comment is hidden
    assert not Photo.objects.misplaced().exists()
    comment_moderate(comment=Comment.objects.get(), author=staff, hidden=False, reason="")
    photo.refresh_from_db()
    assert not photo.image.name.startswith("hidden/") and default_storage.exists(photo.image.name)
    assert photo.thumbnail.name in client.get(report.get_absolute_url()).content.decode()


@pytest.fixture
def moderator(client, report, staff_group):
    agent = StaffMembershipFactory(department=report.department).user
    agent.groups.add(staff_group)
    client.force_login(agent)
    return agent


def page_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_a_hidden_comments_new_reason_is_recorded_on_the_timeline(client, report, moderator):
    comment = comment_add(report=report, text="Call 555-0100 for the key.")
    url = reverse("admin:reports_comment_change", args=[comment.pk])
    client.post(url, {"hidden": "on", "hidden_reason": "abusive"}, follow=True)

    response = client.post(
        url, {"hidden": "on", "hidden_reason": "Contains a phone number"}, follow=True
    )
    comment.refresh_from_db()
    assert comment.hidden and comment.hidden_reason == "Contains a phone number"
    assert any("changed successfully" in m for m in page_messages(response))
    entries = [u.text for u in report.updates.filter(kind=RequestUpdate.Kind.MODERATION)]
    assert len(entries) == 2 and "abusive" in entries[0]
    assert "Contains a phone number" in entries[1]


def test_saving_an_unchanged_comment_says_nothing_changed(client, report, moderator):
    comment = comment_add(report=report, text="Call 555-0100 for the key.")
    url = reverse("admin:reports_comment_change", args=[comment.pk])
    client.post(url, {"hidden": "on", "hidden_reason": "abusive"}, follow=True)

    unchanged = client.post(url, {"hidden": "on", "hidden_reason": "abusive"}, follow=True)
    client.post(url, {"hidden_reason": ""}, follow=True)  # shown again
    still_shown = client.post(url, {"hidden_reason": "oops"}, follow=True)
    for response in (unchanged, still_shown):
        assert response.redirect_chain[-1][0] == url
        assert page_messages(response) == ["Nothing to change."]
    comment.refresh_from_db()
    assert not comment.hidden and comment.hidden_reason == ""
    assert report.updates.filter(kind=RequestUpdate.Kind.MODERATION).count() == 2


def test_a_refused_moderation_shows_no_success(client, report, moderator, monkeypatch):
    comment = comment_add(report=report, text="Call 555-0100 for the key.")
    url = reverse("admin:reports_comment_change", args=[comment.pk])

    def refuse(**kwargs):
        raise ValidationError("This report is locked.")

    monkeypatch.setattr("reports.admin.comments.comment_moderate", refuse)
    response = client.post(url, {"hidden": "on", "hidden_reason": "abusive"}, follow=True)
    assert page_messages(response) == ["This report is locked."]
    comment.refresh_from_db()
    assert not comment.hidden
    assert not LogEntry.objects.exists()


def test_only_the_reports_department_is_offered_to_hide_its_comments(client, report, staff_group):
    comment = comment_add(report=report, text="Another syringe appeared by the gate.")
    comment_page = reverse("admin:reports_comment_change", args=[comment.pk])
    report_page = reverse("admin:reports_servicerequest_change", args=[report.pk])
    agent = StaffMembershipFactory(department=report.department).user
    outsider = StaffMembershipFactory(department=DepartmentFactory(name="Works")).user
    for user in (agent, outsider):
        user.groups.add(staff_group)

    client.force_login(agent)
    assert f'<a href="{comment_page}">Hide</a>' in client.get(report_page).content.decode()

    client.force_login(outsider)
    html = client.get(report_page).content.decode()
    assert "Another syringe appeared" in html and ">Hide<" not in html
    assert f'<a href="{comment_page}">View</a>' in html
