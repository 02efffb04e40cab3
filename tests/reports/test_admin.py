"""The staff admin: the permission matrix, the queue, triage pages and bulk actions."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import factory
import pytest
from django.urls import reverse
from django.utils import timezone

from reports.models import RequestUpdate, ServiceRequest
from tests.conftest import assert_no_private_data
from tests.factories import (
    BoundaryFactory,
    PhotoFactory,
    ServiceFactory,
    ServiceRequestFactory,
)
from tests.reports.admin_support import CHANGELIST, change_url, login

pytestmark = pytest.mark.django_db
State = ServiceRequest.State


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


@pytest.mark.parametrize("typed", ["#{pk}", " # {pk} ", "{pk}", "report {pk}"])
def test_duplicate_page_takes_a_number_as_the_queue_writes_it(client, world, typed):
    """The queue and the report pages write a report "#123"; the field refused that with
    "Enter a whole number"."""
    report = world["report"]
    master = ServiceRequestFactory(department=world["works"])
    login(client, world, "agent_a")
    response = client.post(change_url(report, "duplicate"), {"master": typed.format(pk=master.pk)})
    if typed.startswith("report"):
        assert response.status_code == 200
        assert "is not a report number" in response.content.decode()
        assert ServiceRequest.objects.get(pk=report.pk).duplicate_of_id is None
    else:
        assert response.status_code == 302
        assert ServiceRequest.objects.get(pk=report.pk).duplicate_of_id == master.pk


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


def test_queue_show_all_shows_every_report_not_the_default_queue(client, world):
    foreign = ServiceRequestFactory(service__department=world["works"], department=world["works"])
    closed = ServiceRequestFactory(department=world["health"], state=State.FIXED, status="closed")
    login(client, world, "agent_a")
    for query in ("", "?q=syringe&photo=yes"):
        page = client.get(CHANGELIST + query).content.decode()
        link = re.search(r'\(<a href="([^"]*)">Show all</a>\)', page)
        assert link is not None
        page = client.get(CHANGELIST + html.unescape(link.group(1))).content.decode()
        shown = {r.pk for r in (world["report"], foreign, closed) if f">#{r.pk}<" in page}
        assert shown == {world["report"].pk, foreign.pk, closed.pk}


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


@pytest.mark.parametrize("ticked", [["abc"], ["1e3"], ["²"], ["99999999999999999999"]])
def test_an_action_on_rows_that_are_not_ids_is_a_bad_request(client, world, ticked):
    """A hand-made POST: Django filtered the rows by these as they came (a 500, in every
    list of the admin); it is refused and nothing is changed."""
    login(client, world, "superuser")
    data = {"action": "delete_selected", "_selected_action": [world["report"].pk, *ticked]}
    response = client.post(CHANGELIST + "?department=all", data)
    assert response.status_code == 400
    assert ServiceRequest.objects.filter(pk=world["report"].pk).exists()
