"""The outbox for staff: every email the portal recorded, what is still pending, what failed
and why, and "retry now" for the failed ones.

Recipients and bodies are personal data (citizens' addresses, what they reported), so the
list and the messages are for superusers and staff given the "view outbox message"
permission, which the department staff group does not have. Nobody edits a message; retrying
needs the "change outbox message" permission and goes through `outbox_retry`, which never
touches a message already sent."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import truncatechars

from reports.models import OutboxMessage
from reports.outbox import outbox_retry


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = [
        "created",
        "kind",
        "to",
        "short_subject",
        "state",
        "attempts",
        "next_attempt_at",
        "sent_at",
    ]
    list_filter = ["state", "kind"]
    search_fields = ["to", "subject"]
    date_hierarchy = "created"
    ordering = ["-created"]
    list_per_page = 50
    actions = ["retry_now"]
    # The HTML part is left out: staff read the plain text, and a stored HTML body is
    # never rendered inside the admin.
    fields = (
        "to",
        "subject",
        "kind",
        "state",
        "attempts",
        "last_error",
        "created",
        "next_attempt_at",
        "sent_at",
        "headers",
        "body",
    )
    readonly_fields = fields

    @admin.display(description="subject", ordering="subject")
    def short_subject(self, obj: OutboxMessage) -> str:
        return truncatechars(obj.subject, 80)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A message is never edited; the change permission only allows "retry now".
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Retry now (failed or waiting messages)", permissions=["change"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        retried, skipped = 0, 0
        for message in queryset.order_by("pk"):
            try:
                outbox_retry(message=message)
            except ValidationError:
                skipped += 1
            else:
                retried += 1
        if retried:
            self.message_user(
                request,
                f"{_plural(retried, 'message')} queued to be sent now.",
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                f"Skipped {_plural(skipped, 'message')} already sent.",
                messages.WARNING,
            )
