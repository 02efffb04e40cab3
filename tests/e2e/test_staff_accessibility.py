"""WCAG 2.1 AA checks of the staff pages in a real browser: axe-core on the queue, a report's
page and its triage pages, a bulk action's page, another department's report and the staff
dashboard, at phone and desktop size, as a department agent (any serious or critical
violation fails). The public pages are checked in test_accessibility.py."""

from __future__ import annotations

import pytest

from departments.models import StaffMembership
from tests.e2e.conftest import screenshot, serious_violations
from tests.factories import (
    BoundaryFactory,
    DepartmentFactory,
    PhotoFactory,
    ServiceFactory,
    ServiceRequestFactory,
    StaffMembershipFactory,
    square,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery staple"
# WCAG's rules only: axe's best practices also ask for a label in words where Django's admin
# labels its search bar with a magnifier icon (its alt text is the name).
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# (name, path): "{mine}" is a report of the agent's department, "{theirs}" another's.
STAFF_PAGES = [
    ("queue", "/admin/reports/servicerequest/"),
    ("queue-search", "/admin/reports/servicerequest/?q=pothole&department=all"),
    ("report", "/admin/reports/servicerequest/{mine}/change/"),
    ("report-read-only", "/admin/reports/servicerequest/{theirs}/change/"),
    ("reply", "/admin/reports/servicerequest/{mine}/reply/"),
    ("forward", "/admin/reports/servicerequest/{mine}/forward/"),
    ("moderate", "/admin/reports/servicerequest/{mine}/moderate/"),
    ("comments", "/admin/reports/comment/"),
    ("rules", "/admin/departments/routingrule/"),
    ("insights", "/admin/insights/"),
]


@pytest.fixture
def office(db, staff_group):
    health = DepartmentFactory(name="Health", slug="health", email="health@city.example.org")
    works = DepartmentFactory(name="Public Works", slug="works", email="works@city.example.org")
    downtown = BoundaryFactory(name="Downtown", geometry=square(35.77, -78.65, 35.79, -78.63))
    syringe = ServiceFactory(name="Found syringe", department=health)
    pothole = ServiceFactory(name="Pothole", department=works)
    agent = StaffMembershipFactory(
        user__username="health.agent", department=health, role=StaffMembership.Role.AGENT
    ).user
    agent.groups.add(staff_group)
    mine = [
        ServiceRequestFactory(
            service=syringe,
            department=health,
            area=downtown,
            lat=35.7796 + n * 0.0004,
            long=-78.6382,
            description=f"Syringe number {n} by the bench",
        )
        for n in range(6)
    ]
    PhotoFactory(request=mine[0])
    theirs = ServiceRequestFactory(
        service=pothole, department=works, lat=35.78, long=-78.64, description="Deep pothole"
    )
    return {"agent": agent, "mine": mine[0], "theirs": theirs}


@pytest.fixture
def page(axe_page):  # type: ignore[no-untyped-def]
    return axe_page


@pytest.mark.parametrize(("name", "path"), STAFF_PAGES, ids=[p[0] for p in STAFF_PAGES])
def test_staff_page_has_no_serious_accessibility_violation(page, e2e_site, office, name, path):
    page.goto(f"{e2e_site}/admin/login/")
    page.fill("#id_username", office["agent"].username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")
    url = e2e_site + path.format(mine=office["mine"].pk, theirs=office["theirs"].pk)
    response = page.goto(url)
    assert response is not None and response.status == 200
    page.wait_for_load_state("networkidle")
    screenshot(page, f"a11y-staff-{name}")
    found = serious_violations(page, WCAG_TAGS)
    print("\n".join(found))
    assert found == []
