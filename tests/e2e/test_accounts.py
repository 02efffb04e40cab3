"""A citizen's account in a real browser: sign up, verify with the link from the outbox,
sign in, see My account with a report they made. Each page is checked for Content-Security-
Policy violations and with axe-core (WCAG 2.1 A/AA). Screenshots land in
test-artifacts/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from reports.models import OutboxMessage
from tests.accounts.conftest import PASSWORD as MEMBER_PASSWORD
from tests.accounts.conftest import make_member
from tests.e2e.conftest import screenshot
from tests.factories import ServiceFactory, ServiceRequestFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
PASSWORD = "river keeper pass phrase 7"
WATCH_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline"));
});
"""


def check_page(page) -> None:  # type: ignore[no-untyped-def]
    """No CSP violation and no WCAG 2.1 A/AA failure that axe-core can find."""
    assert page.evaluate("window.__csp") == [], page.url
    # evaluate() runs through the DevTools protocol, which the page's CSP doesn't govern.
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        """() => axe.run(document, {runOnly: {type: "tag",
              values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
            .then(r => r.violations.map(v => v.id + ": " + v.nodes.map(n => n.target).join(" ")))"""
    )
    assert result == [], f"{page.url}: {result}"


def test_sign_up_verify_and_see_my_account(page, e2e_site):  # type: ignore[no-untyped-def]
    page.context.add_init_script(WATCH_VIOLATIONS)
    email = f"gus-{page.viewport_name}@example.org"
    report = ServiceRequestFactory(
        service=ServiceFactory(name="Pothole"), reporter_email=email.upper()
    )

    page.goto(f"{e2e_site}/")
    page.get_by_role("link", name="Sign in").click()
    expect(page.get_by_role("heading", name="Sign In")).to_be_visible()
    check_page(page)
    screenshot(page, "account-sign-in")
    page.get_by_role("link", name="sign up").click()

    # A first try without a display name: the error is announced and named.
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    summary = page.locator(".error-summary[role=alert]")
    expect(summary).to_contain_text("Display name")
    expect(page.get_by_label("Display name")).to_have_attribute("aria-invalid", "true")
    check_page(page)
    screenshot(page, "account-sign-up-error")

    page.get_by_label("Display name").fill("Greenway Gus")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()
    check_page(page)

    message = OutboxMessage.objects.get(to=email, kind="account_email_confirmation_signup")
    link = re.search(r"https?://\S+", message.body).group(0)
    page.goto(link)
    check_page(page)
    screenshot(page, "account-confirm-email")
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", name="Sign In")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()

    expect(page.get_by_role("heading", name="My account", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="My account")).to_have_attribute("aria-current", "page")
    section = page.locator("#section-reports")
    expect(section.get_by_role("link", name=f"Pothole #{report.pk}")).to_be_visible()
    expect(page.locator("#section-profile")).to_contain_text("Greenway Gus")
    check_page(page)
    screenshot(page, "account-my-account")

    page.get_by_role("link", name="Edit profile").click()
    page.get_by_role("textbox", name="Display name").fill("Gus of the Greenway")
    page.get_by_label("Show my display name on the volunteers' leaderboard").uncheck()
    check_page(page)
    screenshot(page, "account-profile")
    page.get_by_role("button", name="Save profile").click()
    expect(page.locator("#section-profile")).to_contain_text("Gus of the Greenway")
    expect(page.locator("#section-profile")).to_contain_text("left off")

    page.get_by_role("link", name="Email addresses").click()
    expect(page.get_by_role("heading", name="Email Addresses")).to_be_visible()
    check_page(page)
    screenshot(page, "account-email")
    page.get_by_role("link", name="My account").first.click()
    page.get_by_role("link", name="Delete account").click()
    page.get_by_role("button", name="Delete my account").click()
    # Deleting needs the password again (the box is still unticked, so nothing happens).
    expect(page.get_by_role("heading", name="Confirm Access")).to_be_visible()
    check_page(page)
    screenshot(page, "account-reauthenticate")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".error-summary[role=alert]")).to_contain_text("Tick the box")
    check_page(page)
    screenshot(page, "account-delete")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()


def test_sign_in_by_keyboard_goes_email_password_remember_sign_in(page, e2e_site):  # type: ignore[no-untyped-def]
    """WCAG 2.4.3: Tab from Email went to "Forgot your password?", so the password was typed
    into nothing and Enter followed the link."""
    make_member("kim@example.org")
    focused = "() => (document.activeElement.id || document.activeElement.innerText).trim()"
    page.goto(f"{e2e_site}/accounts/login/")
    page.locator("#id_login").focus()
    page.keyboard.type("kim@example.org")
    page.keyboard.press("Tab")
    assert page.evaluate(focused) == "id_password"
    page.keyboard.type(MEMBER_PASSWORD)
    visited = []
    for _ in range(3):
        page.keyboard.press("Tab")
        visited.append(page.evaluate(focused))
    assert visited == ["id_remember", "Sign In", "Forgot your password?"]
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="My account", level=1)).to_be_visible()
