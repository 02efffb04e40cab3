"""Atom feeds (Django's syndication framework): new reports overall, per category and per
area, and one report's public updates. Public reads only; a hidden report has no feed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape

from departments.models import Boundary
from reports.api.renderers import xml_characters
from reports.insights.filters import area_condition
from reports.models import RequestUpdate, Service, ServiceRequest

ITEMS = 50
STATES = dict(ServiceRequest.State.choices)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return xml_characters(value)
    if isinstance(value, list | tuple):
        return [_clean(part) for part in value]
    return value


class CleanAtom1Feed(Atom1Feed):
    """Atom without the characters XML 1.0 cannot carry: a citizen's report or a staff
    note may hold them (nothing removes them as they are written), and Django's feed
    writer refuses them, which made the whole feed a 500 for everyone while it held one."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*_clean(list(args)), **{k: _clean(v) for k, v in kwargs.items()})

    def add_item(self, *args: Any, **kwargs: Any) -> None:
        super().add_item(*_clean(list(args)), **{k: _clean(v) for k, v in kwargs.items()})


def _reports() -> QuerySet[ServiceRequest]:
    return (
        ServiceRequest.objects.public()
        .select_related("service", "department")
        .only(
            "pk",
            "description",
            "description_redacted",
            "address",
            "requested_datetime",
            "published_at",
            "updated_datetime",
            "state",
            "service__name",
            "department__name",
        )
        # Newest public first: a report its reporter held back (up to 110 minutes) enters
        # the feed when it is public, not below the reports sent while it waited.
        .order_by("-published_at", "-pk")
    )


class CityFeed(Feed):
    """The city's feeds: Atom, written by the city (Atom asks every feed for an author),
    with citizens' and staff's text as text. Django's Atom writer marks a summary as HTML,
    which a reader renders: the text goes in escaped, so that a description holding
    `<a href=…>` or `<img src=…>` shows as typed rather than as a link or a tracking image
    in everyone's reader."""

    feed_type = CleanAtom1Feed

    def author_name(self, obj: object = None) -> str:
        return f"{settings.CITY_NAME} 311"


class ReportsFeed(CityFeed):
    """New reports in the whole city."""

    def title(self, obj: object = None) -> str:
        return f"New reports to {settings.CITY_NAME} 311"

    def link(self, obj: object = None) -> str:
        return reverse("reports:list")

    def subtitle(self, obj: object = None) -> str:
        return "The newest public reports; reporters' details are never published."

    def items(self, obj: object = None) -> QuerySet[ServiceRequest]:
        return _reports()[:ITEMS]

    def item_title(self, item: ServiceRequest) -> str:
        return f"{item.service.name} #{item.pk}"

    def item_description(self, item: ServiceRequest) -> str:
        where = f" — {item.address}" if item.address else ""
        return escape(f"{item.public_description}{where} ({item.get_state_display()})")

    def item_link(self, item: ServiceRequest) -> str:
        return item.get_absolute_url()

    def item_pubdate(self, item: ServiceRequest) -> datetime:
        return item.published_at  # when the public could first see it

    def item_updateddate(self, item: ServiceRequest) -> datetime:
        return item.updated_datetime

    def item_categories(self, item: ServiceRequest) -> list[str]:
        return [item.service.name]


class CategoryFeed(ReportsFeed):
    def get_object(self, request: HttpRequest, service_code: str) -> Service:
        return get_object_or_404(Service, service_code=service_code)

    def title(self, obj: Service) -> str:  # type: ignore[override]
        return f"New {obj.name} reports to {settings.CITY_NAME} 311"

    def link(self, obj: Service) -> str:  # type: ignore[override]
        return reverse("insights:dashboard") + f"?service={obj.service_code}"

    def items(self, obj: Service) -> QuerySet[ServiceRequest]:  # type: ignore[override]
        return _reports().filter(service_id=obj.pk)[:ITEMS]


class AreaFeed(ReportsFeed):
    def get_object(self, request: HttpRequest, pk: int) -> Boundary:
        return get_object_or_404(Boundary, pk=pk)

    def title(self, obj: Boundary) -> str:  # type: ignore[override]
        return f"New reports in {obj.name}"

    def link(self, obj: Boundary) -> str:  # type: ignore[override]
        return reverse("insights:map-reports") + f"?area={obj.pk}"

    def items(self, obj: Boundary) -> QuerySet[ServiceRequest]:  # type: ignore[override]
        return _reports().filter(area_condition(obj))[:ITEMS]


class ReportUpdatesFeed(CityFeed):
    """One report's public timeline, newest first."""

    def get_object(self, request: HttpRequest, pk: int) -> ServiceRequest:
        return get_object_or_404(
            ServiceRequest.objects.public().select_related("service").with_public_timeline(),
            pk=pk,
        )

    def title(self, obj: ServiceRequest) -> str:
        return f"Updates on {obj.service.name} #{obj.pk}"

    def link(self, obj: ServiceRequest) -> str:
        return obj.get_absolute_url()

    def items(self, obj: ServiceRequest) -> list[RequestUpdate]:
        updates: list[RequestUpdate] = getattr(obj, "public_updates", [])
        return list(reversed(updates))[:ITEMS]

    def item_title(self, item: RequestUpdate) -> str:
        title = item.get_kind_display()
        if item.state_to:
            title += f": {STATES.get(item.state_to, item.state_to)}"
        return title

    def item_description(self, item: RequestUpdate) -> str:
        return escape(item.text)

    def item_updateddate(self, item: RequestUpdate) -> datetime:
        return item.created  # an update is not edited: Atom asks each entry for its time

    def item_link(self, item: RequestUpdate) -> str:
        return reverse("reports:detail", args=[item.request_id]) + f"#update-{item.pk}"

    def item_pubdate(self, item: RequestUpdate) -> datetime:
        return item.created
