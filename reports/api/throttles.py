"""DRF throttles for Open311 writes: per API key and per client address, counted with the
site's cache-backed limiter (`civic311.ratelimit`). Reads are not throttled here."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from civic311.ratelimit import Decision, client_ip, hit, rate_from_settings
from reports.api.params import api_key_from


class PostThrottle(BaseThrottle):
    """Counts every POST (an accepted one and a refused one alike) against `setting`."""

    scope = ""
    setting = ""

    def __init__(self) -> None:
        self.decision = Decision(allowed=True, retry_after=0)

    def ident(self, request: Request) -> str | None:
        raise NotImplementedError

    def allow_request(self, request: Request, view: Any) -> bool:
        if request.method != "POST":
            return True
        ident = self.ident(request)
        if ident is None:
            return True
        self.decision = hit(self.scope, ident, rate_from_settings(self.setting))
        return self.decision.allowed

    def wait(self) -> float | None:
        return self.decision.retry_after or None


class ApiKeyPostThrottle(PostThrottle):
    """Per key, valid or not (the key is hashed before it names a counter)."""

    scope = "open311-post-key"
    setting = "RATELIMIT_OPEN311_POST_KEY"

    def ident(self, request: Request) -> str | None:
        return api_key_from(request) or None


class AddressPostThrottle(PostThrottle):
    scope = "open311-post-address"
    setting = "RATELIMIT_OPEN311_POST_ADDRESS"

    def ident(self, request: Request) -> str | None:
        return client_ip(request._request)
