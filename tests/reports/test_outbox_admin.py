"""The outbox in the admin: superusers and staff with the view permission see pending and
failed messages (read-only); only they see recipients and bodies; "retry now" needs the
change permission and never resends a sent message."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.urls import reverse

from departments.permissions import STAFF_GROUP_NAME
from reports.models import OutboxMessage
from reports.outbox import outbox_add
from tests.factories import ServiceRequestFactory, UserFactory

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:reports_outboxmessage_changelist")
State = OutboxMessage.State


def message(state: str, to: str, **fields) -> OutboxMessage:
    report = ServiceRequestFactory()
    row = outbox_add(
        to=to,
        subject=f"New report #{report.pk}",
        template="reports/emails/new_request",
        context={"report": report, "admin_url": "https://example.org/admin/"},
        kind="report_new",
    )
    assert row is not None
    OutboxMessage.objects.filter(pk=row.pk).update(state=state, **fields)
    row.refresh_from_db()
    return row


@pytest.fixture
def rows():
    return {
        "pending": message(State.PENDING, "pending@example.net"),
        "failed": message(
            State.FAILED, "failed@example.net", attempts=8, last_error="SMTP 550 mailbox full"
        ),
        "sent": message(State.SENT, "sent@example.net", attempts=1),
    }


def staff_with(*codenames: str, group: bool = True):
    user = UserFactory(is_staff=True)
    if group:
        user.groups.add(Group.objects.get(name=STAFF_GROUP_NAME))
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="reports", codename__in=codenames)
    )
    return user


def test_superuser_lists_messages_and_filters_by_state(client, superuser, rows):
    client.force_login(superuser)
    everything = client.get(CHANGELIST).content.decode()
    assert all(f"{name}@example.net" in everything for name in rows)
    failed = client.get(CHANGELIST, {"state__exact": "failed"}).content.decode()
    assert "failed@example.net" in failed
    assert "pending@example.net" not in failed and "sent@example.net" not in failed


def test_message_page_is_read_only_and_shows_the_text_not_the_html(client, superuser, rows):
    client.force_login(superuser)
    row = rows["failed"]
    page = client.get(reverse("admin:reports_outboxmessage_change", args=[row.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "SMTP 550 mailbox full" in html and "A new report" in html
    assert 'name="_save"' not in html and 'name="to"' not in html
    assert row.html and row.html not in html  # the HTML part is never rendered here
    response = client.post(
        reverse("admin:reports_outboxmessage_change", args=[row.pk]), {"to": "x@example.net"}
    )
    assert response.status_code == 403
    row.refresh_from_db()
    assert row.to == "failed@example.net"
    assert client.get(reverse("admin:reports_outboxmessage_add")).status_code == 403
    delete = reverse("admin:reports_outboxmessage_delete", args=[row.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert OutboxMessage.objects.filter(pk=row.pk).exists()


def test_department_staff_never_see_the_outbox(client, staff_group, rows):
    client.force_login(staff_with())
    assert client.get(CHANGELIST).status_code == 403
    page = client.get(reverse("admin:reports_outboxmessage_change", args=[rows["failed"].pk]))
    assert page.status_code in (302, 403)
    assert "failed@example.net" not in page.content.decode()
    assert "Outbox messages" not in client.get(reverse("admin:index")).content.decode()


def test_anonymous_and_citizens_are_sent_to_the_login(client, citizen, rows):
    assert client.get(CHANGELIST).status_code == 302
    client.force_login(citizen)
    assert client.get(CHANGELIST).status_code == 302


def test_view_permission_reads_but_cannot_retry(client, staff_group, rows):
    client.force_login(staff_with("view_outboxmessage"))
    assert "failed@example.net" in client.get(CHANGELIST).content.decode()
    client.post(CHANGELIST, {"action": "retry_now", "_selected_action": [rows["failed"].pk]})
    rows["failed"].refresh_from_db()
    assert rows["failed"].state == State.FAILED and rows["failed"].attempts == 8
    assert mail.outbox == []


def test_retry_now_sends_failed_messages_once_and_leaves_sent_ones(
    client, superuser, rows, django_capture_on_commit_callbacks
):
    client.force_login(superuser)
    selected = [rows["failed"].pk, rows["sent"].pk]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            CHANGELIST, {"action": "retry_now", "_selected_action": selected}, follow=True
        )
    notes = [str(m) for m in response.context["messages"]]
    assert notes == ["1 message queued to be sent now.", "Skipped 1 message already sent."]
    rows["failed"].refresh_from_db()
    assert rows["failed"].state == State.SENT and rows["failed"].attempts == 1
    assert [m.to for m in mail.outbox] == [["failed@example.net"]]


def test_message_page_masks_the_secrets_of_links(client, superuser):
    from reports.links import subscription_token
    from reports.services.subscriptions import subscription_create

    subscription = subscription_create(report=ServiceRequestFactory(), email="n@example.org")
    row = OutboxMessage.objects.get(kind="follower_confirm")
    secret = subscription_token(subscription, "confirm")
    assert secret in row.body
    alert = message(State.SENT, "a@example.net")
    OutboxMessage.objects.filter(pk=alert.pk).update(
        headers={"List-Unsubscribe": "<https://x.example/reports/unsubscribe/abc:def/>"}
    )
    account = message(State.SENT, "c@example.net", kind="account_login_code", body="Code: 93XK")
    client.force_login(superuser)

    def page(pk: int) -> str:
        return client.get(reverse("admin:reports_outboxmessage_change", args=[pk])).content.decode()

    html = page(row.pk)
    assert "/reports/follow/…/confirm/" in html and secret not in html
    assert str(subscription.token) not in html
    html = page(alert.pk)
    assert "/reports/unsubscribe/…/" in html and "abc:def" not in html
    assert "93XK" not in page(account.pk)
