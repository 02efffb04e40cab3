"""Email waiting to be sent: the outbox."""

from __future__ import annotations

from django.db import models

from reports.querysets import (
    OutboxMessageQuerySet,
)


class OutboxMessage(models.Model):
    """One email, recorded in the same transaction as the change that causes it and sent by
    the worker afterwards (reports/outbox.py). A broker outage delays a message; it never
    loses or doubles one."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        # Not sent: every report it showed was hidden before it went (reports/outbox.py).
        DROPPED = "dropped", "Dropped"

    to = models.EmailField()
    subject = models.CharField(max_length=255)
    body = models.TextField()
    html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    kind = models.CharField(max_length=40, blank=True)
    dedupe_key = models.CharField(
        max_length=200,
        blank=True,
        help_text="Unique when set: the same message is never added twice.",
    )
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField(help_text="When a pending message is due (again).")
    sent_at = models.DateTimeField(null=True, blank=True)
    # The public reports the message shows to someone outside the city (an area alert), by
    # id: written again from what is public when it is sent, so that a report hidden or
    # redacted in between is not mailed.
    reports = models.JSONField(default=list, blank=True)

    objects = OutboxMessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]
        verbose_name = "outbox message"
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=~models.Q(dedupe_key=""),
                name="outbox_dedupe_key_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=["pending", "sent", "failed", "dropped"]),
                name="outbox_state_valid",
            ),
        ]
        indexes = [
            # The sweep reads only pending rows, oldest due first.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(state="pending"),
                name="outbox_pending_due",
            ),
            models.Index(fields=["state", "-created"], name="outbox_state_created"),
        ]

    def __str__(self) -> str:
        return f"{self.kind or 'email'} #{self.pk} ({self.state})"
