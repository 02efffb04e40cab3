from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from reports.models import Photo, RequestUpdate, ServiceRequest, Subscription
from reports.services.requests import report_create, submission_of
from reports.tasks import process_request_photos
from tests.conftest import assert_no_private_data
from tests.factories import (
    CITY_CENTRE,
    AttributeValueFactory,
    DepartmentFactory,
    PhotoFactory,
    RequestUpdateFactory,
    ServiceAttributeFactory,
    ServiceFactory,
    ServiceRequestFactory,
    huge_png,
    image_bytes,
    image_upload,
)

pytestmark = pytest.mark.django_db

LAT, LNG = CITY_CENTRE
NEW_URL = reverse("reports:new")
LIST_URL = reverse("reports:list")


def form_data(service, /, **overrides) -> dict:
    data = {
        "lat": str(LAT),
        "long": str(LNG),
        "service": str(service.pk),
        "address": "12 Oak Street",
        "description": "Deep pothole in the right lane.",
        "reporter_name": "Private Person",
        "reporter_email": "private.person@example.net",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def processed_photo(request, **kwargs) -> Photo:
    return PhotoFactory(
        request=request,
        state=Photo.State.PROCESSED,
        image=SimpleUploadedFile("web.jpg", image_bytes()),
        thumbnail=SimpleUploadedFile("thumb.jpg", image_bytes(size=(40, 30))),
        **kwargs,
    )


# Home


def test_home_shows_counts_map_and_latest(client):
    month_ago = timezone.now() - timedelta(days=30)
    ServiceRequestFactory.create_batch(2, service__name="Pothole")
    ServiceRequestFactory(
        state="fixed", status="closed", closed_datetime=timezone.now() - timedelta(days=2)
    )
    ServiceRequestFactory(
        state="fixed", status="closed", closed_datetime=month_ago - timedelta(days=5)
    )
    ServiceRequestFactory(hidden=True, description="Hidden spam text")
    response = client.get(reverse("reports:home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Report a problem" in html and NEW_URL in html
    assert response.context["open_count"] == 2  # the hidden one is not counted
    assert response.context["closed_recently_count"] == 1
    assert len(response.context["markers"]) == 4
    assert 'id="reports-map-data"' in html
    assert "Hidden spam text" not in html
    assert "/open311/v2/services.json" in html and "/api/docs/" in html
    assert_no_private_data(html)


def test_home_map_markers_carry_each_reports_public_fields(client, settings):
    settings.TIME_ZONE = "America/New_York"
    # 03:30 UTC on 2 March is still 1 March in New York: the marker shows the local day.
    late = datetime(2026, 3, 2, 3, 30, tzinfo=UTC)
    fixed = ServiceRequestFactory(
        service__name="Pothole", state="fixed", status="closed", requested_datetime=late
    )
    new = ServiceRequestFactory(service__name="Graffiti", requested_datetime=late)
    ServiceRequestFactory(hidden=True)
    response = client.get(reverse("reports:home"))
    markers = {marker["id"]: marker for marker in response.context["markers"]}
    assert set(markers) == {fixed.pk, new.pk}
    assert markers[fixed.pk] == {
        "id": fixed.pk,
        "lat": fixed.lat,
        "long": fixed.long,
        "title": "Pothole",
        "status": "closed",
        "state": fixed.get_state_display(),
        "date": "Mar 1, 2026",
        "url": fixed.get_absolute_url(),
    }
    assert markers[new.pk]["state"] == new.get_state_display() != markers[fixed.pk]["state"]
    assert markers[new.pk]["url"] == f"/reports/{new.pk}/"


def test_home_query_count_does_not_grow(client, django_assert_max_num_queries):
    for report in ServiceRequestFactory.create_batch(12):
        processed_photo(report)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("reports:home"))
    assert response.status_code == 200


# Report form


def test_form_page_lists_active_categories_grouped_with_questions(client):
    streets = ServiceFactory(name="Pothole", group="Streets")
    ServiceFactory(name="Found syringe", group="Health")
    ServiceFactory(name="Retired category", active=False)
    question = ServiceAttributeFactory(
        service=streets, code="size", datatype="singlevaluelist", description="How big?"
    )
    AttributeValueFactory(attribute=question, key="large", name="Larger than a wheel")
    response = client.get(NEW_URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<optgroup label="Health">' in html and '<optgroup label="Streets">' in html
    assert "Found syringe" in html and "Retired category" not in html
    assert f'data-service="{streets.pk}"' in html and "How big?" in html
    assert "Larger than a wheel" in html
    assert 'accept="image/jpeg,image/png,image/webp"' in html and "multiple" in html
    assert 'type="number"' in html  # coordinates can be typed without JavaScript
    assert "never published" in html


def test_a_form_sent_twice_makes_one_report_and_leads_to_it(client):
    service = ServiceFactory()
    page = client.get(NEW_URL)
    assert "private" in page["Cache-Control"]  # its token is for this visitor alone
    token = page.context["form"]["submission"].value()
    assert f'name="submission" value="{token}"' in page.content.decode()
    assert client.get(NEW_URL).context["form"]["submission"].value() != token
    data = form_data(service, submission=str(token), photos=[image_upload("a.jpg")])
    first = client.post(NEW_URL, data)
    # The back button and "Send report" again, or a retry after a timeout.
    again = client.post(NEW_URL, form_data(service, submission=str(token)), follow=True)
    report = ServiceRequest.objects.get()
    # Its preview, as the first time (the link is signed again: its time may differ by a
    # second, so the signature too).
    preview = f"/reports/{report.pk}/preview/"
    assert first["Location"].startswith(preview)
    assert again.redirect_chain[0][0].startswith(preview)
    assert f"This report was sent already: it is report #{report.pk}." in again.content.decode()
    assert report.photos.count() == 1
    # Another sending of the form is another report.
    client.post(NEW_URL, form_data(service, submission=str(uuid.uuid4())))
    assert ServiceRequest.objects.count() == 2


def test_a_second_report_with_the_same_submission_stores_nothing():
    service = ServiceFactory()
    token = uuid.uuid4()
    report_create(service=service, description="First", lat=LAT, long=LNG, submission=token)
    with pytest.raises(IntegrityError):  # two sendings at once: the unique token decides
        report_create(service=service, description="Second", lat=LAT, long=LNG, submission=token)
    assert list(ServiceRequest.objects.values_list("description", flat=True)) == ["First"]
    assert submission_of(token).description == "First"


def test_form_creates_report_with_photo_and_redirects(client, django_capture_on_commit_callbacks):
    service = ServiceFactory(sla_hours=48)
    data = form_data(service, photos=[image_upload("a.jpg"), image_upload("b.png", fmt="PNG")])
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(NEW_URL, data)
    report = ServiceRequest.objects.get()
    # Photo processing, the department's email and the reporter's acknowledgement (which
    # carries the link that confirms updates), after the commit.
    assert len(callbacks) == 3
    assert set(report.photos.values_list("state", flat=True)) == {Photo.State.PENDING}
    process_request_photos(report.pk)  # what the worker (or the in-process run) does
    assert response.status_code == 302
    # The reporter's preview of the page as it will be published.
    assert response["Location"].startswith(f"/reports/{report.pk}/preview/")
    assert report.source == "web" and report.service == service
    assert (report.lat, report.long) == (LAT, LNG)
    assert report.address == "12 Oak Street"
    assert report.reporter_email == "private.person@example.net"
    assert report.photos.count() == 2
    assert set(report.photos.values_list("state", flat=True)) == {Photo.State.PROCESSED}
    assert Subscription.objects.filter(request=report, active=True).count() == 1
    page = client.get(response["Location"])
    html = page.content.decode()
    assert f"Your report #{report.pk} has been sent" in html
    assert report.photos.first().thumbnail.url in html
    assert_no_private_data(html)


def test_form_sends_only_the_chosen_categorys_answers(client):
    service = ServiceFactory()
    other = ServiceFactory()
    size = ServiceAttributeFactory(
        service=service, code="size", datatype="singlevaluelist", required=True
    )
    AttributeValueFactory(attribute=size, key="large", name="Larger than a wheel")
    multi = ServiceAttributeFactory(service=service, code="where", datatype="multivaluelist")
    AttributeValueFactory(attribute=multi, key="lane", name="Traffic lane")
    AttributeValueFactory(attribute=multi, key="kerb", name="Kerb")
    ServiceAttributeFactory(service=other, code="colour", required=True)
    data = form_data(
        service,
        **{
            f"attr-{service.pk}-size": "large",
            f"attr-{service.pk}-where": ["lane", "kerb"],
            f"attr-{other.pk}-colour": "ignored: another category",
        },
    )
    response = client.post(NEW_URL, data)
    assert response.status_code == 302
    report = ServiceRequest.objects.get()
    assert report.attributes == {"size": "large", "where": ["lane", "kerb"]}
    html = client.get(response["Location"]).content.decode()
    assert "Larger than a wheel" in html and "Traffic lane, Kerb" in html


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"lat": "10.0", "long": "10.0"}, "lat", "outside"),
        ({"lat": None, "long": None}, "lat", "choose the place on the map"),
        ({"lat": "north", "long": str(LNG)}, "lat", "Enter a number"),
        ({"service": "999999"}, "service", "Choose a category from the list"),
        ({"description": ""}, "description", "at least 10 characters"),
        ({"description": "x" * 4001}, "description", "at most 4000"),
        ({"reporter_email": "not-an-email"}, "reporter_email", "valid email"),
        (
            {
                "photos": [
                    SimpleUploadedFile("report.jpg", b"%PDF-1.4\n1 0 obj<<>>endobj\n"),
                ]
            },
            "photos",
            "not a readable image",
        ),
        (
            {"photos": [SimpleUploadedFile("cut.jpg", image_bytes(size=(400, 300))[:600])]},
            "photos",
            "not a readable image",
        ),
        ({"photos": "huge"}, "photos", "too many pixels"),
        ({"photos": "four"}, "photos", "at most 3 photos"),
    ],
)
def test_form_errors_store_nothing_and_keep_input(client, overrides, field, message):
    service = ServiceFactory()
    if overrides.get("photos") == "huge":
        overrides["photos"] = [SimpleUploadedFile("huge.png", huge_png(), "image/png")]
    elif overrides.get("photos") == "four":
        overrides["photos"] = [image_upload(f"p{i}.jpg") for i in range(4)]
    data = form_data(service, **overrides)
    response = client.post(NEW_URL, data)
    assert response.status_code == 400
    form = response.context["form"]
    assert message in " ".join(form.errors[field])
    assert ServiceRequest.objects.count() == 0
    assert Photo.objects.count() == 0
    assert Subscription.objects.count() == 0
    html = response.content.decode()
    assert "Please correct the following" in html
    assert "12 Oak Street" in html  # what was typed comes back
    assert 'value="Private Person"' in html
    if "photos" in overrides:
        assert "please attach the photos again" in html


def test_form_refuses_inactive_category_with_the_services_message(client):
    service = ServiceFactory(active=False)
    response = client.post(NEW_URL, form_data(service))
    assert response.status_code == 400
    assert "not accepting reports" in " ".join(response.context["form"].errors["service"])
    assert ServiceRequest.objects.count() == 0


def test_form_missing_required_answer_shows_the_chosen_categorys_questions(client):
    service = ServiceFactory()
    other = ServiceFactory()
    ServiceAttributeFactory(
        service=service, code="lane", required=True, description="Which lane is it in?"
    )
    ServiceAttributeFactory(service=other, code="colour", description="What colour?")
    response = client.post(NEW_URL, form_data(service, description="A pothole in the lane"))
    assert response.status_code == 400
    assert ServiceRequest.objects.count() == 0
    form = response.context["form"]
    assert form.errors[f"attr-{service.pk}-lane"] == ["Please answer: Which lane is it in?"]
    sets = {s["service"].pk: s for s in form.question_sets()}
    assert sets[service.pk]["chosen"] and not sets[other.pk]["chosen"]
    html = response.content.decode()
    # The script shows only the chosen category's questions; the page marks it.
    assert f'class="questions questions--chosen" data-service="{service.pk}"' in html
    assert f'class="questions" data-service="{other.pk}"' in html
    assert "A pothole in the lane" in html


# Report page


def test_detail_shows_public_information_only(client):
    department = DepartmentFactory(name="Public Works")
    service = ServiceFactory(name="Pothole", department=department)
    question = ServiceAttributeFactory(
        service=service, code="size", datatype="singlevaluelist", description="How big?"
    )
    AttributeValueFactory(attribute=question, key="large", name="Larger than a wheel")
    report = ServiceRequestFactory(
        service=service,
        attributes={"size": "large"},
        expected_datetime=timezone.now() - timedelta(hours=1),
        address="100 Main Street",
    )
    RequestUpdateFactory(request=report, kind=RequestUpdate.Kind.CREATED, text="", state_to="new")
    RequestUpdateFactory(
        request=report,
        kind=RequestUpdate.Kind.FORWARD,
        text="Forwarded from Public Works to Health",
    )
    RequestUpdateFactory(
        request=report, kind=RequestUpdate.Kind.STATE, state_to="in_progress", text="On it."
    )
    RequestUpdateFactory(request=report, public=False, text="Internal: crew is short-staffed")
    shown = processed_photo(report)
    hidden = processed_photo(report, hidden=True)
    PhotoFactory(request=report)  # still pending
    response = client.get(report.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "Pothole",
        "Public Works",
        "100 Main Street",
        report.description,
        "How big?",
        "Larger than a wheel",
        "Forwarded from Public Works to Health",
        "In progress",
        "The city aims to resolve this by",
        "Overdue",
        "Photo being processed",
        "Get email updates",
    ):
        assert text in html, text
    assert shown.thumbnail.url in html and shown.image.url in html
    assert hidden.thumbnail.url not in html and hidden.image.url not in html
    assert "originals/" not in html
    assert "short-staffed" not in html
    assert response.context["pending_photos"] == 1
    assert_no_private_data(html)


def test_detail_of_hidden_report_is_404(client):
    report = ServiceRequestFactory(hidden=True)
    assert client.get(report.get_absolute_url()).status_code == 404
    response = client.post(report.get_absolute_url(), {"email": "someone@example.org"})
    assert response.status_code == 404
    assert Subscription.objects.count() == 0


def test_detail_shows_redacted_description(client):
    report = ServiceRequestFactory(description="Call me at 555 0199", description_redacted=True)
    html = client.get(report.get_absolute_url()).content.decode()
    assert "Description removed by moderator" in html
    assert "555 0199" not in html


def test_detail_of_closed_report_is_not_overdue(client):
    report = ServiceRequestFactory(
        state="fixed", status="closed", expected_datetime=timezone.now() - timedelta(days=1)
    )
    response = client.get(report.get_absolute_url())
    assert response.context["overdue"] is False
    assert "Overdue" not in response.content.decode()
