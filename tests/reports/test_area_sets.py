"""Filters by area count every report inside the area, whatever other areas cross it (each
report keeps its set of areas: departments.AreaSet), and reports follow their areas when
one is drawn again or deleted."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from departments.models import AreaSet, Boundary
from reports.insights import hotspots, queries, rollups, staff
from reports.insights.filters import Filters
from reports.models import AreaChange, ServiceRequest
from reports.services.areas import relocate
from reports.services.requests import report_create
from tests.factories import BoundaryFactory, ServiceFactory, square

pytestmark = pytest.mark.django_db

# A district; a neighbourhood that crosses its east edge (-78.64); a greenway (a service
# area) crossing both.
DISTRICT = square(35.77, -78.66, 35.79, -78.64)
NEIGHBOURHOOD = square(35.775, -78.65, 35.785, -78.63)
GREENWAY = square(35.779, -78.665, 35.780, -78.635)
POINTS = {
    "district and neighbourhood": (35.777, -78.645),
    "neighbourhood only": (35.777, -78.635),
    "district and greenway": (35.7795, -78.655),
    "greenway and neighbourhood": (35.7795, -78.638),
}


@pytest.fixture
def areas() -> dict[str, Boundary]:
    return {
        "district": BoundaryFactory(name="South-West", kind="district", geometry=DISTRICT),
        "neighbourhood": BoundaryFactory(
            name="Boylan", kind="neighbourhood", geometry=NEIGHBOURHOOD
        ),
        "greenway": BoundaryFactory(name="Greenway", kind="service_area", geometry=GREENWAY),
    }


@pytest.fixture
def filed(areas, django_capture_on_commit_callbacks) -> dict[str, ServiceRequest]:
    service = ServiceFactory(service_code="pothole")
    return {
        name: report_create(service=service, description=name, lat=lat, long=long)
        for name, (lat, long) in POINTS.items()
    }


def found(area: Boundary) -> set[str]:
    return {r.description for r in ServiceRequest.objects.public().in_area(area.pk)}


def test_a_filter_by_area_finds_every_report_inside_it(areas, filed) -> None:
    assert found(areas["district"]) == {"district and neighbourhood", "district and greenway"}
    assert found(areas["neighbourhood"]) == {
        "district and neighbourhood",
        "neighbourhood only",
        "greenway and neighbourhood",
    }
    assert found(areas["greenway"]) == {"district and greenway", "greenway and neighbourhood"}
    # The smallest area is still what a report is shown in.
    assert filed["district and greenway"].area == areas["greenway"]
    assert filed["district and neighbourhood"].area == areas["neighbourhood"]


def test_the_export_and_the_dashboard_count_a_district_whole(client, areas, filed) -> None:
    district = areas["district"].pk
    response = client.get(f"/data/reports.csv?area={district}")
    rows = csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode()))
    assert sorted(r["description"] for r in rows) == [
        "district and greenway",
        "district and neighbourhood",
    ]
    now = timezone.now()
    filters = Filters(start=now - timedelta(days=30), end=now + timedelta(days=1))
    by_area = Filters(start=filters.start, end=filters.end, area=areas["district"])
    assert staff.period_totals(by_area)["received"] == 2
    assert sum(sum(values) for _, values in queries.weekly_by_category(by_area).series) == 2
    counts = {a.boundary.name: a.count for a in hotspots.neighbourhood_counts(filters)}
    assert counts == {"Boylan": 3}


def figures(filters: Filters) -> dict[str, Any]:
    return {
        "totals": staff.period_totals(filters),
        "weekly": queries.weekly_by_category(filters),
        "areas": [(a.boundary.pk, a.count) for a in hotspots.neighbourhood_counts(filters)],
    }


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the summary tables are PostgreSQL's")
def test_the_summaries_count_areas_as_the_reports_do(areas, filed, monkeypatch) -> None:
    now = timezone.now()
    for area in [None, *areas.values()]:
        filters = Filters(start=now - timedelta(days=30), end=now + timedelta(days=1), area=area)
        fast = figures(filters)
        with monkeypatch.context() as patch:
            patch.setattr(rollups, "usable", lambda: False)
            assert figures(filters) == fast


def test_reports_follow_an_area_redrawn_in_the_admin(
    admin_client, areas, filed, django_capture_on_commit_callbacks
):
    district = areas["district"]
    # Moved east by 0.02°: now it holds the neighbourhood's east half, not its west.
    moved = square(35.77, -78.64, 35.79, -78.62)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/admin/departments/boundary/{district.pk}/change/",
            {"name": district.name, "kind": district.kind, "geometry": json.dumps(moved)},
        )
    assert response.status_code == 302
    assert found(district) == {"neighbourhood only", "greenway and neighbourhood"}
    assert not AreaChange.objects.exists()  # done, and its records gone


def test_reports_leave_an_area_deleted_in_the_admin(
    admin_client, areas, filed, django_capture_on_commit_callbacks
):
    greenway = areas["greenway"]
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/admin/departments/boundary/{greenway.pk}/delete/", {"post": "yes"}
        )
    assert response.status_code == 302
    report = ServiceRequest.objects.get(pk=filed["district and greenway"].pk)
    assert report.area == areas["district"]  # the next smallest
    assert str(greenway.pk) not in report.area_set.key.split(",")
    assert found(areas["district"]) == {"district and neighbourhood", "district and greenway"}


def test_an_area_change_survives_a_lost_task(areas, filed, monkeypatch) -> None:
    """The change is recorded with the area, whoever wrote it; the beat sweep does the work
    later."""
    from reports.tasks import areas_relocate

    areas["district"].geometry = square(35.77, -78.64, 35.79, -78.62)
    areas["district"].clean()
    areas["district"].save()  # from the shell, say: the database records the change
    assert AreaChange.objects.filter(area_id=areas["district"].pk).exists()
    assert found(areas["district"]) == {"district and neighbourhood", "district and greenway"}
    assert areas_relocate() == 4  # each report moved in or out
    assert found(areas["district"]) == {"neighbourhood only", "greenway and neighbourhood"}
    assert not AreaChange.objects.exists()


def test_relocate_fills_the_sets_of_reports_filed_before_them(areas, filed) -> None:
    """What migration reports 0032 does for the reports already there."""
    ServiceRequest.objects.update(area_set=None, area=None)
    assert relocate(
        ServiceRequest.objects.all(), boundaries=Boundary.objects.all(), area_sets=AreaSet
    ) == len(POINTS)
    assert found(areas["district"]) == {"district and neighbourhood", "district and greenway"}
    assert (
        ServiceRequest.objects.get(pk=filed["neighbourhood only"].pk).area == areas["neighbourhood"]
    )


def test_the_admin_queue_filters_by_every_report_inside_an_area(admin_client, areas, filed):
    page = admin_client.get(
        f"/admin/reports/servicerequest/?area__id__exact={areas['district'].pk}"
    ).content.decode()
    shown = {name for name, report in filed.items() if f">#{report.pk}<" in page}
    assert shown == {"district and neighbourhood", "district and greenway"}


def test_a_rename_moves_nothing(areas, filed) -> None:
    recorded = AreaChange.objects.count()  # the areas' creation
    areas["district"].name = "South-West District"
    areas["district"].save()
    assert AreaChange.objects.count() == recorded


def test_a_report_filed_while_an_area_was_redrawn_is_located_by_the_next_sweep(areas, filed):
    """Routed with the area as it was, committed after the relocation ran: every sweep
    locates the reports of the last minutes again."""
    from reports.tasks import areas_relocate

    report = filed["district and greenway"]
    stale = AreaSet.objects.create(key=str(areas["district"].pk))
    ServiceRequest.objects.filter(pk=report.pk).update(area=areas["district"], area_set=stale)
    assert "district and greenway" not in found(areas["greenway"])
    assert areas_relocate() == 1
    assert "district and greenway" in found(areas["greenway"])
