"""The dashboard's and the map's filters: period, category, department, area.

The filters live in the query string, so every view of the data has a permalink."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from civic311.dates import validate_year
from departments.areasets import area_sets_in
from departments.models import Boundary, Department
from reports.models import Service

PERIODS = {"30": 30, "90": 90, "365": 365}
DEFAULT_PERIOD = "365"
MAX_DAYS = 3 * 366


def city_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_midnight(day: date) -> datetime:
    """The first instant of `day` in the city's time zone (DST-safe)."""
    return datetime.combine(day, time.min, tzinfo=city_zone())


@dataclass(frozen=True)
class Filters:
    """What the numbers are about. `start` is inclusive, `end` exclusive."""

    start: datetime
    end: datetime
    service: Service | None = None
    department: Department | None = None
    area: Boundary | None = None
    query: dict[str, str] = field(default_factory=dict)

    @property
    def querystring(self) -> str:
        return urlencode(self.query)

    @property
    def first_day(self) -> date:
        return self.start.astimezone(city_zone()).date()

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(microseconds=1)).astimezone(city_zone()).date()

    @cached_property
    def area_set_ids(self) -> list[int] | None:
        """The sets of areas that name the area (departments.models.AreaSet), found once
        for every figure of a page."""
        return None if self.area is None else area_sets_in(self.area.pk)

    def scope(self) -> Q:
        """Category, department and area (not the period, which each figure applies to
        its own date: requested or closed)."""
        condition = Q()
        if self.service is not None:
            condition &= Q(service_id=self.service.pk)
        if self.department is not None:
            condition &= Q(department_id=self.department.pk)
        if self.area_set_ids is not None:
            condition &= Q(area_set_id__in=self.area_set_ids)
        return condition


def area_condition(area: Boundary) -> Q:
    """Reports whose point lies in `area` (whatever other areas cross it)."""
    return Q(area_set_id__in=area_sets_in(area.pk))


class InsightsFilterForm(forms.Form):
    period = forms.ChoiceField(
        choices=[("30", "Last 30 days"), ("90", "Last 90 days"), ("365", "Last 12 months")],
        required=False,
        initial=DEFAULT_PERIOD,
        label="Period",
    )
    start = forms.DateField(
        required=False,
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_year],
    )
    end = forms.DateField(
        required=False,
        label="To",
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_year],
    )
    service = forms.ModelChoiceField(
        queryset=Service.objects.all(),
        to_field_name="service_code",
        required=False,
        label="Category",
        empty_label="All categories",
    )
    department = forms.ModelChoiceField(
        queryset=Department.objects.all(),
        to_field_name="slug",
        required=False,
        empty_label="All departments",
    )
    area = forms.ModelChoiceField(
        queryset=Boundary.objects.exclude(kind=Boundary.Kind.CITY),
        required=False,
        empty_label="The whole city",
    )

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        # A permalink leaves out the default period, and a bound form shows what it was
        # given: without this the select showed its first option ("Last 30 days") over the
        # 12 months' figures, and "Show" then made them 30 days.
        if data is not None and not data.get("period"):
            data = data.copy()
            data["period"] = DEFAULT_PERIOD
        super().__init__(data, *args, **kwargs)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("start"), data.get("end")
        if start and not end and start > timezone.now().astimezone(city_zone()).date():
            # "To" defaults to today: the period would end before it begins.
            raise forms.ValidationError("“From” must be on or before today.", code="future")
        if start and end:
            if start > end:
                raise forms.ValidationError("“From” must be on or before “To”.", code="order")
            if (end - start).days > MAX_DAYS:
                raise forms.ValidationError("Choose at most three years.", code="span")
        return data

    def filters(self, *, now: datetime | None = None) -> Filters:
        """The filters the form asks for; defaults where it is empty or invalid."""
        data: dict[str, Any] = self.cleaned_data if self.is_bound and self.is_valid() else {}
        today = (now or timezone.now()).astimezone(city_zone()).date()
        start_day: date | None = data.get("start")
        end_day: date | None = data.get("end")
        query: dict[str, str] = {}
        if start_day is not None or end_day is not None:
            if end_day is None:
                assert start_day is not None
                end_day = min(today, start_day + timedelta(days=364))
            if start_day is None:
                start_day = end_day - timedelta(days=364)
            query.update(start=start_day.isoformat(), end=end_day.isoformat())
        else:
            period = data.get("period") or DEFAULT_PERIOD
            if period != DEFAULT_PERIOD:
                query["period"] = period
            end_day = today
            start_day = today - timedelta(days=PERIODS[period] - 1)
        service, department, area = data.get("service"), data.get("department"), data.get("area")
        if service:
            query["service"] = service.service_code
        if department:
            query["department"] = department.slug
        if area:
            query["area"] = str(area.pk)
        return Filters(
            start=local_midnight(start_day),
            end=local_midnight(end_day + timedelta(days=1)),
            service=service,
            department=department,
            area=area,
            query=query,
        )
