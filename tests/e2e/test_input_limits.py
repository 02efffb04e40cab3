"""A citizen whose submission is over the size limit gets the form back with the reason
(no bare "Bad Request"), and an address with a NUL character gets a page that says why."""

from __future__ import annotations

import pytest

from reports.models import ServiceRequest
from tests.e2e.conftest import screenshot
from tests.factories import ServiceFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_report_over_the_size_limit_comes_back_with_the_reason(page, e2e_site, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 3000
    service = ServiceFactory(name="Pothole")
    page.goto(f"{e2e_site}/reports/new/")
    page.fill("#id_lat", "35.7796")
    page.fill("#id_long", "-78.6382")
    page.select_option("#id_service", str(service.pk))
    page.fill("#id_description", "A deep pothole. " * 300)

    page.get_by_role("button", name="Send report").click()

    summary = page.locator(".error-summary")
    assert "too large" in summary.inner_text()
    assert page.locator("#id_description").is_visible()  # the form again
    screenshot(page, "input-too-large-form")
    assert not ServiceRequest.objects.exists()


def test_address_with_a_nul_character_gets_a_page_that_says_why(page, e2e_site):
    response = page.goto(f"{e2e_site}/reports/?status=open%00")

    assert response is not None and response.status == 400
    assert "NUL character" in page.locator("[role=alert]").inner_text()
    screenshot(page, "input-nul-page")
