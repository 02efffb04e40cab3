"""A display name is public: one that shows as blank (invisible characters only) or that
reorders what others read (bidi overrides and isolates) is refused, at sign-up and on
"My account"; joiners inside a visible name are kept."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from accounts.models import Profile
from accounts.profiles import FALLBACK_NAME, display_name_for
from tests.accounts.test_signup_login import signup

pytestmark = pytest.mark.django_db
User = get_user_model()

BLANK = ["\u200b\u200b\u200b", "\u3164", "\u2800 \u2060"]
SPOOFING = ["\u202eeciffO ytiC", "Sam\u2066 (staff)\u2069", "\u202dSam"]


@pytest.mark.parametrize(
    ("name", "message"),
    [*((n, "Enter a display name.") for n in BLANK), *((n, "text-direction") for n in SPOOFING)],
)
def test_signup_refuses_a_blank_or_direction_spoofing_name(client, name, message):
    response = signup(client, display_name=name)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.exists()


@pytest.mark.parametrize("name", [*BLANK, *SPOOFING])
def test_profile_edit_refuses_a_blank_or_direction_spoofing_name(client, member, name):
    client.force_login(member)
    response = client.post("/account/profile/", {"display_name": name})
    assert response.status_code == 200 and 'role="alert"' in response.content.decode()
    assert Profile.objects.get(user=member).display_name == "River Keeper"


def test_profile_edit_keeps_a_joiner_inside_a_visible_name(client, member):
    client.force_login(member)
    name = "Ana \U0001f469\u200d\U0001f527"
    assert client.post("/account/profile/", {"display_name": name}).status_code == 302
    assert Profile.objects.get(user=member).display_name == name


def test_a_name_saved_before_the_rule_is_not_shown(member):
    Profile.objects.filter(user=member).update(display_name="\u202eeciffO ytiC")
    member.refresh_from_db()
    assert display_name_for(member) == FALLBACK_NAME
