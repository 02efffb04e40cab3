"""Reading settings from environment variables: strict parsers that fail loudly on a bad
value, because a typo in production should stop the boot, not quietly fall back."""

from __future__ import annotations

import math
import os
import re
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
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


def env_int(
    name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """An integer within [minimum, maximum]. Why the range: a count, size or duration out of
    it booted and failed later, where nobody connects it to the setting (EMAIL_TIMEOUT=0
    made every email fail, PHOTO_MAX_BYTES=0 refused every photo)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        if maximum is None:
            expected = f"at least {minimum}"
        elif minimum is None:
            expected = f"at most {maximum}"
        else:
            expected = f"between {minimum} and {maximum}"
        raise ImproperlyConfigured(f"{name} must be {expected}, got {value}")
    return value


def env_floats(name: str, default: str, count: int) -> tuple[float, ...]:
    """`count` finite numbers separated by commas (nan or inf compare false with anything:
    MAP_BOUNDS of nan refused every report as outside the city)."""
    raw = env_str(name, default)
    try:
        values = tuple(float(part) for part in raw.split(","))
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be {count} comma-separated numbers") from exc
    if len(values) != count or not all(math.isfinite(value) for value in values):
        raise ImproperlyConfigured(f"{name} must be {count} comma-separated numbers, got {raw!r}")
    return values


def map_area(*, center: tuple[float, ...], bounds: tuple[float, ...]) -> None:
    """MAP_BOUNDS (south, west, north, east) must be a box of real latitudes and longitudes,
    and MAP_CENTER inside it. Why: bounds given in GeoJSON's order (longitude first), or a
    city's own bounds with the default centre left behind, booted fine; the map then opened
    on another place, or every report was refused as outside the city."""
    south, west, north, east = bounds
    if not (-90 <= south < north <= 90 and -180 <= west < east <= 180):
        raise ImproperlyConfigured(
            "MAP_BOUNDS must be south,west,north,east in degrees (latitude first), with "
            f"south<north and west<east, got {','.join(f'{v:g}' for v in bounds)}"
        )
    lat, long = center
    if not (south <= lat <= north and west <= long <= east):
        raise ImproperlyConfigured(
            f"MAP_CENTER ({lat:g},{long:g}, latitude first) is outside MAP_BOUNDS "
            f"({','.join(f'{v:g}' for v in bounds)}): set both for your city"
        )


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def env_log_level(name: str, default: str) -> str:
    """A logging level's name, any case. logging accepts only upper case, and a bad value
    failed deep in the logging set-up ("Unable to configure root logger"), naming neither."""
    raw = env_str(name, default).strip().upper()
    if raw not in LOG_LEVELS:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(LOG_LEVELS)}, got {raw!r}")
    return raw


def masked(url: str) -> str:
    """A URL as it may appear in an error message or a log: its password replaced."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    userinfo = netloc[0].split(":", 1)[0]
    return parts._replace(netloc=f"{userinfo}:***@{netloc[1]}").geturl()


def env_url(name: str, default: str) -> str:
    """An absolute http(s) address, without a trailing slash ("" stays ""). SITE_URL without
    its scheme booted, and every link in every email was then broken."""
    raw = env_str(name, default).strip().rstrip("/")
    if not raw:
        return raw
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
        raise ImproperlyConfigured(
            f"{name} must be an absolute http:// or https:// address such as "
            f"https://311.example.org, got {masked(raw)!r}"
        )
    return raw


def env_database(name: str, default: str, *, conn_max_age: int) -> dj_database_url.DBConfig:
    """DATABASE_URL as Django's DATABASES entry. A mistyped one failed with dj-database-url's
    traceback, which names neither the variable nor (for a postgres URL without one) the
    missing database name, found only at the first query."""
    raw = env_str(name, default).strip()
    try:
        config = dj_database_url.parse(raw, conn_max_age=conn_max_age, conn_health_checks=True)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} ({masked(raw)!r}): {exc}") from None
    if not config.get("NAME"):
        raise ImproperlyConfigured(
            f"{name} ({masked(raw)!r}) names no database, e.g. "
            "postgres://user:password@127.0.0.1:5432/civic311"
        )
    return config


def env_broker(name: str) -> str | None:
    """CELERY_BROKER_URL, or None when unset (tasks then run in-process). A scheme kombu has
    no transport for, or a Redis database that is not a number, booted; then every report
    submission ended in a server error (kombu's KeyError and ValueError are not the broker
    outage that queueing forgives) and the worker did not start."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    from kombu.transport import resolve_transport  # only needed when a broker is set

    example = f"{name} must be a broker URL such as redis://127.0.0.1:6379/0, got {masked(raw)!r}"
    for url in raw.split(";"):  # failover brokers (sentinel://a;sentinel://b) are listed so
        parts = urlsplit(url.strip())
        try:
            resolve_transport(parts.scheme or "-")
            parts.port  # noqa: B018 (raises ValueError on a port that is not a number)
        except (KeyError, ImportError, ValueError):
            raise ImproperlyConfigured(example) from None
        database = parts.path.strip("/")
        if parts.scheme in {"redis", "rediss"} and database and not database.isdigit():
            raise ImproperlyConfigured(f"{example} (the database after the port is a number)")
    return raw


def env_list(name: str, default: str) -> list[str]:
    return [part.strip() for part in env_str(name, default).split(",") if part.strip()]


# A host name, a ".domain" (it and its subdomains), "*", an IPv4 address or a bracketed IPv6.
_HOST = re.compile(r"\*|\.?[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?|\[[0-9A-Fa-f:.]+\]")


def env_hosts(name: str, default: str) -> list[str]:
    """ALLOWED_HOSTS: host names only. Django compares each with the request's host without
    its port, so "https://311.example.org" or "311.example.org:443" matched nothing: the
    server started and answered every request 400 Bad Request."""
    hosts = env_list(name, default)
    for host in hosts:
        if not _HOST.fullmatch(host):
            raise ImproperlyConfigured(
                f"{name} lists host names only (311.example.org, no scheme, port or path), "
                f"got {host!r}"
            )
    return hosts


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
    raise ImproperlyConfigured(f"{name} must be a redis:// or rediss:// URL, got {masked(raw)!r}")


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
