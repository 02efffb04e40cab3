from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from django.apps import apps
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from departments.permissions import department_ids, is_superuser

if TYPE_CHECKING:
    from departments.permissions import User as StaffUser
    from reports.models import (  # noqa: F401
        ApiKey,
        Comment,
        OutboxMessage,
        Photo,
        ResponseTemplate,
        Service,
        ServiceRequest,
    )


class ServiceQuerySet(models.QuerySet["Service"]):
    def active(self) -> ServiceQuerySet:
        """Categories that accept reports (and are listed by Open311)."""
        return self.filter(active=True)


class ApiKeyQuerySet(models.QuerySet["ApiKey"]):
    def active(self) -> ApiKeyQuerySet:
        return self.filter(active=True)

    def with_raw_key(self, raw_key: str) -> ApiKeyQuerySet:
        """The key whose secret is `raw_key` (only its hash is stored)."""
        return self.filter(key_hash=self.model.hash_key(raw_key))


class ResponseTemplateQuerySet(models.QuerySet["ResponseTemplate"]):
    def usable_for(self, report: ServiceRequest) -> ResponseTemplateQuerySet:
        """Active templates of the report's department, for its category or any, by title."""
        return (
            self.filter(department_id=report.department_id, active=True)
            .filter(Q(service__isnull=True) | Q(service_id=report.service_id))
            .order_by("title")
        )


class ServiceRequestQuerySet(models.QuerySet["ServiceRequest"]):
    def reported_by(self, emails: Iterable[str]) -> ServiceRequestQuerySet:
        """Reports filed with any of these email addresses, in any letter case (the
        expression index sr_reporter_email_lower answers it)."""
        lowered = sorted({email.strip().lower() for email in emails if email.strip()})
        return self.alias(reporter_email_lower=Lower("reporter_email")).filter(
            reporter_email_lower__in=lowered
        )

    def public(self, now: datetime | None = None) -> ServiceRequestQuerySet:
        """What may be published: reports past their preview window (`published_at`) and
        not moderated away. Every public page, API answer, feed and export reads this.
        `now`: as seen at another moment (a job that works on a past window)."""
        return self.filter(hidden=False, published_at__lte=now or timezone.now())

    def unpublished(self) -> ServiceRequestQuerySet:
        """Reports still in their reporter's preview window."""
        return self.filter(published_at__gt=timezone.now())

    def open(self) -> ServiceRequestQuerySet:
        return self.filter(status="open")

    def closed(self) -> ServiceRequestQuerySet:
        return self.filter(status="closed")

    def overdue(self) -> ServiceRequestQuerySet:
        return self.open().filter(expected_datetime__lt=timezone.now())

    def in_bbox(
        self, south: float, west: float, north: float, east: float
    ) -> ServiceRequestQuerySet:
        return self.filter(lat__gte=south, lat__lte=north, long__gte=west, long__lte=east)

    def with_public_related(self) -> ServiceRequestQuerySet:
        """Everything a public list shows, fetched in a fixed number of queries."""
        # By name: models imports this module, so this module does not import models.
        photos = apps.get_model("reports", "Photo")._default_manager
        return self.select_related("service", "department").prefetch_related(
            models.Prefetch(
                "photos",
                # A comment's photos are shown with their comment.
                queryset=photos.filter(hidden=False, state="processed", comment__isnull=True),
                to_attr="public_photos",
            )
        )

    def with_public_timeline(self) -> ServiceRequestQuerySet:
        """Prefetch each report's public timeline into `public_updates` (oldest first): what
        citizens see on the report page and what Open311's extensions publish."""
        updates = apps.get_model("reports", "RequestUpdate")._default_manager.filter(public=True)
        return self.prefetch_related(
            models.Prefetch(
                "updates",
                queryset=updates.select_related("department_to").order_by("created", "pk"),
                to_attr="public_updates",
            )
        )

    def with_location(self) -> ServiceRequestQuerySet:
        """Reports that have a map point (Open311 also allows address-only reports)."""
        return self.filter(lat__isnull=False, long__isnull=False)

    def closed_since(self, since: datetime) -> ServiceRequestQuerySet:
        return self.closed().filter(closed_datetime__gte=since)

    # Who may see and change what, for the staff admin and any staff page: one path
    # (reports/access.py fetches one report through these).

    def visible_to(self, user: StaffUser) -> ServiceRequestQuerySet:
        """Every department's reports for staff who may view reports (departments read each
        other's work), nothing for anyone else."""
        if is_superuser(user) or (
            user.is_active and user.is_staff and user.has_perm("reports.view_servicerequest")
        ):
            return self.all()
        return self.none()

    def editable_by(self, user: StaffUser) -> ServiceRequestQuerySet:
        """The reports the user may triage: their own departments' (all, for a superuser)."""
        if is_superuser(user):
            return self.all()
        if not user.has_perm("reports.change_servicerequest"):
            return self.none()
        return self.filter(department_id__in=department_ids(user))


class PhotoQuerySet(models.QuerySet["Photo"]):
    def misplaced(self) -> PhotoQuerySet:
        """Processed photos whose files are not where their visibility says (a move after a
        moderation failed): public ones under hidden/, hidden ones in the public folders."""
        hidden = Q(hidden=True) | Q(request__hidden=True)
        any_public = ~Q(image__startswith="hidden/") | ~Q(thumbnail__startswith="hidden/")
        any_hidden = Q(image__startswith="hidden/") | Q(thumbnail__startswith="hidden/")
        return self.filter(state="processed").filter((hidden & any_public) | (~hidden & any_hidden))


class CommentQuerySet(models.QuerySet["Comment"]):
    def public(self) -> CommentQuerySet:
        """Comments not hidden by a moderator (the report's own visibility is the caller's)."""
        return self.filter(hidden=False)

    def with_public_photos(self) -> CommentQuerySet:
        photos = apps.get_model("reports", "Photo")._default_manager
        return self.prefetch_related(
            models.Prefetch(
                "photos",
                queryset=photos.filter(hidden=False, state="processed"),
                to_attr="public_photos",
            )
        )


class OutboxMessageQuerySet(models.QuerySet["OutboxMessage"]):
    def pending(self) -> OutboxMessageQuerySet:
        return self.filter(state="pending")

    def due(self, *, before: datetime) -> OutboxMessageQuerySet:
        """Pending messages whose (next) attempt was due at or before `before`."""
        return self.pending().filter(next_attempt_at__lte=before)
