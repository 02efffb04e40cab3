"""The signed links in followers' emails: confirm a subscription, stop it.

A link carries the subscription's secret token signed with SECRET_KEY and a salt of its
own purpose, so a confirmation link cannot unsubscribe nor an unsubscribe link confirm, and
a confirmation link stops working after SUBSCRIPTION_CONFIRM_DAYS. The signature is the
whole authorisation: no login, no cookie, which is what a mail client's one-click
unsubscribe (RFC 8058) needs."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Literal

from django.conf import settings
from django.core import signing
from django.urls import reverse

from reports.models import Subscription

Purpose = Literal["confirm", "unsubscribe"]
SALTS: dict[Purpose, str] = {
    "confirm": "reports.subscription.confirm",
    "unsubscribe": "reports.subscription.unsubscribe",
}
ROUTES: dict[Purpose, str] = {
    "confirm": "reports:follow-confirm",
    "unsubscribe": "reports:unsubscribe",
}


class LinkExpired(Exception):
    """A genuine confirmation link, older than SUBSCRIPTION_CONFIRM_DAYS."""


def confirm_max_age() -> timedelta:
    return timedelta(days=settings.SUBSCRIPTION_CONFIRM_DAYS)


def subscription_token(subscription: Subscription, purpose: Purpose) -> str:
    if purpose == "confirm":
        return signing.TimestampSigner(salt=SALTS[purpose]).sign(str(subscription.token))
    return signing.Signer(salt=SALTS[purpose]).sign(str(subscription.token))


def subscription_link(subscription: Subscription, purpose: Purpose) -> str:
    """The absolute address of the page that confirms or stops `subscription`."""
    path = reverse(ROUTES[purpose], args=[subscription_token(subscription, purpose)])
    return f"{settings.SITE_URL}{path}"


def subscription_from_token(token: str, purpose: Purpose) -> Subscription | None:
    """The subscription a link names; None for a forged, altered or unknown one. Raises
    LinkExpired for a genuine confirmation link that is too old."""
    try:
        if purpose == "confirm":
            signer = signing.TimestampSigner(salt=SALTS[purpose])
            value = signer.unsign(token, max_age=confirm_max_age())
        else:
            value = signing.Signer(salt=SALTS[purpose]).unsign(token)
    except signing.SignatureExpired as exc:
        raise LinkExpired from exc
    except signing.BadSignature:
        return None
    return (
        Subscription.objects.select_related("request").filter(token=value).first()
        if _is_uuid(value)
        else None
    )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
