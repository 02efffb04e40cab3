"""The city's administrator adds routing rules in the admin: a rule the form accepts must be
one that can route a report."""

from __future__ import annotations

import pytest
from django.urls import reverse

from departments.models import RoutingRule
from tests.factories import DepartmentFactory, ServiceFactory

pytestmark = pytest.mark.django_db
ADD = reverse("admin:departments_routingrule_add")


def _rule(department_id: int, group: str) -> dict[str, object]:
    return {"group": group, "department": department_id, "priority": 100, "active": "on"}


def test_a_rule_for_a_group_no_category_is_in_is_refused_with_the_groups(client, superuser):
    """Groups match exactly: a rule for "streets" never routed the "Streets" categories."""
    client.force_login(superuser)
    ServiceFactory(group="Streets")
    ServiceFactory(group="Health")
    department = DepartmentFactory()
    response = client.post(ADD, _rule(department.pk, "streets"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "No category is in the group “streets”" in page
    assert "The groups: Health, Streets." in page
    assert not RoutingRule.objects.exists()
    assert client.post(ADD, _rule(department.pk, "Streets")).status_code == 302
    assert RoutingRule.objects.get().group == "Streets"


@pytest.mark.parametrize("with_service", [True, False])
def test_a_rule_needs_a_service_or_a_group_said_once_in_words(client, superuser, with_service):
    client.force_login(superuser)
    service = ServiceFactory(group="Streets")
    data = _rule(DepartmentFactory().pk, "Streets" if with_service else "")
    if with_service:
        data["service"] = service.pk
    response = client.post(ADD, data)
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("Choose a service or a group: one of them, not both.") == 1
    assert "is violated" not in page
    assert not RoutingRule.objects.exists()
