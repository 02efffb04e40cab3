"""Signing up, verifying, signing in (password or emailed code), resetting a password, and the
lockout: allauth's flows as configured here, with every email going through the outbox."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.core import mail

from accounts.models import Profile
from reports.models import OutboxMessage
from tests.accounts.conftest import PASSWORD, last_mail_to, link_in, sign_in
from tests.conftest import assert_errors_described

pytestmark = pytest.mark.django_db

User = get_user_model()
NEW_PASSWORD = "a fresh long pass phrase 42"


def signup(client, **overrides):
    data = {
        "display_name": "Greenway Gus",
        "email": "gus@example.org",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        "website": "",
    }
    data.update(overrides)
    return client.post("/accounts/signup/", data)


def test_signup_page_has_labelled_fields_and_the_honeypot(client):
    response = client.get("/accounts/signup/")
    html = response.content.decode()
    assert response.status_code == 200
    for field in ("display_name", "email", "password1", "password2"):
        assert f'<label for="id_{field}">' in html
    assert 'class="hp-field"' in html
    assert "style=" not in html  # the Content-Security-Policy allows no inline style


def test_signup_requires_a_display_name(client):
    response = signup(client, display_name="  ")
    assert response.status_code == 200
    assert "Display name: Enter a display name." in response.content.decode()
    assert not User.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_signup_refuses_an_email_address_as_display_name(client):
    response = signup(client, display_name="gus@example.org")
    assert response.status_code == 200
    assert "please don&#x27;t use your email address" in response.content.decode()
    assert_errors_described(response.content.decode())
    assert not User.objects.exists()


def test_signup_with_the_honeypot_filled_stores_nothing(client):
    response = signup(client, website="http://spam.example")
    assert response.status_code == 200
    assert not User.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_signup_then_verification_before_sign_in(client):
    response = signup(client)
    assert response.status_code == 302
    user = User.objects.get(email="gus@example.org")
    assert Profile.objects.get(user=user).display_name == "Greenway Gus"
    assert not EmailAddress.objects.get(user=user).verified
    assert "_auth_user_id" not in client.session

    # The verification email is an outbox row, not a direct send.
    message = last_mail_to("gus@example.org")
    assert message.kind == "account_email_confirmation_signup"
    assert message.subject.startswith("[Riverton 311]")
    assert "user gus" not in message.body  # no username in the text
    link = link_in(message.body)

    # Not verified yet: the password is right but sign-in stops at "verify your email".
    response = sign_in(client, "gus@example.org", NEW_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert "_auth_user_id" not in client.session

    # Opening the link shows a confirm button; pressing it verifies.
    assert client.get(link).status_code == 200
    assert client.post(link).status_code == 302
    assert EmailAddress.objects.get(user=user).verified

    response = sign_in(client, "gus@example.org", NEW_PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/account/"
    assert client.session["_auth_user_id"] == str(user.pk)


def test_signup_with_a_taken_address_creates_nothing_and_tells_the_owner(client, member):
    response = signup(client, email="sam@example.org")
    assert response.status_code == 302  # the same answer as a new address: nothing leaks
    assert User.objects.filter(email="sam@example.org").count() == 1
    assert last_mail_to("sam@example.org").kind == "account_account_already_exists"


def test_wrong_password_is_refused(client, member):
    response = sign_in(client, "sam@example.org", "not the password")
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_by_emailed_code(client, member):
    response = client.post("/accounts/login/code/", {"email": "SAM@example.org"})
    assert response.status_code == 302
    message = last_mail_to("sam@example.org")
    assert message.kind == "account_login_code"
    code = re.search(r"^([A-Z0-9]{4}-[A-Z0-9]{4})$", message.body, re.MULTILINE).group(1)

    response = client.post("/accounts/login/code/confirm/", {"code": "WRONG1"})
    assert "_auth_user_id" not in client.session

    response = client.post("/accounts/login/code/confirm/", {"code": code})
    assert response.status_code == 302 and response["Location"] == "/account/"
    assert client.session["_auth_user_id"] == str(member.pk)


def test_login_code_for_an_unknown_address_sends_nothing(client):
    response = client.post("/accounts/login/code/", {"email": "nobody@example.org"})
    assert response.status_code == 302  # the same answer: no account enumeration
    assert not OutboxMessage.objects.exists()


def test_password_reset_mail_goes_through_the_outbox(
    client, member, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password/reset/", {"email": "sam@example.org"})
        assert mail.outbox == []  # recorded, not sent, until the change commits
    assert response.status_code == 302
    message = last_mail_to("sam@example.org")
    assert message.kind == "account_password_reset_key"
    # After commit the worker (in-process here) sent the recorded message.
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.SENT
    [sent] = mail.outbox
    assert sent.to == ["sam@example.org"] and sent.body == message.body

    response = client.get(link_in(message.body))
    assert response.status_code == 302  # allauth moves the key out of the URL
    set_password_url = response["Location"]
    response = client.post(set_password_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD)
    assert last_mail_to("sam@example.org").kind == "account_password_reset"


def test_password_reset_for_an_unknown_address_sends_nothing(client):
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert not OutboxMessage.objects.exists()


def test_lockout_after_repeated_failures(client, member, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        assert sign_in(client, "sam@example.org", "wrong").status_code == 200
    response = sign_in(client, "sam@example.org", "wrong")
    assert response.status_code == 429
    assert "Sign-in locked" in response.content.decode()
    assert AccessAttempt.objects.get().username == "sam@example.org"

    # Locked: even the right password (in any letter case of the address) is refused.
    response = sign_in(client, "Sam@Example.org", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_password_reset_lifts_the_lockout(client, member, settings):
    """The lockout page says to reset the password: once reset by the emailed link, the new
    password signs in at once, not after the cool-off."""
    settings.ACCOUNT_RATE_LIMITS = False
    settings.AXES_FAILURE_LIMIT = 5
    for _ in range(5):
        sign_in(client, "Sam@example.org", "wrong")
    assert sign_in(client, "sam@example.org", PASSWORD).status_code == 429

    client.post("/accounts/password/reset/", {"email": "sam@example.org"})
    response = client.get(link_in(last_mail_to("sam@example.org").body))
    response = client.post(
        response["Location"], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 302

    response = sign_in(client, "sam@example.org", NEW_PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(member.pk)


def test_lockout_holds_without_allauths_own_limits(client, member, settings):
    """django-axes alone refuses the locked-out pair (allauth's limits are another layer)."""
    settings.ACCOUNT_RATE_LIMITS = False
    settings.AXES_FAILURE_LIMIT = 5
    for _ in range(5):
        sign_in(client, "sam@example.org", "wrong")
    response = sign_in(client, "sam@example.org", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_staff_admin_login_still_counts_usernames(client, settings, superuser):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        client.post("/admin/login/", {"username": "admin", "password": "wrong"})
    assert AccessAttempt.objects.get().username == "admin"
