"""Staff changes in the admin that go through the write services: taking an asset out of
service by hand (as an import does) and deleting care visits (the due dates follow)."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from adoptions.models import Adoption, Asset, CareLog
from adoptions.services.care import care_log_add
from tests.adoptions.conftest import local
from tests.factories import image_upload

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


@pytest.fixture
def two_visits(adoption, volunteer):
    """Visits on April 1st and 15th: next due May 15th."""
    logs = [
        care_log_add(adoption=adoption, volunteer=volunteer, day=day, now=local(2026, 5, 1))
        for day in (date(2026, 4, 1), date(2026, 4, 15))
    ]
    adoption.refresh_from_db()
    assert (adoption.last_cared_on, adoption.due_on) == (date(2026, 4, 15), date(2026, 5, 15))
    return logs


def test_deleting_a_care_visit_moves_the_due_date_back(client, superuser, adoption, two_visits):
    # The due date stayed counted from the deleted visit: no reminder, no overdue, no lapse.
    client.force_login(superuser)
    url = reverse("admin:adoptions_carelog_delete", args=[two_visits[1].pk])
    assert client.post(url, {"post": "yes"}).status_code == 302
    adoption.refresh_from_db()
    assert adoption.care_logs.count() == 1
    assert (adoption.last_cared_on, adoption.due_on) == (date(2026, 4, 1), date(2026, 5, 1))


def test_deleting_all_care_visits_counts_from_the_adoption(client, superuser, adoption, two_visits):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:adoptions_carelog_changelist"),
        {"action": "delete_selected", "_selected_action": [log.pk for log in two_visits],
         "post": "yes"},
    )  # fmt: skip
    assert response.status_code == 302
    adoption.refresh_from_db()
    assert not adoption.care_logs.exists()
    assert (adoption.last_cared_on, adoption.due_on) == (None, date(2026, 4, 1))
    overdue = Adoption.objects.filter(ended__isnull=True, due_on__lt=date(2026, 5, 2))
    assert list(overdue) == [adoption]


def test_deleting_a_care_visit_deletes_its_photo_files(
    client, superuser, adoption, volunteer, django_capture_on_commit_callbacks
):
    # Deleted, a visit's photo was still served at its address and its original kept.
    with django_capture_on_commit_callbacks(execute=True):
        log = care_log_add(adoption=adoption, volunteer=volunteer, day=date(2026, 4, 1),
                           photo=image_upload(), now=local(2026, 5, 1))  # fmt: skip
    log.refresh_from_db()
    files = [log.original, log.image, log.thumbnail]
    assert log.photo_public and all(f.storage.exists(f.name) for f in files)
    client.force_login(superuser)
    url = reverse("admin:adoptions_carelog_delete", args=[log.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"post": "yes"}).status_code == 302
    assert not CareLog.objects.exists()
    assert not any(f.storage.exists(f.name) for f in files)
