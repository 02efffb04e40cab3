"""The emails volunteers get, recorded in the outbox inside the transaction of the change
that causes them (reports/outbox.py sends them after the commit).

Reminders carry a one-click unsubscribe (RFC 8058 List-Unsubscribe and List-Unsubscribe-Post
headers, added by `outbox_add(unsubscribe_url=...)`), which stops that adoption's reminders."""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from adoptions.models import Adoption
from reports.outbox import outbox_add

SUBJECTS = {
    "adopted": "You adopted {asset}",
    "due_soon": "{asset}: a care visit is due by {due}",
    "overdue": "{asset}: the care visit is overdue",
    "lapsed": "{asset}: your adoption has lapsed",
    "staff": "{asset}: your adoption was ended by the city",
}
# Only the reminders can be unsubscribed from; the other messages are about a change to the
# volunteer's own adoption.
REMINDER_KINDS = ("due_soon", "overdue")


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def unsubscribe_url(adoption: Adoption) -> str:
    return absolute(reverse("adoptions:unsubscribe", args=[adoption.reminder_token]))


def adoption_email(
    adoption: Adoption, *, kind: str, now: datetime, period: date | None = None
) -> bool:
    """Record one email about `adoption` to its volunteer; False when there is nobody to
    write to (no volunteer, no address) or it was recorded before (same kind and period)."""
    volunteer = adoption.volunteer
    if volunteer is None or not volunteer.email:
        return False
    asset = adoption.asset
    context = {
        "adoption": adoption,
        "asset": asset,
        "asset_type": asset.asset_type,
        "asset_url": absolute(asset.get_absolute_url()),
        "adopt_url": absolute(reverse("adoptions:map")),
        "due_on": adoption.due_on,
        "today": timezone.localdate(now),
        "lapse_after": settings.ADOPTION_LAPSE_AFTER_MISSED,
    }
    link = unsubscribe_url(adoption) if kind in REMINDER_KINDS else ""
    subject = SUBJECTS[kind].format(asset=asset.name, due=f"{adoption.due_on:%b %-d}")
    key = f"adoption:{adoption.pk}:{kind}:{period.isoformat() if period else ''}"
    message = outbox_add(
        to=volunteer.email,
        subject=subject,
        template=f"adoptions/emails/{kind}",
        context=context,
        unsubscribe_url=link,  # adds the one-click headers and the template's link
        dedupe_key=key,
        kind=f"adoption-{kind}",
    )
    return message is not None
