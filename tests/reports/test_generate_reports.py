"""generate_reports: bulk synthetic reports that look like a real city's history."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command

from civic311.geo import in_city_bounds
from departments.routing import route
from reports.models import RequestUpdate, ServiceRequest
from tests.factories import (
    BoundaryFactory,
    DepartmentFactory,
    RoutingRuleFactory,
    ServiceAttributeFactory,
    ServiceFactory,
    ServiceRequestFactory,
    square,
)

pytestmark = pytest.mark.django_db


def generate(*args: str) -> str:
    out = io.StringIO()
    call_command("generate_reports", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_generate_without_services_fails_and_points_to_seed_demo():
    with pytest.raises(CommandError, match="seed_demo"):
        generate("--count", "10")
    assert not ServiceRequest.objects.exists()


@pytest.mark.parametrize("args", [["--count", "0"], ["--count", "5", "--batch", "0"]])
def test_generate_refuses_non_positive_numbers(args):
    ServiceFactory()
    with pytest.raises(CommandError, match="positive"):
        generate(*args)


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--seed", "-1"], "--seed must be 0 or more, got -1"),  # numpy's ValueError
     (["--days", "9999999"], "--days must be at most 36,500")],  # OverflowError
)  # fmt: skip
def test_generate_refuses_a_seed_or_span_it_cannot_use(args, message):
    ServiceFactory()
    with pytest.raises(CommandError, match=message):
        generate("--count", "5", *args)
    assert not ServiceRequest.objects.exists()


def test_generate_creates_routed_realistic_reports_with_timelines():
    pothole = ServiceFactory(sla_hours=48)
    ServiceFactory(group="Parks")
    ServiceFactory(active=False)
    # The whole eastern half of the city goes to the road crew for potholes.
    east = BoundaryFactory(geometry=square(35.70, -78.64, 35.88, -78.50))
    crew = DepartmentFactory(name="Road crew")
    RoutingRuleFactory(service=pothole, boundary=east, department=crew)

    output = generate("--count", "600", "--batch", "250", "--seed", "7")

    assert "Created 600 reports" in output
    reports = list(ServiceRequest.objects.select_related("service"))
    assert len(reports) == 600
    assert {r.source for r in reports} == {ServiceRequest.Source.GENERATED}
    assert all(in_city_bounds(r.lat, r.long) for r in reports)
    assert {r.service.active for r in reports} == {True}
    assert not any(r.reporter_email or r.reporter_name or r.device_id for r in reports)
    states = {r.state for r in reports}
    assert {"fixed", "new"} <= states and len(states) >= 5
    assert all((r.status == "closed") == (r.state in ServiceRequest.CLOSED_STATES) for r in reports)
    assert all(r.updated_datetime >= r.requested_datetime for r in reports)
    created = RequestUpdate.objects.filter(kind=RequestUpdate.Kind.CREATED)
    assert created.count() == 600
    assert RequestUpdate.objects.filter(kind=RequestUpdate.Kind.STATE).count() == sum(
        r.state != "new" for r in reports
    )
    # Every row got the department that routing itself would choose.
    for report in reports[:80]:
        decision = route(
            service_id=report.service_id,
            group=report.service.group,
            default_department_id=report.service.department_id,
            lat=report.lat,
            long=report.long,
        )
        assert (report.department_id, report.area_id) == (decision.department_id, decision.area_id)
    assert ServiceRequest.objects.filter(department=crew).exists()


def test_generated_rows_follow_the_report_rules():
    """Status and closed time follow the state, a duplicate names an earlier master of its
    category, every routed report says so on its timeline, required questions are answered."""
    service = ServiceFactory(sla_hours=24)
    ServiceAttributeFactory(service=service, code="count", required=True, datatype="number")
    generate("--count", "400", "--batch", "150", "--seed", "11")

    reports = list(ServiceRequest.objects.select_related("duplicate_of"))
    duplicates = [r for r in reports if r.state == ServiceRequest.State.DUPLICATE]
    assert duplicates
    for report in duplicates:
        assert report.duplicate_of.service_id == report.service_id
        assert report.duplicate_of.state != ServiceRequest.State.DUPLICATE
        assert f"#{report.duplicate_of_id}" in report.status_notes
    for report in reports:
        assert (report.closed_datetime is not None) == (report.status == "closed")
        assert report.expected_datetime == report.requested_datetime + timedelta(hours=24)
        assert report.attributes["count"] in {"1", "2", "3", "4"}
    routed = RequestUpdate.objects.filter(kind=RequestUpdate.Kind.ROUTED, public=False)
    assert routed.count() == len(reports)
    assert routed.filter(text__startswith=f"Routed to {service.department.name}").exists()


def test_generate_is_repeatable_with_a_seed_and_dry_run_saves_nothing():
    ServiceFactory()
    assert "Would create 50" in generate("--count", "50", "--seed", "3", "--dry-run")
    assert not ServiceRequest.objects.exists()

    generate("--count", "50", "--seed", "3")
    first = list(ServiceRequest.objects.order_by("pk").values_list("lat", "long", "state"))
    ServiceRequest.objects.all().delete()
    generate("--count", "50", "--seed", "3")
    second = list(ServiceRequest.objects.order_by("pk").values_list("lat", "long", "state"))
    assert first == second


def test_generated_history_runs_oldest_first_and_masters_come_before_their_duplicates():
    ServiceFactory()
    ServiceFactory(group="Parks")
    generate("--count", "500", "--batch", "120", "--seed", "5")

    rows = list(ServiceRequest.objects.order_by("pk").values_list("pk", "requested_datetime"))
    assert [when for _pk, when in rows] == sorted(when for _pk, when in rows)
    duplicates = ServiceRequest.objects.filter(state="duplicate").select_related("duplicate_of")
    assert duplicates.exists()
    for report in duplicates:
        assert report.duplicate_of.requested_datetime <= report.requested_datetime
        assert report.duplicate_of.service_id == report.service_id
    # Closed reports have a STATE entry whose time is the closing time.
    closed = ServiceRequest.objects.filter(status="closed").first()
    entry = RequestUpdate.objects.get(request=closed, kind=RequestUpdate.Kind.STATE)
    assert entry.created == closed.closed_datetime == closed.updated_datetime


def test_ids_reserved_by_the_generator_are_not_handed_out_again():
    service = ServiceFactory()
    generate("--count", "30", "--seed", "2")
    top = ServiceRequest.objects.order_by("-pk").values_list("pk", flat=True).first()

    later = ServiceRequestFactory(service=service)
    generate("--count", "10", "--seed", "3")

    assert later.pk > top
    assert ServiceRequest.objects.count() == 41
    assert RequestUpdate.objects.filter(kind="created").count() == 40


def test_timeline_ids_taken_by_the_generator_are_not_handed_out_again():
    """Each batch's entries take a block of the timeline's ids (three per report): an entry
    made afterwards the usual way gets an id after all of them."""
    service = ServiceFactory()
    generate("--count", "30", "--batch", "7", "--seed", "2")
    top = RequestUpdate.objects.order_by("-pk").values_list("pk", flat=True).first()

    report = ServiceRequestFactory(service=service)
    entry = RequestUpdate.objects.create(
        request=report, kind="note", created=report.updated_datetime
    )

    assert entry.pk > top
    assert RequestUpdate.objects.filter(kind="created").count() == 30


@pytest.mark.django_db(transaction=True)
def test_a_load_of_its_own_commits_and_rebuilds_every_index_and_foreign_key():
    """Outside a caller's transaction the rows are committed first and the indexes rebuilt
    afterwards (on PostgreSQL over several connections): every one comes back."""
    from django.db import connection

    def schema() -> dict[str, list]:
        with connection.cursor() as cursor:
            return {
                table: sorted(
                    (name, tuple(c["columns"]), c["index"], c["foreign_key"])
                    for name, c in connection.introspection.get_constraints(cursor, table).items()
                )
                for table in ("reports_servicerequest", "reports_requestupdate")
            }

    ServiceFactory()
    before = schema()
    generate("--count", "300", "--batch", "100", "--seed", "4")

    assert schema() == before
    if connection.vendor == "postgresql":  # every foreign key was checked in the end
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_constraint WHERE NOT convalidated AND "
                "conrelid::regclass::text IN ('reports_servicerequest', 'reports_requestupdate')"
            )
            assert cursor.fetchone()[0] == 0
            # The insights summaries were counted again beside the index builds.
            cursor.execute("SELECT sum(n) FROM insights_received_day")
            assert cursor.fetchone()[0] == 300
    assert ServiceRequest.objects.count() == 300
    assert RequestUpdate.objects.filter(kind=RequestUpdate.Kind.CREATED).count() == 300


@pytest.mark.django_db(transaction=True)
def test_index_builds_run_side_by_side_and_a_failing_one_is_raised_after_the_others():
    from django.db import ProgrammingError, connection

    from reports.bulk import build_indexes

    if connection.vendor != "postgresql":
        pytest.skip("side-by-side index builds are PostgreSQL's path")
    good = [
        f"CREATE INDEX test_side_{n} ON reports_servicerequest (requested_datetime, id)"
        for n in range(3)
    ]
    try:
        with pytest.raises(ProgrammingError):
            build_indexes(["CREATE INDEX test_side_bad ON no_such_table (id)", *good])
        with connection.cursor() as cursor:
            names = connection.introspection.get_constraints(cursor, "reports_servicerequest")
        assert {f"test_side_{n}" for n in range(3)} <= set(names)
    finally:
        with connection.cursor() as cursor:
            for n in range(3):
                cursor.execute(f"DROP INDEX IF EXISTS test_side_{n}")
