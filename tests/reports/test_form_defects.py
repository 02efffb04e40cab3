"""The report form as a citizen meets it without JavaScript: every error at once, the
category's questions and notice in one submit, photos kept across a bounce."""

from __future__ import annotations

import os
import time
import uuid
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from reports import demo
from reports.models import Photo, ServiceRequest
from reports.photo_drafts import MAX_AGE, draft_keep, draft_read, drafts_sweep
from tests.factories import (
    CITY_CENTRE,
    AttributeValueFactory,
    ServiceAttributeFactory,
    ServiceFactory,
    image_bytes,
    image_upload,
)
from tests.reports.html_support import by_id, find_all, parse

pytestmark = pytest.mark.django_db

LAT, LNG = CITY_CENTRE
NEW_URL = reverse("reports:new")
FAKE_IMAGE = b"%PDF-1.4\n1 0 obj<<>>endobj\n"


def form_data(service, /, **overrides) -> dict:
    data = {
        "lat": str(LAT),
        "long": str(LNG),
        "service": str(service.pk),
        "description": "A fallen tree across the trail.",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def trail_category():
    service = ServiceFactory(name="Trail problem", description="Trees down, washouts.")
    blocked = ServiceAttributeFactory(
        service=service,
        code="blocking",
        datatype="singlevaluelist",
        required=True,
        description="Is the trail blocked?",
    )
    AttributeValueFactory(attribute=blocked, key="yes", name="Yes")
    AttributeValueFactory(attribute=blocked, key="no", name="No")
    return service


def test_every_error_is_shown_at_once_next_to_its_field(client):
    service = ServiceFactory()
    data = form_data(
        service,
        lat=None,
        long=None,
        description="",
        photos=[SimpleUploadedFile("report.jpg", FAKE_IMAGE)],
    )
    response = client.post(NEW_URL, data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert {"lat", "description", "photos"} <= set(errors)
    assert ServiceRequest.objects.count() == 0
    page = parse(response.content.decode())
    summary = by_id(page, "error-summary")
    assert summary is not None
    assert summary.attrs["role"] == "alert" and summary.attrs["tabindex"] == "-1"
    links = {a.attrs["href"] for a in find_all(summary, "a")}
    assert {"#id_lat", "#id_description", "#id_photos"} <= links
    for name in ("description", "photos"):
        field = by_id(page, f"id_{name}")
        assert field.attrs.get("aria-invalid") == "true"
        described = field.attrs["aria-describedby"].split()
        assert all(by_id(page, ref) is not None for ref in described), described
        assert any("error" in ref for ref in described)
    lat = by_id(page, "id_lat")
    assert lat.attrs.get("aria-invalid") == "true"
    assert by_id(page, lat.attrs["aria-describedby"].split()[0]) is not None


def test_required_question_errors_use_the_questions_words_next_to_it(client):
    service = trail_category()
    response = client.post(NEW_URL, form_data(service))
    assert response.status_code == 400
    name = f"attr-{service.pk}-blocking"
    assert response.context["form"].errors[name] == ["Please answer: Is the trail blocked?"]
    html = response.content.decode()
    assert "Attribute blocking" not in html
    field = by_id(parse(html), f"id_{name}")
    assert field.attrs.get("aria-invalid") == "true"
    # The summary lists it in the page's order: after the category, before the description.
    short = client.post(NEW_URL, form_data(service, description="Short"))
    summary = [text for _anchor, text in short.context["form"].error_summary()]
    question = summary.index("Please answer: Is the trail blocked?")
    assert question < next(i for i, t in enumerate(summary) if t.startswith("Describe"))


def test_without_javascript_every_categorys_questions_are_visible_and_one_submit_works(
    client,
):
    service = trail_category()
    other = ServiceFactory(name="Pothole")
    ServiceAttributeFactory(service=other, code="size", description="How big is it?")
    page = parse(client.get(NEW_URL).content.decode())
    sets = find_all(page, "fieldset", class_="questions")
    assert {s.attrs["data-service"] for s in sets} == {str(service.pk), str(other.pk)}
    assert not any("hidden" in s.attrs for s in sets)
    # The citizen answers the chosen category's question on the first try.
    data = form_data(service, **{f"attr-{service.pk}-blocking": "yes"})
    response = client.post(NEW_URL, data)
    assert response.status_code == 302
    assert ServiceRequest.objects.get().attributes == {"blocking": "yes"}


def test_the_categorys_notice_is_on_the_form_without_javascript(client):
    ServiceFactory(
        name="Found syringe", description="A used needle in a public place. Do not touch it."
    )
    page = parse(client.get(NEW_URL).content.decode())
    notices = [s for s in find_all(page, "fieldset", class_="questions")]
    assert any("Do not touch it." in s.text for s in notices)


def test_map_box_without_javascript_does_not_say_tap_the_map(client):
    ServiceFactory()
    page = parse(client.get(NEW_URL).content.decode())
    for element in page.iter():
        if "tap the map" in " ".join(element.text_parts).lower():
            chain = [element, *element.ancestors()]
            assert any("js-only" in e.attrs.get("class", "").split() for e in chain)
    assert "latitude and longitude" in by_id(page, "where-hint").text


def test_the_two_where_prompts_have_distinct_labels(client):
    ServiceFactory()
    page = parse(client.get(NEW_URL).content.decode())
    numbers = find_all(page, "span", class_="step__num")
    steps = [" ".join(e.parent.text_parts).strip() for e in numbers]
    questions = {q.description for c in demo.CATEGORIES for q in c.questions}
    assert "Where is the problem?" in steps
    assert not questions & set(steps)


def test_a_photo_is_kept_when_the_form_bounces(client, django_capture_on_commit_callbacks):
    service = trail_category()
    response = client.post(NEW_URL, form_data(service, photos=[image_upload("tree.jpg")]))
    assert response.status_code == 400
    kept = find_all(parse(response.content.decode()), "input", name="kept_photos")
    assert len(kept) == 1 and "checked" in kept[0].attrs
    data = form_data(
        service, kept_photos=[kept[0].attrs["value"]], **{f"attr-{service.pk}-blocking": "no"}
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(NEW_URL, data)
    assert response.status_code == 302
    report = ServiceRequest.objects.get()
    assert report.photos.count() == 1
    assert report.photos.get().state == Photo.State.PROCESSED


def test_a_kept_photo_token_cannot_be_forged(client):
    service = ServiceFactory()
    response = client.post(NEW_URL, form_data(service, kept_photos=["../../etc/passwd"]))
    assert response.status_code == 400
    assert "attach it again" in " ".join(response.context["form"].errors["kept_photos"])
    assert ServiceRequest.objects.count() == 0


def test_an_expired_kept_photo_is_told_at_the_file_input(client):
    """The summary links the error to the file input: focused there, a screen reader must
    read it, and the field is marked as wrong like any other."""
    service = ServiceFactory()
    response = client.post(NEW_URL, form_data(service, kept_photos=["expired-or-forged"]))
    assert response.status_code == 400
    page = parse(response.content.decode())
    photos = by_id(page, "id_photos")
    assert "id_photos_error" in photos.attrs["aria-describedby"].split()
    assert photos.attrs.get("aria-invalid") == "true"
    assert "attach it again" in by_id(page, "id_photos_error").text
    assert "field--error" in photos.parent.parent.attrs["class"].split()


def test_one_expired_kept_photo_does_not_lose_the_others(client):
    service = trail_category()
    bounced = client.post(NEW_URL, form_data(service, photos=[image_upload("tree.jpg")]))
    good = find_all(parse(bounced.content.decode()), "input", name="kept_photos")[0]
    token = good.attrs["value"]
    response = client.post(NEW_URL, form_data(service, kept_photos=[token, "expired"]))
    assert response.status_code == 400
    kept = find_all(parse(response.content.decode()), "input", name="kept_photos")
    assert [k.attrs["value"] for k in kept] == [token]
    assert "attach it again" in " ".join(response.context["form"].errors["kept_photos"])


def test_an_unticked_kept_photo_is_dropped(client):
    service = trail_category()
    client.post(NEW_URL, form_data(service, photos=[image_upload("tree.jpg")]))
    response = client.post(NEW_URL, form_data(service, **{f"attr-{service.pk}-blocking": "no"}))
    assert response.status_code == 302
    assert ServiceRequest.objects.get().photos.count() == 0


def test_the_sweep_removes_old_drafts_only(settings):
    old = draft_keep(BytesIO(image_bytes()))
    fresh = draft_keep(BytesIO(image_bytes()))
    _, old_path = draft_read(old.token)
    stale = time.time() - MAX_AGE.total_seconds() - 60
    os.utime(settings.MEDIA_ROOT / old_path, (stale, stale))
    assert drafts_sweep() == 1
    assert draft_read(fresh.token)
    with pytest.raises(FileNotFoundError):
        draft_read(old.token)


def test_an_unanswered_list_of_checkboxes_is_linked_from_the_error_summary(client):
    """A question answered by ticking boxes has no one input named by its label: its link
    in the summary goes to its first box (it went to '#', nowhere)."""
    service = ServiceFactory()
    where = ServiceAttributeFactory(
        service=service, code="where", datatype="multivaluelist", required=True
    )
    AttributeValueFactory(attribute=where, key="lane", name="Traffic lane")
    AttributeValueFactory(attribute=where, key="kerb", name="Kerb")
    response = client.post(NEW_URL, form_data(service))
    assert response.status_code == 400
    page = parse(response.content.decode())
    anchors = [a.attrs["href"] for a in find_all(by_id(page, "error-summary"), "a")]
    assert anchors and all(len(href) > 1 and by_id(page, href[1:]) for href in anchors), anchors


def test_a_form_sent_again_after_its_kept_photo_was_used_leads_to_its_report(client):
    """The kept photo's draft is deleted once the report is made: the back button and "Send
    report" again (or a second tap that arrives late) must lead to that report, not to the
    form saying the photo has expired."""
    service = trail_category()
    token = str(uuid.uuid4())  # the form's own, from its page
    bounced = client.post(
        NEW_URL, form_data(service, submission=token, photos=[image_upload("tree.jpg")])
    )
    page = parse(bounced.content.decode())
    kept = find_all(page, "input", name="kept_photos")[0].attrs["value"]
    assert find_all(page, "input", name="submission")[0].attrs["value"] == token
    data = form_data(
        service,
        kept_photos=[kept],
        submission=token,
        **{f"attr-{service.pk}-blocking": "no"},
    )
    first = client.post(NEW_URL, data)
    assert first.status_code == 302
    report = ServiceRequest.objects.get()
    again = client.post(NEW_URL, data, follow=True)
    assert again.redirect_chain, again.status_code
    assert f"This report was sent already: it is report #{report.pk}." in again.content.decode()
    assert ServiceRequest.objects.count() == 1
    assert report.photos.count() == 1
