"""allauth's signals this app answers (connected in AccountsConfig.ready): allauth has no
other hook at these points, so each receiver only calls a service."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth.models import User
from django.http import HttpRequest

from accounts.services import email_added_notify, sign_in_lockout_clear


def on_email_added(
    sender: Any, request: HttpRequest | None, user: User, email_address: EmailAddress, **kwargs: Any
) -> None:
    email_added_notify(request=request, user=user, added=email_address)


def on_password_reset(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    sign_in_lockout_clear(user=user)


def connect() -> None:
    from allauth.account import signals

    signals.email_added.connect(on_email_added, dispatch_uid="accounts-email-added")
    signals.password_reset.connect(on_password_reset, dispatch_uid="accounts-password-reset")
