"""Adding a person to a department in the admin gives them the admin access it calls for,
and taking their last membership away takes it back."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from departments.models import StaffMembership
from departments.permissions import STAFF_GROUP_NAME
from tests.factories import DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db
QUEUE = "/admin/reports/servicerequest/"


def in_group(user) -> bool:
    return user.groups.filter(name=STAFF_GROUP_NAME).exists()


def test_a_membership_added_in_the_admin_lets_the_person_work_the_queue(client, superuser):
    water = DepartmentFactory(name="Water")
    person = UserFactory(username="newhire")
    client.force_login(superuser)

    response = client.post(
        reverse("admin:departments_staffmembership_add"),
        {"user": person.pk, "department": water.pk, "role": "agent"},
    )

    assert response.status_code == 302
    person.refresh_from_db()
    assert person.is_staff and in_group(person) and not person.is_superuser
    client.force_login(person)
    assert client.get(QUEUE).status_code == 200


def test_the_last_membership_removed_takes_the_group_away(client, superuser):
    water, health = DepartmentFactory(), DepartmentFactory()
    person = UserFactory(username="leaver")
    client.force_login(superuser)
    for department in (water, health):
        client.post(
            reverse("admin:departments_staffmembership_add"),
            {"user": person.pk, "department": department.pk, "role": "agent"},
        )
    first, second = StaffMembership.objects.filter(user=person).order_by("pk")
    client.post(
        reverse("admin:departments_staffmembership_delete", args=[first.pk]), {"post": "yes"}
    )
    assert in_group(person)  # still a member of the other department
    client.post(
        reverse("admin:departments_staffmembership_changelist"),
        {"action": "delete_selected", "_selected_action": [second.pk], "post": "yes"},
    )
    assert not StaffMembership.objects.filter(user=person).exists()
    assert not in_group(person)
    client.force_login(person)
    assert client.get(QUEUE).status_code == 403


def test_staff_added_on_the_departments_page_get_access(client, superuser):
    water = DepartmentFactory(name="Water", slug="water")
    person = UserFactory(username="inline")
    client.force_login(superuser)
    data = {
        "name": water.name, "slug": water.slug, "email": water.email, "active": "on",
        "memberships-TOTAL_FORMS": 1, "memberships-INITIAL_FORMS": 0,
        "memberships-0-user": person.pk, "memberships-0-role": "manager",
    }  # fmt: skip

    response = client.post(reverse("admin:departments_department_change", args=[water.pk]), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    person.refresh_from_db()
    assert person.is_staff and in_group(person)
    assert Group.objects.get(name=STAFF_GROUP_NAME).user_set.count() == 1


def test_deleting_a_department_takes_its_staffs_access_away(client, superuser):
    water = DepartmentFactory(name="Water")
    person = UserFactory(username="water-only")
    client.force_login(superuser)
    client.post(
        reverse("admin:departments_staffmembership_add"),
        {"user": person.pk, "department": water.pk, "role": "agent"},
    )
    assert in_group(person)

    response = client.post(
        reverse("admin:departments_department_delete", args=[water.pk]), {"post": "yes"}
    )

    assert response.status_code == 302 and not StaffMembership.objects.exists()
    assert not in_group(person)
    client.force_login(person)
    assert client.get(QUEUE).status_code == 403


def test_a_missing_staff_group_is_said_not_a_500(client, superuser):
    Group.objects.filter(name=STAFF_GROUP_NAME).update(name="Riverton staff")
    water = DepartmentFactory(name="Water")
    person = UserFactory(username="newhire")
    client.force_login(superuser)

    response = client.post(
        reverse("admin:departments_staffmembership_add"),
        {"user": person.pk, "department": water.pk, "role": "agent"},
        follow=True,
    )

    assert response.status_code == 200
    assert "group is missing (renamed or deleted)" in response.content.decode()
    assert StaffMembership.objects.filter(user=person).exists()
    person.refresh_from_db()
    assert person.is_staff
