"""Rules of the programme that cross its parts: a re-import's comeback and its flag, the coverage
tables agreeing, the leaderboard's window, and reports about assets that share an id."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone

from accounts.services import account_delete
from adoptions.coverage import coverage_by_area, coverage_by_type
from adoptions.importer import read_assets
from adoptions.models import Asset, AssetType
from adoptions.services.adoptions import adoption_start
from adoptions.services.assets import assets_import
from adoptions.services.care import care_log_add
from reports.locators import address_page
from tests.adoptions.conftest import AssetFactory, local
from tests.factories import BoundaryFactory, ServiceRequestFactory, square

pytestmark = pytest.mark.django_db

BOTH = b"id,name,lat,long\nS1,One,35.780,-78.640\nS2,Two,35.781,-78.641\n"
ONLY_S2 = b"id,name,lat,long\nS2,Two,35.781,-78.641\n"


def test_an_adopted_asset_back_in_the_file_is_no_longer_flagged(asset_type, volunteer):
    assets_import(asset_type=asset_type, parsed=read_assets(BOTH, fmt="csv"))
    s1 = Asset.objects.get(external_id="S1")
    adoption_start(asset=s1, volunteer=volunteer, accept_terms=True)
    assets_import(asset_type=asset_type, parsed=read_assets(ONLY_S2, fmt="csv"))
    s1.refresh_from_db()
    assert not s1.active and s1.flagged_for_staff  # staff decide about the adoption
    assets_import(asset_type=asset_type, parsed=read_assets(BOTH, fmt="csv"))
    s1.refresh_from_db()
    assert s1.active and not s1.flagged_for_staff  # nothing left to decide


def test_deleting_the_account_of_a_removed_assets_adopter_clears_its_flag(asset, volunteer):
    adoption_start(asset=asset, volunteer=volunteer, accept_terms=True, now=local(2026, 3, 1))
    Asset.objects.filter(pk=asset.pk).update(active=False, flagged_for_staff=True)  # left the file
    account_delete(user=volunteer)
    asset.refresh_from_db()
    assert not asset.flagged_for_staff  # its adoption ended: nothing left for staff to decide


def test_coverage_by_type_and_by_area_count_the_same_assets(asset_type, volunteer):
    BoundaryFactory(name="Everywhere", geometry=square(35.0, -79.0, 36.0, -78.0))
    gone = AssetFactory(asset_type=asset_type, lat=35.78, long=-78.64)
    AssetFactory(asset_type=asset_type, lat=35.78, long=-78.64)
    adoption_start(asset=gone, volunteer=volunteer, accept_terms=True, now=local(2026, 3, 1))
    Asset.objects.filter(pk=gone.pk).update(active=False, flagged_for_staff=True)  # left the file
    today, month = date(2026, 5, 1), local(2026, 5, 1, 0)
    (by_type,) = [c for c in coverage_by_type(today=today, month_start=month)]
    (by_area,) = coverage_by_area(today=today, month_start=month)
    assert (by_type.assets, by_type.adopted, by_type.overdue) == (1, 0, 0)
    assert (by_area.assets, by_area.adopted, by_area.overdue) == (1, 0, 0)


def test_the_leaderboard_counts_the_last_90_days_today_included(client, asset_type, volunteer):
    adoption = adoption_start(
        asset=AssetFactory(asset_type=asset_type), volunteer=volunteer, accept_terms=True,
        now=timezone.now() - timedelta(days=200),
    )  # fmt: skip
    today = timezone.localdate()
    care_log_add(adoption=adoption, volunteer=volunteer, day=today - timedelta(days=90))
    assert client.get("/adopt/thanks/").context["board"] == []  # the 91st day back
    care_log_add(adoption=adoption, volunteer=volunteer, day=today - timedelta(days=89))
    assert len(client.get("/adopt/thanks/").context["board"]) == 1


def test_reports_about_assets_of_two_types_that_share_an_id(client, asset_type):
    benches = AssetType.objects.create(name="Bench", slug="bench", cadence_months=1)
    shelter = AssetFactory(asset_type=asset_type, external_id="S1", name="Shelter S1")
    bench = AssetFactory(asset_type=benches, external_id="S1", name="Bench S1")
    link = client.get(bench.get_absolute_url()).context["report_url"]
    address_id = parse_qs(urlparse(link).query)["address_id"][0]
    assert address_id == "bench:S1"  # a bare S1 would name neither
    assert address_page(address_id)[1] == bench.get_absolute_url()
    ServiceRequestFactory(address_id=address_id, description="The bench is broken")
    assert client.get(shelter.get_absolute_url()).context["open_reports"] == []
    (listed,) = client.get(bench.get_absolute_url()).context["open_reports"]
    assert listed.description == "The bench is broken"
    # One of its own id only: the bare id, and reports filed either way are listed.
    lone = AssetFactory(asset_type=asset_type, external_id="S9", name="Shelter S9")
    ServiceRequestFactory(address_id=f"{asset_type.slug}:S9", description="By its full id")
    ServiceRequestFactory(address_id="S9", description="By its id")
    page = client.get(lone.get_absolute_url()).context
    assert parse_qs(urlparse(page["report_url"]).query)["address_id"] == ["S9"]
    assert {r.description for r in page["open_reports"]} == {"By its full id", "By its id"}
