"""The whole citizen flow in a real browser: form, map click, category, photo, submit,
report page with the photo. Screenshots land in test-artifacts/screenshots/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from civic311.geo import in_city_bounds
from reports.models import Photo, ServiceRequest
from tests.e2e.conftest import screenshot
from tests.factories import (
    AttributeValueFactory,
    ServiceAttributeFactory,
    ServiceFactory,
    ServiceRequestFactory,
    image_bytes,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
]


def test_citizen_reports_a_pothole_with_a_photo(page, e2e_site, tmp_path):
    pothole = ServiceFactory(name="Pothole", group="Streets", sla_hours=72)
    ServiceFactory(name="Found syringe", group="Health")
    size = ServiceAttributeFactory(
        service=pothole, code="size", datatype="singlevaluelist", description="How big is it?"
    )
    AttributeValueFactory(attribute=size, key="large", name="Larger than a car wheel")
    ServiceRequestFactory.create_batch(3, service=pothole)
    photo = tmp_path / "pothole.jpg"
    photo.write_bytes(image_bytes(size=(640, 480), color="saddlebrown"))

    page.goto(f"{e2e_site}/reports/new/")
    # The form script has run once the city outline is drawn on the map.
    expect(page.locator("#report-map .leaflet-overlay-pane path")).to_have_count(1)
    questions = page.locator(f'fieldset.questions[data-service="{pothole.pk}"]')
    expect(questions).to_be_hidden()

    page.locator("#report-map").click()
    lat = float(page.input_value("#id_lat"))
    long = float(page.input_value("#id_long"))
    assert in_city_bounds(lat, long)
    expect(page.locator("#report-map .leaflet-marker-icon")).to_have_count(1)

    page.select_option("#id_service", label="Pothole")
    expect(questions).to_be_visible()
    questions.get_by_label("How big is it?").select_option("large")
    page.fill("#id_description", "Deep pothole in the right lane, cars swerve around it.")
    page.set_input_files("#id_photos", str(photo))
    expect(page.locator("#photo-previews img")).to_have_count(1)
    page.fill("#id_reporter_email", "private.person@example.net")
    screenshot(page, "form")

    page.get_by_role("button", name="Send report").click()
    # The reporter first sees the page as it will be published, then publishes it.
    page.wait_for_url(re.compile(r"/reports/\d+/preview/"))
    report = ServiceRequest.objects.latest("pk")
    assert f"/reports/{report.pk}/preview/" in page.url
    expect(page.get_by_text("has been sent to the city")).to_be_visible()
    page.get_by_role("button", name="Publish now").click()
    page.wait_for_url(re.compile(r"/reports/\d+/$"))
    assert page.url.endswith(report.get_absolute_url())
    assert (report.lat, report.long) == (lat, long)
    assert report.attributes == {"size": "large"}
    expect(page.locator("h1")).to_contain_text("Pothole")
    expect(page.get_by_text("is now public")).to_be_visible()
    expect(page.get_by_text("Larger than a car wheel")).to_be_visible()

    thumbnail = page.locator(".gallery img")
    if thumbnail.count() == 0:  # processing finished after the redirect was answered
        page.reload()
    expect(thumbnail).to_have_count(1)
    # The thumbnail really loads (served from media), and is never the original upload.
    # Wait for the image to finish loading: a broken one completes with a natural width of 0.
    expect(thumbnail).to_have_js_property("complete", True)
    assert thumbnail.evaluate("img => img.naturalWidth") > 0
    assert "originals/" not in page.content()
    assert "private.person@example.net" not in page.content()
    assert report.photos.get().state == Photo.State.PROCESSED
    screenshot(page, "report")

    page.goto(f"{e2e_site}/")
    expect(page.locator("#reports-map .leaflet-interactive")).to_have_count(4)
    screenshot(page, "home")
    page.goto(f"{e2e_site}/reports/")
    expect(page.locator(".report-row")).to_have_count(4)
    # The list's map shows every matching report (grouped where they overlap) and says so.
    expect(page.locator("#reports-map-text-summary")).to_contain_text("The map shows 4 reports")
    expect(page.locator("#reports-map .leaflet-interactive").first).to_be_visible()
    dots = page.locator("#reports-map .report-dot").count()
    grouped = page.locator("#reports-map .cluster").all_inner_texts()
    assert dots + sum(int(text) for text in grouped) == 4
    screenshot(page, "list")


def test_form_errors_come_back_in_the_browser(page, e2e_site):
    ServiceFactory(name="Graffiti", group="Streets")
    page.goto(f"{e2e_site}/reports/new/")
    page.select_option("#id_service", label="Graffiti")
    page.fill("#id_description", "Tags")
    page.get_by_role("button", name="Send report").click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator(".error-summary")).to_contain_text("choose the place on the map")
    expect(page.locator("#id_description")).to_have_value("Tags")
    assert ServiceRequest.objects.count() == 0
    expect(page.locator("#report-map .leaflet-overlay-pane path")).to_have_count(1)
    screenshot(page, "form-errors")


def test_back_and_send_again_leads_to_the_report_sent(page, e2e_site):
    """The back button fetches the form again (with a new submission token) and the browser
    puts back what was typed: sent again, it must lead to the report made, not make a
    second one."""
    if page.viewport_name != "desktop":
        pytest.skip("the same markup at either size")
    ServiceFactory(name="Graffiti", group="Streets")
    page.goto(f"{e2e_site}/reports/new/")
    page.fill("#id_lat", "35.7801")
    page.fill("#id_long", "-78.6391")
    page.select_option("#id_service", label="Graffiti")
    page.fill("#id_description", "Spray paint on the library wall, sent once.")
    page.get_by_role("button", name="Send report").click()
    page.wait_for_url(re.compile(r"/reports/\d+/preview/"))
    report = ServiceRequest.objects.get()

    page.go_back()
    page.wait_for_url("**/reports/new/")
    expect(page.locator("#id_description")).to_have_value(
        "Spray paint on the library wall, sent once."
    )
    page.get_by_role("button", name="Send report").click()
    page.wait_for_url(re.compile(rf"/reports/{report.pk}/preview/"))
    expect(page.get_by_text(f"it is report #{report.pk}")).to_be_visible()
    assert ServiceRequest.objects.count() == 1
