"""HTTP caching for public pages: a browser or a shared cache may keep an anonymous
visitor's page for a short while, and revalidates it with an ETag (a 304 costs no HTML).

Only what is the same for every visitor is cacheable: never a page for a signed-in user,
never one that carries a CSRF token (a form that posts) or a one-time message. Those are
marked `private, no-cache` instead, so nothing in between keeps them. So is a "not found"
raised by the view: a shared cache may keep a 404 that says nothing of its freshness, and a
report a moderator shows again would stay missing there."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.messages import get_messages
from django.core.handlers.exception import response_for_exception
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import parse_http_date_safe, quote_etag

View = Callable[..., HttpResponseBase]
# How long a shared cache or a browser may keep a public page (and a feed) as it is.
PAGE_CACHE_SECONDS = 60


def is_shareable(request: HttpRequest, response: HttpResponseBase) -> bool:
    """Whether this response is the same for every anonymous visitor."""
    user = getattr(request, "user", None)
    return (
        request.method in ("GET", "HEAD")
        and response.status_code == 200
        and not getattr(response, "streaming", False)
        and not (user is not None and user.is_authenticated)
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        and not len(get_messages(request))
        and not response.cookies
    )


def public_page(max_age: int, last_modified: bool = False) -> Callable[[View], View]:
    """Cache a view's anonymous answers for `max_age` seconds, with an ETag for conditional
    GETs; everything else is marked private and not stored. With `last_modified`, the view's
    own Last-Modified header answers If-Modified-Since too (If-None-Match, when sent, still
    decides): only for views whose header is the true time of their content's last change
    (the open-data catalogue), which feeds' newest-item date is not."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            try:
                response = view(request, *args, **kwargs)
            except Http404 as exc:  # the site's 404 page, made here to be marked private
                response = response_for_exception(request, exc)
            if hasattr(response, "render") and callable(response.render):
                response.render()
            if not isinstance(response, HttpResponse) or not is_shareable(request, response):
                patch_cache_control(response, private=True, no_cache=True)
                return response
            patch_cache_control(response, public=True, max_age=max_age)
            patch_vary_headers(response, ["Cookie"])
            if not response.has_header("ETag"):
                digest = hashlib.md5(response.content, usedforsecurity=False).hexdigest()
                response["ETag"] = quote_etag(digest)
            modified = (
                parse_http_date_safe(response.get("Last-Modified", "")) if last_modified else None
            )
            answer = get_conditional_response(
                request, etag=response["ETag"], last_modified=modified, response=response
            )
            return answer or response

        return wrapped

    return decorator


class SignedInPagesMiddleware:
    """A signed-in person's pages are kept nowhere: `private, no-store` on every answer to
    them that says nothing of caching itself. My account and allauth's pages show the
    person's email addresses and the reports filed with them, and said nothing: after
    "Sign out" on a shared computer, the back button could bring them back from the
    browser's memory (its back-forward cache keeps any page not marked no-store)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response
