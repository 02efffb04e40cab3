"""Reading settings from environment variables: strict parsers that fail loudly on a bad
value, because a typo in production should stop the boot, not quietly fall back."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

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


def url_origin(url: str) -> str | None:
    """scheme://host[:port] of an absolute URL ({s} subdomains become *), else None."""
    parts = urlsplit(url.replace("{s}", "SUBDOMAIN"))
    if not (parts.scheme and parts.netloc):
        return None
    return f"{parts.scheme}://{parts.netloc}".replace("SUBDOMAIN", "*")
