"""Every error the Open311 API answers is the spec's error list, in the asked format:
[{"code": 400, "description": "…"}] or <errors><error><code/><description/></error></errors>."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import status
from rest_framework.exceptions import APIException, Throttled
from rest_framework.response import Response

# Open311 parameter names for the keys the report service and the model use in errors.
PARAMETER_NAMES = {
    "service": "service_code",
    "location": "location",
    "attributes": "attribute",
    "photos": "media",
    "reporter_email": "email",
    "reporter_phone": "phone",
    "reporter_name": "first_name/last_name",
    "address": "address_string",
}


class Open311Error(Exception):
    """Raised by the API's views; rendered as one error element per message."""

    def __init__(self, status_code: int, messages: str | Iterable[str]) -> None:
        self.status_code = status_code
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__("; ".join(self.messages))


def bad_request(messages: str | Iterable[str]) -> Open311Error:
    return Open311Error(status.HTTP_400_BAD_REQUEST, messages)


def not_found(message: str) -> Open311Error:
    return Open311Error(status.HTTP_404_NOT_FOUND, message)


def messages_by_parameter(errors: Mapping[str, Iterable[Any]]) -> list[str]:
    """Flatten a field → messages mapping into messages that name the Open311 parameter."""
    messages = []
    for key, values in errors.items():
        name = PARAMETER_NAMES.get(key, key)
        for value in values:
            text = " ".join(value.messages) if isinstance(value, ValidationError) else str(value)
            messages.append(text if key == NON_FIELD_ERRORS else f"{name}: {text}")
    return messages


def validation_error_messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return messages_by_parameter({k: v for k, v in exc.message_dict.items()})
    return list(exc.messages)


def _flatten_detail(detail: Any) -> list[str]:
    if isinstance(detail, Mapping):
        return [m for value in detail.values() for m in _flatten_detail(value)]
    if isinstance(detail, list | tuple):
        return [m for value in detail for m in _flatten_detail(value)]
    return [str(detail)]


def open311_exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response | None:
    """DRF exception handler for the Open311 views (set per view, not globally)."""
    if isinstance(exc, Open311Error):
        code, messages = exc.status_code, exc.messages
    elif isinstance(exc, Http404):
        code, messages = status.HTTP_404_NOT_FOUND, ["Not found."]
    elif isinstance(exc, DjangoPermissionDenied):
        code, messages = status.HTTP_403_FORBIDDEN, ["Permission denied."]
    elif isinstance(exc, APIException):
        code, messages = exc.status_code, _flatten_detail(exc.detail)
    else:
        return None  # a real bug: let Django answer 500 and log it
    response = Response([{"code": code, "description": m} for m in messages], status=code)
    wait = getattr(exc, "wait", None) if isinstance(exc, Throttled) else None
    if wait is not None:
        response["Retry-After"] = str(math.ceil(wait))
    response.xml_root = "errors"  # type: ignore[attr-defined]
    response.xml_item = "error"  # type: ignore[attr-defined]
    return response
