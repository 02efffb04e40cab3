"""The staff dashboard under the admin: internal figures, cross-department view, and only
for staff."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from departments.permissions import STAFF_GROUP_NAME
from tests.factories import (
    BoundaryFactory,
    DepartmentFactory,
    ServiceFactory,
    ServiceRequestFactory,
    StaffMembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_outsiders_are_sent_to_the_login(client, citizen) -> None:
    assert client.get("/admin/insights/").status_code == 302
    client.force_login(citizen)
    response = client.get("/admin/insights/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_staff_who_may_not_view_reports_are_refused(client) -> None:
    # A staff account with no permission on reports (say, a volunteer coordinator's).
    ServiceRequestFactory(hidden=True, assigned_to=UserFactory(username="agent-smith"))
    client.force_login(UserFactory(is_staff=True))
    response = client.get("/admin/insights/")
    assert response.status_code == 403
    text = response.content.decode()
    assert "agent-smith" not in text
    # A page that says why and what to do, not a bare "403 Forbidden".
    assert "Only staff who may view reports see their figures." in text
    assert "ask your department's manager" in text


def test_staff_see_hidden_counts_workload_and_other_departments(client) -> None:
    health = DepartmentFactory(name="Health")
    police = DepartmentFactory(name="Police")
    agent = StaffMembershipFactory(department=health).user
    agent.groups.add(Group.objects.get(name=STAFF_GROUP_NAME))
    syringe = ServiceFactory(name="Found syringe", department=health)
    corner = BoundaryFactory(name="Main and 5th")
    ServiceRequestFactory(service=syringe, area=corner, assigned_to=agent)
    ServiceRequestFactory(service=syringe, area=corner, department=police)
    ServiceRequestFactory(service=syringe, area=corner, hidden=True)
    client.force_login(agent)
    response = client.get("/admin/insights/")
    assert response.status_code == 200
    context = response.context
    assert context["totals"] == {"received": 3, "hidden": 1, "closed": 0}
    assert [a["assigned_to__username"] for a in context["agents"]] == [agent.username]
    cross = context["cross"]
    assert set(cross["departments"]) == {"Health", "Police"}
    assert cross["rows"][0][0] == "Main and 5th" and cross["rows"][0][2] == 3
    text = response.content.decode()
    assert "Across departments" in text and "Police" in text


def test_admin_pages_link_the_dashboard_for_staff_who_may_see_it(client) -> None:
    agent = StaffMembershipFactory().user
    agent.groups.add(Group.objects.get(name=STAFF_GROUP_NAME))
    client.force_login(agent)
    assert 'href="/admin/insights/"' in client.get("/admin/").content.decode()
    client.force_login(UserFactory(is_staff=True))  # may view no reports
    assert 'href="/admin/insights/"' not in client.get("/admin/").content.decode()


def test_staff_dashboard_query_count_is_constant(client, django_assert_max_num_queries) -> None:
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    service = ServiceFactory()
    ServiceRequestFactory.create_batch(3, service=service, requested_datetime=timezone.now())
    client.get("/admin/insights/")
    ServiceRequestFactory.create_batch(20, service=service, requested_datetime=timezone.now())
    with django_assert_max_num_queries(20):
        assert client.get("/admin/insights/").status_code == 200
