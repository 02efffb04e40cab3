"""The Content-Security-Policy (no 'unsafe-inline') holds on every kind of page: a real
Chromium loads the public pages, the report form (its map must still place the pin), the
insights pages and the alert form's map, the admin with its maps and the API docs, and any
`securitypolicyviolation` fails the test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from departments.models import StaffMembership
from tests.e2e.conftest import OUTSIDE, screenshot
from tests.factories import (
    BoundaryFactory,
    DepartmentFactory,
    ServiceFactory,
    ServiceRequestFactory,
    StaffMembershipFactory,
    UserFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Runs before any page script; a CSP report also reaches the console, which is checked too.
WATCH_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
                    " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


@pytest.fixture
def watched_page(browser, e2e_site) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.route(OUTSIDE, lambda route: route.abort())
    context.add_init_script(WATCH_VIOLATIONS)
    page = context.new_page()
    page.viewport_name = "desktop"
    page.set_default_timeout(15_000)
    page.console_csp = []
    page.on(
        "console",
        lambda message: (
            page.console_csp.append(message.text)
            if "Content Security Policy" in message.text or "Permissions-Policy" in message.text
            else None
        ),
    )
    yield page
    context.close()


def violations(page) -> list[str]:
    return [*page.evaluate("window.__csp"), *page.console_csp]


def visit(page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.status < 400, url
    headers = response.headers
    policy = headers["content-security-policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "geolocation=(self)" in headers["permissions-policy"]
    page.wait_for_load_state("networkidle")
    assert violations(page) == [], url


@pytest.fixture
def city(db, staff_group):
    works = DepartmentFactory(name="Public Works", slug="public-works")
    pothole = ServiceFactory(name="Pothole", group="Streets", department=works)
    report = ServiceRequestFactory(service=pothole, department=works)
    BoundaryFactory(name="Downtown")
    UserFactory(username="chief", is_staff=True, is_superuser=True)
    agent = StaffMembershipFactory(
        user__username="works.agent", department=works, role=StaffMembership.Role.AGENT
    ).user
    agent.groups.add(staff_group)
    return {"report": report, "service": pothole}


def test_public_pages_and_report_form_run_without_inline_code(watched_page, e2e_site, city):
    page = watched_page
    for path in ("/", "/reports/", city["report"].get_absolute_url()):
        visit(page, e2e_site + path)
        assert page.locator(".leaflet-container").count() == 1, path
        assert page.evaluate("document.documentElement.classList.contains('js')")

    visit(page, e2e_site + "/reports/new/")
    assert page.locator("#id_lat").input_value() == ""
    page.locator("#report-map").click()
    assert page.locator("#id_lat").input_value() != ""
    assert page.locator("#report-map .leaflet-marker-icon").count() == 1
    # The honeypot is out of sight and out of the tab order.
    honeypot = page.locator("#id_website")
    assert honeypot.get_attribute("tabindex") == "-1"
    assert not honeypot.is_visible() or honeypot.bounding_box()["x"] < 0
    assert violations(page) == []


def test_insights_pages_run_without_inline_code(watched_page, e2e_site, city):
    page = watched_page
    for path in ("/insights/", "/data/"):
        visit(page, e2e_site + path)
    visit(page, e2e_site + "/insights/map/")
    assert page.locator("#hotspot-map.leaflet-container").count() == 1

    visit(page, e2e_site + "/insights/alerts/new/")
    page.locator("#alert-map").click()
    assert page.locator("#id_lat").input_value() != ""
    assert page.locator("#alert-map path.leaflet-interactive").count() == 1  # the circle
    assert violations(page) == []


def test_admin_maps_and_api_docs_run_without_inline_code(watched_page, e2e_site, city):
    page = watched_page
    visit(page, e2e_site + "/admin/login/")
    page.fill("#id_username", "chief")
    page.fill("#id_password", "correct horse battery staple")
    page.click("input[type=submit]")
    page.wait_for_url(f"{e2e_site}/admin/")

    visit(page, f"{e2e_site}/admin/reports/servicerequest/")
    visit(page, f"{e2e_site}/admin/reports/servicerequest/{city['report'].pk}/change/")
    assert page.locator("#report-map.leaflet-container").count() == 1
    visit(page, f"{e2e_site}/admin/insights/")
    visit(page, f"{e2e_site}/admin/departments/boundary/")
    visit(page, f"{e2e_site}/admin/departments/boundary/add/")
    page.wait_for_selector(".leaflet-draw-toolbar")
    assert violations(page) == []

    visit(page, f"{e2e_site}/api/docs/")
    page.wait_for_selector("text=Create a service request")
    assert violations(page) == []


def test_report_form_with_the_captcha_on(watched_page, e2e_site, city, settings):
    settings.CAPTCHA_ENABLED = True
    page = watched_page
    visit(page, e2e_site + "/reports/new/")
    picture = page.locator("img.captcha")
    assert picture.evaluate("img => img.complete && img.naturalWidth > 0")
    page.get_by_label("Type the characters you see in the picture").fill("abcd")
    picture.scroll_into_view_if_needed()
    screenshot(page, "report-form-captcha")
    assert violations(page) == []
