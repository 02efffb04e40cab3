"""The staff admin: managers' catalogue pages, who may open what, and what department workers
found when trying it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from reports.models import RequestUpdate, ResponseTemplate, Service, ServiceRequest
from reports.models.catalogue import MAX_SLA_HOURS
from reports.services.requests import report_create
from tests.factories import (
    AttributeValueFactory,
    ServiceAttributeFactory,
    ServiceRequestFactory,
    UserFactory,
)
from tests.reports.admin_support import CHANGELIST, change_url, login

pytestmark = pytest.mark.django_db
State = ServiceRequest.State


# --- Managers: categories (SLA) and response templates ---------------------------------------


@pytest.mark.parametrize(
    ("who", "status"), [("manager_a", 302), ("agent_a", 403), ("agent_b", 403), ("superuser", 302)]
)
def test_sla_only_editable_by_the_departments_manager(client, world, who, status):
    service = world["report"].service
    url = reverse("admin:reports_service_change", args=[service.pk])
    data = {
        "sla_hours": 12,
        "name": "Renamed",
        "service_code": service.service_code,
        "group": service.group,
        "department": service.department_id,
        "type": "realtime",
        "order": 100,
        "active": "on",
        "attributes-TOTAL_FORMS": 0,
        "attributes-INITIAL_FORMS": 0,
    }
    response = login(client, world, who).post(url, data)
    assert response.status_code == status
    service.refresh_from_db()
    assert (service.sla_hours == 12) == (status == 302)
    # Managers change the target time only; the category's name stays the city's.
    assert service.name == ("Renamed" if who == "superuser" else "Found syringe")


def test_a_target_time_past_five_years_is_refused_and_reports_keep_being_filed(client, world):
    """A few zeros too many (some 70 million hours) put new reports' expected time past the
    year 9999: filing one failed with a 500. The form refuses it, and so does the database."""
    service = world["report"].service
    url = reverse("admin:reports_service_change", args=[service.pk])
    data = {"sla_hours": 100_000_000, "attributes-TOTAL_FORMS": 0, "attributes-INITIAL_FORMS": 0}
    response = login(client, world, "manager_a").post(url, data)
    assert response.status_code == 200
    assert "Ensure this value is less than or equal to 43920." in response.content.decode()
    service.refresh_from_db()
    assert service.sla_hours != 100_000_000
    with pytest.raises(IntegrityError), transaction.atomic():
        Service.objects.filter(pk=service.pk).update(sla_hours=MAX_SLA_HOURS + 1)
    Service.objects.filter(pk=service.pk).update(sla_hours=MAX_SLA_HOURS)
    service.refresh_from_db()
    report = report_create(service=service, description="Needle", lat=35.78, long=-78.64)
    assert report.expected_datetime == report.requested_datetime + timedelta(hours=MAX_SLA_HOURS)


@pytest.mark.parametrize(
    ("who", "status"), [("manager_a", 302), ("agent_a", 403), ("superuser", 302)]
)
def test_response_templates_are_managed_by_managers(client, world, who, status):
    url = reverse("admin:reports_responsetemplate_add")
    data = {
        "department": world["health"].pk,
        "title": "Collected",
        "text": "We collected it.",
        "state": "fixed",
        "active": "on",
    }
    response = login(client, world, who).post(url, data)
    assert response.status_code == status
    assert ResponseTemplate.objects.filter(title="Collected").exists() == (status == 302)


def test_manager_cannot_create_template_for_another_department(client, world):
    url = reverse("admin:reports_responsetemplate_add")
    data = {"department": world["works"].pk, "title": "Sneaky", "text": "x", "active": "on"}
    response = login(client, world, "manager_a").post(url, data)
    assert (
        response.status_code == 200 and not ResponseTemplate.objects.filter(title="Sneaky").exists()
    )


def test_staff_group_cannot_see_subscriptions(client, world):
    response = login(client, world, "manager_a").get(
        reverse("admin:reports_subscription_changelist")
    )
    assert response.status_code == 403


@pytest.mark.parametrize("who", ["agent_a", "manager_a"])
def test_staff_group_cannot_open_api_keys_as_the_readme_says(client, world, who):
    # Keys name their app developers' contacts: superusers only (README, staff guide).
    response = login(client, world, who).get(reverse("admin:reports_apikey_changelist"))
    assert response.status_code == 403
    client.force_login(world["superuser"])
    assert client.get(reverse("admin:reports_apikey_changelist")).status_code == 200


def test_staff_without_group_cannot_enter_models(client, world):
    loner = UserFactory(username="loner", is_staff=True)
    client.force_login(loner)
    assert client.get(CHANGELIST).status_code == 403


def test_moderation_in_admin_removes_report_from_public_page(client, world):
    report = world["report"]
    public_url = reverse("reports:detail", args=[report.pk])
    assert client.get(public_url).status_code == 200
    login(client, world, "agent_a").post(
        change_url(report, "moderate"), {"description_redacted": "on", "reason": "Phone number"}
    )
    page = client.get(public_url).content.decode()
    assert "Deep pothole" not in page and "[Description removed by moderator]" in page
    client.post(
        change_url(report, "moderate"),
        {"hidden": "on", "description_redacted": "on", "reason": "Abuse"},
    )
    assert client.get(public_url).status_code == 404
    # Staff still see it.
    assert "Deep pothole" in client.get(change_url(report)).content.decode()


@pytest.mark.parametrize("who", ["agent_b", "agent_a", "superuser"])
@pytest.mark.parametrize(
    "lookup", ["reporter_email", "reporter_email__startswith", "reporter_phone", "device_id"]
)
def test_queue_refuses_filters_on_private_fields(client, world, who, lookup):
    # Otherwise anyone could test guesses of other departments' reporters' contact data.
    value = world["report"].reporter_email[:3]
    response = login(client, world, who).get(f"{CHANGELIST}?department=all&{lookup}={value}")
    assert response.status_code == 400
    assert world["report"].reporter_email not in response.content.decode()


def test_staff_see_which_app_filed_a_report(client, world):
    from tests.factories import api_key_create

    key, _ = api_key_create("Greenway app")
    report = world["report"]
    ServiceRequest.objects.filter(pk=report.pk).update(source="api", api_key=key)
    login(client, world, "agent_a")
    page = client.get(change_url(report)).content.decode()
    assert "Greenway app" in page and "Open311 API" in page
    queue = client.get(f"{CHANGELIST}?api_key__id__exact={key.pk}").content.decode()
    assert f"#{report.pk}" in queue


# --- What a department worker found when trying it --------------------------------------------


def test_queue_shows_open_reports_until_closed_ones_are_asked_for(client, world):
    health = world["health"]
    closed = ServiceRequestFactory(department=health, state=State.FIXED, status="closed")
    opened = world["report"]
    login(client, world, "agent_a")

    def shown(query: str = "") -> set[int]:
        page = client.get(f"{CHANGELIST}?{query}").content.decode()
        return {r.pk for r in (opened, closed) if f">#{r.pk}<" in page}

    assert shown() == {opened.pk}
    assert shown("status__exact=closed") == {closed.pk}
    assert shown("status__exact=all") == {opened.pk, closed.pk}
    # Choosing a closed state, or looking a report up by its number, is asking for it.
    assert shown("state__exact=fixed") == {closed.pk}
    assert shown(f"q=%23{closed.pk}") == {closed.pk}


def test_report_page_shows_labelled_answers_not_json(client, world):
    report = world["report"]
    count = ServiceAttributeFactory(
        service=report.service, code="count", datatype="number", description="How many?"
    )
    place = ServiceAttributeFactory(
        service=report.service, code="place", datatype="singlevaluelist", description="Where?"
    )
    AttributeValueFactory(attribute=place, key="playground", name="In a playground")
    assert count.pk
    report.attributes = {"count": "2", "place": "playground"}
    report.save(update_fields=["attributes"])
    page = login(client, world, "agent_a").get(change_url(report)).content.decode()
    assert "<dt>How many?</dt><dd>2</dd>" in page
    assert "<dt>Where?</dt><dd>In a playground</dd>" in page
    assert "&quot;count&quot;" not in page and '"count"' not in page


def test_reply_with_a_message_needs_an_explicit_audience(client, world):
    report = world["report"]
    login(client, world, "agent_a")
    page = client.get(change_url(report)).content.decode()
    assert 'name="visibility"' in page
    assert "checked" not in page.split('name="visibility"', 1)[1].split("</fieldset>", 1)[0]
    response = client.post(change_url(report, "reply"), {"state": "", "text": "Police informed."})
    assert response.status_code == 200
    assert "Choose who sees this message" in response.content.decode()
    assert report.updates.count() == 0
    # A state change alone needs no audience: the change itself is public.
    response = client.post(change_url(report, "reply"), {"state": "acknowledged", "text": ""})
    assert response.status_code == 302
    response = client.post(
        change_url(report, "reply"), {"text": "Police informed.", "visibility": "internal"}
    )
    assert response.status_code == 302
    note = report.updates.get(kind=RequestUpdate.Kind.NOTE)
    assert not note.public


def test_report_page_offers_a_way_back_not_a_close_button(client, world):
    page = login(client, world, "agent_a").get(change_url(world["report"])).content.decode()
    assert 'class="closelink"' not in page and ">Close<" not in page
    assert "Back to the queue" in page
    assert 'class="c311-more"' in page


def test_queue_map_legend_names_every_colour_and_dots_open_reports(client, world):
    response = login(client, world, "agent_a").get(CHANGELIST)
    page = response.content.decode()
    assert "Click a dot to open its report." in page
    for state in ("new", "acknowledged", "in_progress", "fixed", "duplicate"):
        assert f'class="c311-dot {state}"' in page
    assert "not actionable or referred elsewhere" in page
    marker = response.context["queue_map"]["markers"][0]
    assert marker["url"] == change_url(world["report"])


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("agent_a", "Agent, Health"),
        ("manager_a", "Manager, Health"),
        ("superuser", "Superuser"),
    ],
)
def test_header_says_who_is_signed_in_and_in_which_role(client, world, who, expected):
    page = login(client, world, who).get(CHANGELIST).content.decode()
    assert f"<strong>{world[who].get_username()}</strong>" in page
    assert f"({expected})" in page


@pytest.mark.parametrize("who", ["agent_a", "agent_b"])
def test_staff_see_the_photo_an_app_linked_and_that_hiding_the_report_hides_it(client, world, who):
    """Open311 publishes a report's media_url (a photo an app gave as an address) while the
    report has no photo of its own; it was nowhere on the report's page, so staff never saw
    what the API showed of their report."""
    report = world["report"]
    ServiceRequest.objects.filter(pk=report.pk).update(
        media_url="https://greenway.example.org/p/77.jpg"
    )
    page = login(client, world, who).get(change_url(report)).content.decode()
    assert "photo linked by the app" in page.lower()
    assert '<a href="https://greenway.example.org/p/77.jpg" rel="noreferrer">' in page
    if who == "agent_a":
        moderate = client.get(change_url(report, "moderate")).content.decode()
        assert "also hides the photo the app linked to (https://greenway.example.org" in moderate


def test_a_report_without_an_app_photo_says_so(client, world):
    page = login(client, world, "agent_a").get(change_url(world["report"])).content.decode()
    assert "photo linked by the app" in page.lower()
    assert "greenway.example.org" not in page
