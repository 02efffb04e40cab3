"""What the staff admin's tests share: staff members of two departments and URL helpers."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.urls import reverse

from departments.models import StaffMembership
from departments.permissions import STAFF_GROUP_NAME
from reports.models import ServiceRequest
from tests.factories import (
    DepartmentFactory,
    ServiceRequestFactory,
    StaffMembershipFactory,
)

CHANGELIST = reverse("admin:reports_servicerequest_changelist")


def staff(username: str, department, role: str = StaffMembership.Role.AGENT):
    membership = StaffMembershipFactory(
        user__username=username, user__is_staff=True, department=department, role=role
    )
    membership.user.groups.add(Group.objects.get(name=STAFF_GROUP_NAME))
    return membership.user


def make_world(citizen, superuser):
    health = DepartmentFactory(name="Health", email="health@city.example.org")
    works = DepartmentFactory(name="Public Works", email="works@city.example.org")
    return {
        "health": health,
        "works": works,
        "citizen": citizen,
        "superuser": superuser,
        "agent_a": staff("agent_a", health),
        "agent_b": staff("agent_b", works),
        "manager_a": staff("manager_a", health, StaffMembership.Role.MANAGER),
        "report": ServiceRequestFactory(
            service__name="Found syringe", service__department=health, department=health
        ),
    }


def login(client, world, who: str):
    if who != "anonymous":
        client.force_login(world[who])
    return client


def change_url(report: ServiceRequest, suffix: str = "change") -> str:
    return reverse(f"admin:reports_servicerequest_{suffix}", args=[report.pk])
