from __future__ import annotations

import uuid
from datetime import date
from urllib.parse import urlencode

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Coalesce
from django.urls import reverse


class AreaAlert(models.Model):
    """Someone who asked for an email about new reports in an area: a boundary (usually a
    neighbourhood) or a circle, optionally of one category. Nothing is sent before the
    address is confirmed; the token confirms and unsubscribes."""

    class Frequency(models.TextChoices):
        IMMEDIATE = "immediate", "As each report arrives"
        DAILY = "daily", "A daily digest"

    email = models.EmailField()
    area = models.ForeignKey(
        "departments.Boundary", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    lat = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(-90), MaxValueValidator(90)]
    )
    long = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(-180), MaxValueValidator(180)]
    )
    radius_m = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(50), MaxValueValidator(5000)]
    )
    service = models.ForeignKey(
        "reports.Service", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    frequency = models.CharField(
        max_length=10, choices=Frequency.choices, default=Frequency.IMMEDIATE
    )
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    confirmed = models.DateTimeField(null=True, blank=True)
    cancelled = models.DateTimeField(null=True, blank=True)
    # Reports requested after this moment have not been sent yet.
    sent_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(area__isnull=False)
                    & models.Q(lat__isnull=True)
                    & models.Q(long__isnull=True)
                    & models.Q(radius_m__isnull=True)
                )
                | (
                    models.Q(area__isnull=True)
                    & models.Q(lat__isnull=False)
                    & models.Q(long__isnull=False)
                    & models.Q(radius_m__isnull=False)
                ),
                name="areaalert_area_xor_circle",
            ),
            # One live alert per address and setting: a second sign-up would email every
            # report twice. Coalesce because NULLs (no area, every category) never collide in
            # a unique index; -1 is no id nor radius, 999 no latitude nor longitude.
            models.UniqueConstraint(
                "email",
                "frequency",
                Coalesce("area", -1, output_field=models.BigIntegerField()),
                Coalesce("lat", 999.0, output_field=models.FloatField()),
                Coalesce("long", 999.0, output_field=models.FloatField()),
                Coalesce("radius_m", -1, output_field=models.BigIntegerField()),
                Coalesce("service", -1, output_field=models.BigIntegerField()),
                condition=models.Q(cancelled__isnull=True),
                name="areaalert_one_per_setting",
            ),
        ]
        indexes = [models.Index(fields=["frequency", "confirmed", "cancelled"])]

    def __str__(self) -> str:
        return f"Alert for {self.describe()}"

    @property
    def is_active(self) -> bool:
        return self.confirmed is not None and self.cancelled is None

    def describe(self) -> str:
        what = self.service.name if self.service is not None else "all reports"
        if self.area is not None:
            return f"{what} in {self.area.name}"
        return f"{what} within {self.radius_m} m of {self.lat:.5f}, {self.long:.5f}"

    def reports_url(self, *, since: date | None = None) -> str:
        """The public page that lists the alert's own reports (its area or circle, its
        category), newest first for an area, nearest first for a circle; "" for a circle the
        public list cannot draw (a radius it does not offer). A circle's list starts on the
        day `since`, when given: nearest first over every year, an email's new reports
        would be lost among the old ones nearer the centre."""
        from reports.browse.forms import RADIUS_CHOICES

        if self.area_id is not None:
            query = {"area": str(self.area_id)}
            if self.service is not None:
                query["service"] = self.service.service_code
            return f"{reverse('insights:map-reports')}?{urlencode(query)}"
        if str(self.radius_m) not in dict(RADIUS_CHOICES):
            return ""
        query = {"lat": str(self.lat), "long": str(self.long), "radius": str(self.radius_m)}
        if self.service_id is not None:
            query["service"] = str(self.service_id)
        if since is not None:
            query["start"] = since.isoformat()
        return f"{reverse('reports:list')}?{urlencode(query)}"
