"""WCAG 2.1 AA checks in a real browser: axe-core on every public page at phone and desktop
size (any serious or critical violation fails), the browsing map's keyboard access and text
alternative, and a report filed with the keyboard alone (typed coordinates stand in for
the map). To cover a new public page, add its path to PUBLIC_PAGES."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from reports.models import ServiceRequest, Subscription
from tests.adoptions.conftest import AssetFactory
from tests.e2e.conftest import screenshot, serious_violations
from tests.factories import (
    BoundaryFactory,
    ServiceFactory,
    ServiceRequestFactory,
    square,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]

# (name, path): "{report}" is a public report's page, "{token}" a follower's unsubscribe
# link, "{asset}" an adoptable asset.
PUBLIC_PAGES = [
    ("home", "/"),
    ("report-form", "/reports/new/"),
    ("report", "/reports/{report}/"),
    ("list", "/reports/"),
    ("list-filtered", "/reports/?area=downtown&status=open&q=pothole"),
    ("list-near", "/reports/?lat=35.7796&long=-78.6382&radius=1000"),
    ("list-bad-filter", "/reports/?lat=91"),
    ("areas", "/areas/"),
    ("area", "/areas/downtown/"),
    ("insights", "/insights/"),
    ("insights-bad-filter", "/insights/?start=2026-05-01&end=2026-01-01"),
    ("insights-map", "/insights/map/"),
    ("data", "/data/"),
    ("alert-form", "/insights/alerts/new/"),
    ("unsubscribe", "/reports/unsubscribe/{token}/"),
    ("api-docs", "/api/docs/"),
    ("sign-in", "/accounts/login/"),
    ("sign-up", "/accounts/signup/"),
    ("password-reset", "/accounts/password/reset/"),
    ("adopt-map", "/adopt/"),
    ("adopt-asset", "/adopt/{asset}/"),
    ("not-found", "/no-such-page/"),
]
# What to wait for on pages drawn by a script after the network is quiet.
READY = {"api-docs": "text=Create a service request"}


@pytest.fixture
def city(db):  # type: ignore[no-untyped-def]
    downtown = BoundaryFactory(name="Downtown", geometry=square(35.77, -78.65, 35.79, -78.63))
    pothole = ServiceFactory(name="Pothole", group="Streets")
    ServiceFactory(name="Graffiti", group="Streets")
    reports = [
        ServiceRequestFactory(
            service=pothole,
            area=downtown,  # as routing would store it
            lat=35.7796 + i * 0.0004,
            long=-78.6382 + i * 0.0003,
            description=f"Pothole number {i} by the curb",
        )
        for i in range(8)
    ]
    follower = Subscription.objects.create(request=reports[0], email="follower@example.org")
    shelter = AssetFactory(external_id="S0001")
    return {
        "report": reports[0],
        "token": follower.token,
        "asset": f"{shelter.asset_type.slug}/{shelter.external_id}",
    }


@pytest.fixture
def page(axe_page):  # type: ignore[no-untyped-def]
    return axe_page


@pytest.mark.parametrize(("name", "path"), PUBLIC_PAGES, ids=[p[0] for p in PUBLIC_PAGES])
def test_public_page_has_no_serious_accessibility_violation(page, e2e_site, city, name, path):
    url = e2e_site + path.format(report=city["report"].pk, token=city["token"], asset=city["asset"])
    response = page.goto(url)
    assert response is not None and response.status < 500
    page.wait_for_load_state("networkidle")
    if name in READY:
        page.wait_for_selector(READY[name])
    screenshot(page, f"a11y-{name}")
    found = serious_violations(page, WCAG_TAGS)
    print("\n".join(found))
    assert found == []


def test_browsing_map_is_usable_by_keyboard_and_described_in_text(page, e2e_site, city):
    page.goto(f"{e2e_site}/areas/downtown/")
    summary = page.locator("#reports-map-text-summary")
    expect(summary).to_contain_text("The map shows 8 reports")
    page.locator("#reports-map-text summary").click()
    links = page.locator("#reports-map-text .map-text__list a")
    expect(links.first).to_be_visible()
    # Each marker is a focusable button with a name; Enter on one opens its report's popup.
    markers = page.locator("#reports-map .leaflet-marker-icon[role=button]")
    expect(markers.first).to_be_visible()
    marker = markers.first
    assert re.match(r"\d+ reports|Pothole #\d+", marker.get_attribute("aria-label") or "")
    popup = page.locator(".leaflet-popup-content a", has_text="View report")
    # Enter on a group zooms in; Enter on a report's dot opens its popup.
    for _ in range(6):
        page.locator("#reports-map .leaflet-marker-icon[role=button]").first.focus()
        page.keyboard.press("Enter")
        page.wait_for_timeout(600)  # the zoom animation
        if popup.count():
            break
        # Zoomed in: the focus is back on the map, not lost to the page.
        assert page.evaluate("() => document.activeElement.id") == "reports-map"
    expect(popup).to_be_visible()
    assert page.locator(".report-dot").count() >= 1
    screenshot(page, "area-map-keyboard")


def test_list_map_clusters_when_many_match_and_links_each_group(page, e2e_site, city, settings):
    from reports.browse import clusters

    clusters.POINT_LIMIT, before = 3, clusters.POINT_LIMIT
    try:
        page.goto(f"{e2e_site}/reports/")
        expect(page.locator("#reports-map-text-summary")).to_contain_text("reports in")
        # Enter on a group's bubble zooms in and draws the markers again: the focus goes
        # back to the map, not to the top of the page.
        page.locator("#reports-map .leaflet-marker-icon[role=button]").first.focus()
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.activeElement.id === 'reports-map'")
        page.goto(f"{e2e_site}/reports/")
        expect(page.locator("#reports-map-text-summary")).to_contain_text("reports in")
        page.locator("#reports-map-text summary").click()
        group = page.locator("#reports-map-text .map-text__list a").first
        expect(group).to_have_text("list them")
        group.click()
        page.wait_for_url("**/reports/?*bbox=*")
        assert page.locator(".report-row").count() == 8
    finally:
        clusters.POINT_LIMIT = before


def tab_to(page, selector: str, limit: int = 80) -> None:  # type: ignore[no-untyped-def]
    """Press Tab until `selector` has the focus (a keyboard user's only way around)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_a_report_is_filed_by_keyboard_alone(page, e2e_site, city):
    page.goto(f"{e2e_site}/reports/new/")
    tab_to(page, "#id_lat")
    focus_ring = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert focus_ring != "none"
    page.keyboard.type("35.7801")
    tab_to(page, "#id_long")
    page.keyboard.type("-78.6391")
    tab_to(page, "#id_service")
    page.keyboard.press("End")  # the last category in the list
    chosen = page.locator("#id_service").evaluate("s => s.options[s.selectedIndex].text")
    tab_to(page, "#id_description")
    page.keyboard.type("Spray paint all over the bus shelter, typed without a mouse.")
    tab_to(page, "#id_reporter_email")
    page.keyboard.type("keyboard.user@example.org")
    screenshot(page, "keyboard-form")
    tab_to(page, "button.button--big[type=submit]")  # Send report
    page.keyboard.press("Enter")
    # The report page as it will be published (the reporter's preview).
    page.wait_for_url(re.compile(r"/reports/\d+/(preview/[^/]+/)?$"))
    report = ServiceRequest.objects.latest("pk")
    assert (report.lat, report.long) == (35.7801, -78.6391)
    assert report.service.name == chosen
    assert report.description.startswith("Spray paint")
    expect(page.locator(".report-head")).to_contain_text(chosen)


def test_the_pin_is_placed_on_the_map_by_keyboard_alone(page, e2e_site, city):
    """A keyboard user reaches the form's map, moves it with the arrows and puts the pin at
    its centre with Enter: the point, not only typed coordinates, works without a mouse."""
    page.goto(f"{e2e_site}/reports/new/")
    tab_to(page, "#report-map")
    hint = page.locator("#report-map").get_attribute("aria-describedby")
    assert hint and "Enter" in page.locator(f"#{hint}").inner_text()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    expect(page.locator("#map-status")).to_contain_text("Pin placed")
    lat, long = (float(page.input_value(f"#id_{name}")) for name in ("lat", "long"))
    south, west, north, east = settings.MAP_BOUNDS
    assert south < lat < north and west < long < east
    # The pin is no tab stop of its own (a focused pin could not be moved with keys).
    assert page.locator(".leaflet-marker-icon").get_attribute("tabindex") in (None, "-1")
    screenshot(page, "keyboard-map-pin")


@pytest.mark.parametrize(
    ("path", "typed", "button"),
    [
        ("/reports/{report}/", {"#id_support-email": "not-an-email"}, "#support button"),
        (
            "/accounts/login/",
            {"#id_login": "nobody@example.org", "#id_password": "not the password"},
            "main form button[type=submit]",
        ),
        ("/insights/alerts/new/", {"#id_email": "nobody@example.org"}, "main form button"),
    ],
)
def test_errors_take_the_focus_after_a_keyboard_submit(page, e2e_site, city, path, typed, button):
    if page.viewport_name != "desktop":
        pytest.skip("the same markup at either size")
    page.goto(e2e_site + path.format(report=city["report"].pk))
    for field, text in typed.items():  # refused by the server, not by the browser
        tab_to(page, field)
        page.keyboard.type(text)
    tab_to(page, button)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    focused = page.evaluate(
        "() => [document.activeElement.getAttribute('role'), document.activeElement.innerText]"
    )
    assert focused[0] == "alert" and focused[1].strip(), focused
    screenshot(page, "a11y-errors-" + path.strip("/").split("/")[0])
