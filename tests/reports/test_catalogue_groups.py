"""Routing rules may name a group of categories. Moving the last category out of a group left
the rules naming it routing nothing, without a word: now a rename takes the rules with it
(and says so), and any other move that would strand them is refused, naming them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from departments.models import RoutingRule, StaffMembership
from reports.models import Service
from reports.services.catalogue import service_save
from tests.factories import DepartmentFactory, RoutingRuleFactory, ServiceFactory
from tests.reports.admin_support import staff

pytestmark = pytest.mark.django_db


def _group_rule(group: str) -> RoutingRule:
    return RoutingRuleFactory(service=None, group=group, department=DepartmentFactory(name="Roads"))


def _post_data(service: Service) -> dict[str, object]:
    return {
        "service_code": service.service_code, "name": service.name, "group": service.group,
        "department": service.department_id, "type": "realtime", "order": 100, "active": "on",
        "attributes-TOTAL_FORMS": 0, "attributes-INITIAL_FORMS": 0,
    }  # fmt: skip


def _post(client, service: Service, group: str):
    url = reverse("admin:reports_service_change", args=[service.pk])
    return client.post(url, {**_post_data(service), "group": group}, follow=True)


def _routed_to(service: Service) -> int | None:
    service.refresh_from_db()
    return service.route(lat=None, long=None).department_id


def test_renaming_the_group_of_its_last_category_carries_the_rules_over(client, superuser):
    service = ServiceFactory(group="Streets")
    rule = _group_rule("Streets")
    assert _routed_to(service) == rule.department_id
    client.force_login(superuser)
    response = _post(client, service, "Roads and streets")
    assert response.status_code == 200
    page = response.content.decode()
    assert "the routing rules that named “Streets” now name “Roads and streets”" in page
    assert "group Roads and streets → Roads" in page
    rule.refresh_from_db()
    assert rule.group == "Roads and streets"
    assert _routed_to(service) == rule.department_id


@pytest.mark.parametrize("group", ["Health", ""])
def test_a_move_that_would_strand_the_groups_rules_is_refused_naming_them(client, superuser, group):
    """Into a group that holds other categories the rules would route those too; with no
    group they would match nothing. The city changes the rules first."""
    service = ServiceFactory(group="Streets")
    ServiceFactory(group="Health")
    rule = _group_rule("Streets")
    client.force_login(superuser)
    response = _post(client, service, group)
    assert response.status_code == 200
    page = response.content.decode()
    assert "No category would be left in the group “Streets”" in page
    assert "routing rules name it: group Streets → Roads." in page
    service.refresh_from_db()
    rule.refresh_from_db()
    assert (service.group, rule.group) == ("Streets", "Streets")
    assert _routed_to(service) == rule.department_id
    # With its rule moved first, the category follows.
    rule.group = "Health"
    rule.full_clean()
    rule.save()
    if group:
        assert _post(client, service, group).status_code == 200
        service.refresh_from_db()
        assert service.group == "Health"


def test_a_category_leaving_a_group_that_keeps_others_leaves_the_rules(client, superuser):
    service = ServiceFactory(group="Streets")
    ServiceFactory(group="Streets")
    rule = _group_rule("Streets")
    client.force_login(superuser)
    page = _post(client, service, "Roads").content.decode()
    assert "now name" not in page
    service.refresh_from_db()
    rule.refresh_from_db()
    assert (service.group, rule.group) == ("Roads", "Streets")


def test_the_service_refuses_or_carries_whoever_calls_it():
    service = ServiceFactory(group="Streets")
    ServiceFactory(group="Health")
    rule = _group_rule("Streets")
    service.group = "Health"
    with pytest.raises(ValidationError, match="routing rules name it"):
        service_save(service=service)
    assert Service.objects.get(pk=service.pk).group == "Streets"
    service.group = "Pavements"
    move = service_save(service=service)
    assert move is not None and move.carried
    rule.refresh_from_db()
    assert rule.group == "Pavements"


def test_deleting_the_last_category_of_a_group_that_rules_name_is_refused(client, superuser):
    service = ServiceFactory(group="Streets")
    rule = _group_rule("Streets")
    client.force_login(superuser)
    url = reverse("admin:reports_service_delete", args=[service.pk])
    response = client.post(url, {"post": "yes"})
    assert response.status_code == 200
    assert "routing rules name it: group Streets → Roads" in response.content.decode()
    assert Service.objects.filter(pk=service.pk).exists()
    rule.delete()
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not Service.objects.filter(pk=service.pk).exists()


def _move(client, services: list[Service], group: str):
    data = {
        "action": "move_to_group", "_selected_action": [s.pk for s in services],
        "apply": "Move", "group": group,
    }  # fmt: skip
    return client.post(reverse("admin:reports_service_changelist"), data, follow=True)


def test_a_group_of_several_categories_is_renamed_with_its_rules_at_once(client, superuser):
    """One by one, the last would join the others in a group no longer new, and be refused."""
    streets = [ServiceFactory(group="Streets"), ServiceFactory(group="Streets")]
    rule = _group_rule("Streets")
    client.force_login(superuser)
    data = {"action": "move_to_group", "_selected_action": [s.pk for s in streets]}
    page = client.post(reverse("admin:reports_service_changelist"), data).content.decode()
    assert "2 categories will move:" in page and 'name="group"' in page
    # Not all of the group: the rules stay with the category left in it.
    _move(client, streets[:1], "Roads")
    assert RoutingRule.objects.get().group == "Streets"
    # The second alone is refused: Roads holds the first one already.
    url = reverse("admin:reports_service_change", args=[streets[1].pk])
    response = client.post(url, {**_post_data(streets[1]), "group": "Roads"})
    assert response.status_code == 200
    assert "“Roads” would hold other categories" in response.content.decode()
    _move(client, streets[:1], "Streets")
    page = _move(client, streets, "Roads").content.decode()
    assert "the routing rules that named “Streets” now name “Roads”" in page
    assert "Moved 2 categories." in page
    rule.refresh_from_db()
    assert rule.group == "Roads"
    assert {s.group for s in Service.objects.all()} == {"Roads"}
    assert all(_routed_to(s) == rule.department_id for s in streets)


def test_moving_a_group_into_one_that_holds_others_is_refused_and_changes_nothing(
    client, superuser
):
    streets = [ServiceFactory(group="Streets"), ServiceFactory(group="Streets")]
    ServiceFactory(group="Health")
    _group_rule("Streets")
    client.force_login(superuser)
    page = _move(client, streets, "Health").content.decode()
    assert "“Health” would hold other categories" in page
    assert RoutingRule.objects.get().group == "Streets"
    assert {s.group for s in Service.objects.filter(pk__in=[s.pk for s in streets])} == {"Streets"}


def test_only_a_superuser_moves_categories_between_groups(client):
    service = ServiceFactory(group="Streets")
    client.force_login(staff("manager", service.department, StaffMembership.Role.MANAGER))
    page = client.get(reverse("admin:reports_service_changelist"))
    assert page.status_code == 200
    assert "move_to_group" not in page.content.decode()
    _move(client, [service], "Roads")
    service.refresh_from_db()
    assert service.group == "Streets"
