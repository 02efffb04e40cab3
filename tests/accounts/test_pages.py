"""allauth's pages render inside the portal's layout, under the Content-Security-Policy:
no inline script or style, every input labelled."""

from __future__ import annotations

import re

import pytest

from tests.accounts.conftest import PASSWORD, sign_in

pytestmark = pytest.mark.django_db

ANONYMOUS_PAGES = [
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/login/code/",
    "/accounts/password/reset/",
    "/accounts/password/reset/done/",
]
SIGNED_IN_PAGES = [
    "/account/",
    "/account/profile/",
    "/account/delete/",
    "/accounts/email/",
    "/accounts/password/change/",
    "/accounts/reauthenticate/",
    "/accounts/logout/",
]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>")
INPUT_ID = re.compile(
    r'<(?:input|select|textarea)\b(?![^>]*type="(?:hidden|submit)")[^>]*\bid="([^"]+)"'
)


def assert_portal_page(html: str, path: str) -> None:
    assert 'class="site-header"' in html, path
    assert "style=" not in html, path
    assert not INLINE_SCRIPT.search(html), path
    for input_id in INPUT_ID.findall(html):
        assert f'for="{input_id}"' in html, f"{path}: #{input_id} has no label"


@pytest.mark.parametrize("path", ANONYMOUS_PAGES)
def test_anonymous_account_pages(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert_portal_page(response.content.decode(), path)


@pytest.mark.parametrize("path", SIGNED_IN_PAGES)
def test_signed_in_account_pages(client, member, path):
    assert sign_in(client, "sam@example.org", PASSWORD).status_code == 302
    response = client.get(path)
    assert response.status_code == 200
    assert_portal_page(response.content.decode(), path)
