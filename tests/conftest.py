from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache

from civic311.celery import app as celery_app
from civic311.queue import broker_pause_reset
from tests.factories import UserFactory

PRIVATE_VALUES = (
    "Private Person",
    "private.person@example.net",
    "+1 555 0100",
    "device-secret-123",
)


@pytest.fixture(autouse=True)
def _fast_passwords(settings) -> None:
    """Factories hash a password per user; the production hasher costs ~0.3 s each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Rate-limit counters live in the cache: each test starts with none spent."""
    cache.clear()


@pytest.fixture(autouse=True)
def _media_root(request, settings, tmp_path: Path) -> None:
    """Every test writes uploads into its own folder, except those that share files with a
    Celery worker in another process (it reads MEDIA_ROOT from the environment)."""
    if request.node.get_closest_marker("celery_worker") is None:
        settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _tasks_in_process(request):
    """Run tasks in-process, so a test's outcome is the same with or without a broker.

    Tests marked celery_worker use the configured broker and a real worker instead."""
    broker_pause_reset()  # a broker failure simulated by an earlier test is over
    if request.node.get_closest_marker("celery_worker") is not None:
        yield
        return
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def staff_group(db):
    """The "Department staff" group exactly as its data migration makes it.

    Transactional tests (browser, worker) flush the database afterwards, which takes data
    migrations' rows with it, so the group is (re)made here by the migration's own code."""
    migration = importlib.import_module("departments.migrations.0003_staff_group")
    return migration.sync_group(Group, Permission)


@pytest.fixture
def citizen(db):
    return UserFactory(username="citizen")


@pytest.fixture
def superuser(db):
    return UserFactory(username="admin", is_staff=True, is_superuser=True)


def assert_no_private_data(text: str) -> None:
    """The reporter factory's private values must not appear in `text`."""
    for value in PRIVATE_VALUES:
        assert value not in text, f"private value {value!r} leaked"


def assert_errors_described(html: str) -> None:
    """Every field marked invalid names, in aria-describedby, elements the page has (its
    error among them), and no id is used twice: a screen reader reads the reason."""
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    invalid = re.findall(r"<(?:input|select|textarea)\b[^>]*aria-invalid=\"true\"[^>]*>", html)
    assert invalid, "no field is marked invalid"
    for tag in invalid:
        described = re.search(r'aria-describedby="([^"]+)"', tag)
        assert described, f"{tag} names no description"
        named = described.group(1).split()
        assert all(name in ids for name in named), f"{tag}: missing {set(named) - set(ids)}"
        assert any(name.endswith("_error") for name in named), f"{tag} names no error"
