"""Answers to a service's questions (Open311 attributes), checked the same way for the web
form and the API."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import prefetch_related_objects

from civic311.dates import MAX_YEAR, MIN_YEAR, parse_w3c_datetime
from civic311.input import has_visible
from civic311.numbers import parse_number
from reports.limits import MAX_TEXT
from reports.models import Service, ServiceAttribute, ServiceRequest

Answer = str | list[str]


@dataclass(frozen=True)
class AnswerProblem:
    """One answer that cannot be accepted, said twice: for an API client (naming the
    attribute's code) and for a person filling in the form (in the question's words)."""

    code: str
    for_api: str
    for_people: str


def clean_attributes(service: Service, raw: Mapping[str, Sequence[str]]) -> dict[str, Answer]:
    """Check `raw` (attribute code → submitted values) against the service's definition.

    Returns the answers to store. Raises a ValidationError whose messages name the
    attribute: unknown codes, missing required answers, wrong datatypes, keys not in a list.
    """
    cleaned, problems = check_answers(service, raw)
    if problems:
        raise ValidationError(
            [ValidationError(p.for_api, code="invalid_attribute") for p in problems]
        )
    return cleaned


def answer_problems(service: Service, raw: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """What is wrong with each answer, keyed by attribute code, in the question's words."""
    return {p.code: p.for_people for p in check_answers(service, raw)[1]}


def check_answers(
    service: Service, raw: Mapping[str, Sequence[str]]
) -> tuple[dict[str, Answer], list[AnswerProblem]]:
    """The answers to store and the problems found (none means the answers are good)."""
    attributes = {a.code: a for a in service.attributes.all()}
    # The allowed keys matter only for list questions that were answered: one query for
    # all of those, none when there are none.
    answered_lists = [a for a in attributes.values() if a.is_list and raw.get(a.code)]
    prefetch_related_objects(answered_lists, "values")
    problems: list[AnswerProblem] = []
    unknown = sorted(set(raw) - set(attributes))
    if unknown:
        text = f"Unknown attribute {', '.join(unknown)} for service {service.service_code}."
        problems.append(AnswerProblem("", text, "Some answers are not for this category."))
    cleaned: dict[str, Answer] = {}
    for code, attribute in attributes.items():
        if not attribute.variable:
            continue
        # An answer of invisible characters only (zero-width spaces...) is no answer.
        values = [v.strip() for v in raw.get(code, []) if v is not None and has_visible(v)]
        if not values:
            # A retired question is asked no more; an app that still sends its answer (from
            # a definition it kept) is not refused for it.
            if attribute.required and attribute.active:
                problems.append(
                    AnswerProblem(
                        code,
                        f"Attribute {code} is required: {attribute.description}",
                        f"Please answer: {attribute.description}",
                    )
                )
            continue
        try:
            cleaned[code] = _clean_value(attribute, values)
        except ValidationError as exc:
            problems.append(
                AnswerProblem(code, " ".join(exc.messages), _for_people(attribute, exc.code))
            )
    return cleaned, problems


def _for_people(attribute: ServiceAttribute, reason: str | None) -> str:
    question = attribute.description
    if reason == "not_a_choice":
        return f"Please choose one of the answers offered to: {question}"
    if reason == "not_a_number":
        return f"Please give a number in answer to: {question}"
    if reason == "not_a_datetime":
        return f"Please give a date and time in answer to: {question}"
    if reason == "out_of_range":
        years = f"{MIN_YEAR} and {MAX_YEAR}"
        return f"Please give a date between the years {years} in answer to: {question}"
    if reason == "too_long":
        return f"Please answer in at most {MAX_TEXT} characters: {question}"
    return f"Please give one answer to: {question}"


def _clean_value(attribute: ServiceAttribute, values: list[str]) -> Answer:
    datatype = ServiceAttribute.Datatype
    code = attribute.code
    if attribute.datatype == datatype.MULTIVALUELIST:
        allowed = {v.key for v in attribute.values.all()}
        bad = [v for v in values if v not in allowed]
        if bad:
            raise ValidationError(
                f"Attribute {code}: {', '.join(bad)} is not one of the allowed keys.",
                code="not_a_choice",
            )
        return list(dict.fromkeys(values))
    if len(values) > 1:
        raise ValidationError(f"Attribute {code} takes one value.", code="one_value")
    value = values[0]
    if attribute.datatype == datatype.SINGLEVALUELIST:
        if value not in {v.key for v in attribute.values.all()}:
            raise ValidationError(
                f"Attribute {code}: {value} is not one of the allowed keys.",
                code="not_a_choice",
            )
    elif attribute.datatype == datatype.NUMBER:
        if parse_number(value) is None:
            raise ValidationError(f"Attribute {code} must be a number.", code="not_a_number")
    elif attribute.datatype == datatype.DATETIME:
        try:
            return parse_w3c_datetime(value).isoformat()
        except ValidationError as exc:
            reason = "out_of_range" if exc.code == "out_of_range" else "not_a_datetime"
            raise ValidationError(
                f"Attribute {code}: {' '.join(exc.messages)}", code=reason
            ) from exc
    elif len(value) > MAX_TEXT:
        raise ValidationError(f"Attribute {code} is too long.", code="too_long")
    return value


def attribute_answers(report: ServiceRequest) -> list[dict[str, str]]:
    """The category questions and the answers given, in the question order, with list
    answers shown by name rather than key. Retired questions' answers are shown like the
    others; an answer whose question is gone (deleted before deleting an answered question
    was refused, or the report's category changed) follows, under its code: staff must see
    everything the citizen said."""
    if not report.attributes:
        return []
    answers = []
    shown = set()
    for attribute in report.service.attributes.prefetch_related("values"):
        shown.add(attribute.code)
        given = report.attributes.get(attribute.code)
        if given in (None, "", []):
            continue
        values = given if isinstance(given, list) else [given]
        if attribute.is_list:
            names = {v.key: v.name for v in attribute.values.all()}
            values = [names.get(v, v) for v in values]
        answers.append({"question": attribute.description, "answer": ", ".join(map(str, values))})
    for code, given in report.attributes.items():
        if code in shown or given in (None, "", []):
            continue
        values = given if isinstance(given, list) else [given]
        answers.append({"question": code, "answer": ", ".join(map(str, values))})
    return answers


def reports_answering(attribute: ServiceAttribute) -> int:
    """How many reports of the question's category hold an answer to it."""
    return ServiceRequest.objects.filter(
        service_id=attribute.service_id, attributes__has_key=attribute.code
    ).count()


def answered_question_refusal(attribute: ServiceAttribute) -> str | None:
    """Why this question may not be deleted (its answers would vanish from its reports'
    pages), or None when no report answers it."""
    if attribute.pk is None:
        return None
    count = reports_answering(attribute)
    if not count:
        return None
    reports = "1 report answers" if count == 1 else f"{count:,} reports answer"
    return (
        f"{reports} the question “{attribute.description}” ({attribute.code}): untick "
        "“Active” to retire it instead. It is then no longer asked, and its answers stay on "
        "the reports."
    )
