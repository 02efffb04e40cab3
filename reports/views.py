"""Citizen pages. Thin: fetch (public reports only), validate a form, call a service, render
or redirect. Nothing here shows a reporter's personal data."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from django.views.generic import DetailView, FormView, TemplateView
from django.views.generic.edit import FormMixin
from django_filters.views import FilterView

from civic311.geo import in_city_bounds
from civic311.input import FormInputProblemMixin
from civic311.ratelimit import rate_limit
from places.place import Place
from places.search import nearest_address, search
from reports import rules
from reports.attributes import attribute_answers
from reports.forms import (
    ReportFilter,
    ReportForm,
    SubscriptionForm,
    SupportForm,
    parse_place,
    place_value,
)
from reports.forms_followup import CommentForm
from reports.ids import parse_id
from reports.models import (
    Photo,
    Service,
    ServiceAttribute,
    ServiceRequest,
    Subscription,
)
from reports.nearby import Nearby, nearby_reports
from reports.photo_drafts import draft_discard, draft_read, drafts_keep_valid
from reports.services.requests import report_create
from reports.services.subscriptions import subscription_cancel, subscription_create
from reports.services.support import report_support
from reports.tokens import preview_url

HOME_MAP_LIMIT = 300
HOME_LATEST = 8
STATE_LABELS = dict(ServiceRequest.State.choices)


def report_markers(reports: Iterable[ServiceRequest]) -> list[dict[str, Any]]:
    """What the map script needs about each report (only public fields)."""
    return [
        {
            "id": r.pk,
            "lat": r.lat,
            "long": r.long,
            "title": r.service.name,
            "status": r.status,
            "state": r.get_state_display(),
            "date": date_format(timezone.localtime(r.requested_datetime), "M j, Y"),
            "url": r.get_absolute_url(),
        }
        for r in reports
        if r.lat is not None and r.long is not None
    ]


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


class HomeView(MapMixin, TemplateView):
    template_name = "reports/home.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        public = ServiceRequest.objects.public()
        month_ago = timezone.now() - timedelta(days=30)
        recent = (
            public.with_location()
            .select_related("service")
            .only("pk", "lat", "long", "status", "state", "requested_datetime", "service__name")
        )
        return super().get_context_data(
            open_count=public.open().count(),
            closed_recently_count=public.closed_since(month_ago).count(),
            reported_recently_count=public.filter(requested_datetime__gte=month_ago).count(),
            latest=public.with_public_related()[:HOME_LATEST],
            markers=report_markers(recent[:HOME_MAP_LIMIT]),
            **kwargs,
        )


class ReportListView(MapMixin, FilterView):
    template_name = "reports/report_list.html"
    filterset_class = ReportFilter
    paginate_by = 25
    context_object_name = "reports"

    def get_queryset(self) -> QuerySet[ServiceRequest]:
        return ServiceRequest.objects.public().with_public_related()

    def paginate_queryset(self, queryset: Any, page_size: int) -> Any:
        # Django reads "٣" as page 3 and passes huge numbers on: a page is parse_id's.
        page = self.request.GET.get(self.page_kwarg)
        if page is not None and parse_id(page) is None:
            raise Http404("No such page.")
        return super().paginate_queryset(queryset, page_size)

    def get_filterset_kwargs(self, filterset_class: type[ReportFilter]) -> dict[str, Any]:
        return {**super().get_filterset_kwargs(filterset_class), "services": Service.objects.all()}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        # Keep the filters when moving between pages.
        query = self.request.GET.copy()
        query.pop("page", None)
        context["filter_query"] = query.urlencode()
        context["markers"] = report_markers(context["reports"])
        return context


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


class ReportCreateView(FormInputProblemMixin, MapMixin, FormView):
    """The report form. Besides sending a report, its POST serves the steps that need no
    JavaScript: "Find" searches the gazetteer and lists the places found, "Use this place"
    puts the point there and lists the open reports already made nearby. Photos chosen
    before either step are kept (see `reports.photo_drafts`)."""

    template_name = "reports/report_form.html"
    form_class = ReportForm

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "services": active_services()}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        urls = {
            "search": reverse("places:search"),
            "reverse": reverse("places:reverse"),
            "nearby": reverse("reports:nearby"),
        }
        return super().get_context_data(form_urls=urls, **kwargs)

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
        kept = []
        for token in request.POST.getlist("kept_photos"):
            try:
                kept.append(draft_read(token)[0])
            except (signing.BadSignature, FileNotFoundError, KeyError, TypeError):
                continue
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
        try:
            service_id = int(values.get("service") or 0)
            lat, long = float(values["lat"]), float(values["long"])
        except (KeyError, TypeError, ValueError):
            return []
        if not service_id or not in_city_bounds(lat, long):
            return []
        return nearby_reports(service_id=service_id, lat=lat, long=long)

    def form_valid(self, form: ReportForm) -> HttpResponse:
        fields = form.service_kwargs()
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

    def form_invalid(self, form: ReportForm) -> HttpResponse:
        """Browsers cannot re-fill file inputs: good photos are kept on the server and come
        back as ticked boxes; only a photo that could not be kept must be attached again."""
        for handle in form.draft_files:
            handle.close()
        kept = [draft for draft, _ in form.cleaned_data.get("kept_photos", [])]
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
            markers=report_markers([report]),
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
        messages.success(request, "Thanks. We will email you when this report is updated.")
        return HttpResponseRedirect(self.object.get_absolute_url() + "#follow")


class ReportSupportView(ReportDetailView):
    """ "This is my problem too" (POST from the report page, or from the report form's
    script, which asks for JSON). Shares the follow form's rate limit."""

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
                thanks = "Thanks: your voice is added, and we will email you when it is updated."
                if wants_json:
                    return JsonResponse({"supporters": count, "message": thanks})
                messages.success(request, thanks)
                return HttpResponseRedirect(self.object.get_absolute_url() + "#support")
        if wants_json:
            return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
        return self.render_to_response(self.get_context_data(support_form=form), status=400)


@require_GET
def nearby_json(request: HttpRequest) -> JsonResponse:
    """Open reports of a category near a point, for the report form's script."""
    try:
        service_id = int(request.GET["service"])
        lat, long = float(request.GET["lat"]), float(request.GET["long"])
    except (KeyError, ValueError):
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


@method_decorator(csrf_exempt, name="dispatch")
class UnsubscribeView(View):
    """One-click unsubscribe from an email: GET asks, POST does it. No login: the token in
    the link is the key.

    CSRF-exempt because mail clients send RFC 8058 one-click POSTs (List-Unsubscribe-Post)
    without our cookie; a forged request would need the secret token anyway, and the only
    effect is to stop emails."""

    template_name = "reports/unsubscribe.html"

    def get_subscription(self, token: str) -> Subscription:
        return get_object_or_404(Subscription.objects.select_related("request"), token=token)

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        return self.respond(request, self.get_subscription(token), done=False)

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        subscription = subscription_cancel(subscription=self.get_subscription(token))
        return self.respond(request, subscription, done=True)

    def respond(
        self, request: HttpRequest, subscription: Subscription, *, done: bool
    ) -> HttpResponse:
        report = subscription.request
        return render(
            request,
            self.template_name,
            {
                "subscription": subscription,
                # A report hidden by moderation is not named or linked.
                "report": None if report.hidden else report,
                "done": done,
                "action": reverse("reports:unsubscribe", args=[subscription.token]),
            },
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
