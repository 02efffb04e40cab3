"""How much of the programme is covered: by asset type and by area (departments' boundaries):
active assets, adopted (and %), overdue adoptions, adoptions lapsed this month.

Counts by type are one grouped query each; areas need the point-in-polygon test, done with
shapely over the active assets' points (one query), with each boundary's bounding box first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Count, Q
from shapely import prepared
from shapely.geometry import Point

from adoptions.models import Adoption, Asset, AssetType
from departments.models import Boundary


@dataclass
class Coverage:
    name: str
    assets: int = 0
    adopted: int = 0
    overdue: int = 0
    lapsed: int = 0

    @property
    def percent(self) -> float:
        return round(100 * self.adopted / self.assets, 1) if self.assets else 0.0


def coverage_by_type(*, today: date, month_start: datetime) -> list[Coverage]:
    types = AssetType.objects.annotate(
        n_assets=Count("assets", filter=Q(assets__active=True), distinct=True),
    ).order_by("name")
    adoptions = Adoption.objects.values("asset__asset_type").annotate(
        adopted=Count("pk", filter=Q(ended__isnull=True, asset__active=True)),
        overdue=Count("pk", filter=Q(ended__isnull=True, asset__active=True, due_on__lt=today)),
        lapsed=Count("pk", filter=Q(end_reason="lapsed", ended__gte=month_start)),
    )
    by_type: dict[int, Any] = {row["asset__asset_type"]: row for row in adoptions}
    rows = []
    for asset_type in types:
        counts = by_type.get(asset_type.pk, {})
        rows.append(
            Coverage(
                name=asset_type.name,
                assets=asset_type.n_assets,
                adopted=counts.get("adopted", 0),
                overdue=counts.get("overdue", 0),
                lapsed=counts.get("lapsed", 0),
            )
        )
    return rows


def coverage_by_area(*, today: date, month_start: datetime) -> list[Coverage]:
    points = list(Asset.objects.filter(active=True).values_list("pk", "lat", "long"))
    adopted = set(Adoption.objects.active().values_list("asset_id", flat=True))
    overdue = set(Adoption.objects.overdue(today).values_list("asset_id", flat=True))
    lapsed = list(
        Adoption.objects.lapsed_since(month_start).values_list("asset__lat", "asset__long")
    )
    rows = []
    for boundary in Boundary.objects.order_by("kind", "name"):
        shape = prepared.prep(boundary.shape)

        def inside(lat: float, long: float, b: Boundary = boundary, s: object = shape) -> bool:
            return (
                b.min_lat <= lat <= b.max_lat
                and b.min_long <= long <= b.max_long
                and s.contains(Point(long, lat))  # type: ignore[attr-defined]
            )

        row = Coverage(name=str(boundary))
        for pk, lat, long in points:
            if inside(lat, long):
                row.assets += 1
                row.adopted += pk in adopted
                row.overdue += pk in overdue
        row.lapsed = sum(inside(lat, long) for lat, long in lapsed)
        if row.assets or row.lapsed:
            rows.append(row)
    return rows
