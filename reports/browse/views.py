"""The public list (filters, keyset pages, a map of everything that matches), the map's
cluster endpoint, and the neighbourhood pages. Anonymous answers are HTTP-cacheable."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db.models import Model
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    JsonResponse,
)
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.generic import TemplateView

from civic311.geo import metres_between
from civic311.http_cache import PAGE_CACHE_SECONDS, public_page
from departments.models import Boundary
from departments.querysets import area_slug, neighbourhood_by_slug, neighbourhoods
from reports.browse.clusters import generation, map_answer
from reports.browse.forms import BrowseForm
from reports.browse.pages import Page, capped_count, keyset_page, moment_of, numbered_page
from reports.ids import parse_id
from reports.models import Service, ServiceRequest
from reports.querysets import ServiceRequestQuerySet
from reports.views import MapMixin

# Counts for the neighbourhood pages: cheap to keep, a full scan of an area to recompute.
COUNTS_CACHE_SECONDS = 60
AREA_LATEST = 10
MAX_ZOOM = 20


def browse_form(request: HttpRequest) -> BrowseForm:
    return BrowseForm(request.GET or None, services=Service.objects.all())


def filter_query(request: HttpRequest, *drop: str) -> str:
    """The request's filters as a query string, without the paging parameters."""
    query = request.GET.copy()
    for name in ("before", "after", "t", "page", *drop):
        query.pop(name, None)
    return query.urlencode()


def page_of(request: HttpRequest, form: BrowseForm, reports: ServiceRequestQuerySet) -> Page:
    """The page the request names. A page number or neighbour id that names no number at
    all ("٣", a 30-digit one) is a page that does not exist: 404."""
    for name in ("page", "before", "after"):
        if request.GET.get(name) and parse_id(request.GET[name]) is None:
            raise Http404("No such page.")
    at = moment_of(request.GET["t"]) if request.GET.get("t") else None
    if request.GET.get("t") and at is None:
        raise Http404("No such page.")
    if form.near is not None:
        page = numbered_page(
            reports,
            _int(request.GET.get("page")) or 1,
            rows_of=lambda ids: ServiceRequest.objects.filter(pk__in=ids).with_public_related(),
        )
        for report in page.reports:
            report.distance_m = metres_between(  # type: ignore[attr-defined]
                form.near.lat, form.near.long, report.lat or 0, report.long or 0
            )
        return page
    return keyset_page(
        reports.with_public_related(),
        before=_int(request.GET.get("before")),
        after=_int(request.GET.get("after")),
        at=at,
    )


def _int(text: str | None) -> int | None:
    return parse_id(text)


def map_settings(request: HttpRequest, form: BrowseForm | None, **extra: Any) -> dict[str, Any]:
    """What civic311-maps.js needs for a browsing map: where to fetch clusters (the same
    filters as the list), where the list lives (for the text alternative's links), and
    what to fit the view to."""
    query = filter_query(request, "bbox") if form is not None else ""
    config: dict[str, Any] = {
        "source": reverse("reports:map-data") + (f"?{query}" if query else ""),
        "list": reverse("reports:list") + (f"?{query}" if query else ""),
        "detail": reverse("reports:detail", args=[0]),
        **extra,
    }
    if form is not None and form.is_valid():
        if form.near is not None:
            near = form.near
            config["near"] = [near.lat, near.long, near.radius_m]
        elif form.chosen_area is not None:
            config["fit"] = _bounds(form.chosen_area)
    return config


def _bounds(area: Boundary) -> list[list[float]]:
    return [[area.min_lat, area.min_long], [area.max_lat, area.max_long]]


@method_decorator(public_page(PAGE_CACHE_SECONDS), name="dispatch")
class ReportListView(MapMixin, TemplateView):
    """Every public report, newest first (nearest first near a point), filtered by the
    form; a map of everything that matches, and a page of 25 below it."""

    template_name = "reports/report_list.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = browse_form(request)
        context: dict[str, Any] = {
            "form": form,
            "filter_query": filter_query(request),
            "browse_map": map_settings(request, form),
            "neighbourhoods": form.areas,
        }
        if request.GET and not form.is_valid():
            context["page"] = Page([])
            return self.render_to_response(self.get_context_data(**context), status=400)
        reports = ServiceRequest.objects.public()
        if form.is_bound:
            reports = form.filter(reports)
        context["page"] = page_of(request, form, reports)
        context["count"], context["count_more"] = capped_count(reports)
        context["area"] = form.chosen_area if form.is_bound else None
        context["near"] = form.near if form.is_bound else None
        return self.render_to_response(self.get_context_data(**context))


@public_page(PAGE_CACHE_SECONDS)
def map_data(request: HttpRequest) -> HttpResponse:
    """The map's clusters (or points) for the list's filters, `bbox` and `zoom`. Cached:
    the same view of the same filters is one aggregate per minute at most."""
    form = browse_form(request)
    if not form.is_valid() or not form.cleaned_data.get("bbox"):
        errors = form.errors.get_json_data() if form.is_bound else {}
        if not errors or "bbox" not in request.GET:
            errors.setdefault("bbox", [{"message": "The map area (bbox) is required."}])
        return JsonResponse({"errors": errors}, status=400)
    config = settings.LEAFLET_CONFIG
    min_zoom = int(str(config["MIN_ZOOM"]))
    zoom = min(max(_int(request.GET.get("zoom")) or settings.MAP_ZOOM, min_zoom), MAX_ZOOM)
    bbox = form.cleaned_data["bbox"]
    form.cleaned_data["bbox"] = None  # the view's box bounds the clusters, not the filter
    # A category by its key: its name is not unique ("Other" in two groups).
    chosen = {k: v.pk if isinstance(v, Model) else v for k, v in form.cleaned_data.items()}
    key = f"map:{generation()}:" + urlencode(sorted((k, str(v)) for k, v in chosen.items()))
    key += f":{zoom}:{','.join(f'{x:.5f}' for x in bbox)}"
    answer = cache.get(key)
    if answer is None:
        answer = map_answer(form.filter(ServiceRequest.objects.public()), bbox, zoom)
        cache.set(key, answer, PAGE_CACHE_SECONDS)
    return JsonResponse(answer)


def area_counts(area: Boundary) -> dict[str, int]:
    """Open now, reported and closed in the last 30 days, in `area`. Cached briefly."""
    key = f"area-counts:{area.pk}:{area.updated.timestamp()}"
    counts = cache.get(key)
    if counts is None:
        month_ago = timezone.now() - timedelta(days=30)
        reports = ServiceRequest.objects.public().in_area(area.pk)
        counts = {
            "open": reports.open().count(),
            "reported_recently": reports.filter(requested_datetime__gte=month_ago).count(),
            "closed_recently": reports.closed_since(month_ago).count(),
        }
        cache.set(key, counts, COUNTS_CACHE_SECONDS)
    return counts


@method_decorator(public_page(PAGE_CACHE_SECONDS), name="dispatch")
class AreaListView(TemplateView):
    template_name = "reports/area_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        areas = [{"area": a, "slug": area_slug(a), **area_counts(a)} for a in neighbourhoods()]
        return super().get_context_data(areas=areas, **kwargs)


@method_decorator(public_page(PAGE_CACHE_SECONDS), name="dispatch")
class AreaDetailView(MapMixin, TemplateView):
    """A neighbourhood: its counts, its newest open reports, and a map of all of them."""

    template_name = "reports/area_detail.html"

    def get(
        self, request: HttpRequest, *args: Any, slug: str, **kwargs: Any
    ) -> HttpResponse | HttpResponsePermanentRedirect:
        area = neighbourhood_by_slug(slug)
        if area is None:
            raise Http404("No such neighbourhood.")
        if area_slug(area) != slug:  # an address it had before: links elsewhere keep working
            return HttpResponsePermanentRedirect(reverse("reports:area", args=[area_slug(area)]))
        query = urlencode({"area": slug, "status": "open"})
        open_reports = (
            ServiceRequest.objects.public()
            .open()
            .in_area(area.pk)
            .with_public_related()
            .order_by("-requested_datetime", "-pk")
        )
        context = {
            "area": area,
            "counts": area_counts(area),
            "latest": list(open_reports[:AREA_LATEST]),
            "list_url": f"{reverse('reports:list')}?{query}",
            "browse_map": {
                "source": f"{reverse('reports:map-data')}?{query}",
                "list": f"{reverse('reports:list')}?{query}",
                "detail": reverse("reports:detail", args=[0]),
                "fit": _bounds(area),
                "outline": area.geometry,
            },
        }
        return self.render_to_response(self.get_context_data(**context))
