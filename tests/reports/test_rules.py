"""The rules that tie a report's fields together (reports/rules.py), and the database
constraints that back them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.db.models import RestrictedError
from django.utils import timezone

from departments.routing import RoutingDecision
from reports import rules
from reports.models import ServiceRequest
from tests.factories import DepartmentFactory, ServiceFactory, ServiceRequestFactory

pytestmark = pytest.mark.django_db
State = ServiceRequest.State


@pytest.mark.parametrize("state", [s for s in State.values if s != State.DUPLICATE])
def test_apply_state_sets_status_and_closed_time_at_the_given_now(state):
    report = ServiceRequest(state=State.NEW)
    then = timezone.now() - timedelta(days=40)
    rules.apply_state(report, state, now=then)
    closed = state in ServiceRequest.CLOSED_STATES
    assert report.status == ("closed" if closed else "open")
    assert report.closed_datetime == (then if closed else None)


def test_reopening_clears_the_closed_time():
    report = ServiceRequest()
    rules.apply_state(report, State.FIXED, now=timezone.now())
    rules.apply_state(report, State.ACKNOWLEDGED, now=timezone.now())
    assert (report.status, report.closed_datetime) == ("open", None)


def test_a_duplicate_needs_a_master():
    report = ServiceRequest(pk=5)
    with pytest.raises(ValueError, match="master"):
        rules.apply_state(report, State.DUPLICATE, now=timezone.now())
    with pytest.raises(ValueError, match="itself"):
        rules.apply_duplicate(report, 5, now=timezone.now())
    rules.apply_duplicate(report, 3, now=timezone.now())
    assert (report.state, report.status, report.duplicate_of_id) == (State.DUPLICATE, "closed", 3)
    assert rules.duplicate_text(3, "Same tree.") == (
        "Closed as a duplicate of report #3. Same tree."
    )


def test_only_a_duplicate_names_a_master_in_the_database():
    master = ServiceRequestFactory()
    report = ServiceRequestFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceRequest.objects.filter(pk=report.pk).update(duplicate_of=master)
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceRequestFactory(duplicate_of=master)
    rules.apply_duplicate(report, master.pk, now=timezone.now())
    report.save()
    rules.apply_state(report, State.ACKNOWLEDGED, now=timezone.now())
    assert report.duplicate_of_id is None
    report.save()


def test_routing_sets_department_area_and_target_time():
    service = ServiceFactory(sla_hours=48)
    requested = timezone.now() - timedelta(days=3)
    report = ServiceRequest(service=service, requested_datetime=requested)
    department = DepartmentFactory(name="Road crew")
    decision = RoutingDecision(department_id=department.pk, rule_id=7, area_id=None)
    rules.apply_routing(report, decision)
    assert report.department_id == department.pk
    assert report.expected_datetime == requested + timedelta(hours=48)
    assert rules.routed_text("Road crew", decision) == "Routed to Road crew by routing rule."
    assert rules.expected_datetime(requested, None) is None


def test_allowed_states_follow_the_transitions():
    assert rules.allowed_states(ServiceRequest(state=State.IN_PROGRESS)) == [
        State.FIXED,
        State.NOT_ACTIONABLE,
        State.REFERRED,
    ]
    assert rules.allowed_states(ServiceRequest(state=State.FIXED)) == [
        State.ACKNOWLEDGED,
        State.IN_PROGRESS,
    ]


@pytest.mark.parametrize(
    "fields",
    [
        {"state": State.FIXED, "status": "open"},
        {"state": State.NEW, "status": "closed", "closed_datetime": timezone.now()},
        {"state": State.FIXED, "status": "closed", "closed_datetime": None},
        {"state": State.NEW, "status": "open", "closed_datetime": timezone.now()},
        {"state": State.DUPLICATE, "status": "closed", "duplicate_of": None},
    ],
    ids=["status-not-state", "open-state-closed", "closed-no-time", "open-with-time", "no-master"],
)
def test_database_refuses_rows_that_break_the_rules(fields):
    report = ServiceRequestFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceRequest.objects.filter(pk=report.pk).update(**fields)


def test_a_master_is_not_deleted_from_under_its_duplicates():
    duplicate = ServiceRequestFactory(state=State.DUPLICATE)
    master = duplicate.duplicate_of
    with pytest.raises(RestrictedError):
        master.delete()
    ServiceRequest.objects.filter(pk__in=[master.pk, duplicate.pk]).delete()
    assert not ServiceRequest.objects.exists()
