"""Reading Open311 parameters: a POST's form fields as the spec names them, with the quirks
of older clients accepted where the spec allows, and repeated query parameters."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.http import QueryDict

from civic311.input import NUL, body_problem, nul_message, nul_parameters
from civic311.numbers import parse_number
from reports.api.errors import Open311Error, bad_request

_ATTRIBUTE = re.compile(r"^attribute\[([^\]]+)\](?:\[\])?$")


def check_input(request: Any, url_values: Mapping[str, Any]) -> None:
    """Refuse, as the spec's error list, a body over the limits (413, or 400 for too many
    fields) and NUL characters anywhere: the path, the query string, the form's names,
    values and file names (400 naming each parameter). Runs before anything reads them."""
    problem = body_problem(request._request)
    if problem is not None:
        raise Open311Error(problem.status, problem.message)
    names = [name for name, value in url_values.items() if isinstance(value, str) and NUL in value]
    try:
        names += nul_parameters(request._request.GET)
    except TooManyFieldsSent as exc:
        # Django refuses to parse such a query string (DATA_UPLOAD_MAX_NUMBER_FIELDS); left
        # to Django, the answer was its HTML error page, not an Open311 error list.
        raise bad_request(
            "The address has too many parameters (at most "
            f"{settings.DATA_UPLOAD_MAX_NUMBER_FIELDS}): give a list once, comma-separated."
        ) from exc
    names += nul_parameters(request._request.POST)
    names += nul_parameters(request._request.FILES)
    if names:
        raise bad_request([nul_message(name) for name in dict.fromkeys(names)])
    # DRF's request.data holds a multipart body's files beside its fields: a file part
    # named like a text field (description=@notes.txt) was read as its text, a 500.
    as_files = [name for name in request._request.FILES if is_text_field(name)]
    if as_files:
        raise bad_request(
            [
                f"{name}: sent as a file; it is a text field (only media takes a file)."
                for name in as_files
            ]
        )


# The fields of a POST read as text (attribute[CODE] answers too).
TEXT_FIELDS = frozenset({
    "service_code", "lat", "long", "address_string", "address_id", "description", "media_url",
    "email", "first_name", "last_name", "phone", "device_id", "account_id", "api_key",
    "jurisdiction_id",
})  # fmt: skip


def is_text_field(name: str) -> bool:
    return name in TEXT_FIELDS or _ATTRIBUTE.match(name) is not None


# The spec's comma-separated lists: given more than once, their values add up.
LIST_PARAMETERS = frozenset({"service_request_id", "service_code", "status"})


def one_value(data: QueryDict, name: str) -> str:
    """The parameter's value, stripped ("" when absent or empty); a 400 when it is given
    more than once with different values. Django's QueryDict.get() keeps the last value, so
    a client that sent two would have had one of them silently dropped."""
    given = {value.strip() for value in data.getlist(name) if isinstance(value, str)}
    given.discard("")
    if len(given) > 1:
        raise bad_request(different_values(name))
    return given.pop() if given else ""


def different_values(name: str) -> str:
    return f"{name}: given more than once with different values; give it once."


def conflicting(data: QueryDict) -> list[str]:
    """A message for each text field of a POST given more than once with different values
    (lat=35.78&lat=0): the last value was stored, silently. attribute[CODE] answers may
    repeat (a multi-value list), and the service definition checks them."""
    return [
        different_values(name)
        for name in data
        if name in TEXT_FIELDS
        and len({v.strip() for v in data.getlist(name) if isinstance(v, str)} - {""}) > 1
    ]


def merged_query(query: QueryDict, names: Iterable[str]) -> QueryDict:
    """`query` with one value for each of `names` (the filters read the last value only):
    the values of a repeated list parameter joined as its comma list
    (status=open&status=closed is status=open,closed, as clients that repeat a parameter for
    a list mean) and its items trimmed, another repeated parameter kept when its values
    agree and a 400 naming it when they do not. Other parameters (unknown to the list) are
    left as they are."""
    merged = query.copy()
    problems = []
    for name in names:
        values = query.getlist(name)
        if name in LIST_PARAMETERS and values:
            # Items trimmed: "open, closed" is a 400 no more and "pothole, graffiti" lists
            # the graffiti reports too (the item " graffiti" named no category).
            items = (item.strip() for value in values for item in value.split(","))
            merged[name] = ",".join(item for item in items if item)
            continue
        if len(values) < 2:
            continue
        try:
            merged[name] = one_value(query, name)
        except Open311Error:
            problems.append(different_values(name))
    if problems:
        raise bad_request(problems)
    return merged


def field(data: QueryDict, name: str) -> str:
    return (data.get(name) or "").strip()


def attributes_from(data: QueryDict) -> dict[str, list[str]]:
    """attribute[CODE]=v, attribute[CODE][]=v1&attribute[CODE][]=v2, and attribute[CODE]
    repeated (some old clients send lists that way). Empty values count as absent."""
    answers: dict[str, list[str]] = {}
    for key in data:
        match = _ATTRIBUTE.match(key)
        if not match:
            continue
        values = [v for v in data.getlist(key) if isinstance(v, str) and v.strip()]
        if values:
            answers.setdefault(match.group(1), []).extend(values)
    return answers


def coordinates(data: QueryDict) -> tuple[float | None, float | None]:
    values: list[float | None] = []
    errors = []
    for name in ("lat", "long"):
        raw = field(data, name)
        value = parse_number(raw) if raw else None
        if raw and value is None:
            errors.append(f"{name}: {raw!r} is not a number in decimal degrees.")
        values.append(value)
    if errors:
        raise bad_request(errors)
    return values[0], values[1]


def report_fields(data: QueryDict) -> Mapping[str, Any]:
    """The keyword arguments of report_create that come from the form."""
    lat, long = coordinates(data)
    name = " ".join(part for part in (field(data, "first_name"), field(data, "last_name")) if part)
    return {
        "description": field(data, "description"),
        "lat": lat,
        "long": long,
        "address": field(data, "address_string"),
        "address_id": field(data, "address_id"),
        "media_url": field(data, "media_url"),
        "reporter_name": name,
        "reporter_email": field(data, "email"),
        "reporter_phone": field(data, "phone"),
        "device_id": field(data, "device_id"),
        "account_id": field(data, "account_id"),
    }


API_KEY_HEADER = "HTTP_X_API_KEY"


def api_key_from(request: Any) -> str:
    """The raw API key: the X-Api-Key header, else the api_key form field, else the query
    string (Open311's way, which leaves the key in access logs: the README says how to keep
    it out of them)."""
    raw = request.META.get(API_KEY_HEADER, "")
    if not raw.strip() and request.method == "POST":
        raw = request.data.get("api_key") or ""
    if not raw.strip():
        raw = request.query_params.get("api_key", "")
    return raw.strip() if isinstance(raw, str) else ""
