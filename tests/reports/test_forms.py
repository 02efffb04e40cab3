from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils.datastructures import MultiValueDict

from reports.browse.forms import BrowseForm
from reports.forms import ReportForm, grouped_service_choices
from reports.models import Service
from tests.factories import (
    CITY_CENTRE,
    AttributeValueFactory,
    ServiceAttributeFactory,
    ServiceFactory,
    image_upload,
)

pytestmark = pytest.mark.django_db

LAT, LNG = CITY_CENTRE


def make_form(data: dict, files: dict | None = None) -> ReportForm:
    services = Service.objects.filter(active=True).prefetch_related("attributes__values")
    return ReportForm(data=data, files=MultiValueDict(files or {}), services=services)


def test_grouped_choices_put_ungrouped_services_under_other():
    roads = ServiceFactory(name="Pothole", group="Streets")
    misc = ServiceFactory(name="Something else", group="")
    choices = grouped_service_choices([misc, roads], "Choose…")
    assert choices == [
        ("", "Choose…"),
        ("Other", [(misc.pk, "Something else")]),
        ("Streets", [(roads.pk, "Pothole")]),
    ]


def test_form_builds_answer_fields_per_category_with_matching_widgets():
    service = ServiceFactory()
    single = ServiceAttributeFactory(service=service, code="size", datatype="singlevaluelist")
    AttributeValueFactory(attribute=single, key="large", name="Large")
    ServiceAttributeFactory(service=service, code="count", datatype="number")
    ServiceAttributeFactory(service=service, code="when", datatype="datetime")
    ServiceAttributeFactory(service=service, code="where", datatype="multivaluelist")
    ServiceAttributeFactory(service=service, code="note", datatype="text", variable=False)
    form = make_form({})
    widgets = {
        name.rsplit("-", 1)[1]: type(field.widget).__name__
        for name, field in form.fields.items()
        if name.startswith(f"attr-{service.pk}-")
    }
    assert widgets == {
        "size": "Select",
        "count": "NumberInput",
        "when": "DateTimeInput",
        "where": "CheckboxSelectMultiple",
    }
    (question_set,) = form.question_sets()
    assert question_set["notes"] == ["What else should we know?"]


def test_the_form_judges_answers_in_the_questions_words():
    service = ServiceFactory()
    ServiceAttributeFactory(service=service, code="count", datatype="number")
    form = make_form(
        {
            "lat": LAT,
            "long": LNG,
            "service": service.pk,
            "description": "Three syringes by the bench.",
            f"attr-{service.pk}-count": "not a number",
        }
    )
    assert not form.is_valid()
    assert form.errors[f"attr-{service.pk}-count"] == [
        "Please give a number in answer to: What else should we know?"
    ]


def test_datetime_answer_from_the_browser_gets_the_city_time_zone(settings):
    # datetime-local sends no zone; the citizen means the city's local time.
    settings.TIME_ZONE = "America/New_York"
    service = ServiceFactory()
    ServiceAttributeFactory(service=service, code="seen", datatype="datetime")
    form = make_form(
        {
            "lat": LAT,
            "long": LNG,
            "service": service.pk,
            "description": "A tree came down last night.",
            f"attr-{service.pk}-seen": "2026-07-01T21:15",
        }
    )
    assert form.is_valid(), form.errors
    assert form.service_kwargs()["attributes"] == {"seen": ["2026-07-01T21:15:00-04:00"]}


def test_photos_field_refuses_more_than_three_before_decoding():
    service = ServiceFactory()
    files = {"photos": [image_upload(f"p{i}.jpg") for i in range(4)]}
    form = make_form(
        {"lat": LAT, "long": LNG, "service": service.pk, "description": "x" * 20}, files
    )
    assert not form.is_valid()
    assert form.errors["photos"] == ["Attach at most 3 photos."]


def test_add_service_errors_maps_keys_onto_fields():
    form = make_form(
        {"lat": LAT, "long": LNG, "service": ServiceFactory().pk, "description": "x" * 20}
    )
    assert form.is_valid()
    form.add_service_errors(
        ValidationError(
            {
                "location": ["Outside the city."],
                "description": ["Too short."],
                "attributes": ["Attribute size is required: How big?"],
                "photos": ["a.jpg: not an image"],
            }
        )
    )
    assert form.errors["lat"] == ["Outside the city."]
    assert form.errors["description"] == ["Too short."]
    assert form.errors["photos"] == ["a.jpg: not an image"]
    assert form.attribute_errors == ["Attribute size is required: How big?"]
    assert form.non_field_errors()


def test_browse_form_offers_grouped_categories():
    ServiceFactory(name="Pothole", group="Streets")
    rendered = str(BrowseForm(data={}, services=Service.objects.all())["service"])
    assert '<optgroup label="Streets">' in rendered and "All categories" in rendered
