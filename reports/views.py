"""Citizen pages. Thin: fetch (public reports only), validate a form, call a service, render
or redirect. Nothing here shows a reporter's personal data."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import Prefetch, QuerySet
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.decorators import method_decorator
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET
from django.views.generic import DetailView, FormView, TemplateView
from django.views.generic.edit import FormMixin

from civic311.geo import in_city_bounds
from civic311.http_cache import PAGE_CACHE_SECONDS, public_page
from civic311.input import FormInputProblemMixin
from civic311.maps import marker_url_pattern
from civic311.numbers import parse_number
from civic311.ratelimit import rate_limit
from departments.querysets import neighbourhood_at
from places.place import Place
from places.search import nearest_address, search
from reports import rules
from reports.attributes import attribute_answers
from reports.forms import (
    ReportForm,
    SubscriptionForm,
    SupportForm,
    parse_place,
    place_value,
)
from reports.forms_followup import CommentForm
from reports.ids import parse_id
from reports.locators import address_page
from reports.models import (
    Photo,
    Service,
    ServiceAttribute,
    ServiceRequest,
)
from reports.nearby import Nearby, nearby_reports
from reports.photo_drafts import draft_discard, drafts_keep_valid, drafts_readable
from reports.services.requests import report_create, submission_of
from reports.services.subscriptions import subscription_create
from reports.services.support import report_support
from reports.tokens import preview_url

HOME_MAP_LIMIT = 300
CITY_COUNTS_KEY = "city-counts"
CITY_COUNTS_SECONDS = 60
HOME_LATEST = 8
STATE_LABELS = dict(ServiceRequest.State.choices)


# What the map script needs about each report (only public fields), read as tuples.
MARKER_FIELDS = ("pk", "lat", "long", "service__name", "status", "state", "requested_datetime")


def marker_row(report: ServiceRequest) -> tuple[Any, ...]:
    """A report's MARKER_FIELDS, from its instance (its service loaded)."""
    return (
        report.pk, report.lat, report.long, report.service.name, report.status,
        report.state, report.requested_datetime,
    )  # fmt: skip


def report_markers(rows: Iterable[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """The map's markers from rows of MARKER_FIELDS. The home page's map shows 300 reports:
    built as model instances, each with its own reverse() and date formatting, they cost
    two thirds of the page's time; here the URL is resolved once and each day's date and
    each state's label are formatted once per page."""
    url = marker_url_pattern("reports:detail")
    days: dict[Any, str] = {}
    labels: dict[str, str] = {}
    markers = []
    for pk, lat, long, service_name, status, state, requested in rows:
        if lat is None or long is None:
            continue
        day = timezone.localtime(requested).date()
        if day not in days:
            days[day] = date_format(day, "M j, Y")
        if state not in labels:
            labels[state] = str(STATE_LABELS.get(state, state))
        markers.append(
            {
                "id": pk,
                "lat": lat,
                "long": long,
                "title": service_name,
                "status": status,
                "state": labels[state],
                "date": days[day],
                "url": url.format(pk),
            }
        )
    return markers


class MapMixin:
    """The map settings every page's maps read (civic311-maps.js, from a json_script):
    centre, zoom and tiles of this city."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)  # type: ignore[misc]
        config = settings.LEAFLET_CONFIG
        context["map_config"] = {
            "center": list(settings.MAP_CENTER),
            "zoom": settings.MAP_ZOOM,
            "minZoom": config["MIN_ZOOM"],
            "maxZoom": config["MAX_ZOOM"],
            "tiles": settings.MAP_TILE_URL,
            "attribution": settings.MAP_TILE_ATTRIBUTION,
        }
        return context


def city_counts() -> dict[str, int]:
    """The home page's figures. Each counts a large share of every report (all the open
    ones; a month of history), so they are kept for a minute rather than counted per visit."""
    counts = cache.get(CITY_COUNTS_KEY)
    if counts is None:
        public = ServiceRequest.objects.public()
        month_ago = timezone.now() - timedelta(days=30)
        counts = {
            "open_count": public.open().count(),
            "closed_recently_count": public.closed_since(month_ago).count(),
            "reported_recently_count": public.filter(requested_datetime__gte=month_ago).count(),
        }
        cache.set(CITY_COUNTS_KEY, counts, CITY_COUNTS_SECONDS)
    return counts


@method_decorator(public_page(PAGE_CACHE_SECONDS), name="dispatch")
class HomeView(MapMixin, TemplateView):
    template_name = "reports/home.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        public = ServiceRequest.objects.public()
        recent = public.with_location().values_list(*MARKER_FIELDS)
        return super().get_context_data(
            **city_counts(),
            latest=public.with_public_related()[:HOME_LATEST],
            markers=report_markers(recent[:HOME_MAP_LIMIT]),
            **kwargs,
        )


def posted_values(request: HttpRequest, form: ReportForm) -> dict[str, Any]:
    """The report form's fields as posted, as initial values for showing it again (lists
    for the fields that take several)."""
    skip = {"photos", "kept_photos", "website", "captcha"}
    return {
        name: field.widget.value_from_datadict(request.POST, request.FILES, form.add_prefix(name))
        for name, field in form.fields.items()
        if name not in skip
    }


def active_services() -> QuerySet[Service]:
    values = Prefetch("values")
    return Service.objects.active().prefetch_related(
        Prefetch("attributes", ServiceAttribute.objects.prefetch_related(values))
    )


# Private: each page carries its own submission token (and a CSRF token); a shared cache
# giving one page to two people would make the second one's report lead to the first's.
@method_decorator(cache_control(private=True), name="dispatch")
class ReportCreateView(FormInputProblemMixin, MapMixin, FormView):
    """The report form. Besides sending a report, its POST serves the steps that need no
    JavaScript: "Find" searches the gazetteer and lists the places found, "Use this place"
    puts the point there and lists the open reports already made nearby. Photos chosen
    before either step are kept (see `reports.photo_drafts`)."""

    template_name = "reports/report_form.html"
    form_class = ReportForm

    # What a link may fill in (an asset's "Report a problem": its place and category).
    PREFILL = ("lat", "long", "service", "address", "address_id")

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "services": active_services()}

    def get_initial(self) -> dict[str, Any]:
        return {name: self.request.GET[name] for name in self.PREFILL if self.request.GET.get(name)}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        urls = {
            "search": reverse("places:search"),
            "reverse": reverse("places:reverse"),
            "nearby": reverse("reports:nearby"),
        }
        address_id = self.request.POST.get("address_id") or self.request.GET.get("address_id")
        return super().get_context_data(
            form_urls=urls, about=address_page(address_id or ""), **kwargs
        )

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if "find_place" in request.POST or "use_place" in request.POST:
            return self.place_step(request)
        return self.send(request, *args, **kwargs)

    @method_decorator(rate_limit("report-form", setting="RATELIMIT_REPORT_FORM"))
    def send(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return super().post(request, *args, **kwargs)

    @method_decorator(rate_limit("places", setting="RATELIMIT_PLACES"))
    def place_step(self, request: HttpRequest) -> HttpResponse:
        services = list(active_services())
        initial = posted_values(request, ReportForm(services=services))
        query = str(initial.get("place_query") or "").strip()
        results: list[Place] = []
        chosen = parse_place(request.POST.get("place", "")) if "use_place" in request.POST else None
        if chosen is not None:
            initial.update(lat=chosen.lat, long=chosen.long, place="")
            if not initial.get("address"):
                initial["address"] = chosen.label
        elif len(query) >= 2:
            results = search(query)
        kept = drafts_readable(request.POST.getlist("kept_photos"))
        room = settings.PHOTO_MAX_PER_REPORT - len(kept)
        new, photos_lost = drafts_keep_valid(request.FILES.getlist("photos"), room=room)
        form = ReportForm(initial=initial, services=services)
        return self.render_to_response(
            self.get_context_data(
                form=form,
                place_results=[(place_value(p), p) for p in results],
                searched=query if "find_place" in request.POST else None,
                chosen_place=chosen,
                nearby=self.nearby(initial),
                kept_photos=kept + new,
                photos_lost=photos_lost,
            )
        )

    def nearby(self, values: dict[str, Any]) -> list[Nearby]:
        """Open reports like this one near its point, once both are known."""
        service_id = parse_id(values.get("service"))
        lat, long = values.get("lat"), values.get("long")
        if isinstance(lat, str):
            lat = parse_number(lat)
        if isinstance(long, str):
            long = parse_number(long)
        if service_id is None or not isinstance(lat, float) or not isinstance(long, float):
            return []
        if not in_city_bounds(lat, long):
            return []
        return nearby_reports(service_id=service_id, lat=lat, long=long)

    def form_valid(self, form: ReportForm) -> HttpResponse:
        fields = form.service_kwargs()
        sent = submission_of(fields["submission"])
        if sent is not None:  # this form was sent before (the back button, a retry)
            return self.sent_before(form, sent)
        if not fields["address"]:
            # The pin's address, so that crews and the public list read a street.
            place = nearest_address(fields["lat"], fields["long"])
            if place is not None:
                fields["address"], fields["address_id"] = place.label, place.address_id
        try:
            report = report_create(
                **fields,
                source=ServiceRequest.Source.WEB,
                require_description=True,
                preview_minutes=settings.REPORT_PREVIEW_MINUTES,
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
            return self.form_invalid(form)
        except IntegrityError:
            sent = submission_of(fields["submission"])
            if sent is None:
                raise
            return self.sent_before(form, sent)  # sent twice at once: the other one won
        finally:
            for handle in form.draft_files:
                handle.close()
        for _, path in form.cleaned_data["kept_photos"]:
            draft_discard(path)
        messages.success(
            self.request,
            f"Thank you. Your report #{report.pk} has been sent to the city.",
        )
        if rules.in_preview(report, now=timezone.now()):
            return redirect(preview_url(report))
        return redirect(report)

    def sent_before(self, form: ReportForm, report: ServiceRequest) -> HttpResponse:
        """Where the first sending of this form led: the report it made, not a second one."""
        for _, path in form.cleaned_data.get("kept_photos", []):
            draft_discard(path)
        messages.info(self.request, f"This report was sent already: it is report #{report.pk}.")
        if rules.in_preview(report, now=timezone.now()):
            return redirect(preview_url(report))
        return redirect(report)

    def form_invalid(self, form: ReportForm) -> HttpResponse:
        """Browsers cannot re-fill file inputs: good photos are kept on the server and come
        back as ticked boxes; only a photo that could not be kept must be attached again.

        A form that was sent before leads to its report whatever it says now: its kept
        photos went into that report and their drafts are gone, so a second sending (the
        back button, a late second tap) would otherwise come back saying they expired."""
        for handle in form.draft_files:
            handle.close()
        sent = submission_of(form.cleaned_data.get("submission"))
        if sent is not None:
            return self.sent_before(form, sent)
        # One kept photo that expired makes the whole field wrong: the others stay kept.
        kept = drafts_readable(self.request.POST.getlist("kept_photos"))
        room = settings.PHOTO_MAX_PER_REPORT - len(kept)
        new, photos_lost = drafts_keep_valid(self.request.FILES.getlist("photos"), room=room)
        cleaned = form.cleaned_data
        return self.render_to_response(
            self.get_context_data(
                form=form,
                photos_lost=photos_lost,
                kept_photos=kept + new,
                nearby=self.nearby(
                    {
                        "service": getattr(cleaned.get("service"), "pk", None),
                        "lat": cleaned.get("lat"),
                        "long": cleaned.get("long"),
                    }
                ),
            ),
            status=400,
        )


@method_decorator(public_page(PAGE_CACHE_SECONDS), name="dispatch")
@method_decorator(rate_limit("follow", setting="RATELIMIT_FOLLOW"), name="post")
class ReportDetailView(FormInputProblemMixin, MapMixin, FormMixin, DetailView):
    template_name = "reports/report_detail.html"
    context_object_name = "report"
    form_class = SubscriptionForm

    def get_queryset(self) -> QuerySet[ServiceRequest]:
        return ServiceRequest.objects.public().with_public_related().with_public_timeline()

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return super().get(request, *args, **kwargs)
        except Http404:
            # A report in its reporter's preview window: say so (the acknowledgement
            # email links here) without showing any of it.
            waiting = ServiceRequest.objects.filter(hidden=False, pk=kwargs["pk"]).unpublished()
            if not waiting.exists():
                raise
            return render(request, "reports/not_public_yet.html", {"pk": kwargs["pk"]}, status=404)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        report: ServiceRequest = self.object
        # Counted apart from the public ones: the page shows a placeholder for each.
        pending = report.photos.filter(
            hidden=False, state=Photo.State.PENDING, comment__isnull=True
        ).count()
        kwargs.setdefault("comment_form", CommentForm())
        # Only the follow form's own POST fills it: a comment or "this is my problem too"
        # with errors must not show it as wrong too.
        kwargs.setdefault("form", SubscriptionForm())
        return super().get_context_data(
            comments=report.comments.public().with_public_photos(),
            pending_photos=pending,
            pending_slots=range(pending),
            timeline=[
                {"update": u, "state_label": STATE_LABELS.get(u.state_to, "")}
                for u in report.public_updates
            ],
            answers=attribute_answers(report),
            support_form=kwargs.pop("support_form", None) or SupportForm(prefix="support"),
            overdue=rules.is_overdue(report, now=timezone.now()),
            about=address_page(report.address_id),
            markers=report_markers([marker_row(report)]),
            neighbourhood=neighbourhood_at(report.lat, report.long),
            **kwargs,
        )

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = self.get_object()
        form = self.get_form()
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        try:
            subscription_create(report=self.object, email=form.cleaned_data["email"])
        except ValidationError as exc:
            form.add_error("email", exc.messages)
            return self.render_to_response(self.get_context_data(form=form), status=400)
        # The same answer whether or not the address already followed the report.
        messages.success(
            request,
            "Thanks. Please confirm with the link we emailed you; "
            "then we will email you when this report is updated.",
        )
        return HttpResponseRedirect(self.object.get_absolute_url() + "#follow")


@method_decorator(rate_limit("follow", setting="RATELIMIT_FOLLOW"), name="post")
class ReportSupportView(ReportDetailView):
    """ "This is my problem too" (POST from the report page, or from the report form's
    script, which asks for JSON). Shares the follow form's rate limit: each new address
    gets a follow and an email. (Its own `post` replaces the detail view's, and with it
    that view's limit, so the limit is put on here again.)"""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = self.get_object()
        form = SupportForm(request.POST, prefix="support")
        wants_json = "application/json" in request.headers.get("Accept", "")
        if form.is_valid():
            try:
                count = report_support(report=self.object, email=form.cleaned_data["email"])
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                # The same for any address: whose it is shows nowhere until its owner clicks.
                thanks = (
                    "Thanks. Please confirm with the link we emailed you: your voice counts "
                    "once you do, and you will hear when this report is updated."
                )
                if wants_json:
                    return JsonResponse({"supporters": count, "message": thanks})
                messages.success(request, thanks)
                return HttpResponseRedirect(self.object.get_absolute_url() + "#support")
        if wants_json:
            return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
        return self.render_to_response(self.get_context_data(support_form=form), status=400)


@require_GET
@rate_limit("places", setting="RATELIMIT_PLACES", methods=("GET",))
def nearby_json(request: HttpRequest) -> HttpResponseBase:
    """Open reports of a category near a point, for the report form's script."""
    service_id = parse_id(request.GET.get("service", ""))
    lat = parse_number(request.GET.get("lat", ""))
    long = parse_number(request.GET.get("long", ""))
    if service_id is None or lat is None or long is None:
        return JsonResponse({"error": "service, lat and long are needed."}, status=400)
    found = []
    if in_city_bounds(lat, long):
        found = nearby_reports(service_id=service_id, lat=lat, long=long)
    return JsonResponse(
        {
            "reports": [n.as_json() for n in found],
            "metres": settings.NEARBY_METRES,
            "days": settings.NEARBY_DAYS,
        }
    )


@require_GET
def photo_file_for_staff(request: HttpRequest, pk: int, kind: str) -> FileResponse:
    """A processed photo's file for staff, wherever it is: the admin shows hidden photos too,
    and their files are outside the folders the web server serves. Never the original."""
    user = request.user
    allowed = user.is_active and user.is_staff and user.has_perm("reports.view_photo")
    if not allowed or kind not in ("image", "thumbnail"):
        raise Http404("No such photo.")
    photo = get_object_or_404(Photo, pk=pk, state=Photo.State.PROCESSED)
    try:
        handle = getattr(photo, kind).open("rb")
    except FileNotFoundError as exc:
        raise Http404("The file is missing.") from exc
    response = FileResponse(handle, content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    return response
