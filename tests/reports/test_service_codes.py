"""A category's code is an identifier for apps: two codes that differ only in capitals
(POTHOLE and pothole) are refused, in the admin, by the model and by the database."""

from __future__ import annotations

import importlib

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from reports.models import Service
from tests.factories import DepartmentFactory, ServiceFactory

pytestmark = pytest.mark.django_db
ADD = reverse("admin:reports_service_add")


def _service_data(department_id: int, code: str) -> dict[str, object]:
    return {
        "service_code": code, "name": "Pothole (again)", "department": department_id,
        "type": "realtime", "order": 100, "active": "on",
        "attributes-TOTAL_FORMS": 0, "attributes-INITIAL_FORMS": 0,
    }  # fmt: skip


def test_a_code_differing_only_in_capitals_is_refused_in_the_admin(client, superuser):
    ServiceFactory(service_code="POTHOLE", name="Potholes")
    client.force_login(superuser)
    department = DepartmentFactory()
    response = client.post(ADD, _service_data(department.pk, "pothole"))
    assert response.status_code == 200
    assert "The category “Potholes” has the code POTHOLE" in response.content.decode()
    assert list(Service.objects.values_list("service_code", flat=True)) == ["POTHOLE"]
    assert client.post(ADD, _service_data(department.pk, "pothole-deep")).status_code == 302


def test_changing_a_code_to_another_in_other_capitals_is_refused_and_its_own_is_kept():
    ServiceFactory(service_code="graffiti", name="Graffiti")
    service = ServiceFactory(service_code="tags")
    service.service_code = "GRAFFITI"
    with pytest.raises(ValidationError) as refused:
        service.full_clean()
    assert "The category “Graffiti” has the code graffiti" in str(refused.value)
    service.service_code = "Tags"  # its own code in other capitals: fine
    service.full_clean()


def test_the_database_refuses_a_code_differing_only_in_capitals():
    """Whatever writes it (a data migration, the shell, a script that skips full_clean)."""
    ServiceFactory(service_code="pothole")
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceFactory(service_code="PotHole")


class _Codes:
    """The part of a migration's `apps` the check reads, with codes the constraint that the
    migration adds would refuse."""

    def __init__(self, codes: list[str]) -> None:
        self.codes = codes

    def get_model(self, app: str, name: str) -> object:
        codes = self.codes

        class Manager:
            def order_by(self, *fields: str) -> Manager:
                return self

            def values_list(self, *fields: str, flat: bool) -> list[str]:
                return sorted(codes)

        return type("Service", (), {"objects": Manager()})


def test_the_migration_stops_naming_existing_codes_that_differ_only_in_capitals():
    migration = importlib.import_module("reports.migrations.0034_service_code_unique_ignoring_case")
    check = migration.refuse_codes_differing_in_capitals
    with pytest.raises(RuntimeError, match=r"differ only in capitals.*: POTHOLE, pothole\. "):
        check(_Codes(["pothole", "graffiti", "POTHOLE"]), None)
    check(_Codes(["pothole", "graffiti"]), None)  # nothing to say
