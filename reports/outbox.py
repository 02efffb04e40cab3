"""The outbox: every email Civic311 sends is first a row in the database.

A service that causes an email calls `outbox_add` inside its own transaction, so the message
is stored if and only if the change is. Once that transaction commits, a Celery task is
queued to send it (`reports.tasks.outbox_deliver`). If the broker is down the task is lost,
but the row is not: a beat job (`reports.tasks.outbox_deliver_due`, every minute) sends every
pending message that is due and that no task has picked up within `SWEEP_GRACE`.

Sending claims the row under a lock (`SELECT ... FOR UPDATE SKIP LOCKED`) and marks it sent in
the same transaction, so two workers, a task and the sweep, or a task and its retry never
send one message twice. A failed attempt is recorded and retried with backoff; after
`MAX_ATTEMPTS` the message is marked failed and stays visible to staff in the admin, where
it can be retried.

The one window left is the one every mail queue has: if the database commit fails after the
mail server accepted the message, that message goes out again on the next attempt.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import connections, router, transaction
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import timezone

from civic311.queue import queue_after_commit
from reports.models import OutboxMessage

logger = logging.getLogger(__name__)

# The task that sends one message, by name: the tasks module imports this one.
DELIVER_TASK = "reports.tasks.outbox_deliver"

# After this many failed attempts a message is marked failed (about 4 hours of retries).
MAX_ATTEMPTS = 8
# A queued task normally sends a message within seconds; the sweep leaves it that long.
SWEEP_GRACE = timedelta(seconds=30)
# One sweep stops after this many messages or this long, whichever comes first; the next
# sweep (a minute later) carries on. Keeps a sweep from running into the next one.
SWEEP_BATCH = 200
SWEEP_BUDGET_SECONDS = 45.0
# A retry task may fire a little before the time recorded on the row (clocks, rounding).
CLAIM_TOLERANCE = timedelta(seconds=5)


def retry_delay(attempts: int) -> timedelta:
    """Backoff after the `attempts`-th failure: 1, 2, 4 … minutes, at most an hour."""
    return timedelta(seconds=min(3600, 60 * 2 ** max(0, attempts - 1)))


def _one_line(value: str) -> str:
    # A newline in a header is an injection (and Django refuses to send it).
    return " ".join(str(value).split())


def unsubscribe_headers(url: str) -> dict[str, str]:
    """The headers of a message its recipient can stop with one click (RFC 2369, RFC 8058).

    Mail clients show an "Unsubscribe" button and POST "List-Unsubscribe=One-Click" to `url`
    with no cookie and no CSRF token, so the view at `url` must be csrf_exempt for POST, act
    on a signed or secret token in the address alone, and do nothing on GET (mail scanners
    prefetch links). `url` must be absolute and, in production, https. Every sender of
    recurring email (follower updates, area alerts, adoption reminders) uses this, usually
    through `outbox_add(unsubscribe_url=...)`."""
    return {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def _insert_unless_taken(message: OutboxMessage) -> bool:
    """Insert `message` unless its dedupe_key is taken, in one statement (INSERT … ON
    CONFLICT (dedupe_key) DO NOTHING, on PostgreSQL and SQLite alike): no look-up first, and no
    savepoint, since losing a race to another transaction is no error that would break the
    caller's. Whether it was inserted (then it has its id)."""
    meta = OutboxMessage._meta
    connection = connections[router.db_for_write(OutboxMessage)]
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    values = [f.get_db_prep_save(f.pre_save(message, add=True), connection) for f in fields]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({marks}) "
            # The target names the dedupe key's partial unique index (as the model's
            # constraint writes it): any other conflict is an error, not a duplicate.
            f"ON CONFLICT ({quote('dedupe_key')}) WHERE NOT ({quote('dedupe_key')} = '') "
            f"DO NOTHING RETURNING {quote(str(meta.pk.column))}",
            values,
        )
        row = cursor.fetchone()
    if row is None:
        return False
    message.pk = row[0]
    message._state.adding = False
    message._state.db = connection.alias
    return True


# How a kind of message that shows public reports is written again from what is public
# when it is sent (see outbox_send): it updates the message's subject and texts in place and
# says whether anything is left to send. Registered by the app that writes that kind, and
# called for every message of that kind, also one queued before it named its `reports`.
Rewrite = Callable[[OutboxMessage], bool]
_rewrites: dict[str, Rewrite] = {}


def register_rewrite(kind: str, rewrite: Rewrite) -> None:
    _rewrites[kind] = rewrite


def outbox_add(
    *,
    to: str,
    subject: str,
    template: str,
    context: dict[str, Any],
    headers: dict[str, str] | None = None,
    dedupe_key: str = "",
    kind: str = "",
    unsubscribe_url: str = "",
    reports: list[int] | None = None,
) -> OutboxMessage | None:
    """Record one email to one address; the worker sends it after the transaction commits.

    Call it inside the transaction of the change that causes the email. `template` names
    `<template>.txt` (required) and `<template>.html` (optional), rendered now with `context`
    plus CITY_NAME and SITE_URL. The subject gets the city's prefix. A non-empty
    `dedupe_key` that was already used returns None and adds nothing: that is how a message
    (a reminder, a digest) is never added twice, even by two workers at once.

    `unsubscribe_url` (absolute) adds the one-click unsubscribe headers
    (`unsubscribe_headers`) and is passed to the templates as `unsubscribe_url`.

    `reports`: the ids of the public reports the message shows someone outside the city;
    its kind's rewrite (register_rewrite) writes it again from them when it is sent."""
    to = to.strip()
    validate_email(to)
    if unsubscribe_url:
        headers = {**(headers or {}), **unsubscribe_headers(unsubscribe_url)}
    subject, body, html = outbox_render(
        subject=subject, template=template, context=context, unsubscribe_url=unsubscribe_url
    )
    clean_headers = {_one_line(name): _one_line(value) for name, value in (headers or {}).items()}
    message = OutboxMessage(
        to=to,
        subject=subject,
        body=body,
        html=html,
        headers=clean_headers,
        kind=kind[:40],
        dedupe_key=dedupe_key,
        next_attempt_at=timezone.now(),
        reports=reports or [],
    )
    if dedupe_key:
        if not _insert_unless_taken(message):
            return None
    else:
        message.save(force_insert=True)
    queue_after_commit(DELIVER_TASK, message.pk)
    return message


def outbox_render(
    *, subject: str, template: str, context: dict[str, Any], unsubscribe_url: str = ""
) -> tuple[str, str, str]:
    """A message's subject (with the city's prefix, on one line), text and HTML (empty
    without `<template>.html`), as outbox_add writes them."""
    context = {"CITY_NAME": settings.CITY_NAME, "SITE_URL": settings.SITE_URL, **context}
    if unsubscribe_url:
        context["unsubscribe_url"] = unsubscribe_url
    body = render_to_string(f"{template}.txt", context)
    html: str
    try:
        html = render_to_string(f"{template}.html", context)
    except TemplateDoesNotExist:
        html = ""
    return _one_line(f"[{settings.CITY_NAME} 311] {subject}")[:255], body, html


def _email(message: OutboxMessage) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=message.subject, body=message.body, to=[message.to], headers=message.headers
    )
    if message.html:
        email.attach_alternative(message.html, "text/html")
    return email


def outbox_send(*, message_id: int) -> str:
    """Send one message if it is still pending and due. Returns what happened: "sent",
    "retry" (the attempt failed, tried again later), "failed" (attempts spent), "dropped"
    (what it showed was hidden since, or its recipient stopped it) or "skipped" (already
    sent or failed, not due yet, or another worker is sending it right now). A message that
    shows public reports is written again first, from what is public now."""
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .due(before=timezone.now() + CLAIM_TOLERANCE)
            .filter(pk=message_id)
            .first()
        )
        if message is None:
            return "skipped"
        now = timezone.now()
        rewrite = _rewrites.get(message.kind)
        if rewrite is not None and not rewrite(message):
            # What it showed was hidden since it was queued (a retry can wait hours), or
            # its recipient no longer asks for it.
            message.state = OutboxMessage.State.DROPPED
            message.save(update_fields=["state"])
            return "dropped"
        message.attempts += 1
        try:
            _email(message).send()
        except Exception as exc:  # any failure is recorded on the row and retried
            # The error's text stays on the row, for those who may read the recipients: a
            # mail server's refusal quotes the address (SMTPRecipientsRefused), and a
            # traceback in the log put citizens' addresses in every log collector.
            logger.warning(
                "Outbox message %s: attempt %s failed (%s; the error is on the message)",
                message.pk,
                message.attempts,
                type(exc).__name__,
            )
            message.last_error = f"{now:%Y-%m-%d %H:%M:%S} {type(exc).__name__}: {exc}"[:2000]
            if message.attempts >= MAX_ATTEMPTS:
                message.state = OutboxMessage.State.FAILED
            else:
                message.next_attempt_at = now + retry_delay(message.attempts)
            message.save(update_fields=["attempts", "last_error", "state", "next_attempt_at"])
            return "failed" if message.state == OutboxMessage.State.FAILED else "retry"
        message.state = OutboxMessage.State.SENT
        message.sent_at = now
        message.save(update_fields=["attempts", "state", "sent_at"])
    return "sent"


def outbox_send_due(*, now: datetime | None = None) -> int:
    """Send pending messages that are due and that no task picked up (the broker was down,
    a worker died, a retry was lost). Returns how many were sent."""
    now = now or timezone.now()
    ids = list(
        OutboxMessage.objects.due(before=now - SWEEP_GRACE)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    started = time.monotonic()
    sent = 0
    for message_id in ids:
        sent += outbox_send(message_id=message_id) == "sent"
        if time.monotonic() - started > SWEEP_BUDGET_SECONDS:
            break
    return sent


def outbox_retry(*, message: OutboxMessage) -> OutboxMessage:
    """Staff's "try again" on a failed (or waiting) message: due now, attempts start over.
    A sent message is left alone, so it can't be sent twice this way."""
    with transaction.atomic():
        updated = OutboxMessage.objects.filter(
            pk=message.pk, state__in=[OutboxMessage.State.PENDING, OutboxMessage.State.FAILED]
        ).update(state=OutboxMessage.State.PENDING, attempts=0, next_attempt_at=timezone.now())
        if not updated:
            raise ValidationError("This message was already sent.")
        queue_after_commit(DELIVER_TASK, message.pk)
    message.refresh_from_db()
    return message
