"""The city's administrator sets up categories and their questions in the admin: a setup the
forms accept must let citizens and apps file reports."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from reports.models import AttributeValue, Service, ServiceAttribute
from tests.factories import AttributeValueFactory, DepartmentFactory, ServiceAttributeFactory

pytestmark = pytest.mark.django_db
LIST = ServiceAttribute.Datatype.SINGLEVALUELIST


def _service_data(department_id: int, **question: str) -> dict[str, object]:
    data: dict[str, object] = {
        "service_code": "pothole",
        "name": "Pothole",
        "department": department_id,
        "type": "realtime",
        "order": 100,
        "active": "on",
        "attributes-TOTAL_FORMS": 1,
        "attributes-INITIAL_FORMS": 0,
    }
    data.update({f"attributes-0-{key}": value for key, value in question.items()})
    return data


QUESTION = {
    "code": "depth",
    "variable": "on",
    "datatype": LIST,
    "order": 1,
    "description": "How deep?",
}


def test_a_required_list_question_without_values_is_refused_on_the_category_page(client, superuser):
    """It has no answer anyone may give, so every report of the category was refused."""
    client.force_login(superuser)
    url = reverse("admin:reports_service_add")
    department = DepartmentFactory()
    response = client.post(url, _service_data(department.pk, **QUESTION, required="on"))
    assert response.status_code == 200
    assert "A required list question needs its values first" in response.content.decode()
    assert not Service.objects.exists()
    # Not required, it is saved; its values are then added on its own page.
    response = client.post(url, _service_data(department.pk, **QUESTION))
    assert response.status_code == 302
    assert ServiceAttribute.objects.get(code="depth").required is False


def _attribute_data(attribute: ServiceAttribute, values: list[AttributeValue], **change):
    data: dict[str, object] = {
        "service": attribute.service_id,
        "code": attribute.code,
        "variable": "on",
        "datatype": attribute.datatype,
        "order": 1,
        "description": attribute.description,
        "values-TOTAL_FORMS": len(values),
        "values-INITIAL_FORMS": len(values),
        **change,
    }
    for number, value in enumerate(values):
        prefix = f"values-{number}-"
        data.update(
            {
                f"{prefix}id": value.pk,
                f"{prefix}attribute": attribute.pk,
                f"{prefix}key": value.key,
                f"{prefix}name": value.name,
                f"{prefix}order": 1,
            }
        )
    return data


def test_a_required_list_question_keeps_at_least_one_value_on_its_own_page(client, superuser):
    client.force_login(superuser)
    attribute = ServiceAttributeFactory(code="depth", datatype=LIST)
    url = reverse("admin:reports_serviceattribute_change", args=[attribute.pk])
    # Made required with its first value in the same save: accepted.
    data = _attribute_data(attribute, [], required="on")
    data.update(
        {
            "values-TOTAL_FORMS": 1,
            "values-0-key": "deep",
            "values-0-name": "Deep",
            "values-0-order": 1,
        }
    )
    assert client.post(url, data).status_code == 302
    attribute.refresh_from_db()
    assert attribute.required
    value = attribute.values.get()
    # Deleting its last value while it is required: refused, the value stays.
    data = _attribute_data(attribute, [value], required="on", **{"values-0-DELETE": "on"})
    response = client.post(url, data)
    assert response.status_code == 200
    assert "needs at least one value" in response.content.decode()
    assert attribute.values.count() == 1
    # Required without any value: refused.
    empty = ServiceAttributeFactory(code="size", datatype=LIST, service=attribute.service)
    url = reverse("admin:reports_serviceattribute_change", args=[empty.pk])
    assert client.post(url, _attribute_data(empty, [], required="on")).status_code == 200
    empty.refresh_from_db()
    assert not empty.required


def test_a_list_question_with_values_may_be_made_required_on_the_category_page(client, superuser):
    client.force_login(superuser)
    value = AttributeValueFactory(attribute__datatype=LIST, attribute__code="depth")
    attribute = value.attribute
    service = attribute.service
    data = _service_data(service.department_id, **QUESTION, required="on")
    data.update(
        {
            "service_code": service.service_code,
            "attributes-INITIAL_FORMS": 1,
            "attributes-0-id": attribute.pk,
            "attributes-0-service": service.pk,
        }
    )
    url = reverse("admin:reports_service_change", args=[service.pk])
    assert client.post(url, data).status_code == 302
    attribute.refresh_from_db()
    assert attribute.required


def test_the_inline_questions_and_values_are_named_for_screen_readers(client, superuser):
    """Django's tabular inlines label no input: a screen reader said "edit text"."""
    client.force_login(superuser)
    value = AttributeValueFactory(attribute__datatype=LIST)
    attribute = value.attribute
    pages = {
        "admin:reports_service_change": (attribute.service_id, "attributes"),
        "admin:reports_serviceattribute_change": (attribute.pk, "values"),
    }
    for url_name, (pk, prefix) in pages.items():
        page = client.get(reverse(url_name, args=[pk])).content.decode()
        for name, label in [("0-DELETE", "Delete"), ("0-order", "Order")]:
            tag = re.search(rf'<[^>]*id="id_{prefix}-{name}"[^>]*>', page)
            assert tag is not None and f'aria-label="{label}"' in tag.group(0), (prefix, name)
    page = client.get(reverse("admin:reports_service_change", args=[attribute.service_id]))
    assert 'aria-label="Datatype"' in page.content.decode()
