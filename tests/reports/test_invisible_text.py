"""Text a citizen or an app must give (a description, a comment, an answer) is refused when
nothing of it can be seen (zero-width spaces...): a form error or an Open311 400, nothing
stored. Visible text with joiners inside (emoji, Indic scripts) is kept as typed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from reports.models import Comment, ServiceAttribute, ServiceRequest
from reports.tokens import fixed_token
from tests.factories import (
    CITY_CENTRE,
    ServiceAttributeFactory,
    ServiceRequestFactory,
    api_key_create,
)
from tests.reports.followup_support import closed_report, file_report, form_data
from tests.reports.open311_support import errors_of

pytestmark = pytest.mark.django_db(transaction=True)

ZWSP = "\u200b"
# Hindi words, one conjunct written with a zero-width joiner, and a woman-mechanic emoji (ZWJ).
JOINED = (
    "\u0915\u094d\u200d\u0937 \u0920\u0940\u0915 \u0928\u0939\u0940\u0902 "
    "\U0001f469\u200d\U0001f527"
)
LAT, LNG = CITY_CENTRE


def test_web_form_refuses_a_description_of_zero_width_spaces(client, service):
    response = client.post(reverse("reports:new"), form_data(service, description=ZWSP * 12))
    assert response.status_code == 400
    assert "at least 10 characters" in response.content.decode()
    assert not ServiceRequest.objects.exists()


def test_web_form_keeps_joiners_inside_visible_text(client, service):
    report, _ = file_report(client, service, description=JOINED)
    assert report.description == JOINED


def test_preview_edit_refuses_invisible_text(client, service):
    report, preview = file_report(client, service)
    response = client.post(preview, {"action": "edit", "description": ZWSP * 12})
    assert response.status_code == 400 and "at least 10" in response.content.decode()
    report.refresh_from_db()
    assert report.description == form_data(service)["description"]


def api_post(client, service, **extra):
    data = {
        "api_key": api_key_create()[1],
        "service_code": service.service_code,
        "lat": str(LAT),
        "long": str(LNG),
        **extra,
    }
    return client.post("/open311/v2/requests.json", data)


def test_open311_post_refuses_an_invisible_description(client, service):
    response = api_post(client, service, description=ZWSP * 5 + "\u2060")
    assert response.status_code == 400
    assert any("invisible" in e["description"] for e in errors_of(response, "json"))
    assert not ServiceRequest.objects.exists()


def test_open311_post_keeps_joiners_and_still_takes_no_description(client, service):
    assert api_post(client, service, description=JOINED).status_code == 200
    assert api_post(client, service).status_code == 200
    assert sorted(ServiceRequest.objects.values_list("description", flat=True)) == ["", JOINED]


def test_open311_post_refuses_an_invisible_answer_to_a_required_question(client, service):
    ServiceAttributeFactory(
        service=service, code="where", datatype=ServiceAttribute.Datatype.STRING, required=True
    )
    response = api_post(client, service, **{"attribute[where]": ZWSP * 3})
    assert response.status_code == 400
    assert any("where is required" in e["description"] for e in errors_of(response, "json"))
    assert not ServiceRequest.objects.exists()


def test_comment_of_invisible_characters_is_refused(client):
    report = ServiceRequestFactory()
    url = reverse("reports:comment", args=[report.pk])
    response = client.post(url, {"comment-text": ZWSP * 20})
    assert response.status_code == 400 and "Please write a comment." in response.content.decode()
    assert not Comment.objects.exists()


def test_not_fixed_with_invisible_text_does_not_reopen(client, service):
    report = closed_report(service)
    url = reverse("reports:fixed_no", args=[fixed_token(report)])
    response = client.post(url, {"text": ZWSP * 20})
    assert response.status_code == 400 and "still wrong" in response.content.decode()
    report.refresh_from_db()
    assert report.state == ServiceRequest.State.FIXED and not Comment.objects.exists()
