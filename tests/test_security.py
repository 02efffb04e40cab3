"""Site-wide protections: the rate limiter itself, the login lockout, the security headers
on every response, and seed_demo's refusal to plant a known password in production."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from civic311.env import env_cache, env_rate, url_origin
from civic311.ratelimit import Rate, client_ip, hit
from reports.management.commands.seed_demo import DEMO_PASSWORD
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery staple"


# The limiter


@pytest.mark.parametrize(
    ("text", "count", "seconds"),
    [("10/hour", 10, 3600), ("5/m", 5, 60), ("1/second", 1, 1), (" 100/day ", 100, 86400)],
)
def test_rate_parses_drf_style_rates(text, count, seconds):
    assert Rate.parse(text) == Rate(count=count, seconds=seconds)


@pytest.mark.parametrize("text", ["", "10", "0/hour", "-1/hour", "ten/hour", "10/fortnight"])
def test_rate_refuses_nonsense(text):
    with pytest.raises(ValueError, match="a rate is"):
        Rate.parse(text)


def test_rate_settings_fail_loudly(monkeypatch):
    monkeypatch.setenv("RATELIMIT_TEST", "lots")
    with pytest.raises(ImproperlyConfigured, match="RATELIMIT_TEST"):
        env_rate("RATELIMIT_TEST", "10/hour")
    monkeypatch.setenv("CACHE_URL", "memcached://127.0.0.1")
    with pytest.raises(ImproperlyConfigured, match="CACHE_URL"):
        env_cache("CACHE_URL")
    monkeypatch.setenv("CACHE_URL", "redis://127.0.0.1:6379/6")
    assert env_cache("CACHE_URL")["BACKEND"].endswith("RedisCache")


def test_url_origin_for_the_policy():
    assert url_origin("https://tile.example.org/{z}/{x}/{y}.png") == "https://tile.example.org"
    assert url_origin("https://{s}.tiles.example.org/{z}.png") == "https://*.tiles.example.org"
    assert url_origin("/media/") is None


def test_hit_counts_in_fixed_windows_and_says_when_to_retry():
    rate = Rate(count=2, seconds=60)
    start = 6000.0  # a window boundary

    assert hit("t", "a", rate, now=start).allowed
    assert hit("t", "a", rate, now=start + 10).allowed
    refused = hit("t", "a", rate, now=start + 15)
    assert not refused.allowed and refused.retry_after == 45
    assert hit("t", "b", rate, now=start + 15).allowed  # another client
    assert hit("other", "a", rate, now=start + 15).allowed  # another scope
    assert hit("t", "a", rate, now=start + 60).allowed  # the next window


def test_client_ip_groups_ipv6_by_64_and_trusts_only_the_proxies_it_is_told(settings):
    factory = RequestFactory()
    assert client_ip(factory.get("/", REMOTE_ADDR="2001:db8:1:2:3:4:5:6")) == "2001:db8:1:2::"
    assert client_ip(factory.get("/", REMOTE_ADDR="::ffff:192.0.2.5")) == "192.0.2.5"
    spoof = factory.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6")
    assert client_ip(spoof) == "10.0.0.1"

    settings.TRUSTED_PROXY_COUNT = 2
    chain = "6.6.6.6, 203.0.113.5, 10.0.0.2"  # client-written, client, first proxy
    assert client_ip(factory.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=chain)) == (
        "203.0.113.5"
    )
    # Fewer entries than trusted proxies: the header is not what the proxies make; ignore it.
    short = factory.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6")
    assert client_ip(short) == "10.0.0.1"
    # Garbage where an address should be: one shared bucket, still a valid address.
    junk = factory.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="unknown, nonsense")
    assert client_ip(junk) == "0.0.0.0"
    assert client_ip(factory.get("/", REMOTE_ADDR="")) == "0.0.0.0"


# Login lockout (django-axes)


def admin_login(client, password: str, address: str = "127.0.0.1"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": "chief", "password": password},
        REMOTE_ADDR=address,
    )


def test_admin_login_locks_out_after_repeated_failures_even_for_the_right_password(
    client, settings
):
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(username="chief", is_staff=True, is_superuser=True)

    for _ in range(2):
        assert admin_login(client, "guess").status_code == 200  # the form again
    locked = admin_login(client, "guess")
    assert locked.status_code == 429
    right = admin_login(client, PASSWORD)

    assert right.status_code == 429
    assert int(right["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
    assert "Sign-in locked" in right.content.decode()
    assert "_auth_user_id" not in client.session
    # The lockout is per username and address: the owner elsewhere still gets in.
    assert admin_login(client, PASSWORD, address="198.51.100.20").status_code == 302


def test_a_successful_login_resets_the_failure_count(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(username="chief", is_staff=True)
    for _ in range(2):
        admin_login(client, "guess")
    assert admin_login(client, PASSWORD).status_code == 302
    client.logout()
    for _ in range(2):
        assert admin_login(client, "guess").status_code == 200
    assert admin_login(client, PASSWORD).status_code == 302


# Security headers


@pytest.mark.parametrize(
    "path", ["/", "/reports/new/", "/open311/v2/services.json", "/admin/login/", "/api/docs/"]
)
def test_every_response_has_csp_without_unsafe_inline_and_permissions_policy(client, path):
    response = client.get(path)

    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    permissions = response["Permissions-Policy"]
    assert "geolocation=(self)" in permissions and "camera=()" in permissions


def test_templates_carry_no_inline_script_or_style():
    """Our templates (emails aside: no policy applies to mail) put code in static files."""
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        if "emails" in path.parts:
            continue
        text = path.read_text()
        for needle in ("<script>", "<style", 'style="', " onclick=", " onload=", " onchange="):
            if needle in text:
                offenders.append(f"{path.relative_to(ROOT)}: {needle}")
    assert offenders == []


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    # Browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; a deployment would not.
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "x" * 30 + "-not-a-real-secret-key-but-long-enough",
        "ALLOWED_HOSTS": "311.riverton.example.org",
        "SITE_URL": "https://311.riverton.example.org",
        "CACHE_URL": "redis://127.0.0.1:6379/6",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# seed_demo in production


def test_seed_demo_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--allow-production"):
        call_command("seed_demo", reports=5)
    assert not get_user_model().objects.exists()


def test_seed_demo_in_production_never_sets_the_published_password(settings, capsys):
    settings.DEBUG = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # A login left over from a demo run still has the published password: it is replaced.
    UserFactory(username="health", password=DEMO_PASSWORD)
    changed = UserFactory(username="health-manager", password="their own choice")

    call_command("seed_demo", reports=5, photos=0, allow_production=True, verbosity=0)

    out = capsys.readouterr().out
    assert DEMO_PASSWORD not in out
    assert "shown only this once" in out
    users = get_user_model().objects.all()
    assert users.filter(username="admin", is_superuser=True).exists()
    assert not [u.username for u in users if u.check_password(DEMO_PASSWORD)]
    admin_line = next(line for line in out.splitlines() if line.strip().startswith("admin "))
    assert users.get(username="admin").check_password(admin_line.split()[1])
    changed.refresh_from_db()
    assert changed.check_password("their own choice")


def test_lockout_counts_an_ipv6_client_by_its_64(client, settings):
    """Rotating addresses inside one's own /64 does not reset the count (and the /64 is
    stored as the attempt's address on every database)."""
    settings.AXES_FAILURE_LIMIT = 2
    UserFactory(username="chief", is_staff=True)
    assert admin_login(client, "guess", address="2001:db8:5::1").status_code == 200
    assert admin_login(client, "guess", address="2001:db8:5::2").status_code == 429
    assert admin_login(client, PASSWORD, address="2001:db8:5::3").status_code == 429
    assert admin_login(client, PASSWORD, address="2001:db8:6::1").status_code == 302
