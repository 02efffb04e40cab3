"""My account: its sections (profile, my reports), editing the profile, leaving."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import sections
from accounts.models import Profile
from accounts.profiles import FALLBACK_NAME, display_name_for
from accounts.services import account_delete
from accounts.signals import account_deleting
from reports.models import OutboxMessage, ServiceRequest, Subscription
from tests.accounts.conftest import PASSWORD, last_mail_to, link_in, make_member, sign_in
from tests.factories import (
    ServiceFactory,
    ServiceRequestFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

User = get_user_model()


def test_my_account_needs_sign_in(client):
    response = client.get("/account/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/account/")


def test_my_account_shows_the_profile_section(client, member):
    client.force_login(member)
    response = client.get("/account/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="section-profile"' in html and 'id="section-reports"' in html
    assert "River Keeper" in html and "sam@example.org" in html
    assert 'href="/account/delete/"' in html
    # Sections come in their registered order: reports before the profile.
    assert html.index('id="section-reports"') < html.index('id="section-profile"')


def test_header_says_sign_in_or_my_account(client, member):
    assert "Sign in" in client.get("/").content.decode()
    client.force_login(member)
    html = client.get("/").content.decode()
    assert "My account" in html and "Sign out" in html and ">Sign in<" not in html


def test_my_reports_lists_reports_filed_with_a_verified_address(client, member):
    service = ServiceFactory(name="Pothole")
    mine = ServiceRequestFactory(service=service, reporter_email="SAM@Example.org")
    ServiceRequestFactory(service=service, reporter_email="someone.else@example.org")
    followed = ServiceRequestFactory(service=service, reporter_email="")
    Subscription.objects.create(request=followed, email="sam@example.org")
    stopped = ServiceRequestFactory(service=service, reporter_email="")
    Subscription.objects.create(request=stopped, email="sam@example.org", active=False)

    client.force_login(member)
    html = client.get("/account/").content.decode()
    assert f'href="/reports/{mine.pk}/"' in html
    assert f'href="/reports/{followed.pk}/"' in html
    assert f"#{stopped.pk}<" not in html
    assert ServiceRequest.objects.count() == 4
    assert html.count('class="account-report"') == 2


def test_a_follow_not_confirmed_yet_says_it_sends_nothing(client, member):
    """The follow form takes any address, and no update goes out before the emailed link
    is clicked: the list must not pass an unconfirmed follow off as one that works."""
    pending = ServiceRequestFactory(reporter_email="")
    Subscription.objects.create(request=pending, email="sam@example.org")
    working = ServiceRequestFactory(reporter_email="")
    Subscription.objects.create(
        request=working, email="sam@example.org", confirmed_at=timezone.now()
    )
    client.force_login(member)
    html = client.get("/account/").content.decode()
    rows = html.split('class="account-report"')[1:]
    assert len(rows) == 2
    (pending_row,) = [r for r in rows if f"#{pending.pk}<" in r]
    (working_row,) = [r for r in rows if f"#{working.pk}<" in r]
    assert "Not confirmed" in pending_row and "Not confirmed" not in working_row


def test_my_reports_ignores_unverified_addresses(client):
    person = make_member("pat@example.org", verified=False)
    ServiceRequestFactory(reporter_email="pat@example.org")
    Subscription.objects.create(request=ServiceRequestFactory(), email="pat@example.org")
    client.force_login(person)
    html = client.get("/account/").content.decode()
    assert 'class="account-report"' not in html
    assert "Verify an email address" in html


def test_my_reports_never_shows_another_accounts_reports(client, member):
    other = make_member("alex@example.org", name="Alex")
    theirs = ServiceRequestFactory(reporter_email="alex@example.org")
    # Even an address added to this account but verified by nobody doesn't reach them.
    EmailAddress.objects.create(user=member, email="alex2@example.org", verified=False)
    ServiceRequestFactory(reporter_email="alex2@example.org")
    client.force_login(member)
    html = client.get("/account/").content.decode()
    assert f"#{theirs.pk}<" not in html
    assert 'class="account-report"' not in html
    assert "alex@example.org" not in html
    client.force_login(other)
    assert f'href="/reports/{theirs.pk}/"' in client.get("/account/").content.decode()


def test_hidden_report_is_listed_without_a_link(client, member):
    hidden = ServiceRequestFactory(reporter_email="sam@example.org", hidden=True)
    client.force_login(member)
    html = client.get("/account/").content.decode()
    assert f'href="/reports/{hidden.pk}/"' not in html
    assert f"#{hidden.pk}<" in html and "Removed from public view" in html


def test_my_account_queries_do_not_grow_with_reports(client, member):
    """Each section reads a fixed number of rows' worth of queries."""
    client.force_login(member)
    service = ServiceFactory()

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/account/").status_code == 200
        return len(captured)

    ServiceRequestFactory(service=service, reporter_email="sam@example.org")
    few = count_queries()
    for _ in range(12):
        report = ServiceRequestFactory(service=ServiceFactory(), reporter_email="sam@example.org")
        Subscription.objects.create(request=report, email="sam@example.org")
    EmailAddress.objects.create(user=member, email="sam2@example.org", verified=True)
    assert count_queries() == few


def test_section_registry_orders_and_refuses_a_taken_key():
    keys = [section.key for section in sections.registered()]
    assert keys.index("reports") < keys.index("profile")
    with pytest.raises(Exception, match="already registered"):
        sections.register(
            key="profile", template_name="other.html", context=lambda request: {}, order=1
        )


def test_profile_edit_saves_name_and_leaderboard_choice(client, member):
    client.force_login(member)
    response = client.post("/account/profile/", {"display_name": "  Keeper   of  River "})
    assert response.status_code == 302
    profile = Profile.objects.get(user=member)
    assert profile.display_name == "Keeper of River"
    assert profile.show_on_leaderboard is False  # an unticked box


def test_profile_edit_refuses_an_email_as_name(client, member):
    client.force_login(member)
    response = client.post("/account/profile/", {"display_name": "sam@example.org"})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert Profile.objects.get(user=member).display_name == "River Keeper"


def test_profile_edit_creates_a_profile_for_staff_without_one(client, superuser):
    client.force_login(superuser)
    assert display_name_for(superuser) == FALLBACK_NAME
    client.post("/account/profile/", {"display_name": "Pat", "show_on_leaderboard": "on"})
    superuser.refresh_from_db()
    assert display_name_for(superuser) == "Pat"


def test_profile_edit_needs_sign_in(client):
    response = client.post("/account/profile/", {"display_name": "Anon"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not Profile.objects.exists()


def test_display_name_for_fallbacks():
    assert display_name_for(None) == FALLBACK_NAME
    assert display_name_for(UserFactory()) == FALLBACK_NAME


def test_account_deletion_asks_to_confirm_and_sends_the_signal(client, member):
    received = []

    def receiver(sender, user, **kwargs):
        # Inside the transaction, before the user goes: the rows are still there.
        received.append((user.pk, User.objects.filter(pk=user.pk).exists()))

    account_deleting.connect(receiver)
    try:
        sign_in(client, "sam@example.org")
        # Deleting asks for the password again first.
        response = client.post("/account/delete/", {})
        assert response["Location"].startswith("/accounts/reauthenticate/")
        # The password given, allauth replays the waiting request: the box was not ticked,
        # so the confirm page comes back and nothing happens.
        response = client.post(response["Location"], {"password": PASSWORD})
        assert response.status_code == 200
        assert "Tick the box" in response.content.decode()
        assert User.objects.filter(pk=member.pk).exists()
        assert received == []

        response = client.post("/account/delete/", {"confirm": "on"})
    finally:
        account_deleting.disconnect(receiver)
    assert response.status_code == 302 and response["Location"] == "/"
    assert received == [(member.pk, True)]
    assert not User.objects.filter(pk=member.pk).exists()
    assert not Profile.objects.filter(user_id=member.pk).exists()
    assert not EmailAddress.objects.filter(email="sam@example.org").exists()
    assert "_auth_user_id" not in client.session
    assert client.get("/account/").status_code == 302


def test_account_deletion_needs_a_recent_sign_in(client, member):
    client.force_login(member)  # a session with no recorded sign-in time
    response = client.post("/account/delete/", {"confirm": "on"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")
    assert User.objects.filter(pk=member.pk).exists()


def _staff_account(kind: str):
    """A current staff account with an email address to sign in with, of one kind: a
    superuser or plain staff, each with a line in the admin's log. (Former staff may leave:
    test_former_staff.py.)"""
    user = UserFactory(
        username="clerk",
        email="clerk@example.org",
        is_staff=True,
        is_superuser=kind == "su",
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    LogEntry.objects.create(
        user=user, object_repr="Pothole", action_flag=CHANGE, change_message="Closed"
    )
    return user


@pytest.mark.parametrize("kind", ["su", "staff"])
def test_staff_cannot_delete_their_account_from_the_citizens_page(client, kind):
    user = _staff_account(kind)
    history = (LogEntry.objects.filter(user=user).count(), user.memberships.count())
    sign_in(client, "clerk@example.org")  # a recent sign-in: no re-authentication stands in the way
    assert client.session["_auth_user_id"] == str(user.pk)

    html = client.get("/account/").content.decode()
    assert 'href="/account/delete/"' not in html
    assert "closed by an administrator" in html

    response = client.get("/account/delete/")
    assert response.status_code == 403
    assert "Ask an administrator" in response.content.decode()
    response = client.post("/account/delete/", {"confirm": "on"})
    assert response.status_code == 403
    assert User.objects.filter(pk=user.pk).exists()
    assert (LogEntry.objects.filter(user=user).count(), user.memberships.count()) == history
    assert client.session["_auth_user_id"] == str(user.pk)


def test_account_delete_service_refuses_a_staff_account(superuser):
    with pytest.raises(ValidationError):
        account_delete(user=superuser)
    assert User.objects.filter(pk=superuser.pk).exists()


def test_account_deletion_rolls_back_when_a_receiver_fails(client, member):
    def receiver(sender, user, **kwargs):
        Profile.objects.filter(user=user).update(display_name="changed")
        raise RuntimeError("cleanup failed")

    account_deleting.connect(receiver)
    try:
        with pytest.raises(RuntimeError):
            account_delete(user=member)
    finally:
        account_deleting.disconnect(receiver)
    assert User.objects.filter(pk=member.pk).exists()
    assert Profile.objects.get(user=member).display_name == "River Keeper"


def test_admin_corrects_a_display_name_but_refuses_an_email(client, superuser, member):
    client.force_login(superuser)
    profile = Profile.objects.get(user=member)
    url = f"/admin/accounts/profile/{profile.pk}/change/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"display_name": "x@example.org", "show_on_leaderboard": "on"})
    assert response.status_code == 200
    profile.refresh_from_db()
    assert profile.display_name == "River Keeper"
    response = client.post(url, {"display_name": "Keeper", "show_on_leaderboard": "on"})
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.display_name == "Keeper"


def test_admin_profiles_are_staff_only(client, member):
    client.force_login(member)
    response = client.get("/admin/accounts/profile/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_report_in_its_preview_window_says_so(client, member):
    waiting = ServiceRequestFactory(
        reporter_email="sam@example.org", published_at=timezone.now() + timedelta(minutes=5)
    )
    client.force_login(member)
    html = client.get("/account/").content.decode()
    assert f"#{waiting.pk}<" in html and "Not public yet" in html
    # Its link is the reporter's preview (its public page says "not public yet").
    link = re.search(rf'href="(/reports/{waiting.pk}/preview/[^"]+/)"', html)
    assert link is not None and f'href="/reports/{waiting.pk}/"' not in html
    preview = client.get(link.group(1))
    assert preview.status_code == 200 and preview.context["preview"] is True


def test_adding_an_address_tells_the_owner_at_the_old_one(client, member):
    sign_in(client, "sam@example.org")
    response = client.post("/accounts/email/", {"email": "sam.new@example.org", "action_add": ""})
    assert response.status_code == 302
    assert EmailAddress.objects.filter(user=member, email="sam.new@example.org").exists()

    notice = last_mail_to("sam@example.org")
    assert notice.kind == "account_email_added"
    assert notice.subject.endswith("Email address added")
    assert "sam.new@example.org was added to your account" in notice.body
    # The new address gets only its confirmation link, not the notice.
    to_new = OutboxMessage.objects.filter(to="sam.new@example.org")
    assert [m.kind for m in to_new] == ["account_email_confirmation"]

    # Confirming it changes nothing for the owner's mailbox: the notice came once.
    client.post(link_in(to_new.get().body))
    assert EmailAddress.objects.get(email="sam.new@example.org").verified
    assert (
        OutboxMessage.objects.filter(to="sam@example.org", kind="account_email_added").count() == 1
    )


def test_signing_up_sends_no_added_address_notice(client):
    client.post(
        "/accounts/signup/",
        {
            "display_name": "Greenway Gus",
            "email": "gus@example.org",
            "password1": "a fresh long pass phrase 42",
            "password2": "a fresh long pass phrase 42",
            "website": "",
        },
    )
    assert User.objects.filter(email="gus@example.org").exists()
    assert not OutboxMessage.objects.filter(kind="account_email_added").exists()
