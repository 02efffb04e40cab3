"""A Health agent's working session in the admin: log in, filter the queue, open a syringe
report, forward it to Public Works with a note. Screenshots of the queue (with its map), the
report's triage page and the forward form go to test-artifacts/screenshots/.

Then the staff pages as an agent, a manager and a superuser see them at 1280x800 and 390x844:
screenshots of each, and the layout checked from element boxes (nothing wider than its
column, no buttons on top of each other)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from departments.models import StaffMembership
from reports.models import RequestUpdate, ResponseTemplate, Service, ServiceRequest
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
    manager = StaffMembershipFactory(
        user__username="health.manager",
        user__first_name="Health Department",
        department=health,
        role=StaffMembership.Role.MANAGER,
    ).user
    manager.groups.add(staff_group)
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
    return {
        "health": health,
        "works": works,
        "agent": agent,
        "manager": manager,
        "report": reports[0],
    }


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
    # The picker is the admin script's, bound when the document is parsed: #triage can be
    # there before that on a busy machine, and the handler's result can come after
    # select_option returns.
    page.wait_for_load_state("domcontentloaded")
    page.select_option("#id_template", label="Syringe collected (Found syringe)")
    expect(page.locator("#id_text")).to_have_value(re.compile("collected the syringe safely"))
    expect(page.locator("#id_state")).to_have_value("fixed")
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


def login(page, site: str, username: str) -> None:
    page.goto(f"{site}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


def box(locator):
    found = locator.bounding_box()
    assert found is not None, locator
    return found


def overlap(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"] - 0.5
        and b["x"] < a["x"] + a["width"] - 0.5
        and a["y"] < b["y"] + b["height"] - 0.5
        and b["y"] < a["y"] + a["height"] - 0.5
    )


def assert_no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"page is {width} px wide"


@pytest.mark.parametrize(
    ("who", "role"),
    [("agent", "Agent, Health"), ("manager", "Manager, Health"), ("superuser", "Superuser")],
)
def test_staff_pages_fit_the_screen(page, e2e_site, city, superuser, who, role):
    users = {"agent": city["agent"], "manager": city["manager"], "superuser": superuser}
    user = users[who]
    report = city["report"]
    login(page, e2e_site, user.username)
    # The header names the person and their role (agent and manager share a display name).
    tools = page.locator("#user-tools").inner_text()
    assert user.username.upper() in tools.upper() and role.upper() in tools.upper()

    page.goto(f"{e2e_site}/admin/reports/servicerequest/?department=all")
    screenshot(page, f"staff-{who}-queue")
    assert_no_sideways_scroll(page)
    table, column = box(page.locator("#result_list")), box(page.locator("#changelist .results"))
    assert table["width"] <= column["width"] + 0.5, (table, column)
    # The last column (target time, "overdue") is on screen, inside its column.
    target = box(page.locator("#result_list tbody tr").first.locator("td.field-target"))
    assert target["x"] + target["width"] <= column["x"] + column["width"] + 0.5
    assert target["x"] + target["width"] <= page.viewport_size["width"]
    # Closed reports wait until asked for; the legend has a dot per map colour.
    assert page.locator("#result_list tbody tr").count() == 5
    assert page.locator(".c311-legend .c311-dot").count() == 5

    page.goto(f"{e2e_site}/admin/reports/servicerequest/{report.pk}/change/")
    page.wait_for_selector("#triage")
    screenshot(page, f"staff-{who}-report")
    assert_no_sideways_scroll(page)
    actions = page.locator(".c311-more a.button")
    assert actions.count() == 5
    boxes = [box(actions.nth(i)) for i in range(actions.count())]
    for i, a in enumerate(boxes):
        assert a["x"] + a["width"] <= page.viewport_size["width"], a
        for b in boxes[i + 1 :]:
            assert not overlap(a, b), (a, b)
    # No grey "Close" that only goes back: a link back to the queue instead.
    assert page.locator("a.closelink").count() == 0
    assert page.get_by_role("link", name="← Back to the queue").is_visible()
    # Replying asks who sees the message: neither audience is chosen in advance.
    assert page.locator("input[name=visibility]:checked").count() == 0

    page.get_by_role("link", name="Forward to another department").click()
    page.wait_for_selector("#id_department")
    screenshot(page, f"staff-{who}-forward-form")
    assert_no_sideways_scroll(page)


def test_clicking_a_dot_on_the_queue_map_opens_its_report(staff_page, e2e_site, city):
    page = staff_page
    login(page, e2e_site, city["agent"].username)
    page.goto(f"{e2e_site}/admin/reports/servicerequest/?q=%23{city['report'].pk}")
    dots = page.locator("#queue-map path.leaflet-interactive")
    assert dots.count() == 1
    dots.first.click()
    page.wait_for_url(f"**/admin/reports/servicerequest/{city['report'].pk}/change/")
    assert page.locator("#triage").count() == 1
    # By keyboard too: the dot is a link named like its tooltip.
    page.go_back()
    dot = page.locator("#queue-map path.leaflet-interactive").first
    assert dot.get_attribute("role") == "link"
    assert f"#{city['report'].pk} " in (dot.get_attribute("aria-label") or "")
    dot.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/admin/reports/servicerequest/{city['report'].pk}/change/")


def test_a_category_name_is_text_in_the_queue_maps_tooltip(staff_page, e2e_site, city):
    """Leaflet reads a string tooltip as HTML: a category named with markup put that
    markup in every staff member's map (the CSP stopped its script)."""
    page = staff_page
    Service.objects.filter(pk=city["report"].service_id).update(name="Pipes <b>bold</b>")
    login(page, e2e_site, city["agent"].username)
    page.goto(f"{e2e_site}/admin/reports/servicerequest/?q=%23{city['report'].pk}")
    page.locator("#queue-map path.leaflet-interactive").first.dispatch_event("mouseover")
    tooltip = page.locator("#queue-map .leaflet-tooltip")
    expect(tooltip).to_contain_text("Pipes <b>bold</b>")
    assert tooltip.locator("b").count() == 0


def test_the_keyboard_skips_the_queue_maps_dots_to_the_search(staff_page, e2e_site, city):
    """Every dot is a link: a keyboard user tabbed through each of them (up to 500) before
    the search and the list, on every visit to the queue. A link before the map skips them."""
    page = staff_page
    login(page, e2e_site, city["agent"].username)
    page.goto(f"{e2e_site}/admin/reports/servicerequest/")
    page.wait_for_selector("#queue-map path.leaflet-interactive")
    skip = page.locator("a.c311-skip")
    assert skip.count() == 1, "no link skips the map"
    for _ in range(20):  # the header's links, then this one
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('c311-skip')"):
            break
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    expect(skip).to_contain_text("Skip the map's 4 reports")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.locator("#searchbar")).to_be_focused()


def test_looking_through_the_templates_by_keyboard_keeps_the_agents_own_reply(
    staff_page, e2e_site, city
):
    """A select changes at each arrow key: arrowing through the templates and back to
    "none" left the last template's text in place of the agent's own words, and its state
    (here "Closed: fixed") chosen, ready to be saved."""
    page = staff_page
    ResponseTemplate.objects.create(
        department=city["health"], title="On our list", text="We have it on our list."
    )
    login(page, e2e_site, city["agent"].username)
    page.goto(f"{e2e_site}/admin/reports/servicerequest/{city['report'].pk}/change/")
    page.fill("#id_text", "A nurse will call you today.")
    page.focus("#id_template")
    page.keyboard.press("ArrowDown")
    assert page.input_value("#id_text") != "A nurse will call you today."  # a template's
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    assert page.input_value("#id_template") == ""
    assert page.input_value("#id_text") == "A nurse will call you today."
    assert page.input_value("#id_state") == ""
    # Choosing one inserts it and its state; the agent's words come back with "none".
    page.select_option("#id_template", label="Syringe collected (Found syringe)")
    assert page.input_value("#id_text").startswith("Our team collected the syringe")
    assert page.input_value("#id_state") == "fixed"
    page.select_option("#id_template", value="")
    assert page.input_value("#id_text") == "A nurse will call you today."
    assert page.input_value("#id_state") == ""
