"""What reports does when an account is deleted (connected in ReportsConfig.ready): only
call a service, in the deletion's transaction."""

from __future__ import annotations

from typing import Any

from reports.services.timeline import timeline_credit_former_staff


def on_account_deleting(sender: Any, user: Any, **kwargs: Any) -> None:
    timeline_credit_former_staff(user=user)


def connect() -> None:
    from accounts.signals import account_deleting

    account_deleting.connect(on_account_deleting, dispatch_uid="reports-account-deleting")
