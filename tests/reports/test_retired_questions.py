"""A category's question that citizens have answered can't be deleted (its answers vanished
from the report pages, for staff too): the admin refuses and says to retire it instead. A
retired question is asked no more, and the answers given stay on the reports."""

from __future__ import annotations

import pytest
from django.urls import reverse

from reports.attributes import clean_attributes
from reports.forms import ReportForm
from reports.models import ServiceAttribute
from tests.factories import ServiceAttributeFactory, ServiceRequestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def answered() -> ServiceAttribute:
    question = ServiceAttributeFactory(code="lanes", description="Which lanes are blocked?")
    ServiceRequestFactory(service=question.service, attributes={"lanes": "the right lane"})
    return question


def _pages(client, superuser, report) -> list[str]:
    public = client.get(report.get_absolute_url())
    client.force_login(superuser)
    staff = client.get(reverse("admin:reports_servicerequest_change", args=[report.pk]))
    assert public.status_code == staff.status_code == 200
    return [public.content.decode(), staff.content.decode()]


def test_deleting_an_answered_question_is_refused_naming_retiring(client, superuser, answered):
    client.force_login(superuser)
    url = reverse("admin:reports_serviceattribute_delete", args=[answered.pk])
    response = client.post(url, {"post": "yes"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "1 report answers the question “Which lanes are blocked?” (lanes)" in page
    assert "untick “Active” to retire it instead" in page
    assert ServiceAttribute.objects.filter(pk=answered.pk).exists()
    # The list's "Delete selected" action deletes nothing either.
    changelist = reverse("admin:reports_serviceattribute_changelist")
    data = {"action": "delete_selected", "_selected_action": [answered.pk], "post": "yes"}
    assert "1 report answers the question" in client.post(changelist, data).content.decode()
    assert ServiceAttribute.objects.filter(pk=answered.pk).exists()
    # A question nobody answered is deleted as before.
    unanswered = ServiceAttributeFactory(service=answered.service, code="width")
    url = reverse("admin:reports_serviceattribute_delete", args=[unanswered.pk])
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not ServiceAttribute.objects.filter(pk=unanswered.pk).exists()


def test_deleting_an_answered_question_on_its_category_page_is_refused(client, superuser, answered):
    client.force_login(superuser)
    service = answered.service
    prefix = "attributes-0-"
    data = {
        "service_code": service.service_code, "name": service.name,
        "department": service.department_id, "type": "realtime", "order": 100,
        "active": "on", "group": service.group,
        "attributes-TOTAL_FORMS": 1, "attributes-INITIAL_FORMS": 1,
        f"{prefix}id": answered.pk, f"{prefix}service": service.pk, f"{prefix}code": "lanes",
        f"{prefix}variable": "on", f"{prefix}datatype": "string", f"{prefix}order": 1,
        f"{prefix}description": answered.description, f"{prefix}active": "on",
        f"{prefix}DELETE": "on",
    }  # fmt: skip
    response = client.post(reverse("admin:reports_service_change", args=[service.pk]), data)
    assert response.status_code == 200
    assert "untick “Active” to retire it instead" in response.content.decode()
    assert ServiceAttribute.objects.filter(pk=answered.pk).exists()


def test_a_retired_question_is_not_asked_and_its_answers_stay_shown(client, superuser, answered):
    answered.required = True
    answered.active = False
    answered.save()
    service = answered.service
    report = service.requests.get()
    for page in _pages(client, superuser, report):
        assert "Which lanes are blocked?" in page and "the right lane" in page
    # Not asked: not in the citizens' form, not in the API's definition, not required.
    form = ReportForm(services=[service])
    assert not [name for name in form.fields if name.endswith("-lanes")]
    definition = client.get(f"/open311/v2/services/{service.service_code}.json").json()
    assert definition["attributes"] == []
    assert clean_attributes(service, {}) == {}
    # An app that kept the old definition still files its answer.
    assert clean_attributes(service, {"lanes": ["both"]}) == {"lanes": "both"}


def test_an_answer_whose_question_is_gone_is_shown_under_its_code(client, superuser, answered):
    report = answered.service.requests.get()
    ServiceAttribute.objects.filter(pk=answered.pk).delete()  # as the admin allowed before
    for page in _pages(client, superuser, report):
        assert "lanes" in page and "the right lane" in page
