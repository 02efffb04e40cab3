from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress

from accounts.models import Profile
from reports.models import OutboxMessage
from tests.factories import UserFactory

PASSWORD = "correct horse battery staple"  # the factory's


def make_member(email: str, *, name: str = "River Keeper", verified: bool = True):
    """A citizen account as sign-up leaves it once the address is verified."""
    user = UserFactory(username=email.split("@")[0], email=email)
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    Profile.objects.create(user=user, display_name=name)
    return user


def sign_in(client, email: str, password: str = PASSWORD):
    """Sign in through allauth's form, as a person does (which also records the sign-in time
    that allauth's re-authentication checks)."""
    return client.post("/accounts/login/", {"login": email, "password": password})


def last_mail_to(email: str) -> OutboxMessage:
    return OutboxMessage.objects.filter(to=email).order_by("-pk").first()


def link_in(body: str) -> str:
    match = re.search(r"https?://\S+", body)
    assert match, body
    return match.group(0)


@pytest.fixture
def member(db):
    return make_member("sam@example.org")
