"""Finding the place and what is already reported there, in a real browser at phone and
desktop size: the address search, the pin's address, a nearby report with its thumbnail,
"This is my problem too", the pin from a photo's GPS, and the same journey without
JavaScript. Screenshots land in test-artifacts/screenshots/."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from PIL.TiffImagePlugin import IFDRational
from playwright.sync_api import expect

from places.importer import rebuild_streets
from places.models import AddressPoint
from places.text import normalize
from reports.models import Photo, ServiceRequest, Subscription
from tests.e2e.conftest import VIEWPORTS, screenshot
from tests.factories import PhotoFactory, ServiceFactory, ServiceRequestFactory, image_bytes
from tests.reports.test_follow import confirm_path

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ADDRESS = (35.78000, -78.63850)


@pytest.fixture
def street_with_a_pothole():
    for offset, number in enumerate(("118", "120", "122")):
        AddressPoint.objects.create(
            source_id=f"RVT-{number}",
            number=number,
            street="Fayetteville Street",
            lat=ADDRESS[0] + (offset - 1) * 0.0004,
            long=ADDRESS[1],
            search_text=normalize(f"{number} Fayetteville Street"),
        )
    rebuild_streets()
    pothole = ServiceFactory(name="Pothole", group="Streets")
    ServiceFactory(name="Graffiti", group="Streets")
    existing = ServiceRequestFactory(
        service=pothole,
        lat=ADDRESS[0] + 0.0001,
        long=ADDRESS[1],
        description="Pothole by the crossing, a foot across.",
    )
    PhotoFactory(
        request=existing,
        state=Photo.State.PROCESSED,
        image=SimpleUploadedFile("web.jpg", image_bytes(color="saddlebrown")),
        thumbnail=SimpleUploadedFile("thumb.jpg", image_bytes(size=(64, 64), color="saddlebrown")),
    )
    return existing


def test_find_an_address_see_the_nearby_report_and_say_me_too(
    page, e2e_site, street_with_a_pothole
):
    existing = street_with_a_pothole
    page.goto(f"{e2e_site}/reports/new/")
    expect(page.locator("#report-map .leaflet-overlay-pane path")).to_have_count(1)
    expect(page.locator("#where-hint .no-js")).to_be_hidden()

    page.get_by_label("Find an address or street").fill("120 fayetteville st")
    page.get_by_label("Find an address or street").press("Enter")
    result = page.get_by_role("button", name="120 Fayetteville Street")
    expect(result).to_be_focused()
    page.keyboard.press("Enter")
    # The list is gone: the focus is on what took its place, not lost to the page.
    expect(page.locator("#place-results .notice--success")).to_be_focused()
    expect(page.locator("#pin-address")).to_have_text("Pin at: 120 Fayetteville Street")
    assert float(page.input_value("#id_lat")) == pytest.approx(ADDRESS[0])
    expect(page.locator("#id_address")).to_have_value("120 Fayetteville Street")
    expect(page.locator("#report-map .leaflet-marker-icon")).to_have_count(1)

    page.select_option("#id_service", label="Pothole")
    nearby = page.locator("#nearby")
    expect(nearby).to_be_visible()
    expect(nearby).to_contain_text(f"Pothole #{existing.pk}")
    expect(nearby).to_contain_text("Pothole by the crossing")
    image = page.locator("#nearby img").first
    image.scroll_into_view_if_needed()  # thumbnails load lazily
    expect(image).to_have_js_property("complete", True)  # no string eval: the CSP forbids it
    assert image.evaluate("img => img.naturalWidth") > 0
    nearby.scroll_into_view_if_needed()
    screenshot(page, "form-nearby")

    nearby.get_by_role("button", name="This is my problem too").click()
    email = nearby.get_by_label("Your email, to hear when it is fixed")
    expect(email).to_be_focused()
    email.fill("neighbour@example.net")
    nearby.get_by_role("button", name="Add my voice").click()
    expect(nearby).to_contain_text("your voice counts once you do")
    # The button went with the form: the focus is on the answer, not lost to the page.
    expect(nearby.locator(".notice--success")).to_be_focused()
    screenshot(page, "form-metoo")
    existing.refresh_from_db()
    assert existing.supporters == 0  # not before the address confirms
    subscription = Subscription.objects.get(request=existing, email="neighbour@example.net")
    assert ServiceRequest.objects.count() == 1  # no duplicate was filed

    page.goto(f"{e2e_site}{confirm_path(subscription)}")
    page.get_by_role("button", name="Yes, add my voice").click()
    expect(page.locator("h1")).to_have_text("Your voice is added")
    page.goto(f"{e2e_site}{existing.get_absolute_url()}")
    expect(page.locator("#supporters-count")).to_have_text("+1 person has this problem too")


def test_a_photo_with_gps_offers_to_place_the_pin(page, e2e_site, tmp_path):
    ServiceFactory(name="Graffiti")
    exif = Image.Exif()
    exif[0x8825] = {
        1: "N",
        2: (IFDRational(35), IFDRational(46), IFDRational(4860, 100)),
        3: "W",
        4: (IFDRational(78), IFDRational(38), IFDRational(1752, 100)),
    }
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), "gray").save(buffer, "JPEG", exif=exif.tobytes())
    photo = tmp_path / "tagged.jpg"
    photo.write_bytes(buffer.getvalue())

    page.goto(f"{e2e_site}/reports/new/")
    expect(page.locator("#report-map .leaflet-overlay-pane path")).to_have_count(1)
    page.set_input_files("#id_photos", str(photo))
    offer = page.get_by_role("button", name="Put the pin where the photo was taken")
    expect(offer).to_be_visible()
    offer.focus()
    page.keyboard.press("Enter")
    # The button is gone: the notice in its place has the focus, in the photos step.
    done = page.locator("#photo-gps-offer .notice")
    expect(done).to_have_text("Pin placed where the photo was taken.")
    expect(done).to_be_focused()
    lat, long = 35 + 46 / 60 + 48.6 / 3600, -(78 + 38 / 60 + 17.52 / 3600)
    assert float(page.input_value("#id_lat")) == pytest.approx(lat, abs=1e-5)
    assert float(page.input_value("#id_long")) == pytest.approx(long, abs=1e-5)
    expect(page.locator("#report-map .leaflet-marker-icon")).to_have_count(1)


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_without_javascript_find_choose_see_nearby_and_send(
    browser, e2e_site, street_with_a_pothole, size, tmp_path
):
    context = browser.new_context(viewport=VIEWPORTS[size], java_script_enabled=False)
    page = context.new_page()
    page.viewport_name = f"nojs-{size}"
    page.set_default_timeout(10_000)
    photo = tmp_path / "hole.jpg"
    photo.write_bytes(image_bytes(size=(640, 480), color="saddlebrown"))
    try:
        page.goto(f"{e2e_site}/reports/new/")
        expect(page.locator("#where-hint")).to_contain_text("type its latitude and longitude")
        expect(page.locator("#report-map")).to_be_hidden()
        page.select_option("#id_service", label="Pothole")
        page.fill("#id_description", "Another hole near the crossing.")
        page.set_input_files("#id_photos", str(photo))
        page.get_by_label("Find an address or street").fill("122 Fayetteville")
        page.get_by_role("button", name="Find", exact=True).click()
        expect(page.get_by_label("122 Fayetteville Street")).to_be_checked()
        expect(page.locator("input[name=kept_photos]")).to_be_checked()
        page.get_by_role("button", name="Use this place").click()
        expect(page.locator("#id_address")).to_have_value("122 Fayetteville Street")
        expect(page.locator("#nearby")).to_contain_text(f"Pothole #{street_with_a_pothole.pk}")
        expect(page.locator("#id_description")).to_have_value("Another hole near the crossing.")
        screenshot(page, "form-place-chosen")
        page.get_by_role("button", name="Send report").click()
        page.wait_for_url(re.compile(r"/reports/\d+/preview/"))  # the preview, then public
        report = ServiceRequest.objects.latest("pk")
        assert report.address == "122 Fayetteville Street" and report.lat is not None
        assert report.photos.count() == 1  # attached once, before the two steps
    finally:
        context.close()


AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now (the script is
    evaluated through the browser's debugging channel, which the CSP does not govern)."""
    page.evaluate(AXE.read_text(encoding="utf-8"))
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => ['serious', 'critical'].includes(v.impact))"
        ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))"
    )
    return list(found)


def test_the_form_with_results_nearby_and_errors_passes_axe(page, e2e_site, street_with_a_pothole):
    page.goto(f"{e2e_site}/reports/new/")
    expect(page.locator("#report-map .leaflet-overlay-pane path")).to_have_count(1)
    page.get_by_label("Find an address or street").fill("120 fayetteville")
    page.get_by_role("button", name="Find", exact=True).click()
    page.get_by_role("button", name="120 Fayetteville Street").click()
    page.select_option("#id_service", label="Pothole")
    expect(page.locator("#nearby")).to_be_visible()
    page.locator("#nearby").get_by_role("button", name="This is my problem too").click()
    assert serious_violations(page) == []
    page.get_by_role("button", name="Send report").click()
    expect(page.locator("#error-summary")).to_be_focused()
    assert serious_violations(page) == []
