"""Following a report: the address confirms by a signed link before any update is sent,
unconfirmed follows expire, and the unsubscribe link works with one click (RFC 8058) but
never on a mere GET."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail, signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from reports.links import subscription_from_token, subscription_token
from reports.models import OutboxMessage, Subscription
from reports.services.subscriptions import subscription_create
from reports.tasks import subscriptions_expire
from tests.conftest import assert_no_private_data
from tests.factories import ServiceRequestFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
THANKS = (
    "Thanks. Please confirm with the link we emailed you; "
    "then we will email you when this report is updated."
)


def confirmation_in(body: str) -> Subscription | None:
    """The subscription that the confirmation link in an email's text confirms."""
    [token] = re.findall(rf"{re.escape(settings.SITE_URL)}/reports/follow/(\S+)/confirm/", body)
    return subscription_from_token(token, "confirm")


def confirm_path(subscription: Subscription) -> str:
    return reverse("reports:follow-confirm", args=[subscription_token(subscription, "confirm")])


def unsubscribe_path(subscription: Subscription) -> str:
    return reverse("reports:unsubscribe", args=[subscription_token(subscription, "unsubscribe")])


def test_follow_is_idempotent_reveals_nothing_and_asks_once_a_day(
    client, django_capture_on_commit_callbacks
):
    report = ServiceRequestFactory()
    url = report.get_absolute_url()
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url, {"email": "Neighbour@Example.org"}, follow=True)
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(url, {"email": "neighbour@example.org"}, follow=True)
    assert first.status_code == again.status_code == 200
    subscription = Subscription.objects.get(request=report, email="neighbour@example.org")
    assert subscription.confirmed_at is None and subscription.confirm_sent_at is not None
    # One confirmation email, however often the form is sent today.
    [ask] = mail.outbox
    assert ask.to == ["neighbour@example.org"]
    assert confirmation_in(ask.body) == subscription
    assert OutboxMessage.objects.get().kind == "follower_confirm"
    # Nobody's address is shown: neither this follower's nor the reporter's.
    SubscriptionFactory(request=report, email="private.person@example.net")
    html = client.get(url).content.decode()
    assert "neighbour@example.org" not in html
    assert_no_private_data(html)
    assert [str(m) for m in again.context["messages"]] == [THANKS]


def test_a_confirmed_follower_gets_no_new_confirmation(client):
    subscription = SubscriptionFactory()
    response = client.post(subscription.request.get_absolute_url(), {"email": subscription.email})
    assert response.status_code == 302
    assert not OutboxMessage.objects.exists()


def test_follow_rejects_bad_email(client):
    report = ServiceRequestFactory()
    response = client.post(report.get_absolute_url(), {"email": "nope"})
    assert response.status_code == 400
    assert "valid email" in " ".join(response.context["form"].errors["email"])
    assert not Subscription.objects.exists() and not OutboxMessage.objects.exists()


def test_follow_again_after_unsubscribing_must_confirm_again(client):
    subscription = SubscriptionFactory(active=False)
    client.post(subscription.request.get_absolute_url(), {"email": subscription.email})
    subscription.refresh_from_db()
    assert subscription.active and subscription.confirmed_at is None
    assert OutboxMessage.objects.get().to == subscription.email


def test_confirm_link_get_asks_and_post_confirms(client):
    subscription = subscription_create(report=ServiceRequestFactory(), email="n@example.org")
    url = confirm_path(subscription)
    page = client.get(url)
    assert page.status_code == 200 and "Get email updates?" in page.content.decode()
    subscription.refresh_from_db()
    assert subscription.confirmed_at is None  # a mail scanner's GET changes nothing
    done = client.post(url)
    assert done.status_code == 200 and "You follow this report" in done.content.decode()
    subscription.refresh_from_db()
    assert subscription.confirmed_at is not None


def test_confirm_needs_the_pages_csrf_token():
    subscription = subscription_create(report=ServiceRequestFactory(), email="n@example.org")
    forged = Client(enforce_csrf_checks=True).post(confirm_path(subscription))
    assert forged.status_code == 403
    subscription.refresh_from_db()
    assert subscription.confirmed_at is None


def test_forged_and_cross_purpose_links_are_refused(client):
    subscription = subscription_create(report=ServiceRequestFactory(), email="n@example.org")
    unsubscribe_token = subscription_token(subscription, "unsubscribe")
    bad = [
        reverse("reports:follow-confirm", args=[unsubscribe_token]),
        reverse("reports:follow-confirm", args=[str(subscription.token)]),
        reverse("reports:follow-confirm", args=[confirm_path(subscription).split("/")[-3] + "x"]),
        reverse("reports:unsubscribe", args=[subscription_token(subscription, "confirm")]),
        reverse("reports:unsubscribe", args=[str(subscription.token)]),
        reverse("reports:unsubscribe", args=[signing.Signer(salt="other").sign(str(uuid.uuid4()))]),
        reverse(
            "reports:unsubscribe",
            args=[signing.Signer(salt="reports.subscription.unsubscribe").sign(str(uuid.uuid4()))],
        ),
    ]
    for url in bad:
        assert client.get(url).status_code == 404, url
        assert client.post(url).status_code == 404, url
    subscription.refresh_from_db()
    assert subscription.active and subscription.confirmed_at is None


def test_an_expired_confirmation_link_confirms_nothing(client, settings, monkeypatch):
    subscription = subscription_create(report=ServiceRequestFactory(), email="n@example.org")
    url = confirm_path(subscription)
    later = timezone.now() + timedelta(days=settings.SUBSCRIPTION_CONFIRM_DAYS, minutes=1)
    monkeypatch.setattr("django.core.signing.time.time", lambda: later.timestamp())
    response = client.post(url)
    assert response.status_code == 410 and "expired" in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.confirmed_at is None


def test_confirming_after_unsubscribing_is_refused(client):
    subscription = subscription_create(report=ServiceRequestFactory(), email="n@example.org")
    url = confirm_path(subscription)
    client.post(unsubscribe_path(subscription))
    response = client.post(url)
    assert response.status_code == 409
    subscription.refresh_from_db()
    assert not subscription.active and subscription.confirmed_at is None


def test_unconfirmed_follows_expire_and_the_job_is_scheduled(settings):
    old = timezone.now() - timedelta(days=settings.SUBSCRIPTION_CONFIRM_DAYS, hours=1)
    stale = SubscriptionFactory(confirmed_at=None)
    Subscription.objects.filter(pk=stale.pk).update(created=old, confirm_sent_at=old)
    asked_again = SubscriptionFactory(confirmed_at=None)
    Subscription.objects.filter(pk=asked_again.pk).update(created=old)
    asked_again.refresh_from_db()
    Subscription.objects.filter(pk=asked_again.pk).update(confirm_sent_at=timezone.now())
    confirmed = SubscriptionFactory()
    Subscription.objects.filter(pk=confirmed.pk).update(created=old)
    assert subscriptions_expire() == 1
    assert set(Subscription.objects.values_list("pk", flat=True)) == {asked_again.pk, confirmed.pk}
    entry = settings.CELERY_BEAT_SCHEDULE["subscriptions-expire"]
    assert entry["task"] == "reports.tasks.subscriptions_expire"


# Unsubscribe


def test_unsubscribe_get_asks_then_post_deactivates(client):
    subscription = SubscriptionFactory()
    url = unsubscribe_path(subscription)
    page = client.get(url)
    assert page.status_code == 200
    assert "Stop email updates?" in page.content.decode()
    subscription.refresh_from_db()
    assert subscription.active  # a GET (e.g. a mail scanner) changes nothing
    done = client.post(url)
    assert done.status_code == 200
    assert "You are unsubscribed" in done.content.decode()
    subscription.refresh_from_db()
    assert not subscription.active
    assert "Already unsubscribed" in client.get(url).content.decode()


def test_unsubscribe_accepts_a_mail_clients_one_click_post():
    subscription = SubscriptionFactory()
    mail_client = Client(enforce_csrf_checks=True)  # no cookie, no CSRF token, no login
    response = mail_client.post(
        f"{settings.SITE_URL}{unsubscribe_path(subscription)}",
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    subscription.refresh_from_db()
    assert not subscription.active


def test_unsubscribe_from_hidden_report_does_not_name_it(client):
    report = ServiceRequestFactory(hidden=True, service__name="Secret category")
    subscription = SubscriptionFactory(request=report)
    response = client.post(unsubscribe_path(subscription))
    assert response.status_code == 200
    assert "Secret category" not in response.content.decode()
    subscription.refresh_from_db()
    assert not subscription.active
