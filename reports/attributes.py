"""Answers to a service's questions (Open311 attributes), checked the same way for the web
form and the API."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.core.exceptions import ValidationError

from civic311.dates import parse_w3c_datetime
from civic311.numbers import parse_number
from reports.limits import MAX_TEXT
from reports.models import Service, ServiceAttribute, ServiceRequest

Answer = str | list[str]


def clean_attributes(service: Service, raw: Mapping[str, Sequence[str]]) -> dict[str, Answer]:
    """Check `raw` (attribute code → submitted values) against the service's definition.

    Returns the answers to store. Raises a ValidationError whose messages name the
    attribute: unknown codes, missing required answers, wrong datatypes, keys not in a list.
    """
    attributes = {a.code: a for a in service.attributes.prefetch_related("values")}
    errors: list[ValidationError] = []
    unknown = sorted(set(raw) - set(attributes))
    if unknown:
        errors.append(
            ValidationError(
                f"Unknown attribute {', '.join(unknown)} for service {service.service_code}.",
                code="unknown_attribute",
            )
        )
    cleaned: dict[str, Answer] = {}
    for code, attribute in attributes.items():
        if not attribute.variable:
            continue
        values = [v.strip() for v in raw.get(code, []) if v is not None and v.strip()]
        if not values:
            if attribute.required:
                errors.append(
                    ValidationError(
                        f"Attribute {code} is required: {attribute.description}",
                        code="required_attribute",
                    )
                )
            continue
        try:
            cleaned[code] = _clean_value(attribute, values)
        except ValidationError as exc:
            errors.append(exc)
    if errors:
        raise ValidationError(errors)
    return cleaned


def _clean_value(attribute: ServiceAttribute, values: list[str]) -> Answer:
    datatype = ServiceAttribute.Datatype
    code = attribute.code
    if attribute.datatype == datatype.MULTIVALUELIST:
        allowed = {v.key for v in attribute.values.all()}
        bad = [v for v in values if v not in allowed]
        if bad:
            raise ValidationError(
                f"Attribute {code}: {', '.join(bad)} is not one of the allowed keys.",
                code="invalid_attribute",
            )
        return list(dict.fromkeys(values))
    if len(values) > 1:
        raise ValidationError(f"Attribute {code} takes one value.", code="invalid_attribute")
    value = values[0]
    if attribute.datatype == datatype.SINGLEVALUELIST:
        if value not in {v.key for v in attribute.values.all()}:
            raise ValidationError(
                f"Attribute {code}: {value} is not one of the allowed keys.",
                code="invalid_attribute",
            )
    elif attribute.datatype == datatype.NUMBER:
        if parse_number(value) is None:
            raise ValidationError(f"Attribute {code} must be a number.", code="invalid_attribute")
    elif attribute.datatype == datatype.DATETIME:
        try:
            return parse_w3c_datetime(value).isoformat()
        except ValidationError as exc:
            raise ValidationError(
                f"Attribute {code}: {' '.join(exc.messages)}", code="invalid_attribute"
            ) from exc
    elif len(value) > MAX_TEXT:
        raise ValidationError(f"Attribute {code} is too long.", code="invalid_attribute")
    return value


def attribute_answers(report: ServiceRequest) -> list[dict[str, str]]:
    """The category questions and the answers given, in the question order, with list
    answers shown by name rather than key."""
    if not report.attributes:
        return []
    answers = []
    for attribute in report.service.attributes.prefetch_related("values"):
        given = report.attributes.get(attribute.code)
        if given in (None, "", []):
            continue
        values = given if isinstance(given, list) else [given]
        if attribute.is_list:
            names = {v.key: v.name for v in attribute.values.all()}
            values = [names.get(v, v) for v in values]
        answers.append({"question": attribute.description, "answer": ", ".join(map(str, values))})
    return answers
