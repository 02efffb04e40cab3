"""Settings that would publish a server's secrets stop the boot, with a message naming
the variable to set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from civic311.env import env_email, refuse_unsafe_production

ROOT = Path(__file__).resolve().parents[2]
SECRET = "k" * 50


def boot(**variables: str) -> subprocess.CompletedProcess[str]:
    """manage.py check with only these variables set (as on a fresh server)."""
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **variables}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_a_public_host_without_djangos_debug_set_does_not_boot() -> None:
    """Debug is on by default (a laptop sets nothing): a server that forgot DJANGO_DEBUG
    would show its settings on error pages and sign links with the key in our code."""
    result = boot(ALLOWED_HOSTS="311.riverton.example.org")
    assert result.returncode != 0
    assert (
        "DJANGO_DEBUG is on (its default) while ALLOWED_HOSTS names 311.riverton" in result.stderr
    )
    assert boot().returncode == 0  # a laptop: nothing set


@pytest.mark.parametrize("hosts", [["localhost", "127.0.0.1", "testserver", "[::1]"], []])
def test_debug_on_a_laptop_is_fine(hosts: list[str]) -> None:
    refuse_unsafe_production(debug=True, secret_key="", allowed_hosts=hosts)


@pytest.mark.parametrize("hosts", [["*"], ["localhost", "311.riverton.example.org"]])
def test_debug_for_any_other_host_is_refused(hosts: list[str]) -> None:
    with pytest.raises(ImproperlyConfigured, match="set DJANGO_DEBUG=false"):
        refuse_unsafe_production(debug=True, secret_key=SECRET, allowed_hosts=hosts)


@pytest.mark.parametrize(
    "key",
    ["change-me-to-a-long-random-string", "insecure-development-key-do-not-use-in-production",
     "k" * 49],
)  # fmt: skip
def test_production_refuses_a_published_or_short_key(key: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY must be a secret"):
        refuse_unsafe_production(debug=False, secret_key=key, allowed_hosts=["311.example.org"])
    refuse_unsafe_production(debug=False, secret_key=SECRET, allowed_hosts=["311.example.org"])


def test_a_mistyped_email_url_names_the_variable(monkeypatch) -> None:
    monkeypatch.setenv("EMAIL_URL", "smpt://user:pw@smtp.example.org:587")
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL: unknown scheme 'smpt'"):
        env_email("EMAIL_URL", "console://")
    monkeypatch.setenv("EMAIL_URL", "smtp://user:pw@smtp.example.org:587/?tls=True")
    assert env_email("EMAIL_URL", "console://")["EMAIL_HOST"] == "smtp.example.org"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://smtp.example.org:58a7", "EMAIL_URL: Port could not be cast"),
        ("file://var/mail", "EMAIL_URL: file:// needs an absolute folder"),
        ("file:///var/mail", "EMAIL_URL: file:// needs an absolute folder"),
        ("file://", "EMAIL_URL: file:// needs an absolute folder"),
    ],
)
def test_an_email_url_that_cannot_work_stops_the_boot_naming_it(monkeypatch, url, expected):
    """A port that is not a number failed with a bare traceback; file:///var/mail (three
    slashes) wrote the mail to var/mail under the working folder, without a word."""
    monkeypatch.setenv("EMAIL_URL", url)
    with pytest.raises(ImproperlyConfigured, match=expected):
        env_email("EMAIL_URL", "console://")
    monkeypatch.setenv("EMAIL_URL", "file:////var/mail/civic311")
    assert env_email("EMAIL_URL", "console://")["EMAIL_FILE_PATH"] == "/var/mail/civic311"


def test_env_example_loads_in_a_posix_shell() -> None:
    """The command .env.example's header gives loads every variable it lists (unquoted
    values with spaces, < or & broke it at the first one, and the rest never loaded)."""
    script = "set -a; . ./.env.example; set +a; env"
    result = subprocess.run(["sh", "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0 and result.stderr == ""
    loaded = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    listed = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            name, value = line.split("=", 1)
            listed[name] = value.strip('"')
    assert {name: loaded.get(name) for name in listed} == listed


@pytest.mark.parametrize(
    "sender",
    ["not an address", "Name <not-an-address>", "Civic311 <noreply@city.example", "noreply@",
     "Civic311 <a@city.example>\nBcc: x@evil.example", ""],
)  # fmt: skip
def test_an_invalid_from_address_stops_the_boot_naming_it(sender: str) -> None:
    """DEFAULT_FROM_EMAIL was taken as given: every email failed later, when it was sent."""
    result = boot(DEFAULT_FROM_EMAIL=sender or " ")
    assert result.returncode != 0
    assert "DEFAULT_FROM_EMAIL must be an email address" in result.stderr


@pytest.mark.parametrize(
    "sender", ["Civic311 <noreply@city.example>", "noreply@city.example",
               '"Riverton, 311" <311@riverton.example.org>'],
)  # fmt: skip
def test_a_from_address_alone_or_with_a_name_boots(sender: str) -> None:
    result = boot(DEFAULT_FROM_EMAIL=sender)
    assert result.returncode == 0, result.stderr
