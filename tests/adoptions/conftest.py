from __future__ import annotations

import importlib
from datetime import datetime

import factory
import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from accounts.services import profile_create
from adoptions.models import Asset, AssetType
from adoptions.services.adoptions import adoption_start
from tests.factories import CITY_CENTRE, UserFactory

CHECKLIST = ["Picked up litter", "Wiped the bench", "Cleaned the glass"]


class AssetTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AssetType
        django_get_or_create = ("slug",)

    name = "Bus shelter"
    slug = "bus-shelter"
    cadence_months = 1
    care_instructions = "Pick up litter and wipe the bench."
    checklist = factory.LazyFunction(lambda: list(CHECKLIST))
    icon = AssetType.Icon.BUS_SHELTER


class AssetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Asset

    asset_type = factory.SubFactory(AssetTypeFactory)
    external_id = factory.Sequence(lambda n: f"S{n:04d}")
    name = factory.Sequence(lambda n: f"Main St at {n}th Ave")
    lat = CITY_CENTRE[0]
    long = CITY_CENTRE[1]
    address = "100 Main Street"


@pytest.fixture
def asset_type(db) -> AssetType:
    """The bus shelter type (its migration makes it), with this file's checklist."""
    asset_type = AssetTypeFactory()
    asset_type.checklist, asset_type.care_instructions = list(CHECKLIST), "Pick up litter."
    asset_type.save()
    return asset_type


@pytest.fixture
def asset(asset_type) -> Asset:
    return AssetFactory(asset_type=asset_type)


def volunteer_with_profile(username: str, display_name: str):
    user = UserFactory(username=username, email=f"{username}.private@example.net")
    profile_create(user=user, display_name=display_name)
    return user


@pytest.fixture
def volunteer(db):
    return volunteer_with_profile("volunteer", "Maya R.")


@pytest.fixture
def other_volunteer(db):
    return volunteer_with_profile("other", "Jonas K.")


def local(year: int, month: int, day: int, hour: int = 9) -> datetime:
    return timezone.make_aware(datetime(year, month, day, hour))


@pytest.fixture
def adoption(asset, volunteer):
    return adoption_start(
        asset=asset, volunteer=volunteer, accept_terms=True, now=local(2026, 3, 1)
    )


@pytest.fixture
def adoption_staff_group(staff_group):
    """The staff group with the adoptions permissions, as the adoptions migration gives."""
    migration = importlib.import_module("adoptions.migrations.0002_bus_shelters_and_staff")
    return migration.sync_group(Group, Permission)
