from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from django.apps import apps
from django.db import models
from django.db.models import ExpressionWrapper, F, Q, Value
from django.db.models.functions import Cast, Lower
from django.db.models.lookups import In
from django.utils import timezone

from civic311.geo import METRES_PER_DEGREE, bbox_around
from departments.areasets import area_sets_in
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
        Subscription,
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

    def in_area(self, area_id: int) -> ServiceRequestQuerySet:
        """Reports whose point lies in the area (by their set of areas: whatever other areas
        cross it, see departments.models.AreaSet)."""
        return self.filter(area_set_id__in=area_sets_in(area_id))

    def requested_between(
        self, start: datetime | None, end: datetime | None
    ) -> ServiceRequestQuerySet:
        """Requested at or after `start` and before `end` (either may be open)."""
        queryset = self
        if start is not None:
            queryset = queryset.filter(requested_datetime__gte=start)
        if end is not None:
            queryset = queryset.filter(requested_datetime__lt=end)
        return queryset

    def matching_text(self, text: str) -> ServiceRequestQuerySet:
        """Reports whose category or public description mentions `text` (a redacted
        description is not searched: its words are no longer public). The few categories
        are matched first, so the reports are not joined to them row by row."""
        services = apps.get_model("reports", "Service")._default_manager
        service_ids = list(services.filter(name__icontains=text).values_list("pk", flat=True))
        return self.filter(
            Q(service_id__in=service_ids)
            | Q(description__icontains=text, description_redacted=False)
        )

    def near(self, lat: float, long: float, radius_m: float) -> ServiceRequestQuerySet:
        """Reports within `radius_m` metres of the point, nearest first, each annotated with
        `distance_sq` (squared degrees of latitude, for ordering; see geo.metres_between).

        A bounding box bounds the scan by the (lat, long) index; the circle is then checked
        on the few rows inside it, with an equirectangular distance that is exact to well
        under a metre at city scale and needs no database functions."""
        south, west, north, east = bbox_around(lat, long, radius_m)
        scale = math.cos(math.radians(lat))
        distance_sq = (F("lat") - lat) * (F("lat") - lat) + (F("long") - long) * (
            F("long") - long
        ) * (scale * scale)
        limit = (radius_m / METRES_PER_DEGREE) ** 2
        return (
            self.in_bbox(south, west, north, east)
            .alias(distance_sq=ExpressionWrapper(distance_sq, output_field=models.FloatField()))
            .filter(distance_sq__lte=limit)
            .order_by("distance_sq", "-pk")
        )

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
        return self.of_departments(department_ids(user))

    def of_departments(self, ids: Iterable[int]) -> ServiceRequestQuerySet:
        """The reports of these departments, the ids written as bigints: the staff search's
        indexes of the open reports (migration 0019) start with the department, and their
        btree_gin column compares a bigint with a bigint only (the driver writes a small id
        as an integer, and PostgreSQL would then not use that column)."""
        typed = [Cast(Value(pk), models.BigIntegerField()) for pk in ids]
        return self.filter(In(F("department_id"), typed))


class PhotoQuerySet(models.QuerySet["Photo"]):
    def misplaced(self) -> PhotoQuerySet:
        """Processed photos whose files are not where their visibility says (a move after a
        moderation failed): public ones under hidden/, hidden ones in the public folders."""
        hidden = Q(hidden=True) | Q(request__hidden=True) | Q(comment__hidden=True)
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


class SubscriptionQuerySet(models.QuerySet["Subscription"]):
    def receiving(self) -> SubscriptionQuerySet:
        """Followers who get updates: still subscribed and confirmed by the emailed link."""
        return self.filter(active=True, confirmed_at__isnull=False)

    def expired(self, *, before: datetime) -> SubscriptionQuerySet:
        """Unconfirmed subscriptions whose last confirmation link was sent before `before`
        (or, never sent, that were made before it)."""
        unconfirmed = self.filter(confirmed_at__isnull=True)
        return unconfirmed.filter(
            Q(confirm_sent_at__lt=before) | Q(confirm_sent_at__isnull=True, created__lt=before)
        )
