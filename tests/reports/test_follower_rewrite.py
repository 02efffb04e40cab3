"""Followers' update emails written again when they are sent (reports/notifications.py,
follower_update_rewrite): the rows a worker may find that notify_followers did not write
as it writes them now."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from reports.models import OutboxMessage, Subscription
from reports.outbox import outbox_send_due
from reports.services import triage
from tests.factories import ServiceRequestFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def later(minutes: int = 2):
    return timezone.now() + timedelta(minutes=minutes)


def test_a_follower_email_queued_before_the_rewrite_is_not_sent_once_the_report_is_hidden():
    """A row queued by the version before (no `reports` on it) and left pending by an outage
    or retries is checked too: a moderator's hiding keeps the report out of the inbox."""
    report = ServiceRequestFactory()
    SubscriptionFactory(request=report)
    triage.report_note_add(report=report, author=None, text="Crew booked.", public=True)
    OutboxMessage.objects.filter(kind="follower_update").update(reports=[])  # as queued before
    triage.report_moderate(
        report=report, author=None, hidden=True, description_redacted=False, reason="Spam"
    )
    assert outbox_send_due(now=later()) == 0
    assert mail.outbox == []
    assert OutboxMessage.objects.get(kind="follower_update").state == OutboxMessage.State.DROPPED


def test_a_follower_email_whose_key_does_not_parse_is_dropped_and_the_sweep_goes_on():
    """A follower_update row whose dedupe key is not notify_followers' shape (hand-made, or
    another version's) can't be checked against what is public: it is dropped, and the
    messages behind it in the sweep still go (an error would stop every sweep at it)."""
    report = ServiceRequestFactory()
    past = timezone.now() - timedelta(minutes=5)
    for key in ("update:7", "update:x:subscription:y", ""):
        OutboxMessage.objects.create(
            to="someone@example.net", subject="Old", body="Old", kind="follower_update",
            dedupe_key=key, reports=[report.pk], next_attempt_at=past,
        )  # fmt: skip
    OutboxMessage.objects.create(
        to="dept@example.net", subject="New report", body="…", next_attempt_at=past
    )
    assert outbox_send_due(now=later()) == 1
    assert [m.to for m in mail.outbox] == [["dept@example.net"]]
    states = OutboxMessage.objects.filter(kind="follower_update").values_list("state", flat=True)
    assert set(states) == {OutboxMessage.State.DROPPED}


def test_a_follower_whose_address_only_changed_case_still_gets_the_update():
    """An address is matched as the app matches addresses everywhere (lower case): a
    superuser tidying "Maya@Example.org" to "maya@example.org" in the admin between
    queueing and sending does not lose the follower their update."""
    report = ServiceRequestFactory()
    subscription = SubscriptionFactory(request=report, email="Maya@Example.org")
    triage.report_note_add(report=report, author=None, text="Crew booked.", public=True)
    Subscription.objects.filter(pk=subscription.pk).update(email="maya@example.org")
    assert outbox_send_due(now=later()) == 1
    assert [m.to for m in mail.outbox] == [["Maya@Example.org"]]
    assert "Crew booked." in mail.outbox[0].body


def test_a_follower_whose_address_was_changed_gets_nothing_at_the_old_one():
    report = ServiceRequestFactory()
    subscription = SubscriptionFactory(request=report, email="maya@example.org")
    triage.report_note_add(report=report, author=None, text="Crew booked.", public=True)
    Subscription.objects.filter(pk=subscription.pk).update(email="someone.else@example.org")
    assert outbox_send_due(now=later()) == 0
    assert mail.outbox == []
