"""A nickname shown on an asset's page, or a care note, that is invisible characters only,
and a nickname that reorders what others read (bidi overrides), are refused: a form error,
nothing stored."""

from __future__ import annotations

import pytest
from django.utils import timezone

from adoptions.models import Adoption, CareLog

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("nickname", "message"),
    [
        ("\u200b\u200b\u200b", "only invisible characters"),
        ("\u3164", "only invisible characters"),
        ("\u202erenroC", "text-direction"),
        ("Corner\u2067 (city)", "text-direction"),
    ],
)
def test_adopt_refuses_an_invisible_or_spoofing_nickname(
    client, asset, volunteer, nickname, message
):
    client.force_login(volunteer)
    url = f"{asset.get_absolute_url()}adopt/"
    response = client.post(url, {"accept_terms": "on", "nickname": nickname})
    assert response.status_code == 400 and message in response.content.decode()
    assert not Adoption.objects.exists()


def test_adopt_keeps_a_joiner_inside_a_visible_nickname(client, asset, volunteer):
    client.force_login(volunteer)
    nickname = "Shelter \U0001f3f3\ufe0f\u200d\U0001f308"
    url = f"{asset.get_absolute_url()}adopt/"
    assert client.post(url, {"accept_terms": "on", "nickname": nickname}).status_code == 302
    assert Adoption.objects.get().nickname == nickname


def test_care_note_of_invisible_characters_is_refused(client, adoption, volunteer):
    client.force_login(volunteer)
    url = f"{adoption.asset.get_absolute_url()}care/"
    response = client.post(url, {"date": timezone.localdate().isoformat(), "note": "\u200b" * 8})
    assert response.status_code == 400 and "only invisible characters" in response.content.decode()
    assert not CareLog.objects.exists()
