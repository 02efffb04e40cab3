from __future__ import annotations

from pathlib import Path

import pytest

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
def _media_root(settings, tmp_path: Path) -> None:
    """Every test writes uploads into its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True, scope="session")
def _static_root(tmp_path_factory: pytest.TempPathFactory) -> None:
    """WhiteNoise warns (an error here) when STATIC_ROOT is missing, as it is before
    collectstatic. Session-wide, so that it holds before live_server starts too."""
    from django.conf import settings

    settings.STATIC_ROOT = tmp_path_factory.mktemp("static")


@pytest.fixture
def citizen(db):  # type: ignore[no-untyped-def]
    return UserFactory(username="citizen")


@pytest.fixture
def superuser(db):  # type: ignore[no-untyped-def]
    return UserFactory(username="admin", is_staff=True, is_superuser=True)


def assert_no_private_data(text: str) -> None:
    """The reporter factory's private values must not appear in `text`."""
    for value in PRIVATE_VALUES:
        assert value not in text, f"private value {value!r} leaked"
