"""The process's copy of the catalogue: used while the database's version stands, read again
after any write to a catalogue table, by whatever path it was made."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from departments import catalogue
from departments.models import Boundary, Department, RoutingRule
from reports.models import AttributeValue, Service, ServiceAttribute, ServiceRequest
from reports.service_catalogue import active_service
from tests.factories import (
    CITY_CENTRE,
    AttributeValueFactory,
    BoundaryFactory,
    DepartmentFactory,
    RoutingRuleFactory,
    ServiceAttributeFactory,
    ServiceFactory,
    api_key_create,
    square,
)

pytestmark = pytest.mark.django_db

LAT, LNG = CITY_CENTRE
AROUND_CENTRE = square(LAT - 0.01, LNG - 0.01, LAT + 0.01, LNG + 0.01)
URL = "/open311/v2/requests.json"


def post(client, raw_key: str, code: str):
    data = {"api_key": raw_key, "service_code": code, "lat": LAT, "long": LNG}
    return client.post(URL, {**data, "description": "Glass on the cycle lane."})


@pytest.mark.parametrize(
    "write",
    [
        lambda: DepartmentFactory(),
        lambda: Department.objects.filter(pk=Department.objects.first().pk).update(name="Renamed"),
        lambda: BoundaryFactory(),
        lambda: Boundary.objects.all().delete(),
        lambda: RoutingRule.objects.update(priority=7),
        lambda: ServiceFactory(),
        lambda: Service.objects.filter(pk=Service.objects.first().pk).update(name="Renamed"),
        lambda: ServiceAttribute.objects.update(description="Renamed"),
        lambda: AttributeValue.objects.all().delete(),
    ],
    ids=[
        "department added", "department renamed", "area added", "areas deleted",
        "rules updated", "service added", "service renamed", "question reworded",
        "choices deleted",
    ],
)  # fmt: skip
def test_any_write_to_a_catalogue_table_changes_the_version(write):
    attribute = ServiceAttributeFactory(service=ServiceFactory())
    AttributeValueFactory(attribute=attribute)
    RoutingRuleFactory(service=attribute.service, boundary=BoundaryFactory())
    before = catalogue.read_version()
    write()
    assert catalogue.read_version() != before


def test_a_rule_changed_by_a_queryset_update_routes_the_next_report(client):
    service = ServiceFactory(service_code="glass")
    first, second = DepartmentFactory(), DepartmentFactory()
    RoutingRuleFactory(service=service, department=first)
    raw_key = api_key_create()[1]
    assert post(client, raw_key, "glass").status_code == 200
    RoutingRule.objects.update(department=second)  # no save(), no signal
    assert post(client, raw_key, "glass").status_code == 200
    departments = ServiceRequest.objects.order_by("pk").values_list("department", flat=True)
    assert list(departments) == [first.pk, second.pk]


def test_a_kept_catalogue_costs_a_submission_one_query_for_it(client):
    service = ServiceFactory(service_code="glass")
    ServiceAttributeFactory(service=service, code="size", required=False)
    RoutingRuleFactory(service=service, boundary=BoundaryFactory(geometry=AROUND_CENTRE))
    raw_key = api_key_create()[1]
    # The first report at that place makes its set of areas, which changes the version:
    # the second reads the catalogue again, with the set.
    for _ in range(2):
        assert post(client, raw_key, "glass").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert post(client, raw_key, "glass").status_code == 200
    read = " ".join(q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT"))
    kept = ("reports_service", "reports_serviceattribute", "departments_areaset")
    for table in catalogue.TABLES + kept:
        assert f'FROM "{table}"' not in read
    assert read.count(catalogue.VERSION_TABLE) == 2  # the service, then its routing
    report = ServiceRequest.objects.order_by("pk").last()
    assert report.area is not None and report.department_id is not None


def test_an_inactive_or_deleted_service_is_gone_at_once(client):
    service = ServiceFactory(service_code="glass")
    raw_key = api_key_create()[1]
    assert active_service("glass") is not None
    Service.objects.filter(pk=service.pk).update(active=False)
    assert active_service("glass") is None
    assert post(client, raw_key, "glass").status_code == 404


def test_a_rolled_back_change_is_not_kept():
    ServiceFactory(service_code="glass", name="Glass")
    assert active_service("glass").name == "Glass"
    with pytest.raises(RuntimeError), transaction.atomic():
        Service.objects.update(name="Never committed")
        assert active_service("glass").name == "Never committed"
        raise RuntimeError
    assert active_service("glass").name == "Glass"


def test_what_callers_get_is_their_own_copy():
    ServiceFactory(service_code="glass", name="Glass")
    mine = active_service("glass")
    mine.name = "Changed by a caller"
    assert active_service("glass").name == "Glass"


def test_a_lost_version_row_is_made_again():
    from departments.models import CatalogueVersion

    CatalogueVersion.objects.all().delete()
    version = catalogue.read_version()
    assert CatalogueVersion.objects.get().version == version
    ServiceFactory()
    assert catalogue.read_version() != version


def test_the_department_a_caller_gets_is_its_own_copy_too():
    ServiceFactory(service_code="glass")
    decision = active_service("glass").route(lat=None, long=None)  # the default department
    decision.department.email = "changed-by-a-caller@example.net"
    assert active_service("glass").department.email != "changed-by-a-caller@example.net"


def test_an_area_moved_by_a_queryset_update_routes_by_its_new_shape():
    from civic311.geo import parse_area

    service = ServiceFactory(service_code="glass")
    area = BoundaryFactory(geometry=AROUND_CENTRE)
    rule = RoutingRuleFactory(service=service, boundary=area)
    assert service.route(lat=LAT, long=LNG).department_id == rule.department_id
    elsewhere = square(LAT + 0.5, LNG + 0.5, LAT + 0.6, LNG + 0.6)
    west, south, east, north = parse_area(elsewhere).bounds
    # No save(): `updated` (auto_now) stays as it was.
    Boundary.objects.filter(pk=area.pk).update(
        geometry=elsewhere, min_lat=south, max_lat=north, min_long=west, max_long=east
    )
    assert service.route(lat=LAT + 0.55, long=LNG + 0.55).department_id == rule.department_id
    assert service.route(lat=LAT, long=LNG).department_id == service.department_id


@pytest.mark.django_db(transaction=True)
def test_a_write_while_the_version_row_is_gone_is_not_missed():
    """With the row gone (a flushed database), a writer's trigger makes it again; a reader
    making it at the same time waits for the writer and reads the rows as written."""
    import threading

    import psycopg

    from departments.models import CatalogueVersion

    if connection.vendor != "postgresql":
        pytest.skip("two concurrent transactions need PostgreSQL")
    ServiceFactory(service_code="glass", name="Glass")
    CatalogueVersion.objects.all().delete()
    settings = connection.settings_dict
    writer = psycopg.connect(
        host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"],
        dbname=settings["NAME"], password=settings["PASSWORD"] or None,
    )  # fmt: skip
    try:
        writer.execute("UPDATE reports_service SET name = 'Renamed' WHERE service_code = 'glass'")
        committing = threading.Timer(0.5, writer.commit)
        committing.start()
        assert active_service("glass").name == "Renamed"  # waited for the writer's commit
        committing.join()
        assert active_service("glass").name == "Renamed"
    finally:
        writer.close()
