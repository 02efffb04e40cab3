"""A setting that boots but cannot work stops the start-up with one line naming it, and a
password in the value is never printed (start-up errors end up in the service's log)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from civic311.env import (
    env_broker,
    env_database,
    env_hosts,
    env_int,
    env_log_level,
    env_url,
    map_area,
)
from tests.civic311.test_settings import boot

RIVERTON = (35.70, -78.78, 35.88, -78.50)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        # logging knows upper case only; this failed as "Unable to configure root logger"
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL must be one of DEBUG, INFO"),
        # booted; then every report form post was a server error (kombu's KeyError)
        ("CELERY_BROKER_URL", "foo://broker", "CELERY_BROKER_URL must be a broker URL"),
        # GeoJSON's order, longitude first: booted, and every report was "outside the city"
        ("MAP_BOUNDS", "-78.78,35.70,-78.50,35.88", "MAP_CENTER (35.7796,-78.6382, latitude"),
        ("DATABASE_URL", "postgres://civic:hunter2@db:port/civic311", "DATABASE_URL ("),
    ],
)
def test_a_value_that_cannot_work_stops_the_boot_naming_it(name, value, expected) -> None:
    result = boot(**{name: value})
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in last_line and expected in last_line
    assert "hunter2" not in result.stderr


def test_a_lower_case_log_level_boots(monkeypatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "info")
    assert env_log_level("LOG_LEVEL", "WARNING") == "INFO"
    assert boot(LOG_LEVEL="debug").returncode == 0


@pytest.mark.parametrize(
    ("value", "minimum", "maximum", "expected"),
    [("0", 1, None, "EMAIL_TIMEOUT must be at least 1, got 0"),
     ("-3", 0, None, "EMAIL_TIMEOUT must be at least 0, got -3"),
     ("25", 3, 19, "EMAIL_TIMEOUT must be between 3 and 19, got 25")],
)  # fmt: skip
def test_a_number_out_of_its_range_is_refused(monkeypatch, value, minimum, maximum, expected):
    """EMAIL_TIMEOUT=0 (meant as "no timeout") made every email fail; PHOTO_MAX_BYTES=0
    refused every photo; both booted."""
    monkeypatch.setenv("EMAIL_TIMEOUT", value)
    with pytest.raises(ImproperlyConfigured, match=expected):
        env_int("EMAIL_TIMEOUT", 30, minimum=minimum, maximum=maximum)
    monkeypatch.setenv("EMAIL_TIMEOUT", "5")
    assert env_int("EMAIL_TIMEOUT", 30, minimum=minimum, maximum=maximum) == 5


def test_the_settings_refuse_numbers_that_cannot_work() -> None:
    for name, value in (("EMAIL_TIMEOUT", "0"), ("PHOTO_MAX_BYTES", "0"), ("MAP_ZOOM", "40")):
        result = boot(**{name: value})
        assert result.returncode != 0 and f"{name} must be" in result.stderr, name


@pytest.mark.parametrize(
    "value", ["311.example.org", "ftp://311.example.org", "https://", "https://a.example/?x=1"]
)
def test_site_url_must_be_an_absolute_web_address(monkeypatch, value: str) -> None:
    """Without its scheme every link in every email was "311.example.org/reports/…"."""
    monkeypatch.setenv("SITE_URL", value)
    with pytest.raises(ImproperlyConfigured, match="SITE_URL must be an absolute http"):
        env_url("SITE_URL", "http://127.0.0.1:8000")
    monkeypatch.setenv("SITE_URL", "https://311.example.org/")
    assert env_url("SITE_URL", "") == "https://311.example.org"


@pytest.mark.parametrize(
    "value",
    ["redis//127.0.0.1:6379/0", "redis://127.0.0.1:6379/zero", "redis://:pw@127.0.0.1:63a9/0",
     "rabbit://127.0.0.1"],
)  # fmt: skip
def test_a_broker_url_that_cannot_work_is_refused(monkeypatch, value: str) -> None:
    monkeypatch.setenv("CELERY_BROKER_URL", value)
    with pytest.raises(ImproperlyConfigured, match="CELERY_BROKER_URL must be a broker URL") as e:
        env_broker("CELERY_BROKER_URL")
    assert ":pw@" not in str(e.value)


@pytest.mark.parametrize(
    "value",
    ["redis://127.0.0.1:6379/9", "rediss://:pw@redis.example:6380/0", "redis://localhost",
     "amqp://guest@localhost//", "sentinel://h1:26379;sentinel://h2:26379"],
)  # fmt: skip
def test_a_working_broker_url_is_kept(monkeypatch, value: str) -> None:
    monkeypatch.setenv("CELERY_BROKER_URL", value)
    assert env_broker("CELERY_BROKER_URL") == value
    monkeypatch.delenv("CELERY_BROKER_URL")
    assert env_broker("CELERY_BROKER_URL") is None


def test_a_database_url_without_a_database_is_refused(monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://civic:hunter2@db:5432/")
    with pytest.raises(ImproperlyConfigured, match="names no database") as e:
        env_database("DATABASE_URL", "sqlite:///x", conn_max_age=0)
    assert "hunter2" not in str(e.value)
    monkeypatch.setenv("DATABASE_URL", "postgres://civic:hunter2@db:5432/civic311")
    assert env_database("DATABASE_URL", "", conn_max_age=60)["NAME"] == "civic311"


@pytest.mark.parametrize(
    ("center", "bounds", "expected"),
    [((35.78, -78.64), (-78.78, 35.70, -78.50, 35.88), "MAP_CENTER"),
     ((35.78, -78.64), (35.88, -78.78, 35.70, -78.50), "MAP_BOUNDS must be south,west"),
     ((40.75, -73.98), RIVERTON, "MAP_CENTER"),
     ((95.0, -78.6), (-100.0, -78.78, 100.0, -78.50), "MAP_BOUNDS must be south,west")],
)  # fmt: skip
def test_the_map_centre_lies_inside_real_bounds(center, bounds, expected) -> None:
    with pytest.raises(ImproperlyConfigured, match=expected):
        map_area(center=center, bounds=bounds)
    map_area(center=(35.7796, -78.6382), bounds=RIVERTON)


@pytest.mark.parametrize(
    "host", ["https://311.example.org", "311.example.org:443", "311.example.org/"]
)
def test_allowed_hosts_with_a_scheme_port_or_path_stops_the_boot(host: str) -> None:
    """Django compares the request's host without its port with each entry: such an entry
    matched nothing, and the server answered every request 400 Bad Request."""
    result = boot(DJANGO_DEBUG="false", DJANGO_SECRET_KEY="k" * 50, ALLOWED_HOSTS=host)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS lists host names only" in result.stderr.strip().splitlines()[-1]


def test_host_names_wildcards_and_addresses_are_kept(monkeypatch) -> None:
    hosts = "311.example.org,.example.org,*,10.0.0.5,[::1],localhost,311.example.org."
    monkeypatch.setenv("ALLOWED_HOSTS", hosts)
    assert env_hosts("ALLOWED_HOSTS", "") == hosts.split(",")
