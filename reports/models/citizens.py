"""What citizens add to a report: comments, follows and "me too"."""

from __future__ import annotations

import hashlib
import hmac
import uuid

from django.conf import settings
from django.db import models

from reports.limits import MAX_REASON, MAX_TEXT
from reports.models.requests import Photo, ServiceRequest
from reports.querysets import (
    CommentQuerySet,
    SubscriptionQuerySet,
)


class Comment(models.Model):
    """A citizen's public comment on an open report, published at once and moderated after
    (staff hide it in the admin). The author's email is private; the name, if given, is
    shown. `from_reporter`: the reporter's "it is not fixed" comment."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="comments")
    text = models.TextField(max_length=MAX_TEXT)
    author_name = models.CharField(max_length=120, blank=True)
    author_email = models.EmailField(blank=True)
    from_reporter = models.BooleanField(default=False)
    hidden = models.BooleanField(default=False)
    hidden_reason = models.CharField(max_length=MAX_REASON, blank=True)
    created = models.DateTimeField()

    objects = CommentQuerySet.as_manager()

    # Set by the prefetch of CommentQuerySet.with_public_photos().
    public_photos: list[Photo]

    class Meta:
        ordering = ["created", "pk"]
        indexes = [models.Index(fields=["request", "hidden", "created"], name="comment_public")]

    def __str__(self) -> str:
        return f"Comment {self.pk} on #{self.request_id}"

    @property
    def public_author(self) -> str:
        if self.from_reporter:
            return "The reporter"
        return self.author_name or "A resident"


class Subscription(models.Model):
    """Someone who gets an email on each public update of a report, once they have confirmed
    their address with the link we sent (anyone can type anyone's address into a form)."""

    request = models.ForeignKey(
        ServiceRequest, on_delete=models.CASCADE, related_name="subscriptions"
    )
    email = models.EmailField()
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    active = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(
        null=True, blank=True, help_text="Empty until the follower clicks the emailed link."
    )
    confirm_sent_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the last confirmation link was sent; unconfirmed, the subscription "
        "expires SUBSCRIPTION_CONFIRM_DAYS later.",
    )

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        ordering = ["request", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["request", "email"], name="subscription_unique")
        ]
        # A signed-in citizen's followed reports (addresses are stored in lower case).
        indexes = [models.Index(fields=["email"], name="subscription_email")]

    def __str__(self) -> str:
        return f"Subscription to #{self.request_id}"


class Supporter(models.Model):
    """One "this is my problem too" on a report, so each person counts once, and only once
    the address has confirmed by the link emailed to it (`counted_at`): anyone can type
    anyone's address. The email is kept only as a keyed digest: the follower's subscription
    has the address itself."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="+")
    email_digest = models.CharField(max_length=64)
    created = models.DateTimeField(auto_now_add=True)
    counted_at = models.DateTimeField(
        null=True, blank=True, help_text="Empty until the address confirms by the emailed link."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["request", "email_digest"], name="supporter_unique")
        ]

    def __str__(self) -> str:
        return f"Supporter of #{self.request_id}"

    @staticmethod
    def digest(email: str) -> str:
        """The keyed digest an address is kept as."""
        key = settings.SECRET_KEY.encode()
        return hmac.new(key, email.strip().lower().encode(), hashlib.sha256).hexdigest()


class Submission(models.Model):
    """One sending of the report form, named by the random token the form carries, or of
    an Open311 POST, by its Idempotency-Key (reports/api/idempotency.py): sent again (the
    back button, a retry after a timeout), it leads to the report it made instead of making
    a second one. Unique, so two sendings at once make one report."""

    token = models.UUIDField(unique=True)
    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="+")
    # An API sending's request, as a digest: the same key with another request is refused.
    fingerprint = models.CharField(max_length=64, blank=True, default="")
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Submission of #{self.request_id}"
