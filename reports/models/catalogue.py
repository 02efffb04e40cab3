"""The service catalogue: categories, their questions, and the API keys of apps."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import replace

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models.functions import Lower, Now

from departments.routing import RoutingDecision, route
from reports.querysets import (
    ApiKeyQuerySet,
    ServiceQuerySet,
)

# The longest target time a category may have: five years. Why a limit: a typo of a few
# zeros (some 70 million hours) put every new report's expected time past the year 9999,
# and filing one failed.
MAX_SLA_HOURS = 5 * 366 * 24


class Service(models.Model):
    """A category of problem, an Open311 service."""

    class Type(models.TextChoices):
        REALTIME = "realtime", "Realtime (answers the request id)"
        BATCH = "batch", "Batch (answers a token)"
        BLACKBOX = "blackbox", "Blackbox"

    service_code = models.SlugField(
        max_length=64,
        unique=True,
        help_text="The category's identifier in the API; unique, capitals ignored.",
    )
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    group = models.CharField(max_length=100, blank=True)
    keywords = models.CharField(max_length=255, blank=True, help_text="Comma-separated.")
    type = models.CharField(max_length=10, choices=Type.choices, default=Type.REALTIME)
    department = models.ForeignKey(
        "departments.Department",
        on_delete=models.PROTECT,
        related_name="services",
        help_text="Receives reports that no routing rule claims.",
    )
    sla_hours = models.PositiveIntegerField(
        "target time (hours)",
        null=True,
        blank=True,
        help_text="How long the city aims to take to close a report of this kind (at most "
        f"{MAX_SLA_HOURS:,} hours, five years).",
        validators=[MaxValueValidator(MAX_SLA_HOURS)],
    )
    active = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=100)

    objects = ServiceQuerySet.as_manager()

    class Meta:
        ordering = ["group", "order", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sla_hours__lte=MAX_SLA_HOURS), name="service_sla_hours_max"
            ),
            # Apps treat codes as identifiers: POTHOLE and pothole confused them, and the
            # API matches a code exactly (clean() says which category has it).
            models.UniqueConstraint(
                Lower("service_code"),
                name="service_code_unique_ignoring_case",
                violation_error_message="Another category has this code, in other capitals.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        self._check_code_is_free()
        if self.active and self.department_id and not self.department.active:
            # Not tied to a field: a manager's form has no department field to show it by.
            raise ValidationError(
                f"{self.department} is inactive: an active category needs a department that "
                "works on its reports."
            )

    def _check_code_is_free(self) -> None:
        """A code equal, capitals ignored, to another category's is refused, naming it."""
        if not self.service_code:
            return
        others = Service.objects.filter(service_code__iexact=self.service_code)
        if self.pk is not None:
            others = others.exclude(pk=self.pk)
        other = others.only("name", "service_code").first()
        if other is not None and other.service_code != self.service_code:
            raise ValidationError(
                {
                    "service_code": f"The category “{other.name}” has the code "
                    f"{other.service_code}; codes must differ in more than capitals, as apps "
                    "treat them as one."
                }
            )

    def route(self, *, lat: float | None, long: float | None) -> RoutingDecision:
        """Which department gets a report of this category at this point, and its area."""
        decision = route(
            service_id=self.pk,
            group=self.group,
            default_department_id=self.department_id,
            lat=lat,
            long=long,
        )
        default = decision.department is None and decision.department_id == self.department_id
        if default and decision.department_id is not None and Service.department.is_cached(self):
            decision = replace(decision, department=self.department)
        return decision


class ServiceAttribute(models.Model):
    """A question asked for a service (Open311 service definition attribute)."""

    class Datatype(models.TextChoices):
        STRING = "string", "String"
        NUMBER = "number", "Number"
        DATETIME = "datetime", "Date and time"
        TEXT = "text", "Text"
        SINGLEVALUELIST = "singlevaluelist", "Single value list"
        MULTIVALUELIST = "multivaluelist", "Multi value list"

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="attributes")
    code = models.SlugField(max_length=64)
    variable = models.BooleanField(
        default=True, help_text="Off for an informational text that asks nothing."
    )
    datatype = models.CharField(max_length=20, choices=Datatype.choices)
    required = models.BooleanField(default=False)
    datatype_description = models.CharField(max_length=255, blank=True)
    order = models.PositiveSmallIntegerField(default=1)
    description = models.CharField(max_length=255, help_text="The question shown to the user.")
    active = models.BooleanField(
        default=True,
        help_text="Untick to retire the question: it is no longer asked, and the answers "
        "already given stay on their reports. (A question with answers can't be deleted.)",
    )

    class Meta:
        ordering = ["service", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["service", "code"], name="attribute_unique_code")
        ]

    def __str__(self) -> str:
        return f"{self.service.service_code}:{self.code}"

    @property
    def is_list(self) -> bool:
        return self.datatype in {self.Datatype.SINGLEVALUELIST, self.Datatype.MULTIVALUELIST}


class AttributeValue(models.Model):
    attribute = models.ForeignKey(ServiceAttribute, on_delete=models.CASCADE, related_name="values")
    key = models.CharField(max_length=64)
    name = models.CharField(max_length=160)
    order = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["attribute", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["attribute", "key"], name="attributevalue_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.name}"


class ApiKey(models.Model):
    """A key an outside app uses to file reports. Only a hash of the key is stored."""

    name = models.CharField(max_length=120)
    contact_email = models.EmailField(blank=True)
    prefix = models.CharField(max_length=8, editable=False, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    active = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_key(raw_key: str) -> str:
        # Keys are long random strings, so a fast hash is enough (no dictionary to attack).
        return hashlib.sha256(raw_key.encode()).hexdigest()

    @staticmethod
    def generate_key() -> str:
        return secrets.token_urlsafe(32)


class AreaChange(models.Model):
    """An area was drawn, redrawn or deleted: the reports around it are to be located again
    (reports/services/areas.py). Written by a database trigger in the transaction of the
    change, whoever made it, so that the work is not lost should the task that does it
    never run (the beat sweep does it)."""

    area_id = models.BigIntegerField()  # not a key: the area may be gone
    created = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"area {self.area_id} changed"


class ServiceListChange(models.Model):
    """One row: when the published list of categories (services, their questions and the
    questions' values) last changed, for the open-data catalogue's `modified`. Written by
    database triggers in the transaction of the change, whoever made it (the admin, a
    service, a command, a data migration), so the date is the change's own, never a guess
    (reports/service_list_changes.py)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    changed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"categories changed {self.changed_at:%Y-%m-%d %H:%M:%S}"
