"""Reports (Open311 "service requests"): photos, timeline, links, staff reply templates."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse

from reports.limits import MAX_REASON, MAX_TEXT
from reports.models.catalogue import ApiKey, Service
from reports.querysets import (
    PhotoQuerySet,
    ResponseTemplateQuerySet,
    ServiceRequestQuerySet,
)


def sparse_key_indexes(prefix: str, fields: list[str]) -> list[models.Index]:
    """An index on each nullable foreign key of `fields` that holds only the rows naming
    a row (`<prefix>_<field>`): smaller, and cheaper to build after a bulk load."""
    return [
        models.Index(
            fields=[field],
            condition=models.Q(**{f"{field}__isnull": False}),
            name=f"{prefix}_{field}",
        )
        for field in fields
    ]


class ServiceRequest(models.Model):
    """A citizen's report. The reporter's contact fields are private: never publish them."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    class State(models.TextChoices):
        NEW = "new", "New"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        IN_PROGRESS = "in_progress", "In progress"
        FIXED = "fixed", "Closed: fixed"
        DUPLICATE = "duplicate", "Closed: duplicate"
        NOT_ACTIONABLE = "not_actionable", "Closed: not actionable"
        REFERRED = "referred", "Closed: referred elsewhere"

    OPEN_STATES = (State.NEW, State.ACKNOWLEDGED, State.IN_PROGRESS)
    CLOSED_STATES = (State.FIXED, State.DUPLICATE, State.NOT_ACTIONABLE, State.REFERRED)

    class Source(models.TextChoices):
        WEB = "web", "Web form"
        API = "api", "Open311 API"
        GENERATED = "generated", "Generated (benchmark data)"

    # No index of its own for service and department: sr_service_requested and sr_queue
    # begin with them (one index fewer to write per report, and to build after a load).
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="requests", db_index=False
    )
    description = models.TextField(max_length=MAX_TEXT, blank=True)
    attributes = models.JSONField(
        default=dict, blank=True, help_text="Answers to the service's questions, by code."
    )
    lat = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(-90), MaxValueValidator(90)]
    )
    long = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(-180), MaxValueValidator(180)]
    )
    address = models.CharField(max_length=255, blank=True)
    address_id = models.CharField(max_length=64, blank=True)
    zipcode = models.CharField(max_length=16, blank=True)
    media_url = models.URLField(
        max_length=500, blank=True, help_text="A photo URL given by an API client."
    )

    status = models.CharField(
        max_length=6, choices=Status.choices, default=Status.OPEN, editable=False
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.NEW)
    status_notes = models.TextField(blank=True)
    department = models.ForeignKey(
        "departments.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requests",
        verbose_name="routed to",
        db_index=False,
    )
    area = models.ForeignKey(
        "departments.Boundary",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The most specific area the point lies in.",
    )
    # Every area the point lies in (departments.AreaSet): what a filter by area reads.
    area_set = models.ForeignKey(
        "departments.AreaSet",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        db_index=False,
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_requests",
        db_index=False,  # sr_assigned_to (Meta)
    )
    # RESTRICT: a duplicate names its master (a constraint), so a master is not deleted
    # unless its duplicates go with it.
    duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.RESTRICT,
        related_name="duplicates",
        db_index=False,  # sr_duplicate_of (Meta)
    )

    requested_datetime = models.DateTimeField(db_index=True)
    updated_datetime = models.DateTimeField()
    expected_datetime = models.DateTimeField(null=True, blank=True)
    closed_datetime = models.DateTimeField(null=True, blank=True)

    source = models.CharField(max_length=10, choices=Source.choices, default=Source.WEB)
    api_key = models.ForeignKey(
        ApiKey,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="requests",
        db_index=False,  # sr_api_key (Meta)
    )

    # Moderation: hidden reports vanish from every public place but stay for staff.
    hidden = models.BooleanField(default=False)
    description_redacted = models.BooleanField(default=False)
    moderation_reason = models.CharField(max_length=MAX_REASON, blank=True)
    # People who said "this is my problem too" instead of filing a duplicate (public).
    supporters = models.PositiveIntegerField(default=0)

    # Private: the reporter's contact data. Never on a page, in the API or an export.
    reporter_name = models.CharField(max_length=120, blank=True)
    reporter_email = models.EmailField(blank=True)
    reporter_phone = models.CharField(max_length=40, blank=True)
    device_id = models.CharField(max_length=120, blank=True)
    account_id = models.CharField(max_length=120, blank=True)

    # When the report becomes public: the end of the reporter's preview window, or the
    # moment it was filed. Staff see it and it is routed at once either way.
    published_at = models.DateTimeField()
    # The reporter's answers to "Is it fixed?" after staff closed the report. Confirmed
    # fixed: no further question. Reopened: the queue marks the report for the department.
    fixed_confirmed_at = models.DateTimeField(null=True, blank=True, editable=False)
    reopened_by_reporter_at = models.DateTimeField(null=True, blank=True, editable=False)

    # Counts the changes to what the report publishes through Open311: database triggers
    # raise it when the row, a public photo or a public timeline entry changes (migration
    # 0013), and a stored document is used only while its version is this one.
    doc_version = models.BigIntegerField(default=0, editable=False)

    objects = ServiceRequestQuerySet.as_manager()

    # Set by the prefetches of with_public_related() and with_public_timeline().
    public_photos: list[Photo]
    public_updates: list[RequestUpdate]

    class Meta:
        ordering = ["-requested_datetime", "-pk"]
        indexes = [
            # Newest-first lists, filtered or not: the id ends each index so that a page's
            # ids are found in the index alone (reports/api/listing.py).
            models.Index(
                fields=["hidden", "requested_datetime", "id", "published_at"],
                name="sr_public_requested",
            ),
            # doc_version: a page of stored documents (reports/api/documents.py) is read
            # from these indexes alone, in their order (migration 0022).
            models.Index(
                fields=["service", "requested_datetime", "id", "hidden", "published_at"],
                include=["doc_version"],
                name="sr_service_requested",
            ),
            models.Index(
                fields=["status", "requested_datetime", "id", "hidden", "published_at"],
                include=["doc_version"],
                name="sr_status_requested",
            ),
            models.Index(
                fields=["department", "status", "requested_datetime", "id"], name="sr_queue"
            ),
            models.Index(fields=["updated_datetime"], name="sr_updated"),
            models.Index(fields=["department", "state"], name="sr_department_state"),
            # An asset's page lists the reports filed about it by address_id.
            models.Index(
                fields=["address_id"], name="sr_address_id", condition=~models.Q(address_id="")
            ),
            # A signed-in citizen's reports, by their verified addresses (any letter case).
            models.Index(Lower("reporter_email"), name="sr_reporter_email_lower"),
            # The public pages read what public() allows (not hidden, published) in the
            # list's order, newest first: all reports, the open ones (the home page's count),
            # a neighbourhood's by status, the ones closed lately, and every point for the
            # map's clusters. Partial and covering (published_at included), so counts and
            # the map's aggregates read only the index.
            # All reports newest first: key columns, not INCLUDE (which SQLite ignores), so
            # that SQLite too skips a deep page's entries in the index alone, and the point
            # so that a bbox's rows are told from the index entries (migration 0020).
            models.Index(
                fields=["requested_datetime", "id", "published_at", "hidden", "lat", "long"],
                condition=models.Q(hidden=False),
                name="sr_public_newest",
            ),
            models.Index(
                fields=["requested_datetime", "id"],
                condition=models.Q(status="open", hidden=False),
                include=["published_at", "doc_version"],
                name="sr_open_newest",
            ),
            models.Index(
                fields=["area_set", "status", "requested_datetime"],
                condition=models.Q(hidden=False),
                include=["published_at"],
                name="sr_area_set_status_requested",
            ),
            # An area's reports closed lately (its page's counts), few of its closed ones.
            models.Index(
                fields=["area_set", "closed_datetime"],
                condition=models.Q(status="closed", hidden=False),
                include=["published_at"],
                name="sr_area_set_closed",
            ),
            models.Index(
                fields=["closed_datetime"],
                condition=models.Q(status="closed", hidden=False),
                include=["published_at"],
                name="sr_closed_public",
            ),
            models.Index(
                fields=["lat", "long"],
                condition=models.Q(hidden=False),
                # requested_datetime: a radius search filters and orders the points in the
                # circle from this index alone, then reads only its page's rows.
                include=["id", "status", "published_at", "requested_datetime"],
                name="sr_public_point",
            ),
            # Few reports are assigned, duplicates or filed through an API key.
            *sparse_key_indexes("sr", ["assigned_to", "duplicate_of", "api_key"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(lat__isnull=True) & models.Q(long__isnull=True))
                | (models.Q(lat__isnull=False) & models.Q(long__isnull=False)),
                name="sr_lat_long_together",
            ),
            # The rules of reports/rules.py that the database can check.
            models.CheckConstraint(
                condition=models.Q(state__in=["new", "acknowledged", "in_progress"], status="open")
                | models.Q(
                    state__in=["fixed", "duplicate", "not_actionable", "referred"],
                    status="closed",
                ),
                name="sr_status_matches_state",
            ),
            models.CheckConstraint(
                condition=models.Q(status="open", closed_datetime__isnull=True)
                | models.Q(status="closed", closed_datetime__isnull=False),
                name="sr_closed_has_closed_datetime",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="duplicate") | models.Q(duplicate_of__isnull=False),
                name="sr_duplicate_names_master",
            ),
            models.CheckConstraint(  # a reopened duplicate names no master
                condition=models.Q(state="duplicate") | models.Q(duplicate_of__isnull=True),
                name="sr_master_only_for_duplicate",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.service.name}" if self.service_id else f"#{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("reports:detail", args=[self.pk])

    @property
    def public_description(self) -> str:
        if self.description_redacted:
            return "[Description removed by moderator]"
        return self.description

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    def is_published(self, now: datetime) -> bool:
        """Whether the public may see it at `now` (the rule of `objects.public()`)."""
        return not self.hidden and self.published_at <= now


PHOTO_EXTENSIONS = {"jpg", "jpeg", "png", "webp"}


def photo_original_name(instance: Photo, filename: str) -> str:
    """Where an upload is kept: a random name (nothing about the upload, its date or its
    order can be guessed from it), with the extension if it is one of ours."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return f"originals/{secrets.token_urlsafe(16)}.{ext if ext in PHOTO_EXTENSIONS else 'img'}"


class Photo(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Waiting to be processed"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="photos")
    # Set for a photo that came with a citizen's comment: shown with it, hidden with it.
    comment = models.ForeignKey(
        "Comment", null=True, blank=True, on_delete=models.CASCADE, related_name="photos"
    )
    # The upload as received; it may carry EXIF (GPS) data, so it is never served publicly.
    original = models.ImageField(upload_to=photo_original_name)
    # The processed versions, under random names (reports.photos writes them): in photos/
    # and thumbnails/ while the photo is public, under hidden/ while it or its report is
    # hidden. A web server serves only the first two folders.
    image = models.ImageField(upload_to="photos/", blank=True)
    thumbnail = models.ImageField(upload_to="thumbnails/", blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    hidden = models.BooleanField(default=False)
    hidden_reason = models.CharField(max_length=MAX_REASON, blank=True)
    order = models.PositiveSmallIntegerField(default=1)
    created = models.DateTimeField(auto_now_add=True)

    objects = PhotoQuerySet.as_manager()

    class Meta:
        ordering = ["request", "order", "pk"]
        indexes = [models.Index(fields=["state", "created"], name="photo_state_created")]

    def __str__(self) -> str:
        return f"Photo {self.pk} of #{self.request_id}"

    @property
    def is_public(self) -> bool:
        return not self.hidden and self.state == self.State.PROCESSED

    @property
    def staff_image_url(self) -> str:
        """The processed photo for staff: works for hidden photos too (their files are not
        in the public folders)."""
        return reverse("reports:photo_file_staff", args=[self.pk, "image"])

    @property
    def staff_thumbnail_url(self) -> str:
        return reverse("reports:photo_file_staff", args=[self.pk, "thumbnail"])


class RequestUpdate(models.Model):
    """One entry on a report's timeline."""

    class Kind(models.TextChoices):
        CREATED = "created", "Reported"
        ROUTED = "routed", "Routed"
        STATE = "state", "Status change"
        NOTE = "note", "Note"
        FORWARD = "forward", "Forwarded"
        ASSIGN = "assign", "Assigned"
        MODERATION = "moderation", "Moderation"

    # Found through update_timeline, which begins with it (Meta).
    request = models.ForeignKey(
        ServiceRequest, on_delete=models.CASCADE, related_name="updates", db_index=False
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # update_author (Meta)
    )
    public = models.BooleanField(default=True)
    text = models.TextField(blank=True)
    state_from = models.CharField(max_length=16, blank=True)
    state_to = models.CharField(max_length=16, blank=True)
    department_from = models.ForeignKey(
        "departments.Department",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # update_department_from (Meta)
    )
    department_to = models.ForeignKey(
        "departments.Department",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # update_department_to (Meta)
    )
    created = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["created", "pk"]
        indexes = [
            models.Index(fields=["request", "public", "created"], name="update_timeline"),
            # Most entries have no author and name no department they came from (system
            # entries): the keys' indexes hold only the entries that name one (a lookup by
            # a key, as a deletion's SET NULL makes, never asks for NULL).
            *sparse_key_indexes("update", ["author", "department_from", "department_to"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on #{self.request_id}"


class RequestToken(models.Model):
    """What a batch service answers: the request id is looked up by this token later."""

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.OneToOneField(
        ServiceRequest, null=True, blank=True, on_delete=models.CASCADE, related_name="token"
    )
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return str(self.token)


class ResponseTemplate(models.Model):
    """A canned public reply staff insert when replying or closing."""

    department = models.ForeignKey(
        "departments.Department", on_delete=models.CASCADE, related_name="response_templates"
    )
    service = models.ForeignKey(
        Service,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="response_templates",
        help_text="Empty: for every category.",
    )
    state = models.CharField(
        max_length=16,
        choices=ServiceRequest.State.choices,
        blank=True,
        help_text="Empty: for any state.",
    )
    title = models.CharField(max_length=120)
    text = models.TextField()
    active = models.BooleanField(default=True)

    objects = ResponseTemplateQuerySet.as_manager()

    class Meta:
        ordering = ["department", "title"]

    def __str__(self) -> str:
        return self.title
