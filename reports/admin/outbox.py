"""The outbox for staff: every email the portal recorded, what is still pending, what failed
and why, and "retry now" for the failed ones.

Recipients and bodies are personal data (citizens' addresses, what they reported), so the
list and the messages are for superusers and staff given the "view outbox message"
permission, which the department staff group does not have; even they never see the secret
part of a confirmation or unsubscribe link, nor an account email's text. Nobody edits a
message; retrying needs the "change outbox message" permission and goes through
`outbox_retry`, which never touches a message already sent."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import truncatechars
from django.utils.dateformat import format as date_format
from django.utils.timezone import localtime

from reports.models import OutboxMessage
from reports.outbox import outbox_retry

# Links whose last part is a secret: whoever holds one can confirm, unsubscribe or verify
# in the recipient's name.
SECRET_LINK = re.compile(
    r"(/(?:reports/follow|reports/unsubscribe|insights/alerts|accounts/confirm-email"
    r"|accounts/password/reset/key)/)[^/\s>]+"
)


def mask_links(text: str) -> str:
    return SECRET_LINK.sub(r"\1…", text)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["created", "kind", "to", "short_subject", "state", "attempts", "when"]
    list_filter = ["state", "kind"]
    search_fields = ["to", "subject"]
    date_hierarchy = "created"
    ordering = ["-created"]
    list_per_page = 50
    actions = ["retry_now"]
    # The HTML part is left out: staff read the plain text, and a stored HTML body is
    # never rendered inside the admin. The text and headers are shown with the secrets of
    # their links masked (`text`, `link_headers`).
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
        "link_headers",
        "text",
    )
    readonly_fields = fields

    @admin.display(description="subject", ordering="subject")
    def short_subject(self, obj: OutboxMessage) -> str:
        # Every subject starts with the city's prefix: the list shows what follows it.
        return truncatechars(obj.subject.split("] ", 1)[-1], 60)

    @admin.display(description="text")
    def text(self, obj: OutboxMessage) -> str:
        if obj.kind.startswith("account"):
            # Sign-in codes and account links would let a reader act as the citizen.
            return "(Not shown: an account email holds a sign-in code or link.)"
        return mask_links(obj.body)

    @admin.display(description="headers")
    def link_headers(self, obj: OutboxMessage) -> str:
        return "\n".join(f"{name}: {mask_links(value)}" for name, value in obj.headers.items())

    @admin.display(description="sent / next attempt")
    def when(self, obj: OutboxMessage) -> str:
        if obj.state == OutboxMessage.State.SENT and obj.sent_at:
            return f"sent {date_format(localtime(obj.sent_at), 'M j, H:i')}"
        if obj.state == OutboxMessage.State.PENDING:
            return f"next {date_format(localtime(obj.next_attempt_at), 'M j, H:i')}"
        return "—"

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        title = "Outbox: emails pending, sent and failed"
        return super().changelist_view(request, {"title": title, **(extra_context or {})})

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
