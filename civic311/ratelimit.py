"""Per-client rate limits for public writes, counted in the cache (Redis when CACHE_URL
says so, so every web process shares the counts).

Pages use the `rate_limit` decorator; the Open311 API uses the DRF throttles in
`reports.api.throttles`, which call `hit` here. Both answer 429 with `Retry-After`.

A limit is a fixed window: "10/hour" allows ten hits in each clock hour counted from the
first hit's window start. The counter is one atomic INCR per hit, so concurrent requests
cannot slip past it (a list of timestamps, as DRF's SimpleRateThrottle keeps, is read and
written back and loses hits under concurrency). The price is that a client may spend a
window's allowance at its end and the next one at the start of the following window.

Usage on a new public write view:

    @method_decorator(rate_limit("adoption-form", setting="RATELIMIT_ADOPTION_FORM"),
                      name="post")
    class AdoptView(FormView): ...

with `RATELIMIT_ADOPTION_FORM = env_rate("RATELIMIT_ADOPTION_FORM", "10/hour")` in settings
(and the variable in .env.example and the README). `hit(scope, ident, rate)` is the
primitive when the thing to count is not the address (an account, an email address). A DRF
view subclasses `reports.api.throttles.PostThrottle` (scope, setting, ident) and lists it
in `throttle_classes`.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
CACHE_PREFIX = "civic311:rl"
UNKNOWN_CLIENT = "0.0.0.0"  # a client with no usable address


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        """ "10/hour", "5/m", "100/day" (DRF's format: the period's first letter counts)."""
        number, _, period = text.strip().partition("/")
        seconds = PERIODS.get(period.strip()[:1].lower())
        try:
            count = int(number)
        except ValueError:
            count = -1
        if count < 1 or seconds is None:
            raise ValueError(f"a rate is <number>/<second|minute|hour|day>, got {text!r}")
        return cls(count=count, seconds=seconds)

    def __str__(self) -> str:
        name = {v: k for k, v in PERIODS.items()}[self.seconds]
        return f"{self.count}/{name}"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int  # seconds until the window resets (0 when allowed)


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or with TRUSTED_PROXY_COUNT = N > 0 the N-th
    address from the right of X-Forwarded-For (each trusted proxy appends the address it
    saw, so the entries left of that one are whatever the client chose to send).

    An IPv6 address stands for its /64, given as the /64's first address (a valid address,
    which django-axes stores in an inet column): one household or phone gets a whole /64,
    and counting each address in it separately would make the limit meaningless."""
    address = request.META.get("REMOTE_ADDR", "") or ""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        # No usable address (a unix socket, a proxy's "unknown"): all such clients share
        # one allowance, which errs on the side of limiting.
        return UNKNOWN_CLIENT
    if parsed.version == 6:
        if parsed.ipv4_mapped:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False).network_address)
    return str(parsed)


def digest(value: str) -> str:
    """A short stable stand-in for a secret (an API key) in a cache key."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def hit(scope: str, ident: str, rate: Rate, *, now: float | None = None) -> Decision:
    """Count one hit of `ident` in `scope` and say whether it is within `rate`."""
    cache = caches[settings.RATELIMIT_CACHE]
    moment = time.time() if now is None else now
    window = int(moment // rate.seconds)
    key = f"{CACHE_PREFIX}:{scope}:{window}:{digest(ident)}"
    # add() is a no-op when the key exists; incr() is atomic in Redis and in LocMem.
    cache.add(key, 0, timeout=rate.seconds + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout=rate.seconds + 1)
        count = 1
    if count <= rate.count:
        return Decision(allowed=True, retry_after=0)
    retry_after = max(1, math.ceil((window + 1) * rate.seconds - moment))
    return Decision(allowed=False, retry_after=retry_after)


def wait_text(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minutes"


def too_many_requests(request: HttpRequest, decision: Decision) -> HttpResponse:
    """The page a limited citizen sees: what happened and when to try again."""
    response = render(
        request,
        "ratelimited.html",
        {"retry_after": decision.retry_after, "wait": wait_text(decision.retry_after)},
        status=429,
    )
    response["Retry-After"] = str(decision.retry_after)
    return response


def rate_from_settings(setting: str) -> Rate:
    """The rate a setting names ("10/hour"), read on each use so tests can change it."""
    return Rate.parse(getattr(settings, setting))


UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


View = Callable[..., HttpResponseBase]


def rate_limit(
    scope: str, *, setting: str, methods: tuple[str, ...] = UNSAFE_METHODS
) -> Callable[[View], View]:
    """Limit a view per client address to the rate in `setting`. Only `methods` count,
    every one of them (a refused form counts too: it cost the server as much). All the
    writing methods by default: Django's FormView answers PUT with its POST handler."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if request.method in methods:
                decision = hit(scope, client_ip(request), rate_from_settings(setting))
                if not decision.allowed:
                    return too_many_requests(request, decision)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
