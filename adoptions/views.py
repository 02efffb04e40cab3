"""Volunteers' pages: the adoption map and list, an asset's page with its actions, the
thanks page, and the reminders' one-click unsubscribe. Thin: fetch, validate a form, call a
service. A volunteer is shown by their display name, never their email."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import TemplateView

from adoptions import rules
from adoptions.forms import AdoptForm, CareLogForm, ReleaseForm
from adoptions.hooks import address_ids
from adoptions.models import Adoption, Asset, AssetType, CareLog
from adoptions.people import display_name, leaderboard_filter
from adoptions.services.adoptions import (
    adoption_release,
    adoption_resubscribe,
    adoption_start,
    adoption_unsubscribe,
)
from adoptions.services.care import care_log_add
from civic311.ratelimit import rate_limit
from reports.limits import MAX_TEXT
from reports.models import ServiceRequest
from reports.views import MapMixin

PAGE_SIZE = 40
MAP_LIMIT = 5000
HISTORY_LIMIT = 20
OPEN_REPORTS_LIMIT = 10
LEADERBOARD_DAYS = 90
LEADERBOARD_SIZE = 20


def asset_markers(assets: Any) -> list[dict[str, Any]]:
    """What the adoption map needs about each asset (public fields only)."""
    return [
        {
            "lat": a.lat,
            "long": a.long,
            "title": a.name,
            "id": a.external_id,
            "adopted": bool(getattr(a, "adopted", False)),
            "url": reverse("adoptions:asset", args=[a.asset_type.slug, a.external_id]),
        }
        for a in assets
    ]


class AssetMapView(MapMixin, TemplateView):
    """/adopt/: every adoptable asset on a map, and a searchable list that works without
    JavaScript (the map only enhances it)."""

    template_name = "adoptions/asset_map.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        query = self.request.GET.get("q", "").strip()[:100]
        show = self.request.GET.get("show", "")
        assets = Asset.objects.active().select_related("asset_type").with_adoption_state()
        listed = assets.search(query)
        if show == "available":
            listed = listed.available()
        elif show == "adopted":
            listed = listed.adopted()
        page = Paginator(listed.order_by("name", "pk"), PAGE_SIZE).get_page(
            self.request.GET.get("page")
        )
        everything = assets.only("lat", "long", "name", "external_id", "asset_type__slug").order_by(
            "pk"
        )[:MAP_LIMIT]
        keep = self.request.GET.copy()
        keep.pop("page", None)
        return super().get_context_data(
            page=page,
            query=query,
            show=show,
            filter_query=keep.urlencode(),
            markers=asset_markers(everything),
            counts=assets.aggregate(total=Count("pk")),
            adopted_count=Asset.objects.active().adopted().count(),
            **kwargs,
        )


def get_asset(type_slug: str, external_id: str) -> Asset:
    return get_object_or_404(
        Asset.objects.select_related("asset_type__service"),
        asset_type__slug=type_slug,
        external_id=external_id,
    )


def report_problem_url(asset: Asset) -> str:
    """The citizen report form with the asset's place, id and category filled in."""
    params = {
        "lat": asset.lat,
        "long": asset.long,
        "address": asset.address or asset.name,
        "address_id": address_ids(asset)[0],
    }
    if asset.asset_type.service_id:
        params["service"] = asset.asset_type.service_id
    return f"{reverse('reports:new')}?{urlencode(params)}"


class AssetDetailView(MapMixin, TemplateView):
    template_name = "adoptions/asset_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        asset = get_asset(self.kwargs["type_slug"], self.kwargs["external_id"])
        return super().get_context_data(**asset_context(self.request, asset), **kwargs)


def asset_context(request: HttpRequest, asset: Asset, **forms: Any) -> dict[str, Any]:
    active = Adoption.objects.active().filter(asset=asset)
    adoption = active.select_related("volunteer__profile").first()
    user = request.user
    mine = adoption is not None and user.is_authenticated and adoption.volunteer_id == user.pk
    today = timezone.localdate()
    history = (
        CareLog.objects.for_asset(asset)
        .select_related("volunteer__profile")
        .order_by("-date", "-pk")[:HISTORY_LIMIT]
    )
    reports = (
        ServiceRequest.objects.public()
        .open()
        .filter(address_id__in=address_ids(asset))
        .select_related("service")
        .order_by("-requested_datetime")[:OPEN_REPORTS_LIMIT]
    )
    asset_type: AssetType = asset.asset_type
    return {
        "asset": asset,
        "asset_type": asset_type,
        "adoption": adoption,
        # What adoption_start accepts: the asset is listed and its type offered for adoption.
        "adoptable": asset.active and asset_type.active,
        "adopter_name": display_name(adoption.volunteer) if adoption else "",
        "mine": mine,
        "missed": rules.missed_periods(
            started=timezone.localdate(adoption.started),
            last_cared_on=adoption.last_cared_on,
            today=today,
            cadence_months=asset_type.cadence_months,
            since=asset_type.cadence_since,
        )
        if adoption
        else 0,
        "history": [{"log": log, "who": display_name(log.volunteer)} for log in history],
        "open_reports": list(reports),
        "report_url": report_problem_url(asset),
        "adopt_form": forms.get("adopt_form") or AdoptForm(),
        "care_form": forms.get("care_form") or CareLogForm(asset_type=asset_type),
        # Its own prefix: the care form above it has a honeypot too, and ids are unique.
        "release_form": ReleaseForm(prefix="release"),
        "markers": [{**asset_markers([asset])[0], "adopted": adoption is not None}],
        "today": today,
        "login_url": f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': request.path})}",
    }


def _looks_after(request: HttpRequest, asset: Asset) -> bool:
    return Adoption.objects.active().filter(asset=asset, volunteer_id=request.user.pk).exists()


limited = method_decorator(
    rate_limit("adoption-form", setting="RATELIMIT_ADOPTION_FORM"), name="dispatch"
)
signed_in = method_decorator(login_required, name="dispatch")


class AssetActionView(View):
    """A POST about one asset; GET goes back to its page."""

    def asset(self) -> Asset:
        return get_asset(self.kwargs["type_slug"], self.kwargs["external_id"])

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        return HttpResponseRedirect(self.asset().get_absolute_url())

    def again(self, asset: Asset, **forms: Any) -> HttpResponse:
        """The asset's page again, with the form's errors (400)."""
        view = AssetDetailView()
        view.setup(self.request, **self.kwargs)
        context = view.get_context_data()
        context.update(forms)
        return render(self.request, AssetDetailView.template_name, context, status=400)


@limited
@signed_in
class AdoptView(AssetActionView):
    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        asset = self.asset()
        form = AdoptForm(request.POST)
        if form.is_valid():
            try:
                adoption_start(
                    asset=asset,
                    volunteer=request.user,
                    accept_terms=form.cleaned_data["accept_terms"],
                    nickname=form.cleaned_data["nickname"],
                )
            except ValidationError as exc:
                # A double tap on "Adopt" (or a resent form): the first adopted it, and the
                # second must not say "already adopted, choose another" to its adopter.
                if _looks_after(request, asset):
                    messages.info(request, f"You look after {asset.name}.")
                    return HttpResponseRedirect(asset.get_absolute_url())
                form.add_service_errors(exc)
        if not form.is_valid() or form.errors:
            return self.again(asset, adopt_form=form)
        messages.success(request, f"Thank you! You adopted {asset.name}.")
        return HttpResponseRedirect(asset.get_absolute_url())


@limited
@signed_in
class ReleaseView(AssetActionView):
    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        asset = self.asset()
        mine = Adoption.objects.filter(asset=asset, volunteer_id=request.user.pk)
        adoption = mine.active().first()
        if adoption is None:
            if not mine.exists():
                raise Http404("No adoption of yours")
            return self.ended(asset)
        form = ReleaseForm(request.POST, prefix="release")
        if not form.is_valid():
            return self.again(asset)
        try:
            adoption_release(adoption=adoption, volunteer=request.user)
        except ValidationError:
            return self.ended(asset)  # it ended (lapsed, staff) while this was being sent
        messages.success(request, f"You released {asset.name}. Thank you for your care.")
        return HttpResponseRedirect(asset.get_absolute_url())

    def ended(self, asset: Asset) -> HttpResponse:
        """A second tap on "Release" (or a page opened before the adoption ended): it is
        not theirs any more, which is what they asked; say so rather than "Not found"."""
        messages.info(request=self.request, message=f"You no longer look after {asset.name}.")
        return HttpResponseRedirect(asset.get_absolute_url())


@limited
@signed_in
class RemindersOnView(AssetActionView):
    """The adopter turns the reminders back on (the emails' link turned them off)."""

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        asset = self.asset()
        adoption = get_object_or_404(
            Adoption.objects.active(), asset=asset, volunteer_id=request.user.pk
        )
        adoption_resubscribe(adoption=adoption)
        messages.success(request, f"Reminders about {asset.name} are on again.")
        return HttpResponseRedirect(asset.get_absolute_url())


@limited
@signed_in
class CareLogView(AssetActionView):
    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        asset = self.asset()
        # Only the adopter's own active adoption: anyone else gets a 404, not a hint.
        mine = Adoption.objects.filter(asset=asset, volunteer_id=request.user.pk)
        adoption = mine.active().select_related("asset__asset_type").first()
        if adoption is None:
            ended = mine.order_by("-ended").first()
            if ended is None:
                raise Http404("No adoption of yours")
            return self.ended(asset, ended)
        form = CareLogForm(request.POST, request.FILES, asset_type=asset.asset_type)
        if form.is_valid():
            data = form.cleaned_data
            try:
                care_log_add(
                    adoption=adoption,
                    volunteer=request.user,
                    day=data["date"],
                    tasks=data["tasks"],
                    note=data["note"],
                    photo=data["photo"],
                )
            except ValidationError as exc:
                if "adoption" in exc.message_dict:  # it ended while this was being sent
                    return self.ended(asset, mine.order_by("-ended").first() or adoption)
                form.add_service_errors(exc)
        if form.errors:
            return self.again(asset, care_form=form)
        logged = "Care visit logged. Thank you!"
        if form.dropped_tasks:
            gone = ", ".join(f"“{task}”" for task in form.dropped_tasks)
            if len(form.dropped_tasks) == 1:
                logged += f" {gone} left the checklist while you were logging it and was not "
            else:
                logged += f" {gone} left the checklist while you were logging them and were not "
            logged += "recorded."
        messages.success(request, logged)
        return HttpResponseRedirect(asset.get_absolute_url() + "#history")

    def ended(self, asset: Asset, adoption: Adoption) -> HttpResponse:
        """The visit of a page opened before the adoption ended (it lapsed, staff ended it):
        say why nothing was logged and give the note back to copy, rather than a bare 404."""
        view = AssetDetailView()
        view.setup(self.request, **self.kwargs)
        context = view.get_context_data(
            ended_adoption=adoption, unsent_note=self.request.POST.get("note", "")[:MAX_TEXT]
        )
        return render(self.request, AssetDetailView.template_name, context, status=409)


class ThanksView(MapMixin, TemplateView):
    """Public thanks: who cared most in the last 90 days (only those who agreed to be
    listed), and the assets cared for this month."""

    template_name = "adoptions/thanks.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        today = timezone.localdate()
        since = today - timedelta(days=LEADERBOARD_DAYS - 1)  # today is one of the 90
        rows = list(
            CareLog.objects.since(since)
            .filter(leaderboard_filter())
            .values("volunteer")
            .annotate(visits=Count("pk"))
            .order_by("-visits", "volunteer")[:LEADERBOARD_SIZE]
        )
        users = (
            get_user_model()
            .objects.select_related("profile")
            .in_bulk([row["volunteer"] for row in rows])
        )
        board = [
            {"name": display_name(users.get(row["volunteer"])), "visits": row["visits"]}
            for row in rows
        ]
        month_start = today.replace(day=1)
        cared = (
            Asset.objects.filter(adoptions__care_logs__date__gte=month_start)
            .select_related("asset_type")
            .distinct()
            .order_by("pk")[:MAP_LIMIT]
        )
        cared_list = list(cared)
        for asset in cared_list:
            asset.adopted = True  # type: ignore[attr-defined]
        return super().get_context_data(
            board=board,
            since=since,
            month_start=month_start,
            cared_count=len(cared_list),
            cared=sorted(cared_list, key=lambda asset: (asset.name, asset.pk)),
            visits_this_month=CareLog.objects.since(month_start).count(),
            markers=asset_markers(cared_list),
            **kwargs,
        )


@method_decorator(csrf_exempt, name="dispatch")
class UnsubscribeView(View):
    """One-click unsubscribe from an adoption's reminders: GET asks, POST does it (RFC 8058
    mail clients POST without our cookie, hence CSRF-exempt; the token is the key)."""

    template_name = "adoptions/unsubscribe.html"

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        adoption = get_object_or_404(Adoption.objects.select_related("asset"), reminder_token=token)
        return self.respond(request, adoption, done=False)

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        adoption = get_object_or_404(Adoption.objects.select_related("asset"), reminder_token=token)
        return self.respond(request, adoption_unsubscribe(adoption=adoption), done=True)

    def respond(self, request: HttpRequest, adoption: Adoption, *, done: bool) -> HttpResponse:
        return render(
            request,
            self.template_name,
            {
                "adoption": adoption,
                "done": done or not adoption.reminders,
                "action": reverse("adoptions:unsubscribe", args=[adoption.reminder_token]),
            },
        )
