"""The public list's filters. One form serves the list, the map's cluster endpoint and the
neighbourhood pages, so the map always shows exactly what the list lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone

from civic311.dates import validate_year
from civic311.geo import validate_point
from departments.models import Boundary
from departments.querysets import area_slug, neighbourhood_by_slug, neighbourhoods
from reports.forms import grouped_service_choices
from reports.models import Service, ServiceRequest
from reports.querysets import ServiceRequestQuerySet

RADIUS_CHOICES = [("250", "250 m"), ("500", "500 m"), ("1000", "1 km"), ("2000", "2 km")]
DEFAULT_RADIUS = 500
MAX_TEXT = 100


@dataclass(frozen=True)
class Near:
    lat: float
    long: float
    radius_m: int


class BrowseForm(forms.Form):
    """Every field optional: an empty form lists every public report, newest first."""

    q = forms.CharField(
        label="Search", required=False, max_length=MAX_TEXT, strip=True,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "pothole, Oak Street…"}),
    )  # fmt: skip
    area = forms.ChoiceField(label="Neighbourhood", required=False)
    service = forms.ModelChoiceField(
        label="Category", queryset=Service.objects.all(), required=False
    )
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Any status"), *ServiceRequest.Status.choices],
    )
    start = forms.DateField(
        label="Reported from",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_year],
    )
    end = forms.DateField(
        label="Reported until",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_year],
    )
    lat = forms.FloatField(
        label="Near latitude",
        required=False,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    long = forms.FloatField(
        label="Near longitude",
        required=False,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    radius = forms.TypedChoiceField(
        label="Within",
        required=False,
        choices=RADIUS_CHOICES,
        coerce=int,
        empty_value=str(DEFAULT_RADIUS),
        initial=str(DEFAULT_RADIUS),
    )
    # Set by the map's text alternative ("list the reports in this part of the map").
    bbox = forms.CharField(required=False, widget=forms.HiddenInput, max_length=200)

    def __init__(self, *args: Any, services: QuerySet[Service], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.areas = {area_slug(a): a for a in neighbourhoods()}
        asked = self.data.get("area") if self.is_bound else None
        if asked and asked not in self.areas:
            # An address the neighbourhood had before (/areas/12/): a list linked from
            # elsewhere then still shows its reports.
            moved = neighbourhood_by_slug(asked)
            if moved is not None:
                data = cast(QueryDict, self.data).copy()
                data["area"] = area_slug(moved)
                self.data = data
        area_field: Any = self.fields["area"]
        area_field.choices = [("", "The whole city"), *((s, a.name) for s, a in self.areas.items())]
        self.fields["service"].widget.choices = grouped_service_choices(services, "All categories")

    def clean_bbox(self) -> tuple[float, float, float, float] | None:
        text = self.cleaned_data["bbox"]
        if not text:
            return None
        try:
            south, west, north, east = (float(part) for part in text.split(","))
        except ValueError as exc:
            raise ValidationError("The map area is not four numbers.", code="bbox") from exc
        if not (-90 <= south <= north <= 90 and -180 <= west <= east <= 180):
            raise ValidationError("The map area is not a valid box.", code="bbox")
        return south, west, north, east

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        lat, long = data.get("lat"), data.get("long")
        if (lat is None) != (long is None):
            self.add_error(
                "long" if lat is not None else "lat",
                "Give both latitude and longitude, or neither.",
            )
        elif lat is not None and long is not None:
            try:
                validate_point(lat, long)
            except ValidationError as exc:
                self.add_error("lat", exc)
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", "The end date is before the start date.")
        return data

    MAIN_FIELDS = ("q", "area", "service", "status")
    DATE_FIELDS = ("start", "end")
    NEAR_FIELDS = ("lat", "long", "radius")

    def main_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.MAIN_FIELDS]

    def date_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.DATE_FIELDS]

    def near_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.NEAR_FIELDS]

    def more_in_use(self) -> bool:
        """Whether the dates or the point are filled in (or wrong): their panel opens."""
        names = (*self.DATE_FIELDS, "lat", "long")
        return self.is_bound and any(self.data.get(n) or self.errors.get(n) for n in names)

    # What the valid form asks for.

    @property
    def chosen_area(self) -> Boundary | None:
        return self.areas.get(self._cleaned().get("area") or "")

    @property
    def near(self) -> Near | None:
        data = self._cleaned()
        lat, long = data.get("lat"), data.get("long")
        if lat is None or long is None:
            return None
        return Near(lat, long, int(data.get("radius") or DEFAULT_RADIUS))

    def _cleaned(self) -> dict[str, Any]:
        """The cleaned values of a valid form; nothing for an unbound or invalid one."""
        return self.cleaned_data if self.is_bound and self.is_valid() else {}

    def filter(self, reports: ServiceRequestQuerySet) -> ServiceRequestQuerySet:
        """`reports` narrowed to what the form asks (call on a valid form). Near a point,
        the order is by distance; otherwise the caller's order stands."""
        data = self.cleaned_data
        if data.get("service"):
            reports = reports.filter(service_id=data["service"].pk)
        if data.get("status"):
            reports = reports.filter(status=data["status"])
        if self.chosen_area is not None:
            reports = reports.in_area(self.chosen_area.pk)
        if data.get("q"):
            reports = reports.matching_text(data["q"])
        reports = reports.requested_between(
            _day_start(data.get("start")), _day_start(data.get("end"), days=1)
        )
        if data.get("bbox"):
            reports = reports.in_bbox(*data["bbox"])
        near = self.near
        if near is not None:
            reports = reports.near(near.lat, near.long, near.radius_m)
        return reports


def _day_start(day: date | None, *, days: int = 0) -> datetime | None:
    """Midnight at the start of `day` (plus `days`) in the city's time zone."""
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day + timedelta(days=days), time.min))
