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


@pytest.mark.parametrize("path", SIGNED_IN_PAGES)
def test_signed_in_pages_are_kept_by_no_cache(client, member, path):
    """They show the person's addresses and reports: after "Sign out" on a shared computer,
    the back button must not bring them back from the browser's memory."""
    sign_in(client, "sam@example.org", PASSWORD)
    directives = {d.strip() for d in client.get(path)["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= directives
    # Pages that say how they may be kept keep their own word (the public pages' ETag).
    assert "no-store" not in client.get("/")["Cache-Control"]


def form_tab_order(html: str) -> list[str]:
    """What Tab visits in the page's account form, in document order: inputs by id, links
    by address, buttons as "button"."""
    form = re.search(r'<form[^>]*class="account-form".*?</form>', html, re.S)
    assert form, "no account form"
    order = []
    for tag in re.finditer(r"<(input|select|textarea|button|a)\b[^>]*>", form.group(0)):
        text = tag.group(0)
        if 'type="hidden"' in text:
            continue
        if tag.group(1) == "button":
            order.append("button")
        elif tag.group(1) == "a":
            order.append(re.search(r'href="([^"]+)"', text).group(1))
        else:
            order.append(re.search(r'\bid="([^"]+)"', text).group(1))
    return order


def input_tag(html: str, input_id: str) -> str:
    return re.search(rf'<input\b[^>]*\bid="{input_id}"[^>]*>', html).group(0)


def test_sign_in_tabs_from_email_to_password_and_offers_the_reset_link_last(client):
    """WCAG 2.4.3: the "Forgot your password?" link came between Email and Password, and
    was read as the password field's description."""
    html = client.get("/accounts/login/").content.decode()
    assert form_tab_order(html) == [
        "id_login",
        "id_password",
        "id_remember",
        "button",
        "/accounts/password/reset/",
    ]
    assert "aria-describedby" not in input_tag(html, "id_password")
    assert ">Forgot your password?</a>" in html


def test_reauthentication_and_password_change_put_the_reset_link_after_the_buttons(client, member):
    sign_in(client, "sam@example.org")
    html = client.get("/accounts/reauthenticate/").content.decode()
    assert form_tab_order(html) == ["id_password", "button", "/accounts/password/reset/"]
    assert "aria-describedby" not in input_tag(html, "id_password")

    html = client.get("/accounts/password/change/").content.decode()
    order = form_tab_order(html)
    assert order[0] == "id_oldpassword" and order[-1] == "/accounts/password/reset/"
    assert "aria-describedby" not in input_tag(html, "id_oldpassword")
    # A hint that is text stays before its input and is named as its description.
    assert 'aria-describedby="id_password1_helptext"' in input_tag(html, "id_password1")
    assert html.index('id="id_password1_helptext"') < html.index('id="id_password1"')


def test_signup_hint_stays_before_its_input_and_describes_it(client):
    html = client.get("/accounts/signup/").content.decode()
    assert 'aria-describedby="id_display_name_helptext"' in input_tag(html, "id_display_name")
    assert html.index('id="id_display_name_helptext"') < html.index('id="id_display_name"')
