"""The insights dashboard and the hotspot map in a real browser, at phone and desktop size.
Screenshots land in test-artifacts/screenshots/ (insights-*.png, hotspots-*.png)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot
from tests.factories import (
    BoundaryFactory,
    DepartmentFactory,
    ServiceFactory,
    ServiceRequestFactory,
    square,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _uncached(settings) -> None:
    settings.INSIGHTS_CACHE_SECONDS = 0


def city_with_reports() -> None:
    health = DepartmentFactory(name="Health")
    roads = DepartmentFactory(name="Roads")
    syringe = ServiceFactory(name="Found syringe", service_code="syringe", department=health)
    pothole = ServiceFactory(name="Pothole", service_code="pothole", department=roads)
    graffiti = ServiceFactory(name="Graffiti", service_code="graffiti", department=roads)
    north = BoundaryFactory(name="Oakwood", geometry=square(35.78, -78.66, 35.80, -78.62))
    south = BoundaryFactory(name="Mordecai", geometry=square(35.74, -78.66, 35.76, -78.62))
    now = timezone.now()
    for i in range(60):
        service = (syringe, pothole, graffiti)[i % 3]
        requested = now - timedelta(days=(i * 5) % 300, hours=i % 7)
        closed = i % 2 == 0
        ServiceRequestFactory(
            service=service,
            area=north if i % 3 else south,
            lat=(35.79 if i % 3 else 35.75) + (i % 5) * 0.002,
            long=-78.64 + (i % 4) * 0.003,
            requested_datetime=requested,
            status="closed" if closed else "open",
            state="fixed" if closed else "new",
            closed_datetime=requested + timedelta(hours=4 + i * 3) if closed else None,
            expected_datetime=requested + timedelta(hours=72),
        )


def test_dashboard_shows_figures_and_their_numbers(page, e2e_site) -> None:
    city_with_reports()
    page.goto(f"{e2e_site}/insights/")
    expect(page.get_by_role("heading", name="New reports per week by category")).to_be_visible()
    expect(page.locator("svg.chart__svg")).to_have_count(2)
    expect(page.locator("svg.chart__svg rect").first).to_be_visible()
    page.get_by_text("Show the numbers as a table").first.click()
    expect(page.locator("details.figure-table table").first).to_be_visible()
    screenshot(page, "insights")

    page.select_option("#id_service", label="Found syringe")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(f"{e2e_site}/insights/?period=365&service=syringe")
    expect(page.locator(".insights-permalink")).to_contain_text("Found syringe")


def test_hotspot_map_answers_where_in_two_clicks(page, e2e_site) -> None:
    city_with_reports()
    page.goto(f"{e2e_site}/insights/map/?service=syringe&period=365")
    # The script has drawn the grid once cells appear in the overlay pane.
    expect(page.locator("#hotspot-map .leaflet-overlay-pane path").first).to_be_attached()
    first = page.locator("table.data-table tbody tr").first
    expect(first).to_contain_text("Mordecai")
    screenshot(page, "hotspots")
    first.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Reports in Mordecai")).to_be_visible()
    expect(page.locator(".report-row").first).to_contain_text("Found syringe")


# The accessible name a screen reader gives the focused element, near enough for a check
# that it has one: its label, labelling elements, form label, title, or the text of a link
# or a button (a map's container takes no name from what it holds).
FOCUSED = """() => {
  const e = document.activeElement;
  const byIds = (e.getAttribute("aria-labelledby") || "").split(" ").filter(Boolean)
    .map(id => document.getElementById(id)?.textContent || "").join(" ");
  const text = ["A", "BUTTON", "SUMMARY"].includes(e.tagName) ? e.textContent : "";
  const name = e.getAttribute("aria-label") || byIds || (e.labels && e.labels[0]?.textContent)
    || text || e.title || "";
  return {tag: e.tagName, name: name.trim(), listed: !!e.closest("#hotspot-lists table")};
}"""


def test_hotspot_map_leads_the_keyboard_to_the_ranked_lists(page, e2e_site) -> None:
    """The ranked lists are the map's keyboard alternative: Tab from the filters reaches them
    in a few presses, each stop on the way named (every grid cell was an unnamed stop that
    Enter did not open), and the skip link before the map gets there in one."""
    city_with_reports()
    page.goto(f"{e2e_site}/insights/map/?period=365&cell=fine")
    cells = page.locator("#hotspot-map .leaflet-overlay-pane path")
    expect(cells.first).to_be_attached()
    assert cells.count() > 10
    show = page.get_by_role("button", name="Show")
    show.focus()
    stops = []
    for _ in range(10):
        page.keyboard.press("Tab")
        stops.append(page.evaluate(FOCUSED))
        if stops[-1]["listed"]:
            break
    assert stops[-1]["listed"], stops
    assert all(stop["name"] for stop in stops), stops
    assert not any(stop["tag"] == "path" for stop in stops), stops

    page.get_by_role("link", name="Permalink to this view").focus()
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip the map to the ranked lists")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED)["listed"]

    # The neighbourhoods, once shown, stay out of the Tab order too.
    page.get_by_role("radio", name="Neighbourhoods").check()
    expect(cells).to_have_count(2)
    expect(page.locator("#hotspot-map .leaflet-overlay-pane path[tabindex='-1']")).to_have_count(2)
    screenshot(page, "hotspots-keyboard")


def test_an_areas_name_is_text_in_the_map_tooltip(page, e2e_site) -> None:
    """A name imported from the city's GeoJSON is shown as typed: Leaflet reads a string
    tooltip as HTML, which put a working link (and, but for the CSP, a script) on the map."""
    BoundaryFactory(
        name='Mordecai <a href="https://evil.example/">Log in again</a>',
        kind="neighbourhood",
        geometry=square(35.74, -78.66, 35.76, -78.62),
    )
    page.goto(f"{e2e_site}/insights/map/")
    page.get_by_role("radio", name="Neighbourhoods").check()
    area = page.locator("#hotspot-map .leaflet-overlay-pane path")
    expect(area).to_have_count(1)
    area.dispatch_event("mouseover")
    tooltip = page.locator("#hotspot-map .leaflet-tooltip")
    expect(tooltip).to_contain_text('Mordecai <a href="https://evil.example/">Log in again</a>')
    assert tooltip.locator("a").count() == 0
