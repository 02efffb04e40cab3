"""Query parameters of GET requests.{fmt}: the spec's filters and the common extensions.

An empty parameter means the same as an absent one (django-filter skips empty values)."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

import django_filters as filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import QueryDict
from django.utils import timezone

from civic311.dates import parse_w3c_datetime
from reports.api import listing
from reports.api.listing import MAX_RADIUS, decode_cursor
from reports.ids import MAX_ID, IdField
from reports.models import Service, ServiceRequest

MAX_SPAN = timedelta(days=90)
MAX_PAGE_SIZE = 1000
SERVICES = Service._meta.db_table


def parse_extensions(value: str | None) -> bool:
    """The extensions=true switch: true/1/yes, false/0/no, or empty (false)."""
    text = (value or "").strip().lower()
    if text in {"", "false", "0", "no"}:
        return False
    if text in {"true", "1", "yes"}:
        return True
    raise ValidationError("extensions: use true or false.", code="invalid")


class W3CDateTimeFormField(forms.CharField):
    """A W3C datetime that must carry a time zone (Z or ±hh:mm)."""

    def to_python(self, value: Any) -> datetime | None:  # type: ignore[override]
        text = super().to_python(value)
        return parse_w3c_datetime(text) if text else None


class BBoxField(forms.CharField):
    """west,south,east,north in WGS84 degrees (the GeoJSON/OGC order)."""

    def to_python(self, value: Any) -> tuple[float, float, float, float] | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        try:
            west, south, east, north = (float(part) for part in text.split(","))
        except ValueError as exc:
            raise ValidationError(
                "Give four numbers: west,south,east,north.", code="invalid"
            ) from exc
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            raise ValidationError("Need west < east and south < north, in degrees.", code="invalid")
        return west, south, east, north


class W3CDateTimeFilter(filters.Filter):
    field_class = W3CDateTimeFormField


class IdFilter(filters.Filter):
    field_class = IdField


class IdInFilter(filters.BaseInFilter, IdFilter):
    pass


class CharInFilter(filters.BaseInFilter, filters.CharFilter):
    pass


class StatusInFilter(filters.BaseInFilter, filters.ChoiceFilter):
    pass


class ServiceCodeFilter(CharInFilter):
    def filter(self, qs: Any, value: list[str] | None) -> Any:
        if not value:
            return qs
        # The codes' ids first, as numbers in the list's query. Given them as a subquery,
        # PostgreSQL planned without knowing the category: it walked the newest reports
        # until enough were of it, and for a code that names nothing it read every report
        # of the window (85 ms at a million reports). Now such a code reads no report, and
        # the planner knows from its statistics how common the category is.
        # As SQL: the ORM took longer to build and compile this one-line query than the
        # database took to answer it (0.3 of 0.4 ms).
        ids = service_ids(value)
        return qs.filter(service_id__in=ids) if ids else qs.none()


def service_ids(codes: list[str]) -> list[int]:
    """The ids of the categories with these codes (ServiceCodeFilter)."""
    marks = ", ".join(["%s"] * len(codes))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {SERVICES} WHERE service_code IN ({marks})", codes)
        return [row[0] for row in cursor.fetchall()]


class BBoxFilter(filters.Filter):
    field_class = BBoxField

    def filter(self, qs: Any, value: tuple[float, float, float, float] | None) -> Any:
        if value is None:
            return qs
        west, south, east, north = value
        return qs.in_bbox(south, west, north, east)


class RequestListForm(forms.Form):
    """Options that are not filters, and the rules that tie the dates together."""

    # Pages stop where the offset would leave the database's 64-bit integers.
    page = IdField(maximum=MAX_ID // MAX_PAGE_SIZE, required=False)
    page_size = IdField(maximum=MAX_PAGE_SIZE, required=False)
    cursor = forms.CharField(required=False)
    # Radius search: reports within `radius` metres of (lat, long).
    lat = forms.FloatField(min_value=-90, max_value=90, required=False)
    long = forms.FloatField(min_value=-180, max_value=180, required=False)
    radius = forms.FloatField(min_value=1, max_value=MAX_RADIUS, required=False)
    sort = forms.ChoiceField(
        choices=[("requested", "newest first"), ("distance", "nearest first")], required=False
    )
    # Parsed (and refused when bad) by the views before the filters run.
    extensions = forms.CharField(required=False)

    def clean_cursor(self) -> tuple[datetime, int] | None:
        text = self.cleaned_data.get("cursor")
        return decode_cursor(text) if text else None

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        self._check_radius(data)
        dates = ("start_date", "end_date", "updated_after", "updated_before")
        if data.get("service_request_id") or any(name in self.errors for name in dates):
            return data
        # The 90-day window bounds requested_datetime, unless only update times are given:
        # then it bounds updated_datetime, so that "what changed since yesterday" also
        # finds old reports updated since (and the sr_updated index serves the query).
        by_requested = data.get("start_date") or data.get("end_date")
        by_updated = data.get("updated_after") or data.get("updated_before")
        if by_updated and not by_requested:
            first, last = "updated_after", "updated_before"
        else:
            first, last = "start_date", "end_date"
        start, end = data.get(first), data.get(last)
        if end is None:
            end = timezone.now() if start is None else start + MAX_SPAN
        if start is None:
            start = end - MAX_SPAN
        if start > end:
            raise ValidationError(f"{first} must be before {last}.", code="order")
        if end - start > MAX_SPAN:
            raise ValidationError(f"{first} and {last} may span at most 90 days.", code="span")
        cursor = data.get("cursor")
        if cursor is not None and first == "start_date":
            # The rows after the cursor are older than its time: that is the window's end.
            # SQLite bounds an index scan by one of two upper bounds on the same column
            # only, and took the window's end, stepping over every row before the cursor.
            end = min(end, cursor[0])
        data[first], data[last] = start, end
        return data

    def _check_radius(self, data: dict[str, Any]) -> None:
        names = ("lat", "long", "radius")
        given = [name for name in names if data.get(name) is not None]
        if given and len(given) < 3 and not any(name in self.errors for name in names):
            self.add_error(None, "lat, long and radius go together (radius in metres).")
        if data.get("sort") == "distance" and len(given) < 3:
            self.add_error("sort", "sort=distance needs lat, long and radius.")
        if data.get("sort") == "distance" and data.get("cursor"):
            self.add_error("cursor", "cursor pages the newest-first order; use page with sort.")


class SharedFields(dict):
    """A form's fields, shared by its instances: a Django form deep-copies its fields (and
    their widgets) for every instance, a third of this form's time, so that one instance
    may change them; this form is never rendered and never changes them."""

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, forms.Field]:
        return dict(self)


# The filters listing.plain_source also writes in SQL, on a list's first page and the pages
# after a cursor (see ServiceRequestFilter.narrowing).
SIMPLE = ("service_code", "status", "bbox")
# What narrows the list beyond its window of requested times (the options included).
NARROWING = (
    "service_request_id", "service_code", "status", "bbox", "updated_after", "updated_before",
    "radius", "cursor",
)  # fmt: skip


class ServiceRequestFilter(filters.FilterSet):
    service_request_id = IdInFilter(field_name="pk", lookup_expr="in")
    service_code = ServiceCodeFilter()
    status = StatusInFilter(
        field_name="status", lookup_expr="in", choices=ServiceRequest.Status.choices
    )
    start_date = W3CDateTimeFilter(field_name="requested_datetime", lookup_expr="gte")
    end_date = W3CDateTimeFilter(field_name="requested_datetime", lookup_expr="lte")
    updated_after = W3CDateTimeFilter(field_name="updated_datetime", lookup_expr="gte")
    updated_before = W3CDateTimeFilter(field_name="updated_datetime", lookup_expr="lte")
    bbox = BBoxFilter()

    class Meta:
        model = ServiceRequest
        fields: list[str] = []
        form = RequestListForm

    _form_class: type[forms.Form] | None = None

    def __init__(self, data: Any = None, queryset: Any = None, **kwargs: Any) -> None:
        # FilterSet.__init__ deep-copies every filter and get_form_class builds a new form
        # class, per request; these filters keep no per-request state, so shallow copies
        # and one class do.
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset if queryset is not None else ServiceRequest.objects.all()
        self.request = kwargs.get("request")
        self.form_prefix = kwargs.get("prefix")
        self.filters = {
            # A filter with `method=` holds a callable bound to itself: that one needs a
            # deep copy for its parent to be this filterset.
            name: copy.deepcopy(f) if getattr(f, "method", None) else copy.copy(f)
            for name, f in type(self).base_filters.items()
        }
        for filter_ in self.filters.values():
            filter_.model = ServiceRequest
            filter_.parent = self

    def get_form_class(self) -> type[forms.Form]:
        cls = type(self)
        found = cls.__dict__.get("_form_class")  # each subclass has fields of its own
        if found is None:
            found = super().get_form_class()
            found.base_fields = SharedFields(found.base_fields)
            cls._form_class = found
        return found

    def requested_window(self, *besides: str) -> tuple[datetime, datetime] | None:
        """The window of requested times (start, end), when the list is narrowed by
        nothing else (reports/api/positions.py finds its deep pages), or by nothing else
        but the parameters named `besides`."""
        data = self.form.cleaned_data
        if any(data.get(name) for name in NARROWING if name not in besides):
            return None
        return data["start_date"], data["end_date"]

    def narrowing(self) -> listing.Narrowing:
        """The filters of SIMPLE, as listing.plain_source writes them in SQL (with the
        categories' ids looked up as ServiceCodeFilter does)."""
        data = self.form.cleaned_data
        codes, bbox = data.get("service_code"), data.get("bbox")
        return listing.Narrowing(
            services=service_ids(codes) if codes else None,
            statuses=data.get("status") or None,
            box=(bbox[1], bbox[0], bbox[3], bbox[2]) if bbox else None,
        )

    def filter_queryset(self, queryset: Any) -> Any:
        data = self.form.cleaned_data
        if data.get("service_request_id"):
            # The spec: a list of ids overrides every other parameter.
            return queryset.filter(pk__in=data["service_request_id"])
        # Only the filters: the form also carries page, page_size and extensions.
        for name, value in data.items():
            if name in self.filters:
                queryset = self.filters[name].filter(queryset, value)
        return queryset


# Every parameter GET requests reads (params.merged_query gives each one value).
PARAMETERS = (*ServiceRequestFilter.base_filters, *RequestListForm.base_fields, "jurisdiction_id")
