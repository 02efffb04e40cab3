"""Public insight pages: thin views over reports.insights.queries."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar, cast
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.http import http_date
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import FormView, TemplateView

from civic311.input import FormInputProblemMixin
from civic311.ratelimit import rate_limit
from civic311.spreadsheets import Echo, inert
from departments.models import Boundary
from reports.ids import parse_id
from reports.insights import alerts, catalogue, charts, exports, hotspots, queries
from reports.insights.filters import Filters, InsightsFilterForm, area_condition, city_zone
from reports.insights.forms import AlertForm
from reports.insights.models import AreaAlert
from reports.models import Service, ServiceRequest
from reports.views import MapMixin


def table_csv_rows(table: queries.Table) -> Iterator[str]:
    writer = csv.writer(Echo())
    yield writer.writerow([inert(column) for column in table.columns])
    for row in table.rows:
        yield writer.writerow(["" if value is None else inert(value) for value in row])


FIGURES: dict[str, Callable[[Filters], queries.Table]] = {
    "weekly-by-category": lambda f: queries.weekly_by_category(f).table(
        "weekly-by-category", "New reports per week by category"
    ),
    "new-vs-closed": lambda f: queries.new_vs_closed(f).table(
        "new-vs-closed", "New and closed reports per week"
    ),
    "top-categories": lambda f: queries.top_categories_month(f).table(),
    "backlog": queries.backlog_by_department,
    "response-department": lambda f: queries.response_times(f, by="department").table(),
    "response-category": lambda f: queries.response_times(f, by="service").table(),
}


T = TypeVar("T")


def cached(name: str, filters: Filters, compute: Callable[[], T]) -> T:
    """A figure for these filters, from the cache for INSIGHTS_CACHE_SECONDS: the numbers are
    public and the same for everyone, and a year of a million reports takes a second or two
    to aggregate. The key holds the period's dates, so "today" moves on by itself."""
    seconds = settings.INSIGHTS_CACHE_SECONDS
    if seconds <= 0:
        return compute()
    scope = f"{filters.start.isoformat()}|{filters.end.isoformat()}|{filters.querystring}"
    key = f"insights:{name}:{hashlib.sha256(scope.encode()).hexdigest()}"
    return cast(T, cache.get_or_set(key, compute, seconds))


def filters_from(request: HttpRequest) -> tuple[InsightsFilterForm, Filters]:
    form = InsightsFilterForm(request.GET or None)
    return form, form.filters()


class FilteredPageMixin:
    """A page whose filters were refused answers 400 (with the errors shown next to the
    filters and the default figures), so that links and crawlers learn the address is bad."""

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        if context["form"].errors:
            kwargs["status"] = 400
        return super().render_to_response(context, **kwargs)  # type: ignore[misc]


class DashboardView(FilteredPageMixin, TemplateView):
    template_name = "insights/dashboard.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form, filters = filters_from(self.request)
        weekly = cached("weekly", filters, lambda: queries.weekly_by_category(filters))
        flow = cached("flow", filters, lambda: queries.new_vs_closed(filters, weekly=weekly))
        month = cached("month", filters, lambda: queries.top_categories_month(filters))
        backlog = cached("backlog", filters, lambda: queries.backlog_by_department(filters))
        by_department = cached(
            "rt-department", filters, lambda: queries.response_times(filters, by="department")
        )
        by_category = cached(
            "rt-service", filters, lambda: queries.response_times(filters, by="service")
        )
        month_peak = max((max(r["this"], r["last"]) for r in month.rows), default=0)
        backlog_peak = max((row[1] for row in backlog.rows), default=0)
        context.update(
            form=form,
            filters=filters,
            weekly=weekly,
            weekly_table=weekly.table("weekly-by-category", "New reports per week by category"),
            weekly_chart=charts.column_chart(weekly.weeks, weekly.series, stacked=True),
            flow_table=flow.table("new-vs-closed", "New and closed reports per week"),
            flow_chart=charts.column_chart(flow.weeks, flow.series, stacked=False),
            flow_totals={name: sum(values) for name, values in flow.series},
            month=month,
            month_rows=[
                {
                    **row,
                    "bar_this": charts.bar_length(row["this"], month_peak),
                    "bar_last": charts.bar_length(row["last"], month_peak),
                }
                for row in month.rows
            ],
            backlog_rows=[
                {
                    "name": name,
                    "open": n,
                    "overdue": overdue,
                    "bar": charts.bar_length(n, backlog_peak),
                }
                for name, n, overdue in backlog.rows
            ],
            response_tables=[
                _response_context(by_department),
                _response_context(by_category),
            ],
            min_sample=queries.min_sample(),
        )
        return context


def _response_context(times: queries.ResponseTimes) -> dict[str, Any]:
    peak = max((r.p90_hours or 0 for r in times.ranked + times.small), default=0)
    return {
        "slug": times.slug,
        "title": times.title,
        "ranked": [(r, charts.bar_length(r.median_hours, peak)) for r in times.ranked],
        "small": [(r, charts.bar_length(r.median_hours, peak)) for r in times.small],
        "csv_slug": f"response-{'department' if times.slug == 'department' else 'category'}",
    }


def figure_csv(request: HttpRequest, slug: str) -> HttpResponse | StreamingHttpResponse:
    """One figure's numbers as CSV, for the same filters as the page."""
    if slug not in FIGURES:
        raise Http404("No such figure.")
    form, filters = filters_from(request)
    if form.errors:
        lines = [f"{name}: {' '.join(map(str, errors))}" for name, errors in form.errors.items()]
        return HttpResponse(
            "\n".join(lines) + "\n", status=400, content_type="text/plain; charset=utf-8"
        )
    table = FIGURES[slug](filters)
    response = StreamingHttpResponse(table_csv_rows(table), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slug}.csv"'
    return response


# Open data ---------------------------------------------------------------------------------


class DataView(TemplateView):
    """What is published, the field dictionary, the licence and the downloads."""

    template_name = "insights/data.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        name, url = catalogue.licence()
        context.update(
            fields=exports.FIELDS,
            licence_name=name,
            licence_url=url,
            publisher=catalogue.publisher(),
            updated=catalogue.last_change(),
            dumps=[info for fmt in ("csv", "geojson") if (info := exports.dump_info(fmt))],
            areas=Boundary.objects.exclude(kind=Boundary.Kind.CITY),
            services=Service.objects.all(),
        )
        return context


def export(request: HttpRequest, fmt: str) -> HttpResponse | StreamingHttpResponse:
    """Public reports as CSV or GeoJSON, streamed, with the Open311 filters plus area."""
    if fmt not in exports.FORMATS:
        raise Http404("Unknown format.")
    filterset = exports.ExportFilter(request.GET, queryset=ServiceRequest.objects.public())
    if not filterset.is_valid():
        lines = [
            f"{name}: {message}" if name != "__all__" else message
            for name, messages in filterset.errors.items()
            for message in messages
        ]
        return HttpResponse(
            "\n".join(lines) + "\n", status=400, content_type="text/plain; charset=utf-8"
        )
    _, content_type = exports.FORMATS[fmt]
    response = StreamingHttpResponse(exports.stream(fmt, filterset.qs), content_type=content_type)
    stamp = timezone.now().astimezone(city_zone()).strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="reports-{stamp}.{fmt}"'
    return response


def dump(request: HttpRequest, fmt: str) -> FileResponse | HttpResponseRedirect:
    """The nightly full dump, as the file it is (swapped in whole each night). While there
    is none (not yet written, or taken down by a moderation until it is written again), the
    live export of the same reports, which is always current."""
    if fmt not in exports.FORMATS:
        raise Http404("Unknown format.")
    try:
        handle = exports.dump_path(fmt).open("rb")
    except FileNotFoundError:
        return HttpResponseRedirect(reverse("insights:export", args=[fmt]))
    _, content_type = exports.FORMATS[fmt]
    return FileResponse(
        handle, content_type=content_type, as_attachment=True, filename=f"reports.{fmt}"
    )


def data_json(request: HttpRequest) -> JsonResponse:
    """DCAT-US 1.1 (Project Open Data): the catalogue harvesters look for at /data.json.
    Last-Modified is the catalogue's own last change (the URL adds the ETag), so that a
    harvester's conditional GET is answered 304 until something in it changed."""
    # Readable from any origin (civic311/cors.py).
    found = catalogue.datasets(request.build_absolute_uri)
    response = JsonResponse(catalogue.dcat_us(request.build_absolute_uri, found))
    response["Last-Modified"] = http_date(catalogue.last_modified(found).timestamp())
    return response


def dcat_ap(request: HttpRequest) -> JsonResponse:
    """The same catalogue in DCAT-AP, as JSON-LD, with the same Last-Modified."""
    found = catalogue.datasets(request.build_absolute_uri)
    response = JsonResponse(
        catalogue.dcat_ap(request.build_absolute_uri, found), content_type="application/ld+json"
    )
    response["Last-Modified"] = http_date(catalogue.last_modified(found).timestamp())
    return response


# Hotspots ----------------------------------------------------------------------------------

REPORTS_PER_AREA_PAGE = 50
NEIGHBOURHOOD = Boundary.Kind.NEIGHBOURHOOD


def cell_size_from(request: HttpRequest) -> str:
    name = request.GET.get("cell", "")
    return name if name in hotspots.CELL_SIZES else hotspots.DEFAULT_CELL


class HotspotMapView(FilteredPageMixin, MapMixin, TemplateView):
    template_name = "insights/hotspots.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form, filters = filters_from(self.request)
        cell = cell_size_from(self.request)
        size = hotspots.CELL_SIZES[cell]
        cells = cached(f"cells-{cell}", filters, lambda: hotspots.grid_cells(filters, size))
        areas = hotspots.neighbourhood_counts(filters)
        query = dict(filters.query)
        if cell != hotspots.DEFAULT_CELL:
            query["cell"] = cell
        list_url = reverse("insights:map-reports") + "?" + urlencode(filters.query)
        area_urls = {a.boundary.pk: area_list_url(filters, a.boundary) for a in areas}
        context.update(
            form=form,
            filters=filters,
            cell=cell,
            cell_sizes=list(hotspots.CELL_SIZES),
            permalink=urlencode(query),
            top_areas=[{"area": a, "url": area_urls[a.boundary.pk]} for a in areas if a.count][:15],
            top_cells=cells[:10],
            hotspot_list_url=list_url,
            map_data=hotspots.map_data(cells, areas, list_url, area_urls),
            total=sum(c.count for c in cells),
        )
        return context


def area_list_url(filters: Filters, neighbourhood: Boundary) -> str:
    """The list of the reports a neighbourhood's row and shape count. Filtered to an area
    (a district), they count the neighbourhood's reports in that area, so the list keeps the
    filter and narrows it to the neighbourhood; with no area filter, the list is the
    neighbourhood's own (with its alert and feed links)."""
    query = dict(filters.query)
    narrowed = filters.area is not None and filters.area.pk != neighbourhood.pk
    query["neighbourhood" if narrowed else "area"] = str(neighbourhood.pk)
    return reverse("insights:map-reports") + "?" + urlencode(query)


def neighbourhood_from(request: HttpRequest) -> Boundary | None:
    """The `neighbourhood` a hotspot list is narrowed to; a 404 for one that is not."""
    text = request.GET.get("neighbourhood", "")
    if not text:
        return None
    pk = parse_id(text)  # "²" passes isdigit() and int() refuses it
    if pk is None:
        raise Http404("No such neighbourhood.")
    return get_object_or_404(Boundary, pk=pk, kind=Boundary.Kind.NEIGHBOURHOOD)


def parse_cell(text: str) -> tuple[float, float, float, float] | None:
    try:
        south, west, north, east = (float(part) for part in text.split(","))
    except ValueError:
        return None
    if not (-90 <= south < north <= 90 and -180 <= west < east <= 180):
        return None
    if north - south > 1 or east - west > 1:
        return None
    return south, west, north, east


class HotspotReportsView(FilteredPageMixin, TemplateView):
    """The reports of one cell or one area, newest first (a bounded page)."""

    template_name = "insights/hotspot_reports.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form, filters = filters_from(self.request)
        reports = hotspots.in_period(filters)
        place = ""
        # The neighbourhood the list is of, for its alert (alerts are for neighbourhoods or
        # circles: a district's link opened the form with nothing chosen) and its feed.
        alert_area = filters.area if filters.area and filters.area.kind == NEIGHBOURHOOD else None
        cell_text = self.request.GET.get("cell_bounds", "")
        if cell_text:
            bounds = parse_cell(cell_text)
            if bounds is None:
                raise Http404("Not a cell.")
            south, west, north, east = bounds
            found = hotspots.in_cell(reports, bounds)
            if found is None:
                raise Http404("Not a cell.")
            reports = found
            place = f"the cell {south:.4f}, {west:.4f} – {north:.4f}, {east:.4f}"
        elif (neighbourhood := neighbourhood_from(self.request)) is not None:
            reports = reports.filter(area_condition(neighbourhood))
            place, alert_area = neighbourhood.name, neighbourhood
            if filters.area is not None and filters.area.pk != neighbourhood.pk:
                place += f" (within {filters.area.name})"
        elif filters.area is not None:
            place = filters.area.name
        total = reports.count()
        context.update(
            form=form,
            filters=filters,
            place=place or "the whole city",
            total=total,
            reports=list(
                reports.with_public_related().order_by("-requested_datetime", "-pk")[
                    :REPORTS_PER_AREA_PAGE
                ]
            ),
            limit=REPORTS_PER_AREA_PAGE,
            alert_area=alert_area,
            back=reverse("insights:map") + ("?" + filters.querystring if filters.query else ""),
        )
        return context


# Area alerts -------------------------------------------------------------------------------


@method_decorator(rate_limit("alert-form", setting="RATELIMIT_ALERT_FORM"), name="dispatch")
class AlertCreateView(FormInputProblemMixin, MapMixin, FormView):
    template_name = "insights/alert_form.html"
    form_class = AlertForm

    def get_initial(self) -> dict[str, Any]:
        initial = super().get_initial()
        for name in ("area", "service"):
            if self.request.GET.get(name):
                initial[name] = self.request.GET[name]
        return initial

    def form_valid(self, form: AlertForm) -> HttpResponse:
        data = form.cleaned_data
        try:
            alerts.alert_create(
                email=data["email"],
                frequency=data["frequency"],
                area=data["area"],
                lat=data["lat"],
                long=data["long"],
                radius_m=data["radius_m"],
                service=data["service"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        return render(self.request, "insights/alert_done.html", {"state": "asked"})


class AlertTokenView(View):
    """GET shows a button; POST acts. Link scanners in mail systems follow GET links, so a
    GET never confirms nor cancels anything."""

    template_name = "insights/alert_done.html"

    def alert(self, token: str) -> AreaAlert:
        return get_object_or_404(AreaAlert.objects.select_related("area", "service"), token=token)


class AlertConfirmView(AlertTokenView):
    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        alert = self.alert(token)
        # An old confirmation link, opened after unsubscribing, must not say the alert is on.
        if alert.cancelled:
            state = "cancelled"
        elif alert.confirmed:
            state = "confirmed"
        else:
            state = "confirm"
        return render(request, self.template_name, {"alert": alert, "state": state})

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        alert = self.alert(token)
        try:
            alerts.alert_confirm(alert=alert)
        except ValidationError:
            return render(request, self.template_name, {"alert": alert, "state": "cancelled"})
        return render(request, self.template_name, {"alert": alert, "state": "confirmed"})


@method_decorator(csrf_exempt, name="dispatch")
class AlertUnsubscribeView(AlertTokenView):
    """RFC 8058: mail clients POST List-Unsubscribe=One-Click here without a CSRF token; the
    unguessable token in the address is the authorisation."""

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        alert = self.alert(token)
        state = "cancelled" if alert.cancelled else "unsubscribe"
        return render(request, self.template_name, {"alert": alert, "state": state})

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        alert = alerts.alert_cancel(alert=self.alert(token))
        return render(request, self.template_name, {"alert": alert, "state": "cancelled"})
