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
    assert post(client, raw_key, "glass").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert post(client, raw_key, "glass").status_code == 200
    read = " ".join(q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT"))
    for table in catalogue.TABLES + ("reports_service", "reports_serviceattribute"):
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
