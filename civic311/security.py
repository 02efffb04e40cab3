"""Security headers Django does not set itself, and the page for a locked-out login."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from civic311.ratelimit import wait_text


class PermissionsPolicyMiddleware:
    """Permissions-Policy on every response: the browser features the site may use."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


def login_locked_out(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """django-axes' answer to a locked-out username+address: a page saying why and for how
    long (429 with Retry-After), instead of a bare 403."""
    cooloff: timedelta = settings.AXES_COOLOFF_TIME
    seconds = int(cooloff.total_seconds())
    response = render(
        request,
        "account_locked.html",
        {"wait": wait_text(seconds), "failure_limit": settings.AXES_FAILURE_LIMIT},
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response


def login_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str:
    """Whom a sign-in attempt is for, as django-axes counts it: the username on the staff
    login, the email address on the citizens' one (allauth passes `email`; its form field is
    `login`). Email addresses are counted in lower case, as allauth stores them."""
    data = credentials if credentials is not None else request.POST
    username = data.get("username") or ""
    if username:
        return str(username)
    return str(data.get("email") or data.get("login") or "").strip().lower()
