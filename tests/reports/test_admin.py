"""The staff admin: the permission matrix, the queue, triage pages and bulk actions."""

from __future__ import annotations

from datetime import timedelta

import factory
import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from departments.models import StaffMembership
from departments.permissions import STAFF_GROUP_NAME
from reports.models import RequestUpdate, ResponseTemplate, ServiceRequest
from tests.conftest import assert_no_private_data
from tests.factories import (
    AttributeValueFactory,
    BoundaryFactory,
    DepartmentFactory,
    PhotoFactory,
    ServiceAttributeFactory,
    ServiceFactory,
    ServiceRequestFactory,
    StaffMembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
State = ServiceRequest.State
CHANGELIST = reverse("admin:reports_servicerequest_changelist")


def staff(username: str, department, role: str = StaffMembership.Role.AGENT):
    membership = StaffMembershipFactory(
        user__username=username, user__is_staff=True, department=department, role=role
    )
    membership.user.groups.add(Group.objects.get(name=STAFF_GROUP_NAME))
    return membership.user


@pytest.fixture
def world(citizen, superuser):
    health = DepartmentFactory(name="Health", email="health@city.example.org")
    works = DepartmentFactory(name="Public Works", email="works@city.example.org")
    return {
        "health": health,
        "works": works,
        "citizen": citizen,
        "superuser": superuser,
        "agent_a": staff("agent_a", health),
        "agent_b": staff("agent_b", works),
        "manager_a": staff("manager_a", health, StaffMembership.Role.MANAGER),
        "report": ServiceRequestFactory(
            service__name="Found syringe", service__department=health, department=health
        ),
    }


def login(client, world, who: str):
    if who != "anonymous":
        client.force_login(world[who])
    return client


def change_url(report: ServiceRequest, suffix: str = "change") -> str:
    return reverse(f"admin:reports_servicerequest_{suffix}", args=[report.pk])


EDITORS = ["agent_a", "manager_a", "superuser"]
# Who may POST a change to Health's report: outsiders go to the login page, Public Works is
# refused, Health and the superuser get redirected after the change.
POST_MATRIX = [
    ("anonymous", 302),
    ("citizen", 302),
    ("agent_b", 403),
    ("agent_a", 302),
    ("manager_a", 302),
    ("superuser", 302),
]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 302),
        ("citizen", 302),
        ("agent_a", 200),
        ("agent_b", 200),
        ("manager_a", 200),
        ("superuser", 200),
    ],
)
def test_changelist_matrix(client, world, who, status):
    response = login(client, world, who).get(CHANGELIST + "?department=all")
    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith(reverse("admin:login"))
    else:
        assert f"#{world['report'].pk}" in response.content.decode()


@pytest.mark.parametrize(
    "who", ["anonymous", "citizen", "agent_a", "agent_b", "manager_a", "superuser"]
)
def test_change_view_get_matrix(client, world, who):
    report = world["report"]
    response = login(client, world, who).get(change_url(report))
    if who in ("anonymous", "citizen"):
        assert response.status_code == 302
        return
    assert response.status_code == 200
    page = response.content.decode()
    assert "Found syringe" in page
    if who in EDITORS:
        assert "Save reply" in page and "Private Person" in page
    else:
        # Another department reads the report but neither edits it nor sees the reporter.
        assert "Save reply" not in page and "only that department can change it" in page
        assert_no_private_data(page)


@pytest.mark.parametrize(("who", "status"), POST_MATRIX)
def test_change_view_post_matrix_never_edits_fields_directly(client, world, who, status):
    report = world["report"]
    response = login(client, world, who).post(
        change_url(report), {"state": "fixed", "reporter_email": "x@example.org"}
    )
    assert response.status_code == status
    report.refresh_from_db()
    assert (report.state, report.reporter_email) == (State.NEW, "private.person@example.net")


@pytest.mark.parametrize(("who", "status"), POST_MATRIX)
def test_reply_matrix(client, world, who, status):
    report = world["report"]
    response = login(client, world, who).post(
        change_url(report, "reply"),
        {"state": "acknowledged", "text": "On our list.", "visibility": "public"},
    )
    assert response.status_code == status
    report.refresh_from_db()
    if who in EDITORS:
        assert response["Location"] == change_url(report)
        assert (report.state, report.status_notes) == (State.ACKNOWLEDGED, "On our list.")
        assert report.updates.get(kind=RequestUpdate.Kind.STATE).author == world[who]
    else:
        assert report.state == State.NEW


@pytest.mark.parametrize(
    "name", ["reply", "assign", "forward", "duplicate", "moderate", "recategorise"]
)
def test_triage_pages_render_for_own_and_refuse_foreign(client, world, name):
    report = world["report"]
    assert login(client, world, "agent_a").get(change_url(report, name)).status_code == 200
    client.logout()
    assert login(client, world, "agent_b").get(change_url(report, name)).status_code == 403


def test_reply_form_errors_are_shown_and_nothing_saved(client, world):
    report = world["report"]
    response = login(client, world, "agent_a").post(
        change_url(report, "reply"), {"state": "", "text": "", "visibility": "public"}
    )
    assert response.status_code == 200
    assert "Choose a new state or write a note." in response.content.decode()
    assert report.updates.count() == 0


def test_forward_page_forwards_with_internal_note(client, world, mailoutbox):
    report = world["report"]
    response = login(client, world, "agent_a").post(
        change_url(report, "forward"), {"department": world["works"].pk, "note": "Their sidewalk."}
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.department == world["works"]
    assert report.updates.get(kind="forward").text == "Forwarded from Health to Public Works."
    # The agent can no longer change it: it now belongs to Public Works.
    assert client.get(change_url(report, "reply")).status_code == 403


def test_duplicate_page_refuses_self_with_a_form_error(client, world):
    report = world["report"]
    response = login(client, world, "agent_a").post(
        change_url(report, "duplicate"), {"master": report.pk}
    )
    assert response.status_code == 200
    assert "can&#x27;t be a duplicate of itself" in response.content.decode()
    response = client.post(change_url(report, "duplicate"), {"master": 999999})
    assert "There is no report #999999." in response.content.decode()


def test_moderate_page_hides_report_and_photo(client, world):
    report = world["report"]
    photo = PhotoFactory(request=report, state="processed")
    response = login(client, world, "agent_a").post(
        change_url(report, "moderate"),
        {"hidden": "on", "hidden_photos": [photo.pk], "reason": "Shows a face"},
    )
    assert response.status_code == 302
    report.refresh_from_db()
    photo.refresh_from_db()
    assert report.hidden and photo.hidden and report.moderation_reason == "Shows a face"


def test_assign_and_recategorise_pages(client, world):
    report = world["report"]
    login(client, world, "agent_a")
    response = client.post(change_url(report, "assign"), {"assignee": world["manager_a"].pk})
    assert response.status_code == 302
    assert ServiceRequest.objects.get(pk=report.pk).assigned_to == world["manager_a"]
    # Someone outside the department is not even a choice.
    response = client.post(change_url(report, "assign"), {"assignee": world["agent_b"].pk})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    pothole = ServiceFactory(name="Pothole", department=world["works"], sla_hours=72)
    response = client.post(change_url(report, "recategorise"), {"service": pothole.pk})
    report.refresh_from_db()
    assert (report.service, report.department) == (pothole, world["works"])


# --- Bulk actions ---------------------------------------------------------------------------

ACTIONS = {
    "acknowledge_selected": ({}, lambda r, w: r.state == State.ACKNOWLEDGED),
    "start_selected": ({}, lambda r, w: r.state == State.IN_PROGRESS),
    "close_selected": (
        {"state": "fixed", "text": "Done.", "apply": "1"},
        lambda r, w: r.state == State.FIXED,
    ),
    "assign_selected": (
        {"assignee": "manager_a", "apply": "1"},
        lambda r, w: r.assigned_to == w["manager_a"],
    ),
    "forward_selected": (
        {"department": "works", "note": "yours", "apply": "1"},
        lambda r, w: r.department == w["works"],
    ),
}


def action_post(client, world, action: str, reports: list[ServiceRequest], who: str = ""):
    extra, _check = ACTIONS[action]
    data = {"action": action, "_selected_action": [r.pk for r in reports]}
    for key, value in extra.items():
        data[key] = world[value].pk if value in world else value
    if action == "assign_selected" and who == "agent_b":
        data["assignee"] = world["agent_b"].pk  # the only choices are Public Works staff
    return client.post(CHANGELIST + "?department=all", data, follow=True)


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("who", ["agent_a", "agent_b", "manager_a", "superuser"])
def test_action_matrix(client, world, action, who):
    report = world["report"]
    response = action_post(login(client, world, who), world, action, [report], who)
    assert response.status_code == 200
    report.refresh_from_db()
    changed = ACTIONS[action][1](report, world)
    assert changed == (who in EDITORS)
    if who == "agent_b":
        assert "Skipped 1 report of another department" in response.content.decode()


@pytest.mark.parametrize("who", ["anonymous", "citizen"])
def test_action_refused_to_non_staff(client, world, who):
    response = action_post(
        login(client, world, who), world, "acknowledge_selected", [world["report"]]
    )
    assert response.redirect_chain[0][0].startswith(reverse("admin:login"))
    assert ServiceRequest.objects.get(pk=world["report"].pk).state == State.NEW


def test_action_mixed_selection_changes_own_skips_foreign_and_reports_invalid(client, world):
    mine = world["report"]
    closed = ServiceRequestFactory(
        service=mine.service, department=world["health"], state=State.FIXED
    )
    foreign = ServiceRequestFactory(service__department=world["works"], department=world["works"])
    response = action_post(
        login(client, world, "agent_a"), world, "acknowledge_selected", [mine, closed, foreign]
    )
    page = response.content.decode()
    assert "Acknowledged 1 report." in page
    assert "Skipped 1 report of another department" in page
    assert f"#{closed.pk}:" in page
    states = dict(ServiceRequest.objects.values_list("pk", "state"))
    assert states == {mine.pk: State.ACKNOWLEDGED, closed.pk: State.FIXED, foreign.pk: State.NEW}


def test_action_on_the_whole_queue_keeps_to_the_open_reports_it_shows(client, world):
    mine = world["report"]
    closed = ServiceRequestFactory(
        service=mine.service, department=world["health"], state=State.FIXED
    )
    data = {"action": "acknowledge_selected", "_selected_action": [mine.pk], "select_across": "1"}
    page = login(client, world, "agent_a").post(CHANGELIST, data, follow=True).content.decode()
    assert "Acknowledged 1 report." in page and f"#{closed.pk}:" not in page
    assert ServiceRequest.objects.get(pk=mine.pk).state == State.ACKNOWLEDGED


def test_bulk_form_page_is_shown_first(client, world):
    data = {"action": "forward_selected", "_selected_action": [world["report"].pk]}
    response = login(client, world, "agent_a").post(CHANGELIST, data)
    assert response.status_code == 200
    assert "Forward reports" in response.content.decode()
    assert ServiceRequest.objects.get(pk=world["report"].pk).department == world["health"]


# --- The queue ------------------------------------------------------------------------------


def test_queue_defaults_to_my_department(client, world):
    foreign = ServiceRequestFactory(service__department=world["works"], department=world["works"])
    page = login(client, world, "agent_a").get(CHANGELIST).content.decode()
    assert f"#{world['report'].pk}" in page and f"#{foreign.pk}<" not in page
    page = client.get(CHANGELIST + "?department=all").content.decode()
    assert f"#{foreign.pk}" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("overdue=yes", {"late"}),
        ("photo=yes", {"photo"}),
        ("state__exact=acknowledged", {"photo"}),
        ("status__exact=closed", {"closed"}),
        ("q=Elm", {"late"}),
    ],
)
def test_queue_filters(client, world, query, expected):
    health = world["health"]
    rows = {
        "late": ServiceRequestFactory(
            department=health,
            address="12 Elm Street",
            expected_datetime=timezone.now() - timedelta(hours=2),
        ),
        "photo": ServiceRequestFactory(department=health, state=State.ACKNOWLEDGED),
        "closed": ServiceRequestFactory(department=health, state=State.FIXED, status="closed"),
    }
    PhotoFactory(request=rows["photo"], state="processed")
    ServiceRequest.objects.exclude(pk__in=[r.pk for r in rows.values()]).delete()
    response = login(client, world, "agent_a").get(f"{CHANGELIST}?{query}")
    shown = {name for name, r in rows.items() if f">#{r.pk}<" in response.content.decode()}
    assert shown == expected


def test_queue_search_by_number(client, world):
    other = ServiceRequestFactory(department=world["health"], description="Broken bench")
    page = login(client, world, "agent_a").get(f"{CHANGELIST}?q=%23{other.pk}").content.decode()
    assert f">#{other.pk}<" in page and f">#{world['report'].pk}<" not in page


def test_queue_queries_do_not_grow_with_rows_and_map_lists_markers(
    client, world, django_assert_max_num_queries
):
    area = BoundaryFactory()
    reports = ServiceRequestFactory.create_batch(
        30,
        department=world["health"],
        area=area,
        assigned_to=world["agent_a"],
        description=factory.Sequence(lambda n: f"Report text {n}"),
    )
    for report in reports[:10]:
        PhotoFactory(
            request=report, state="processed", thumbnail=factory.django.ImageField(filename="t.jpg")
        )
    login(client, world, "agent_a")
    with django_assert_max_num_queries(25):
        response = client.get(CHANGELIST)
    assert response.status_code == 200
    markers = response.context["queue_map"]["markers"]
    assert len(markers) == 31 and {"id", "lat", "long", "url"} <= set(markers[0])
    assert 'data-map-kind="queue"' in response.content.decode()


def test_change_view_shows_timeline_with_internal_notes_and_photos(client, world):
    report = world["report"]
    RequestUpdate.objects.create(
        request=report, kind="note", public=False, text="Call police", created=timezone.now()
    )
    PhotoFactory(
        request=report, state="processed", image=factory.django.ImageField(filename="w.jpg")
    )
    page = login(client, world, "agent_b").get(change_url(report)).content.decode()
    assert "Call police" in page and "internal" in page and "Photo 1" in page


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
