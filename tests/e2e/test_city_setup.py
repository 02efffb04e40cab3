"""A city's administrator draws an area in the admin's boundary editor: the project's own
widget (the map, its note, the GeoJSON field) passes axe-core's WCAG 2.1 A/AA checks, and the
keyboard reaches the map and the field that takes the area without a mouse."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import OUTSIDE, screenshot
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"


@pytest.fixture
def admin_page(browser, e2e_site) -> Iterator[object]:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.route(OUTSIDE, lambda route: route.abort())
    page = context.new_page()
    page.viewport_name = "desktop"
    page.set_default_timeout(10_000)
    UserFactory(username="city.admin", password=PASSWORD, is_staff=True, is_superuser=True)
    page.goto(f"{e2e_site}/admin/login/?next=/admin/departments/boundary/add/")
    page.fill("#id_username", "city.admin")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector(".leaflet-draw-toolbar")
    yield page
    context.close()


def test_the_boundary_editor_passes_axe_and_the_keyboard_reaches_its_field(admin_page):
    page = admin_page
    # Loaded through the DevTools protocol, which the page's CSP does not govern.
    page.evaluate(AXE.read_text() + "\n;undefined")
    found = page.evaluate(
        """async () => (await axe.run({include: [".c311-geo-editor"]}, {runOnly: {type: "tag",
            values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})).violations
            .filter(v => ["serious", "critical"].includes(v.impact))
            .map(v => `${v.id}: ${v.nodes.map(n => n.target.join(" ")).join(", ")}`)"""
    )
    assert found == []
    editor = page.locator("[data-map-kind=editor]")
    assert editor.get_attribute("role") == "region"
    assert editor.get_attribute("aria-label") == "Draw the area"
    screenshot(page, "admin-boundary-editor")
    # From the kind's select, Tab reaches the map and then the GeoJSON field.
    page.focus("#id_kind")
    reached = []
    for _ in range(20):
        page.keyboard.press("Tab")
        reached.append(
            page.evaluate("document.activeElement.id || document.activeElement.className")
        )
        if reached[-1] == "id_geometry":
            break
    assert "id_geometry" in reached, reached
