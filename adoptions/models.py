"""Asset adoption: kinds of city assets, the assets themselves (imported from the city's
files), volunteers' adoptions, their care visits and the reminders sent about them.

The rules that tie an adoption's dates together are in adoptions/rules.py; every write goes
through adoptions/services.py."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

from adoptions import rules
from adoptions.querysets import AdoptionQuerySet, AssetQuerySet, CareLogQuerySet
from reports.limits import MAX_REASON, MAX_TEXT
from reports.models import photo_original_name

EXTERNAL_ID_MAX = 64


def external_id_error(external_id: str) -> str | None:
    """Why `external_id` cannot be an asset's id, or None. The id is the last part of the
    asset's address (/adopt/<type>/<id>/): with a / in it no address can be made (the map
    of every asset fails), and browsers read "." or ".." as a folder (the page is out of
    reach)."""
    if "/" in external_id:
        return "An asset id cannot contain a /: it is part of the asset's web address."
    if external_id and not external_id.strip("."):
        return "An asset id cannot be only dots: it is part of the asset's web address."
    return None


class AssetType(models.Model):
    """A kind of asset volunteers may adopt (bus shelters first)."""

    class Icon(models.TextChoices):
        BUS_SHELTER = "bus-shelter", "Bus shelter"
        DRAIN = "drain", "Storm drain"
        HYDRANT = "hydrant", "Fire hydrant"
        TREE = "tree", "Tree"
        OTHER = "other", "Other"

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=64, unique=True)
    cadence_months = models.PositiveSmallIntegerField(
        "care cadence (months)",
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
        help_text=(
            "A volunteer promises one care visit in each period of this many calendar months: "
            "the next visit is due on the same day of the month as the last one (or the "
            "month's last day)."
        ),
    )
    cadence_since = models.DateField(
        "cadence changed on",
        null=True,
        blank=True,
        editable=False,
        help_text="The day the cadence last changed: current adoptions' periods count from "
        "then, so a shorter cadence does not make the months before it missed ones.",
    )
    care_instructions = models.TextField(blank=True, max_length=MAX_TEXT)
    checklist = models.JSONField(
        default=list,
        blank=True,
        help_text='The care tasks a visit may tick, as a JSON list: ["Pick up litter", …].',
    )
    icon = models.CharField(max_length=20, choices=Icon.choices, default=Icon.OTHER)
    service = models.ForeignKey(
        "reports.Service",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="problem report category",
        help_text="The category a 'Report a problem' on one of these assets is filed under.",
    )
    active = models.BooleanField(default=True, help_text="Off: not offered for adoption.")

    class Meta:
        ordering = ["name"]
        constraints = [
            # The reminder job divides by it: a 0 from the shell would stop it for everyone.
            models.CheckConstraint(
                condition=models.Q(cadence_months__gte=1, cadence_months__lte=12),
                name="assettype_cadence_months_1_to_12",
                violation_error_message="The care cadence is 1 to 12 months.",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def cadence_phrase(self) -> str:
        """The promise in words: "once a month", "every 3 months"."""
        return rules.cadence_phrase(self.cadence_months)

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if not isinstance(self.checklist, list) or not all(
            isinstance(task, str) and task.strip() for task in self.checklist
        ):
            raise ValidationError({"checklist": "Give a list of task names (text)."})
        self.checklist = [task.strip() for task in self.checklist]


class Asset(models.Model):
    """One adoptable thing on the map, known to the city by an id of its own (the external
    id of the file it was imported from). Never deleted: a re-import that no longer lists
    it deactivates it, and its adoptions stay."""

    asset_type = models.ForeignKey(AssetType, on_delete=models.PROTECT, related_name="assets")
    external_id = models.CharField(max_length=EXTERNAL_ID_MAX)
    name = models.CharField(max_length=200)
    lat = models.FloatField(validators=[MinValueValidator(-90), MaxValueValidator(90)])
    long = models.FloatField(validators=[MinValueValidator(-180), MaxValueValidator(180)])
    address = models.CharField(max_length=255, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    active = models.BooleanField(default=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    flagged_for_staff = models.BooleanField(
        default=False,
        help_text="Deactivated by an import while adopted: staff should tell the volunteer.",
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = AssetQuerySet.as_manager()

    class Meta:
        ordering = ["asset_type", "name", "external_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["asset_type", "external_id"], name="asset_unique_external_id"
            )
        ]
        indexes = [
            models.Index(fields=["external_id"], name="asset_external_id"),
            models.Index(fields=["active", "asset_type"], name="asset_active_type"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.external_id})"

    def get_absolute_url(self) -> str:
        return reverse("adoptions:asset", args=[self.asset_type.slug, self.external_id])

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        problem = external_id_error(self.external_id or "")
        if problem:
            raise ValidationError({"external_id": problem})


class Adoption(models.Model):
    """A volunteer's promise to look after one asset. Active while `ended` is empty; at most
    one active adoption per asset (a partial unique constraint), even when two people press
    "Adopt" at the same moment."""

    class EndReason(models.TextChoices):
        RELEASED = "released", "Released by the volunteer"
        STAFF = "staff", "Ended by staff"
        LAPSED = "lapsed", "Lapsed (care visits missed)"
        ACCOUNT_DELETED = "account_deleted", "Account deleted"

    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="adoptions")
    volunteer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="adoptions",
    )
    nickname = models.CharField(max_length=60, blank=True)
    started = models.DateTimeField()
    terms_accepted_at = models.DateTimeField()
    # The care due dates (adoptions/rules.py): the last visit logged and the next one due,
    # kept on the row so that "overdue" is one indexed filter.
    last_cared_on = models.DateField(null=True, blank=True)
    due_on = models.DateField()
    ended = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=20, choices=EndReason.choices, blank=True)
    end_note = models.CharField(max_length=MAX_REASON, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The key of the one-click unsubscribe link in reminders (no login needed).
    reminder_token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reminders = models.BooleanField(default=True, help_text="Off: the volunteer unsubscribed.")

    objects = AdoptionQuerySet.as_manager()

    class Meta:
        ordering = ["-started", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["asset"],
                condition=models.Q(ended__isnull=True),
                name="adoption_one_active_per_asset",
            ),
            models.CheckConstraint(
                condition=models.Q(ended__isnull=True, end_reason="")
                | (models.Q(ended__isnull=False) & ~models.Q(end_reason="")),
                name="adoption_ended_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["ended", "due_on"], name="adoption_active_due"),
            models.Index(fields=["volunteer", "ended"], name="adoption_volunteer_active"),
        ]

    def __str__(self) -> str:
        return f"Adoption of {self.asset}" if self.asset_id else "Adoption"

    @property
    def is_active(self) -> bool:
        return self.ended is None


class CareLog(models.Model):
    """One care visit, with the tasks done, a note and an optional photo. Kept when the
    volunteer deletes their account (then anonymous)."""

    class PhotoState(models.TextChoices):
        NONE = "", "No photo"
        PENDING = "pending", "Waiting to be processed"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"

    adoption = models.ForeignKey(Adoption, on_delete=models.CASCADE, related_name="care_logs")
    volunteer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="care_logs",
    )
    date = models.DateField()
    tasks = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True, max_length=MAX_TEXT)
    # The photo goes through the reports' pipeline (reports/photos.py): the original (with
    # EXIF) is never served, the processed versions have random names, and a hidden photo's
    # files live under hidden/, which no web server serves.
    original = models.ImageField(upload_to=photo_original_name, blank=True)
    image = models.ImageField(upload_to="photos/", blank=True)
    thumbnail = models.ImageField(upload_to="thumbnails/", blank=True)
    photo_state = models.CharField(
        max_length=10, choices=PhotoState.choices, default=PhotoState.NONE, blank=True
    )
    photo_hidden = models.BooleanField(default=False)
    # A care note is published at once; staff hide one that should not be (abuse, a phone
    # number), as they hide a photo or a citizen's comment.
    note_hidden = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)

    objects = CareLogQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-pk"]
        indexes = [
            models.Index(fields=["date"], name="carelog_date"),
            models.Index(fields=["photo_state", "created"], name="carelog_photo_state"),
        ]

    def __str__(self) -> str:
        return f"Care visit on {self.date}"

    @property
    def photo_public(self) -> bool:
        return self.photo_state == self.PhotoState.PROCESSED and not self.photo_hidden


class ReminderSent(models.Model):
    """A reminder recorded once per adoption, kind and care period: the unique constraint
    is what makes a second run of the daily job (or two at once) send nothing twice."""

    class Kind(models.TextChoices):
        DUE_SOON = "due_soon", "Care visit due soon"
        OVERDUE = "overdue", "Care visit overdue"
        LAPSED = "lapsed", "Adoption lapsed"

    adoption = models.ForeignKey(Adoption, on_delete=models.CASCADE, related_name="reminders_sent")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    period = models.DateField(help_text="The due date of the care period it is about.")
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["adoption", "kind", "period"], name="reminder_once_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.period}"
