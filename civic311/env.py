"""Reading settings from environment variables: strict parsers that fail loudly on a bad
value, because a typo in production should stop the boot, not quietly fall back."""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import urlsplit

import dj_email_url
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import validate_email

from civic311.ratelimit import Rate


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, "") or default


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


def env_floats(name: str, default: str, count: int) -> tuple[float, ...]:
    raw = env_str(name, default)
    try:
        values = tuple(float(part) for part in raw.split(","))
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be {count} comma-separated numbers") from exc
    if len(values) != count:
        raise ImproperlyConfigured(f"{name} must be {count} comma-separated numbers, got {raw!r}")
    return values


def env_list(name: str, default: str) -> list[str]:
    return [part.strip() for part in env_str(name, default).split(",") if part.strip()]


def env_rate(name: str, default: str) -> str:
    """A rate limit such as "10/hour"; checked now, parsed again where it is used."""
    raw = env_str(name, default)
    try:
        Rate.parse(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: {exc}") from exc
    return raw


def env_cache(name: str) -> dict[str, object]:
    """CACHE_URL: redis://host:port/db (or rediss://) for a cache every process shares;
    unset means memory in each process, which is fine on a laptop."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    if urlsplit(raw).scheme in {"redis", "rediss"}:
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": raw}
    raise ImproperlyConfigured(f"{name} must be a redis:// or rediss:// URL, got {raw!r}")


def env_email(name: str, default: str) -> dict[str, Any]:
    """EMAIL_URL (smtp://user:pass@host:587/?tls=True, console://, file:////dir, …) as
    dj-email-url's settings; a scheme it does not know stops the boot with its name (it
    failed with a KeyError that named neither)."""
    raw = env_str(name, default)
    try:
        parsed = dj_email_url.parse(raw)
    except ValueError as exc:  # a port that is not a number: a traceback that named neither
        raise ImproperlyConfigured(f"{name}: {exc}.") from exc
    scheme = urlsplit(raw).scheme
    if not parsed.get("EMAIL_BACKEND"):
        schemes = ", ".join(sorted(dj_email_url.SCHEMES))
        raise ImproperlyConfigured(f"{name}: unknown scheme {scheme!r} (known: {schemes})")
    # file:///var/mail is the relative folder "var/mail" to dj-email-url (file://mail/out is
    # host "mail" and folder "out"): mail went, without a word, to a folder nobody named.
    if scheme == "file" and not os.path.isabs(parsed.get("EMAIL_FILE_PATH") or ""):
        raise ImproperlyConfigured(
            f"{name}: file:// needs an absolute folder after it, e.g. file:////var/mail/civic311 "
            "(four slashes)."
        )
    return parsed


# "Name <address>" or a bare address; the name may be quoted ("Riverton, 311" <…>).
_FROM_ADDRESS = re.compile(r"(?:(?P<name>[^<>]*?)\s*<(?P<inside>[^<>]*)>|(?P<bare>[^<>]*))")


def env_from_email(name: str, default: str) -> str:
    """A sender such as DEFAULT_FROM_EMAIL: "Civic311 <noreply@city.example>" or a bare
    address. Why strict: a value that is not an address was accepted at start-up, and
    every email (to departments, followers, volunteers) then failed when it was sent, long
    after the deploy."""
    raw = env_str(name, default).strip()
    match = _FROM_ADDRESS.fullmatch(raw)
    address = ""
    if match and "\n" not in raw and "\r" not in raw:
        address = (match.group("inside") or match.group("bare") or "").strip()
    try:
        validate_email(address)
    except ValidationError:
        raise ImproperlyConfigured(
            f"{name} must be an email address, alone or as Name <address> (e.g. "
            f"Civic311 <noreply@city.example>), got {raw!r}"
        ) from None
    return raw


# What a laptop serves: debug pages for these hosts show nothing to the public.
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "testserver", "::1", "[::1]"})
# A key the code or .env.example publishes, never a secret.
PUBLISHED_KEYS = frozenset(
    {"insecure-development-key-do-not-use-in-production", "change-me-to-a-long-random-string"}
)
MIN_SECRET_KEY_LENGTH = 50  # as Django's deployment check asks


def refuse_unsafe_production(*, debug: bool, secret_key: str, allowed_hosts: list[str]) -> None:
    """Stop the boot of a server that would publish its secrets. Debug is on unless
    DJANGO_DEBUG says otherwise (a laptop needs nothing set): a server for a public host
    that forgot it would show its settings and code on every error page, and sign every
    link with the development key that is in our code, so anyone could forge them. With
    debug off, the key must be a secret of Django's recommended length."""
    public = sorted(set(allowed_hosts) - LOCAL_HOSTS)
    if debug and public:
        raise ImproperlyConfigured(
            f"DJANGO_DEBUG is on (its default) while ALLOWED_HOSTS names {', '.join(public)}: "
            "set DJANGO_DEBUG=false on a server others can reach."
        )
    if not debug and (secret_key in PUBLISHED_KEYS or len(secret_key) < MIN_SECRET_KEY_LENGTH):
        raise ImproperlyConfigured(
            f"DJANGO_SECRET_KEY must be a secret of at least {MIN_SECRET_KEY_LENGTH} characters, "
            'not a published example; make one with: python -c "import secrets; '
            'print(secrets.token_urlsafe(50))"'
        )


def url_origin(url: str) -> str | None:
    """scheme://host[:port] of an absolute URL ({s} subdomains become *), else None."""
    parts = urlsplit(url.replace("{s}", "SUBDOMAIN"))
    if not (parts.scheme and parts.netloc):
        return None
    return f"{parts.scheme}://{parts.netloc}".replace("SUBDOMAIN", "*")
