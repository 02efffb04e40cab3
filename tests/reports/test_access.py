"""One permission path for staff: visible_to / editable_by and the scoped fetch."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.core.exceptions import PermissionDenied
from django.http import Http404

from departments.models import StaffMembership
from departments.permissions import STAFF_GROUP_NAME
from reports.access import can_edit_report, report_for_staff
from reports.models import ServiceRequest
from tests.factories import (
    DepartmentFactory,
    ServiceRequestFactory,
    StaffMembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def city(citizen, superuser):
    health, works = DepartmentFactory(name="Health"), DepartmentFactory(name="Public Works")
    group = Group.objects.get(name=STAFF_GROUP_NAME)
    agent = StaffMembershipFactory(
        user__is_staff=True, department=health, role=StaffMembership.Role.AGENT
    ).user
    agent.groups.add(group)
    # Staff with a membership but without the group's permissions: nothing.
    no_group = StaffMembershipFactory(user__is_staff=True, department=health).user
    return {
        "agent": agent,
        "no_group": no_group,
        "citizen": citizen,
        "superuser": superuser,
        "anonymous": AnonymousUser(),
        "ours": ServiceRequestFactory(department=health, service__department=health),
        "theirs": ServiceRequestFactory(department=works, service__department=works),
    }


@pytest.mark.parametrize(
    ("who", "visible", "editable"),
    [
        ("anonymous", set(), set()),
        ("citizen", set(), set()),
        ("no_group", set(), set()),
        ("agent", {"ours", "theirs"}, {"ours"}),
        ("superuser", {"ours", "theirs"}, {"ours", "theirs"}),
    ],
)
def test_visible_to_and_editable_by(city, who, visible, editable):
    user = city[who]
    names = {city[n].pk: n for n in ("ours", "theirs")}
    reports = ServiceRequest.objects.all()
    assert {names[r.pk] for r in reports.visible_to(user)} == visible
    assert {names[r.pk] for r in reports.editable_by(user)} == editable
    # The one-report check agrees with the queryset.
    assert {n for n in ("ours", "theirs") if can_edit_report(user, city[n])} == editable


def test_scoped_fetch_404_for_unseen_403_for_read_only(city):
    agent = city["agent"]
    assert report_for_staff(agent, city["ours"].pk, edit=True) == city["ours"]
    assert report_for_staff(agent, str(city["theirs"].pk)) == city["theirs"]
    with pytest.raises(PermissionDenied):
        report_for_staff(agent, city["theirs"].pk, edit=True)
    for pk in (999_999, "not-a-number"):
        with pytest.raises(Http404):
            report_for_staff(agent, pk)
    with pytest.raises(Http404):
        report_for_staff(city["citizen"], city["ours"].pk)
    with pytest.raises(Http404):
        report_for_staff(UserFactory(is_staff=True), city["ours"].pk)
