"""allauth's hooks: its emails go through the outbox like every other message.

allauth renders each message (verification, sign-in code, password reset) and would send it
at once; here the rendered text is recorded with the outbox's `outbox_add`, named by the
CIVIC311_OUTBOX_ADD setting so that accounts imports no app above it. The worker then sends
it after commit and retries it, exactly like a report's notification."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.db import transaction
from django.utils.module_loading import import_string

RELAY_TEMPLATE = "account/email/outbox_relay"


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        request = allauth_context.request
        full_context = {
            "request": request,
            "email": email,
            "current_site": get_current_site(request),
            "SITE_URL": settings.SITE_URL,
            "CITY_CONTACT_EMAIL": settings.CITY_CONTACT_EMAIL,
            **context,
        }
        message = self.render_mail(template_prefix, email, full_context)
        outbox_add = import_string(settings.CIVIC311_OUTBOX_ADD)
        kind = "account_" + template_prefix.rsplit("/", 1)[-1]
        with transaction.atomic():
            outbox_add(
                to=email,
                subject=message.subject,
                template=RELAY_TEMPLATE,
                context={"body": message.body},
                kind=kind[:40],
            )
