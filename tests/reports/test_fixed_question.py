"""The reporter's answer to "Is it fixed?" after staff close a report, including the
reopen flow into the staff queue."""

from __future__ import annotations

import io
import re
import time
from unittest import mock
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from reports.models import (
    Comment,
    OutboxMessage,
    Photo,
    Subscription,
)
from reports.services import triage
from reports.services.requests import report_create
from reports.tokens import fixed_token
from tests.conftest import assert_no_private_data
from tests.factories import (
    StaffMembershipFactory,
    image_bytes,
)
from tests.reports.followup_support import (
    LAT,
    LNG,
    REPORTER,
    State,
    closed_report,
    confirm_reporter,
)

# Real commits: what is queued after a commit (emails through the outbox, photo
# processing) runs then, in-process, as it does in production.
pytestmark = pytest.mark.django_db(transaction=True)


# --- "Is it fixed?" ----------------------------------------------------------------------


def test_closing_asks_the_reporter_instead_of_sending_the_plain_update(service):
    report = report_create(
        service=service, description="Syringe by the bench.", lat=LAT, long=LNG,
        reporter_email=REPORTER,
    )  # fmt: skip
    confirm_reporter(report)
    Subscription.objects.create(
        request=report, email="neighbour@example.org", confirmed_at=timezone.now()
    )
    mail.outbox.clear()
    triage.report_close(report=report, author=None, text="Collected safely.")
    [question] = OutboxMessage.objects.filter(kind="fixed_question")
    assert question.to == REPORTER
    assert "Collected safely." in question.body
    yes = reverse("reports:fixed_yes", args=["x"]).replace("x/yes/", "")
    assert question.body.count(yes) == 2 and "/yes/" in question.body and "/no/" in question.body
    assert "List-Unsubscribe" in question.headers
    assert question.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # One email each: the question to the reporter, the update to the other follower.
    assert sorted(m.to[0] for m in mail.outbox) == ["neighbour@example.org", REPORTER]
    [to_reporter] = [m for m in mail.outbox if m.to == [REPORTER]]
    assert to_reporter.subject.endswith(f"Is it fixed? Report #{report.pk}: Found syringe")


@pytest.mark.parametrize("case", ["duplicate", "hidden", "no-email", "unsubscribed", "unconfirmed"])
def test_no_question_when_it_does_not_apply(service, case):
    report = report_create(
        service=service, description="Syringe by the bench.", lat=LAT, long=LNG,
        reporter_email="" if case == "no-email" else REPORTER,
    )  # fmt: skip
    if case != "unconfirmed":
        confirm_reporter(report)
    if case == "duplicate":
        master = report_create(service=service, description="The same.", lat=LAT, long=LNG)
        triage.report_close_as_duplicate(report=report, author=None, master=master)
    else:
        if case == "hidden":
            triage.report_moderate(
                report=report, author=None, hidden=True, description_redacted=False, reason="x"
            )
        if case == "unsubscribed":
            Subscription.objects.filter(request=report).update(active=False)
        triage.report_close(report=report, author=None)
    assert not OutboxMessage.objects.filter(kind="fixed_question").exists()


def test_yes_is_asked_on_get_recorded_on_post_and_only_once(client, service):
    report = closed_report(service)
    url = reverse("reports:fixed_yes", args=[fixed_token(report)])
    page = client.get(url)
    assert page.status_code == 200 and "Yes, it is fixed" in page.content.decode()
    report.refresh_from_db()
    assert report.fixed_confirmed_at is None  # a mail scanner's GET answers nothing

    assert client.post(url).status_code == 200
    assert client.post(url).status_code == 200  # a second click: the same answer, no change
    report.refresh_from_db()
    assert report.fixed_confirmed_at is not None and report.state == State.FIXED
    [entry] = report.updates.filter(text="The reporter confirmed that it is fixed.")
    assert entry.public
    assert "You told us it is fixed" in client.get(url).content.decode()
    # "No" after "yes" changes nothing either.
    no_url = reverse("reports:fixed_no", args=[fixed_token(report)])
    client.post(no_url, {"text": "Changed my mind."})
    report.refresh_from_db()
    assert report.state == State.FIXED

    # Closed for good: staff reopen and close again, no new question.
    triage.report_reopen(report=report, author=None)
    triage.report_close(report=report, author=None)
    assert OutboxMessage.objects.filter(kind="fixed_question").count() == 1


def exif_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Camera Maker"  # Make
    exif[0x8825] = {1: "N", 2: (35.0, 46.0, 0.0)}  # GPS
    return image_bytes("JPEG", exif=exif.tobytes())


def test_not_fixed_reopens_tells_the_department_and_marks_the_queue(
    client, service, health, staff_group
):
    """The whole flow: staff close, the reporter says "not fixed" with a comment and a photo,
    the report is open again with a public entry, the department is emailed and sees it in
    its queue as reopened (and can filter on it)."""
    report = closed_report(service)
    other = closed_report(service)  # closed too, not reopened: not in the filter
    [question] = OutboxMessage.objects.filter(kind="fixed_question", body__contains=f"#{report.pk}")
    [no_url] = re.findall(r"\S+/reports/fixed/\S+/no/", question.body)
    no_path = urlsplit(no_url).path

    Subscription.objects.create(
        request=report, email="neighbour@example.org", confirmed_at=timezone.now()
    )
    mail.outbox.clear()
    page = client.get(no_path)
    assert page.status_code == 200 and "What is still wrong?" in page.content.decode()
    upload = io.BytesIO(exif_jpeg())
    upload.name = "now.jpg"
    answer = {"text": "Still two syringes under the slide.", "photo": upload}
    response = client.post(no_path, answer)
    assert response.status_code == 200
    assert "the report is open again" in response.content.decode()

    # The other followers hear of it; the reporter, who just said so, gets no update email.
    assert [m.to for m in mail.outbox if "Update on report" in m.subject] == [
        ["neighbour@example.org"]
    ]
    report.refresh_from_db()
    assert report.state == State.ACKNOWLEDGED and report.is_open
    assert report.reopened_by_reporter_at is not None
    entry = report.updates.get(state_to=State.ACKNOWLEDGED)
    assert entry.public and entry.text == "The reporter says it is not fixed."
    comment = Comment.objects.get(request=report)
    assert comment.from_reporter and comment.text == "Still two syringes under the slide."
    photo = comment.photos.get()
    assert photo.state == Photo.State.PROCESSED
    assert not Image.open(photo.image.path).getexif()  # EXIF (and GPS) stripped

    [to_department] = OutboxMessage.objects.filter(kind="reopened_by_reporter")
    assert to_department.to == health.email
    assert "Still two syringes under the slide." in to_department.body
    assert_no_private_data(to_department.body)

    public = client.get(report.get_absolute_url()).content.decode()
    assert "The reporter says it is not fixed." in public
    assert "Still two syringes under the slide." in public and photo.thumbnail.url in public
    assert_no_private_data(public)

    # A second answer changes nothing.
    client.post(no_path, {"text": "Again."})
    assert Comment.objects.filter(request=report).count() == 1
    assert "You already told us it is not fixed" in client.get(no_path).content.decode()

    # The department's queue.
    staff = StaffMembershipFactory(department=health).user
    staff.groups.add(staff_group)
    client.force_login(staff)
    queue = reverse("admin:reports_servicerequest_changelist")
    html = client.get(queue).content.decode()
    assert "Reopened by reporter" in html
    filtered = client.get(queue, {"reporter": "reopened", "status__exact": "all"})
    rows = filtered.context["cl"].result_list
    assert [r.pk for r in rows] == [report.pk] and other.pk not in [r.pk for r in rows]


def test_not_fixed_needs_a_comment_and_a_real_photo(client, service):
    report = closed_report(service)
    url = reverse("reports:fixed_no", args=[fixed_token(report)])
    assert client.post(url, {"text": ""}).status_code == 400
    fake = io.BytesIO(b"not an image")
    fake.name = "x.jpg"
    response = client.post(url, {"text": "Still there.", "photo": fake})
    assert response.status_code == 400
    report.refresh_from_db()
    assert report.state == State.FIXED and not Comment.objects.exists()


def test_a_hidden_report_cannot_be_reopened_by_its_link(client, service):
    report = closed_report(service)
    url = reverse("reports:fixed_no", args=[fixed_token(report)])
    triage.report_moderate(
        report=report, author=None, hidden=True, description_redacted=False, reason="Abuse"
    )
    response = client.post(url, {"text": "Still there."})
    assert response.status_code == 404
    assert "can't be reopened" in response.content.decode()
    report.refresh_from_db()
    assert report.state == State.FIXED and report.reopened_by_reporter_at is None


def test_an_old_question_changes_nothing_after_staff_reopened(client, service):
    report = closed_report(service)
    url = reverse("reports:fixed_no", args=[fixed_token(report)])
    triage.report_reopen(report=report, author=None)
    response = client.post(url, {"text": "Still there."})
    assert "Nothing to answer now" in response.content.decode()
    report.refresh_from_db()
    assert report.reopened_by_reporter_at is None and not Comment.objects.exists()


def test_forged_or_expired_links_are_refused(client, service, settings):
    report = closed_report(service)
    token = fixed_token(report)
    assert client.get(reverse("reports:fixed_yes", args=[token + "x"])).status_code == 404
    later = time.time() + (settings.FIXED_QUESTION_MAX_AGE_DAYS + 1) * 86400
    with mock.patch("django.core.signing.time.time", return_value=later):
        assert client.post(reverse("reports:fixed_yes", args=[token])).status_code == 404
    report.refresh_from_db()
    assert report.fixed_confirmed_at is None
