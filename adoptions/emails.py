"""The emails volunteers get, recorded in the outbox inside the transaction of the change
that causes them (reports/outbox.py sends them after the commit).

Reminders carry a one-click unsubscribe (RFC 8058: a List-Unsubscribe URL that takes a POST
without a login, announced by List-Unsubscribe-Post), which stops that adoption's reminders."""

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


def list_unsubscribe_headers(url: str) -> dict[str, str]:
    """RFC 2369 List-Unsubscribe with RFC 8058 one-click: mail clients POST
    "List-Unsubscribe=One-Click" to the URL, which must work without a login or cookie."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


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
    headers: dict[str, str] = {}
    if kind in REMINDER_KINDS:
        link = unsubscribe_url(adoption)
        context["unsubscribe_url"] = link
        headers = list_unsubscribe_headers(link)
    subject = SUBJECTS[kind].format(asset=asset.name, due=f"{adoption.due_on:%b %-d}")
    key = f"adoption:{adoption.pk}:{kind}:{period.isoformat() if period else ''}"
    message = outbox_add(
        to=volunteer.email,
        subject=subject,
        template=f"adoptions/emails/{kind}",
        context=context,
        headers=headers,
        dedupe_key=key,
        kind=f"adoption-{kind}",
    )
    return message is not None
