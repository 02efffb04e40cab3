"""A volunteer on their phone or desktop: sign up, verify the email address, sign in, adopt
a shelter from the map, log a cleaning with a photo, and see it on the shelter's page.
Screenshots land in test-artifacts/screenshots/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from adoptions.models import Adoption, CareLog
from reports.models import OutboxMessage
from tests.adoptions.conftest import CHECKLIST, AssetFactory, AssetTypeFactory
from tests.e2e.conftest import screenshot
from tests.e2e.test_citizen_followup import assert_accessible
from tests.e2e.test_csp import violations, visit, watched_page  # noqa: F401  (a fixture)
from tests.factories import image_bytes

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long shelter password 42"


def sign_up_and_verify(page, site: str, email: str) -> None:
    page.goto(f"{site}/accounts/signup/")
    page.get_by_label("Display name").fill("Maya R.")
    page.get_by_label("Email").first.fill(email)
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.locator("form button[type=submit]").last.click()
    message = OutboxMessage.objects.filter(to=email).latest("pk")
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", message.body)
    assert link, message.body
    # The email names SITE_URL; the live server has its own address.
    page.goto(f"{site}/accounts/{link.group(0).split('/accounts/', 1)[1]}")
    page.locator("form button[type=submit]").last.click()
    page.goto(f"{site}/accounts/login/")
    page.get_by_label("Email").first.fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form button[type=submit]").last.click()
    expect(page.locator("body")).to_contain_text("Maya R.")


def test_volunteer_adopts_a_shelter_and_logs_a_cleaning(page, e2e_site, tmp_path):
    shelters = AssetTypeFactory(checklist=list(CHECKLIST), care_instructions="Sweep and wipe.")
    shelter = AssetFactory(asset_type=shelters, name="Oak Ave at 5th", external_id="OAK5")
    AssetFactory(asset_type=shelters, name="Elm St at 2nd", lat=35.79, long=-78.62)
    email = f"maya.{page.viewport_name}@example.net"
    sign_up_and_verify(page, e2e_site, email)

    page.goto(f"{e2e_site}/adopt/")
    markers = page.locator("#adopt-map path.leaflet-interactive")
    expect(markers).to_have_count(2)
    screenshot(page, "adopt-map")
    assert_accessible(page)
    # The list below the map works without the map.
    expect(page.locator(".asset-list")).to_contain_text("Oak Ave at 5th")
    page.evaluate("document.querySelector('#adopt-map').scrollIntoView({block: 'center'})")
    popup = page.locator(".leaflet-popup")
    for index in range(2):
        markers.nth(index).click(force=True)
        expect(popup).to_be_visible()
        if "Oak Ave at 5th" in popup.inner_text():
            break
        popup.locator(".leaflet-popup-close-button").click()  # it may cover the other marker
        expect(popup).to_have_count(0)
    adopt = popup.get_by_role("link", name="Adopt this shelter")
    expect(adopt).to_be_visible()
    expect(adopt).to_have_attribute("href", "/adopt/bus-shelter/OAK5/")
    # By keyboard: a pointer click can land where the popup was before the map panned to
    # show it (it missed once under load); Enter on the focused link can't miss.
    adopt.focus()
    with page.expect_navigation(url=f"{e2e_site}/adopt/bus-shelter/OAK5/", timeout=20_000):
        page.keyboard.press("Enter")
    assert_accessible(page)

    page.get_by_label(re.compile("I promise to look after it")).check()
    page.get_by_label("Give it a nickname").fill("The corner one")
    page.get_by_role("button", name="Adopt this shelter").click()
    expect(page.locator(".notice--success")).to_contain_text("You adopted Oak Ave at 5th")
    adoption = Adoption.objects.get(asset=shelter)
    assert adoption.volunteer.email == email and adoption.nickname == "The corner one"

    photo = tmp_path / "clean.jpg"
    photo.write_bytes(image_bytes(size=(640, 480), color="steelblue"))
    page.get_by_label(CHECKLIST[0]).check()
    page.get_by_label(CHECKLIST[2]).check()
    page.get_by_label("Note").fill("Swept the glass and the bench.")
    page.set_input_files("#id_photo", str(photo))
    page.get_by_role("button", name="Log this visit").click()
    expect(page.locator(".notice--success")).to_contain_text("Care visit logged")

    history = page.locator("#history")
    expect(history).to_contain_text("Swept the glass and the bench.")
    expect(history).to_contain_text(CHECKLIST[2])
    expect(history).to_contain_text("Maya R.")
    expect(history.locator("img")).to_have_count(1)
    image = history.locator("img")
    image.scroll_into_view_if_needed()  # may load lazily
    expect(image).to_have_js_property("complete", True)  # no string eval: the CSP forbids it
    assert image.evaluate("img => img.naturalWidth") > 0
    assert CareLog.objects.get().photo_public
    assert email not in page.content()
    screenshot(page, "asset-cared")
    assert_accessible(page)

    page.goto(f"{e2e_site}/adopt/thanks/")
    expect(page.locator(".leaderboard")).to_contain_text("Maya R.")
    screenshot(page, "adopt-thanks")
    assert_accessible(page)


def test_adoption_pages_keep_the_content_security_policy(
    watched_page,  # noqa: F811  (the fixture imported above)
    e2e_site,
    superuser,
):
    shelters = AssetTypeFactory()
    assets = [
        AssetFactory(asset_type=shelters, lat=35.77 + n * 0.001, long=-78.64) for n in range(40)
    ]
    page = watched_page
    visit(page, f"{e2e_site}/adopt/")
    clusters = page.locator("#adopt-map .adopt-cluster")
    expect(clusters.first).to_be_visible()
    assert "shelters, all available" in (clusters.first.get_attribute("aria-label") or "")
    assert clusters.first.get_attribute("role") == "button"  # Enter zooms in
    screenshot(page, "adopt-map-clustered")
    visit(page, f"{e2e_site}{assets[0].get_absolute_url()}")
    expect(page.locator("#asset-map path.leaflet-interactive")).to_have_count(1)
    visit(page, f"{e2e_site}/adopt/thanks/")
    page.context.add_cookies(
        [{"name": "sessionid", "value": session_for(superuser), "url": e2e_site}]
    )
    for path in ("/admin/adoptions/adoption/coverage/", "/admin/adoptions/asset/import/"):
        visit(page, f"{e2e_site}{path}")
    assert violations(page) == []


def session_for(user) -> str:
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return session.session_key
