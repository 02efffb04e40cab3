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
from django.db.models import Prefetch, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
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

from civic311.http_cache import public_page
from civic311.input import FormInputProblemMixin
from civic311.ratelimit import rate_limit
from departments.querysets import neighbourhood_at
from reports import rules
from reports.attributes import attribute_answers
from reports.forms import ReportForm, SubscriptionForm
from reports.forms_followup import CommentForm
from reports.models import (
    Photo,
    Service,
    ServiceAttribute,
    ServiceRequest,
    Subscription,
)
from reports.services.requests import report_create
from reports.services.subscriptions import subscription_cancel, subscription_create
from reports.tokens import preview_url

HOME_MAP_LIMIT = 300
PAGE_CACHE_SECONDS = 60
CITY_COUNTS_KEY = "city-counts"
CITY_COUNTS_SECONDS = 60
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
        recent = (
            public.with_location()
            .select_related("service")
            .only("pk", "lat", "long", "status", "state", "requested_datetime", "service__name")
        )
        return super().get_context_data(
            **city_counts(),
            latest=public.with_public_related()[:HOME_LATEST],
            markers=report_markers(recent[:HOME_MAP_LIMIT]),
            **kwargs,
        )


def active_services() -> QuerySet[Service]:
    values = Prefetch("values")
    return Service.objects.active().prefetch_related(
        Prefetch("attributes", ServiceAttribute.objects.prefetch_related(values))
    )


@method_decorator(rate_limit("report-form", setting="RATELIMIT_REPORT_FORM"), name="dispatch")
class ReportCreateView(FormInputProblemMixin, MapMixin, FormView):
    template_name = "reports/report_form.html"
    form_class = ReportForm

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "services": active_services()}

    def form_valid(self, form: ReportForm) -> HttpResponse:
        try:
            report = report_create(
                **form.service_kwargs(),
                source=ServiceRequest.Source.WEB,
                require_description=True,
                preview_minutes=settings.REPORT_PREVIEW_MINUTES,
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
            return self.form_invalid(form)
        messages.success(
            self.request,
            f"Thank you. Your report #{report.pk} has been sent to the city.",
        )
        if rules.in_preview(report, now=timezone.now()):
            return redirect(preview_url(report))
        return redirect(report)

    def form_invalid(self, form: ReportForm) -> HttpResponse:
        # Browsers cannot re-fill file inputs, so say so instead of losing photos silently.
        photos_lost = bool(self.request.FILES.getlist("photos"))
        return self.render_to_response(
            self.get_context_data(form=form, photos_lost=photos_lost), status=400
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
        return super().get_context_data(
            comments=report.comments.public().with_public_photos(),
            pending_photos=pending,
            pending_slots=range(pending),
            timeline=[
                {"update": u, "state_label": STATE_LABELS.get(u.state_to, "")}
                for u in report.public_updates
            ],
            answers=attribute_answers(report),
            overdue=rules.is_overdue(report, now=timezone.now()),
            markers=report_markers([report]),
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
        messages.success(request, "Thanks. We will email you when this report is updated.")
        return HttpResponseRedirect(self.object.get_absolute_url() + "#follow")


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
