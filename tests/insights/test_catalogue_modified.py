"""The open-data catalogues' `modified` dates and HTTP validators: harvesters (data.gov,
data.europa.eu) harvest a dataset again whenever its `modified` moves, so it moves when the
data changes, and only then."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date
from django.utils.timezone import now as real_now

from reports.insights import catalogue
from reports.models import AttributeValue, ServiceListChange
from reports.services.catalogue import service_save
from tests.factories import AttributeValueFactory, ServiceFactory, ServiceRequestFactory

pytestmark = pytest.mark.django_db

LONG_AGO = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def modified(client) -> dict[str, str]:
    """Each dataset's `modified` in /data.json, by its title's last word, with DCAT-AP's
    checked against it."""
    found = {
        entry["identifier"].rsplit("#", 1)[1]: entry["modified"]
        for entry in client.get("/data.json").json()["dataset"]
    }
    jsonld = client.get("/data/catalog.jsonld").json()["dcat:dataset"]
    assert {item["@id"].rsplit("#", 1)[1]: item["dct:modified"] for item in jsonld} == found
    return found


def visit_later(monkeypatch, hours: int) -> None:
    """The harvester comes back `hours` later (nothing is written meanwhile)."""
    later = real_now() + timedelta(hours=hours)
    monkeypatch.setattr(timezone, "now", lambda: later)


def categories_dated_long_ago() -> None:
    ServiceListChange.objects.filter(id=1).update(changed_at=LONG_AGO)


def test_modified_stays_put_between_visits_when_nothing_changes(client, monkeypatch) -> None:
    """It was the time of the request for the categories: every visit was a change."""
    report = ServiceRequestFactory(updated_datetime=LONG_AGO)
    created = timezone.now()
    visit_later(monkeypatch, hours=1)
    first = modified(client)
    visit_later(monkeypatch, hours=2)
    assert modified(client) == first
    assert first["reports"] == catalogue._iso(report.updated_datetime)
    assert first["services"] <= catalogue._iso(created)


def test_changing_a_category_through_the_service_moves_only_its_dataset(client) -> None:
    service = ServiceFactory(name="Potholes")
    ServiceRequestFactory(service=service, updated_datetime=LONG_AGO)
    categories_dated_long_ago()
    before = modified(client)
    assert before["services"] == catalogue._iso(LONG_AGO)
    service.name = "Potholes and sinkholes"
    service_save(service=service)
    after = modified(client)
    assert after["services"] > before["services"]
    assert after["services"] >= catalogue._iso(timezone.now() - timedelta(minutes=1))
    assert after["reports"] == before["reports"]


def test_a_change_rolled_back_moves_nothing(client) -> None:
    service = ServiceFactory()
    categories_dated_long_ago()
    with pytest.raises(RuntimeError), transaction.atomic():
        service.name = "Never saved"
        service.save()
        raise RuntimeError
    assert modified(client)["services"] == catalogue._iso(LONG_AGO)


def test_changing_a_category_in_the_admin_moves_it(client, superuser) -> None:
    service = ServiceFactory(service_code="pothole", name="Pothole")
    categories_dated_long_ago()
    assert modified(client)["services"] == catalogue._iso(LONG_AGO)
    client.force_login(superuser)
    data = {
        "service_code": "pothole",
        "name": "Pothole in the road",
        "department": service.department_id,
        "group": service.group,
        "type": "realtime",
        "order": 100,
        "active": "on",
        "attributes-TOTAL_FORMS": 0,
        "attributes-INITIAL_FORMS": 0,
    }
    response = client.post(reverse("admin:reports_service_change", args=[service.pk]), data)
    assert response.status_code == 302
    client.logout()
    assert modified(client)["services"] > catalogue._iso(LONG_AGO)


def test_deleting_a_question_value_in_the_admin_moves_it(client, superuser) -> None:
    """A list question's values are in services/{code}.json: taking one away is a change."""
    value = AttributeValueFactory(attribute__datatype="singlevaluelist")
    attribute = value.attribute
    categories_dated_long_ago()
    assert modified(client)["services"] == catalogue._iso(LONG_AGO)
    client.force_login(superuser)
    data = {
        "service": attribute.service_id,
        "code": attribute.code,
        "variable": "on",
        "datatype": attribute.datatype,
        "order": 1,
        "description": attribute.description,
        "values-TOTAL_FORMS": 1,
        "values-INITIAL_FORMS": 1,
        "values-0-id": value.pk,
        "values-0-attribute": attribute.pk,
        "values-0-key": value.key,
        "values-0-name": value.name,
        "values-0-order": 1,
        "values-0-DELETE": "on",
    }
    url = reverse("admin:reports_serviceattribute_change", args=[attribute.pk])
    assert client.post(url, data).status_code == 302
    assert not AttributeValue.objects.exists()
    client.logout()
    assert modified(client)["services"] > catalogue._iso(LONG_AGO)


def test_catalogue_answers_a_conditional_get_until_something_changes(client) -> None:
    service = ServiceFactory()
    ServiceRequestFactory(service=service, updated_datetime=LONG_AGO)
    categories_dated_long_ago()
    for url in ("/data.json", "/data/catalog.jsonld"):
        response = client.get(url)
        assert response["Last-Modified"] == http_date(LONG_AGO.timestamp())
        assert client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
        since = response["Last-Modified"]
        assert client.get(url, HTTP_IF_MODIFIED_SINCE=since).status_code == 304
    service.name = "Renamed"
    service_save(service=service)
    for url in ("/data.json", "/data/catalog.jsonld"):
        changed = client.get(url, HTTP_IF_MODIFIED_SINCE=http_date(LONG_AGO.timestamp()))
        assert changed.status_code == 200
        assert changed["Last-Modified"] != http_date(LONG_AGO.timestamp())
        assert changed["ETag"] != response["ETag"]
