"""Reads: chainable queryset methods for assets, adoptions and care logs."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db import models
from django.db.models import Exists, OuterRef, Q

if TYPE_CHECKING:
    from adoptions.models import Adoption, Asset, CareLog  # noqa: F401


def _active_adoptions() -> models.QuerySet[Adoption]:
    """Adoptions not ended, of the asset in the outer query. The model is looked up in the
    app registry: models.py imports this module."""
    adoption: type[Adoption] = apps.get_model("adoptions", "Adoption")
    return adoption.objects.filter(asset=OuterRef("pk"), ended__isnull=True)


class AssetQuerySet(models.QuerySet["Asset"]):
    def active(self) -> AssetQuerySet:
        return self.filter(active=True, asset_type__active=True)

    def with_adoption_state(self) -> AssetQuerySet:
        """Annotate `adopted` (an active adoption exists), in the same query."""
        return self.annotate(adopted=Exists(_active_adoptions()))

    def available(self) -> AssetQuerySet:
        return self.exclude(Exists(_active_adoptions()))

    def adopted(self) -> AssetQuerySet:
        return self.filter(Exists(_active_adoptions()))

    def search(self, text: str) -> AssetQuerySet:
        """Name, address or id containing `text` (case-insensitive), or the number on the
        sign: a volunteer at a stop types "3014" for BS-3014, and a GTFS stop's sign shows
        its stop_code (kept in the attributes), not its stop_id."""
        text = text.strip()
        if not text:
            return self
        return self.filter(
            Q(name__icontains=text)
            | Q(address__icontains=text)
            | Q(external_id__icontains=text)
            | Q(attributes__stop_code__iexact=text)
        )

    def in_bbox(self, south: float, west: float, north: float, east: float) -> AssetQuerySet:
        return self.filter(lat__gte=south, lat__lte=north, long__gte=west, long__lte=east)


class AdoptionQuerySet(models.QuerySet["Adoption"]):
    def active(self) -> AdoptionQuerySet:
        return self.filter(ended__isnull=True)

    def of_volunteer(self, user: Any) -> AdoptionQuerySet:
        return self.filter(volunteer=user)

    def overdue(self, today: date) -> AdoptionQuerySet:
        """Active adoptions whose care visit was due before `today`."""
        return self.active().filter(due_on__lt=today)

    def lapsed_since(self, moment: datetime) -> AdoptionQuerySet:
        return self.filter(end_reason="lapsed", ended__gte=moment)

    def due_by(self, day: date) -> AdoptionQuerySet:
        """Active adoptions with a visit due on or before `day` (what reminders look at)."""
        return self.active().filter(due_on__lte=day)


class CareLogQuerySet(models.QuerySet["CareLog"]):
    def since(self, day: date) -> CareLogQuerySet:
        return self.filter(date__gte=day)

    def for_asset(self, asset: Asset) -> CareLogQuerySet:
        return self.filter(adoption__asset=asset)

    def pending_photos(self) -> CareLogQuerySet:
        return self.filter(photo_state="pending")
