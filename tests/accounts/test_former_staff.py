"""Leaving, for someone who worked in the admin: current staff are refused (an administrator
closes their account), former staff delete their account like any citizen, and their work
stays, credited to "former staff"."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import Profile
from accounts.services import FORMER_STAFF_USERNAME, account_delete, former_staff_account
from departments.models import StaffMembership
from departments.permissions import STAFF_GROUP_NAME
from reports.models import RequestUpdate
from reports.services import triage
from tests.accounts.conftest import PASSWORD, sign_in
from tests.factories import ServiceRequestFactory, StaffMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()
REPLY = "We have scheduled the repair for Tuesday."
NOTE = "Crew two says the hole is deeper than reported."


def _former_clerk():
    """A department agent who replied on a report, wrote an internal note, was given the
    report and left a line in the admin's log, and whose staff flag was then taken away:
    still a member of the department and of the staff group, with a permission of their own."""
    membership = StaffMembershipFactory(
        user=UserFactory(username="jclerk", email="j.clerk@example.org", is_staff=True)
    )
    user = membership.user
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    Profile.objects.create(user=user, display_name="Jo Clerk")
    report = ServiceRequestFactory(service__department=membership.department)
    triage.report_update(report=report, author=user, state="in_progress", text=REPLY)
    triage.report_note_add(report=report, author=user, text=NOTE, public=False)
    triage.report_assign(report=report, author=user, assignee=user)
    LogEntry.objects.create(
        user=user,
        content_type=ContentType.objects.get_for_model(report),
        object_id=str(report.pk),
        object_repr=str(report),
        action_flag=CHANGE,
        change_message="Took it",
    )
    user.groups.add(Group.objects.get_or_create(name=STAFF_GROUP_NAME)[0])
    user.user_permissions.add(Permission.objects.get(codename="view_servicerequest"))
    user.is_staff = False
    user.save(update_fields=["is_staff"])
    return user, report


def test_former_staff_deletes_their_account_and_their_reply_stays(client, superuser):
    user, report = _former_clerk()
    sign_in(client, "j.clerk@example.org")
    assert 'href="/account/delete/"' in client.get("/account/").content.decode()

    response = client.post("/account/delete/", {"confirm": "on"})
    # As for anyone: the password again, then allauth replays the ticked form.
    assert response["Location"].startswith("/accounts/reauthenticate/")
    response = client.post(response["Location"], {"password": PASSWORD})

    assert response.status_code == 302 and response["Location"] == "/"
    assert not User.objects.filter(pk=user.pk).exists()
    assert not StaffMembership.objects.filter(user_id=user.pk).exists()
    former = User.objects.get(username=FORMER_STAFF_USERNAME)
    assert not former.is_active and not former.has_usable_password() and not former.is_staff
    # The work stays, credited to former staff: the timeline and the admin's log.
    entries = RequestUpdate.objects.filter(request=report, author=former)
    assert set(entries.values_list("text", flat=True)) >= {REPLY, NOTE}
    assert LogEntry.objects.get(change_message="Took it").user == former
    report.refresh_from_db()
    assert report.assigned_to is None

    page = client.get(report.get_absolute_url())
    assert page.status_code == 200
    html = page.content.decode()
    assert REPLY in html and NOTE not in html
    for private in ("jclerk", "j.clerk@example.org", "Jo Clerk", FORMER_STAFF_USERNAME):
        assert private not in html

    client.force_login(superuser)
    admin = client.get(reverse("admin:reports_servicerequest_change", args=[report.pk]))
    assert admin.status_code == 200
    html = admin.content.decode()
    assert REPLY in html and NOTE in html and FORMER_STAFF_USERNAME in html
    history = client.get(reverse("admin:reports_servicerequest_history", args=[report.pk]))
    assert history.status_code == 200
    assert "Took it" in history.content.decode()
    assert FORMER_STAFF_USERNAME in history.content.decode()


def test_a_second_former_staff_shares_the_former_staff_account():
    first, report = _former_clerk()
    account_delete(user=first)
    second = UserFactory(username="kclerk")
    triage.report_note_add(report=report, author=second, text="Second note", public=False)
    account_delete(user=second)
    assert User.objects.filter(username=FORMER_STAFF_USERNAME).count() == 1
    assert RequestUpdate.objects.get(text="Second note").author == former_staff_account()


def test_a_citizen_who_never_was_staff_leaves_no_former_staff_account(client):
    account_delete(user=UserFactory(username="citizen"))
    assert not User.objects.filter(username=FORMER_STAFF_USERNAME).exists()


@pytest.mark.parametrize("kind", ["staff", "superuser"])
def test_current_staff_are_refused_with_a_clear_message(client, kind):
    user = UserFactory(
        username="clerk", email="clerk@example.org", is_staff=True, is_superuser=kind == "superuser"
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    StaffMembershipFactory(user=user)
    sign_in(client, "clerk@example.org")
    response = client.post("/account/delete/", {"confirm": "on"})
    assert response.status_code == 403
    assert "Ask an administrator" in response.content.decode()
    assert User.objects.filter(pk=user.pk).exists() and user.memberships.count() == 1
    with pytest.raises(ValidationError, match="staff account"):
        account_delete(user=user)
    assert User.objects.filter(pk=user.pk).exists()


def test_the_former_staff_account_itself_is_not_deleted():
    former = former_staff_account()
    with pytest.raises(ValidationError):
        account_delete(user=former)
    assert User.objects.filter(pk=former.pk).exists()
