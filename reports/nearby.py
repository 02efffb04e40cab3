"""Open reports near a point, for "already reported nearby" on the report form: same
category, within NEARBY_METRES, made in the last NEARBY_DAYS days, nearest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format

from civic311.geo import bbox_around, distance_metres
from reports.models import ServiceRequest

NEARBY_SHOWN = 5
# Enough candidates from the bounding box for the exact distance to pick from.
CANDIDATES = 50


@dataclass(frozen=True)
class Nearby:
    report: ServiceRequest
    metres: float

    def as_json(self) -> dict[str, Any]:
        report = self.report
        photo = report.public_photos[0] if report.public_photos else None
        return {
            "id": report.pk,
            "title": report.service.name,
            "description": report.public_description[:140],
            "state": report.get_state_display(),
            "date": date_format(timezone.localtime(report.requested_datetime), "M j, Y"),
            "url": report.get_absolute_url(),
            "thumbnail": photo.thumbnail.url if photo else None,
            "supporters": report.supporters,
            "metres": round(self.metres),
            "support_url": reverse("reports:support", args=[report.pk]),
        }


def nearby_reports(
    *, service_id: int, lat: float, long: float, now: datetime | None = None
) -> list[Nearby]:
    metres = settings.NEARBY_METRES
    since = (now or timezone.now()) - timedelta(days=settings.NEARBY_DAYS)
    candidates = (
        ServiceRequest.objects.public()
        .open()
        .filter(service_id=service_id, requested_datetime__gte=since)
        .in_bbox(*bbox_around(lat, long, metres))
        .with_public_related()[:CANDIDATES]
    )
    found = []
    for report in candidates:
        if report.lat is None or report.long is None:
            continue
        distance = distance_metres(lat, long, report.lat, report.long)
        if distance <= metres:
            found.append(Nearby(report, distance))
    found.sort(key=lambda n: n.metres)
    return found[:NEARBY_SHOWN]
