"""A Health agent's working session in the admin: log in, filter the queue, open a syringe
report, forward it to Public Works with a note. Screenshots of the queue (with its map), the
report's triage page and the forward form go to test-artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone

from departments.models import StaffMembership
from reports.models import RequestUpdate, ResponseTemplate, ServiceRequest
from reports.services.requests import report_create
from tests.e2e.conftest import OUTSIDE, screenshot
from tests.factories import (
    DepartmentFactory,
    ServiceFactory,
    StaffMembershipFactory,
    image_upload,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery staple"
SPOTS = [
    (35.7801, -78.6390, "Syringe under the slide in Moore Square playground."),
    (35.7762, -78.6431, "Two needles on the sidewalk by the bus stop."),
    (35.7849, -78.6352, "Used syringe in the planter outside the library."),
    (35.7720, -78.6300, "Needle cap and syringe behind the community centre."),
]


@pytest.fixture
def staff_page(browser, e2e_site) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.route(OUTSIDE, lambda route: route.abort())
    page = context.new_page()
    page.viewport_name = "desktop"
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def city(db, staff_group):
    health = DepartmentFactory(name="Health", slug="health", email="health@city.example.org")
    works = DepartmentFactory(
        name="Public Works", slug="public-works", email="works@city.example.org"
    )
    syringe = ServiceFactory(
        name="Found syringe", group="Health and safety", department=health, sla_hours=24
    )
    pothole = ServiceFactory(name="Pothole", group="Streets", department=works, sla_hours=72)
    agent = StaffMembershipFactory(
        user__username="health.agent",
        user__first_name="Hana",
        department=health,
        role=StaffMembership.Role.AGENT,
    ).user
    agent.groups.add(staff_group)
    ResponseTemplate.objects.create(
        department=health,
        service=syringe,
        state="fixed",
        title="Syringe collected",
        text="Our team collected the syringe safely. Thank you for reporting it.",
    )
    reports = []
    for number, (lat, long, text) in enumerate(SPOTS):
        reports.append(
            report_create(
                service=syringe,
                description=text,
                lat=lat,
                long=long,
                address=f"{100 + number} Hargett Street",
                photos=[image_upload(color="#8aa")] if number == 0 else [],
                reporter_email="private.person@example.net",
                reporter_name="Private Person",
                requested_datetime=timezone.now() - timedelta(hours=30 - number * 8),
            )
        )
    report_create(
        service=pothole, description="Deep pothole on Person Street.", lat=35.79, long=-78.63
    )
    ServiceRequest.objects.filter(pk=reports[3].pk).update(state="acknowledged")
    return {"health": health, "works": works, "agent": agent, "report": reports[0]}


def test_health_agent_forwards_a_syringe_report_to_public_works(staff_page, e2e_site, city):
    page = staff_page
    report = city["report"]
    page.goto(f"{e2e_site}/admin/")
    page.fill("#id_username", "health.agent")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.click("text=Service requests")
    # The queue opens on the agent's own department; narrow it to new reports.
    page.locator("#changelist-filter").get_by_role("link", name="New", exact=True).click()
    page.wait_for_url("**state__exact=new**")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 3
    assert page.locator("#queue-map .leaflet-interactive").count() == 3
    screenshot(page, "staff-queue")

    page.get_by_role("link", name=f"#{report.pk}", exact=True).click()
    page.wait_for_selector("#triage")
    assert page.locator(".c311-photos img").count() == 1
    # Picking a response template fills the message and proposes the template's state.
    page.select_option("#id_template", label="Syringe collected (Found syringe)")
    assert "collected the syringe safely" in page.input_value("#id_text")
    assert page.input_value("#id_state") == "fixed"
    screenshot(page, "staff-report")
    page.fill("#id_text", "")
    page.select_option("#id_state", value="")

    page.get_by_role("link", name="Forward to another department").click()
    page.select_option("#id_department", label="Public Works")
    page.fill("#id_note", "The needle bin on this corner belongs to Public Works.")
    screenshot(page, "staff-forward-form")
    page.click("input[type=submit][value='Forward to another department']")
    page.wait_for_selector(".messagelist .success")
    assert "they have been notified" in page.locator(".messagelist").inner_text()

    report.refresh_from_db()
    assert report.department == city["works"]
    forward = report.updates.get(kind=RequestUpdate.Kind.FORWARD)
    assert forward.public and forward.author == city["agent"]
    assert forward.text == "Forwarded from Health to Public Works."
    note = report.updates.get(kind=RequestUpdate.Kind.NOTE)
    assert not note.public and "needle bin" in note.text
    # Now Public Works' report: the agent may read it, no longer change it.
    assert page.locator("#triage").count() == 0
    assert "only that department can change it" in page.content()
    # The citizen's page shows the forward on its timeline, never the internal note.
    citizen = page.context.browser.new_context()
    citizen_page = citizen.new_page()
    citizen_page.viewport_name = "desktop"
    citizen_page.goto(f"{e2e_site}/reports/{report.pk}/")
    timeline = citizen_page.locator(".timeline").inner_text()
    assert "Forwarded from Health to Public Works." in timeline
    assert "needle bin" not in citizen_page.content()
    assert "Public Works" in citizen_page.locator("body").inner_text()
    screenshot(citizen_page, "citizen-sees-forward")
    citizen.close()


def test_superuser_sees_a_boundary_drawn_on_the_map(staff_page, e2e_site, superuser):
    from tests.factories import BoundaryFactory, square

    boundary = BoundaryFactory(name="Oakwood", geometry=square(35.775, -78.645, 35.79, -78.63))
    page = staff_page
    page.goto(f"{e2e_site}/admin/login/?next=/admin/departments/boundary/{boundary.pk}/change/")
    page.fill("#id_username", superuser.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector(".leaflet-draw-toolbar")
    assert page.locator("[data-map-kind=editor] path.leaflet-interactive").count() == 1
    screenshot(page, "staff-boundary-editor")
    page.goto(f"{e2e_site}/admin/departments/boundary/")
    assert page.locator("#boundary-map path.leaflet-interactive").count() == 1
