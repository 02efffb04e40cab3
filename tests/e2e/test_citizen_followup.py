"""After reporting, in a real browser at phone and desktop size: the reporter files a
report, checks the preview and corrects the text; staff close it; the reporter answers "not
fixed" with a comment and a photo from the email's link; the report is open again on its
public page and marked in the department's queue. Screenshots in test-artifacts/screenshots/."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from reports.models import OutboxMessage, ServiceRequest
from reports.services import triage
from reports.services.requests import report_create
from reports.tokens import preview_url
from tests.e2e.conftest import screenshot
from tests.factories import (
    CITY_CENTRE,
    DepartmentFactory,
    ServiceFactory,
    StaffMembershipFactory,
    image_bytes,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"


def assert_accessible(page) -> None:
    """axe-core on the current page: no serious or critical WCAG 2.1 A/AA violation. Loaded
    through the DevTools protocol, which the page's CSP does not govern."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text() + "\n;undefined")
    assert page.evaluate("typeof window.axe.run") == "function"
    found = page.evaluate(
        """async () => (await axe.run(document, {runOnly: {type: "tag",
            values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})).violations
            .filter(v => ["serious", "critical"].includes(v.impact))
            .map(v => `${v.id}: ${v.nodes.map(n => n.target.join(" ")).join(", ")}`)"""
    )
    assert found == [], f"{page.url}: {found}"


LAT, LNG = CITY_CENTRE
FIRST_TEXT = "Syringe lying in the grass next to the swings."
BETTER_TEXT = "Two syringes in the grass next to the swings, one under the slide."


def test_reporter_previews_edits_and_later_says_not_fixed(page, e2e_site, staff_group, tmp_path):
    health = DepartmentFactory(name="Health", email="health@city.example.org")
    ServiceFactory(name="Found syringe", group="Health", department=health)
    agent = StaffMembershipFactory(user__username="health.agent", department=health).user
    agent.groups.add(staff_group)
    photo = tmp_path / "still-there.jpg"
    photo.write_bytes(image_bytes(size=(640, 480), color="olive"))

    # File the report.
    page.goto(f"{e2e_site}/reports/new/")
    expect(page.locator("#report-map .leaflet-overlay-pane path")).to_have_count(1)
    page.locator("#report-map").click()
    page.select_option("#id_service", label="Found syringe")
    page.fill("#id_description", FIRST_TEXT)
    page.fill("#id_reporter_email", "private.person@example.net")
    page.get_by_role("button", name="Send report").click()

    # The preview: the page as it will be public, and the controls.
    page.wait_for_url(re.compile(r"/reports/\d+/preview/"))
    report = ServiceRequest.objects.latest("pk")
    panel = page.get_by_role("heading", name="Check your report before it is public")
    expect(panel).to_be_visible()
    expect(page.locator(".description")).to_have_text(FIRST_TEXT)
    assert "private.person@example.net" not in page.content()
    screenshot(page, "followup-preview")
    assert_accessible(page)

    page.get_by_text("Change the description").click()
    page.fill("#id_description", BETTER_TEXT)
    page.get_by_role("button", name="Save the description").click()
    expect(page.get_by_text("Your changes are saved.")).to_be_visible()
    expect(page.locator(".description")).to_have_text(BETTER_TEXT)
    screenshot(page, "followup-preview-edited")
    report.refresh_from_db()
    assert report.description == BETTER_TEXT

    # Not public yet; then the window ends ("Publish now" stands in for the wait).
    page.goto(f"{e2e_site}{report.get_absolute_url()}")
    waiting = page.get_by_role("heading", name=f"Report #{report.pk} is not public yet")
    expect(waiting).to_be_visible()
    assert_accessible(page)
    page.go_back()
    page.get_by_role("button", name="Publish now").click()
    page.wait_for_url(re.compile(rf"/reports/{report.pk}/$"))

    # The acknowledgement asks the reporter to confirm their address: they do.
    received = OutboxMessage.objects.get(kind="report_received")
    [confirm_url] = re.findall(r"\S+/reports/follow/\S+/confirm/", received.body)
    page.goto(e2e_site + urlsplit(confirm_url).path)
    page.get_by_role("button", name="Yes, email me updates").click()
    expect(page.get_by_role("heading", name="You follow this report")).to_be_visible()
    assert_accessible(page)

    # Staff close it; the reporter gets "Is it fixed?" and follows the "no" link.
    triage.report_close(report=report, author=agent, text="Our team collected the syringe.")
    question = OutboxMessage.objects.get(kind="fixed_question")
    [no_url] = re.findall(r"\S+/reports/fixed/\S+/no/", question.body)
    page.goto(e2e_site + urlsplit(no_url).path)
    expect(page.get_by_role("heading", name="The problem is not fixed")).to_be_visible()
    page.fill("#id_text", "The second syringe is still under the slide.")
    page.set_input_files("#id_photo", str(photo))
    screenshot(page, "followup-not-fixed-form")
    assert_accessible(page)
    page.get_by_role("button", name="Reopen the report").click()
    expect(page.get_by_role("heading", name="Thank you: the report is open again")).to_be_visible()
    screenshot(page, "followup-not-fixed-done")

    report.refresh_from_db()
    assert report.is_open and report.reopened_by_reporter_at is not None
    page.goto(f"{e2e_site}{report.get_absolute_url()}")
    expect(page.get_by_text("The reporter says it is not fixed.").first).to_be_visible()
    comment = page.locator(".comment--reporter")
    expect(comment).to_contain_text("The second syringe is still under the slide.")
    expect(comment.locator("img")).to_have_count(1)
    image = page.locator(".comment--reporter img").first
    image.scroll_into_view_if_needed()  # thumbnails load lazily
    expect(image).to_have_js_property("complete", True)  # no string eval: the CSP forbids it
    assert image.evaluate("img => img.naturalWidth") > 0
    assert "private.person@example.net" not in page.content()
    screenshot(page, "followup-reopened-public")
    assert_accessible(page)

    # The department's queue shows it as reopened by the reporter.
    page.goto(f"{e2e_site}/admin/login/")
    page.fill("#id_username", agent.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")
    page.goto(f"{e2e_site}/admin/reports/servicerequest/?reporter=reopened")
    row = page.locator("#result_list tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator(".c311-badge.reopened")).to_have_text("Reopened by reporter")
    screenshot(page, "followup-queue-reopened")


def test_reporter_is_warned_before_the_preview_ends_and_can_get_more_time(page, e2e_site):
    health = DepartmentFactory(name="Health", email="health@city.example.org")
    service = ServiceFactory(name="Found syringe", group="Health", department=health)
    report = report_create(
        service=service, description=FIRST_TEXT, lat=LAT, long=LNG, preview_minutes=10
    )
    # Two minutes and a few seconds left: the warning comes once they are down to two.
    ServiceRequest.objects.filter(pk=report.pk).update(
        published_at=timezone.now() + timedelta(seconds=123)
    )
    page.goto(e2e_site + preview_url(report))
    expect(page.locator("#preview-time")).to_contain_text("in 3 minutes")
    alert = page.locator("[aria-live=polite][data-preview-alert]")
    expect(alert).to_contain_text("becomes public in 2 minutes", timeout=10_000)
    expect(alert).to_contain_text("I need more time")
    screenshot(page, "followup-preview-warning")
    assert_accessible(page)

    page.get_by_role("button", name="I need more time").click()
    expect(page.get_by_text("Your report stays private until")).to_be_visible()
    expect(page.locator("#preview-time")).to_contain_text("in 10 minutes")
    report.refresh_from_db()
    assert report.published_at > timezone.now() + timedelta(minutes=9)
