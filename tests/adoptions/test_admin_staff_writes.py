"""Staff changes in the admin that go through the write services: taking an asset out of
service by hand (as an import does)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from adoptions.models import Asset

pytestmark = pytest.mark.django_db


def post_asset(client, asset: Asset, *, active: bool):
    url = reverse("admin:adoptions_asset_change", args=[asset.pk])
    data = {"asset_type": asset.asset_type_id, "external_id": asset.external_id}
    data |= {"name": asset.name, "lat": asset.lat, "long": asset.long, "attributes": "{}"}
    if active:
        data["active"] = "on"
    return client.post(url, data)


def test_unticking_active_flags_an_adopted_asset_as_an_import_does(client, superuser, adoption):
    # Unticked by hand, an adopted asset left the map with no flag and no deactivation
    # date: staff never saw it among the flagged ones and the volunteer was never told.
    client.force_login(superuser)
    asset = adoption.asset
    assert post_asset(client, asset, active=False).status_code == 302
    asset.refresh_from_db()
    assert not asset.active and asset.deactivated_at is not None and asset.flagged_for_staff
    adoption.refresh_from_db()
    assert adoption.is_active  # kept, as after an import: staff decide what to tell
    # Ticked again, it comes back as an import's comeback: nothing left to sort out.
    assert post_asset(client, asset, active=True).status_code == 302
    asset.refresh_from_db()
    assert asset.active and asset.deactivated_at is None and not asset.flagged_for_staff


def test_unticking_active_on_an_available_asset_does_not_flag_it(client, superuser, asset):
    client.force_login(superuser)
    assert post_asset(client, asset, active=False).status_code == 302
    asset.refresh_from_db()
    assert not asset.active and asset.deactivated_at is not None
    assert not asset.flagged_for_staff
