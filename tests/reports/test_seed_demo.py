from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from departments.models import Boundary, Department, RoutingRule, StaffMembership
from places.models import AddressPoint, Street
from reports.models import Photo, RequestUpdate, Service, ServiceRequest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The demo runs on a laptop (DEBUG on); pytest-django turns DEBUG off, where seed_demo
    # refuses without --allow-production (tests/test_security.py covers that mode).
    settings.DEBUG = True


def test_seed_demo_builds_the_city_and_is_idempotent(capsys):
    call_command("seed_demo", reports=30, photos=0.3)
    out = capsys.readouterr().out
    assert "Logins (password for all: civic311-demo)" in out
    assert Department.objects.filter(name="Health Department").exists()
    syringe = Service.objects.get(service_code="found-syringe")
    assert syringe.department.name == "Health Department"
    assert syringe.attributes.filter(code="count", required=True).exists()
    assert Service.objects.count() >= 12
    assert Boundary.objects.filter(kind=Boundary.Kind.NEIGHBOURHOOD).count() >= 4
    assert RoutingRule.objects.filter(boundary__isnull=False).exists()
    assert StaffMembership.objects.filter(user__username="health").exists()
    reports = ServiceRequest.objects.count()
    assert 25 <= reports <= 40
    assert ServiceRequest.objects.filter(status="closed").exists()
    assert ServiceRequest.objects.filter(status="open").exists()
    assert Photo.objects.filter(state=Photo.State.PROCESSED).exists()
    assert not Photo.objects.exclude(state=Photo.State.PROCESSED).exists()
    # The gazetteer is filled, and reports near an address carry it.
    addresses = AddressPoint.objects.count()
    assert addresses > 1000 and Street.objects.filter(name="Fayetteville Street").exists()
    located = ServiceRequest.objects.exclude(address_id="")
    assert located.exists()
    assert all(AddressPoint.objects.filter(source_id=r.address_id).exists() for r in located)

    call_command("seed_demo", reports=30)
    assert AddressPoint.objects.count() == addresses
    assert ServiceRequest.objects.count() == reports
    assert Department.objects.filter(name="Health Department").count() == 1
    assert get_user_model().objects.filter(username="health").count() == 1


def test_seed_demo_dry_run_writes_nothing(capsys, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    call_command("seed_demo", reports=10, dry_run=True)
    assert "Dry run" in capsys.readouterr().out
    assert not Department.objects.exists()
    assert not ServiceRequest.objects.exists()
    # Not a file either: the volunteers' care photos were stored under MEDIA_ROOT for good.
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_seed_demo_reports_follow_the_report_rules(capsys):
    call_command("seed_demo", reports=150, photos=0)
    reports = list(ServiceRequest.objects.select_related("duplicate_of"))
    duplicates = [r for r in reports if r.state == ServiceRequest.State.DUPLICATE]
    assert duplicates
    for report in duplicates:
        assert report.duplicate_of.service_id == report.service_id
        assert report.duplicate_of.requested_datetime <= report.requested_datetime
        assert report.status_notes.startswith(
            f"Closed as a duplicate of report #{report.duplicate_of_id}."
        )
    for report in reports:
        assert (report.closed_datetime is not None) == (report.status == "closed")
        last = report.updates.filter(kind=RequestUpdate.Kind.STATE).last()
        if report.status == "closed":
            assert report.closed_datetime == last.created


@pytest.mark.parametrize("count", [60, 500])
def test_seed_demo_any_report_count_keeps_every_point_in_the_city(capsys, settings, count):
    """--reports 60 and --reports 500 drew a point past MAP_BOUNDS and stopped with a
    traceback; the point is drawn again instead."""
    call_command("seed_demo", reports=count, photos=0)

    south, west, north, east = settings.MAP_BOUNDS
    reports = ServiceRequest.objects.all()
    assert reports.count() >= count * 0.9
    assert not reports.exclude(lat__range=(south, north), long__range=(west, east)).exists()


def test_seed_demo_refuses_another_citys_bounds_with_a_message(capsys, settings):
    settings.MAP_BOUNDS = (51.2, -0.5, 51.7, 0.3)  # London: no Riverton point lies there

    with pytest.raises(CommandError, match="outside MAP_BOUNDS"):
        call_command("seed_demo", reports=10, photos=0)
    assert not ServiceRequest.objects.exists()


def test_seed_demo_citizen_signs_in_and_sees_their_reports(client, capsys):
    call_command("seed_demo", reports=60, photos=0)
    assert "citizen@example.net" in capsys.readouterr().out
    theirs = ServiceRequest.objects.filter(reporter_email="citizen@example.net")
    assert theirs.exists()

    response = client.post(
        "/accounts/login/", {"login": "citizen@example.net", "password": "civic311-demo"}
    )

    assert response.status_code == 302 and response["Location"] != "/accounts/confirm-email/"
    page = client.get("/account/")
    assert page.status_code == 200
    assert page.context["user"].username == "citizen"
    for report in theirs:
        assert f"/reports/{report.pk}/" in page.content.decode()
    # A citizen, not staff: the admin stays shut.
    assert not page.context["user"].is_staff
    assert client.get("/admin/").status_code == 302

    call_command("seed_demo", reports=60, photos=0)  # a re-run keeps one account
    assert get_user_model().objects.filter(email="citizen@example.net").count() == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [({"reports": -5}, "--reports must be 0 or more"),
     ({"photos": 2.0}, "--photos is a share from 0 to 1"),
     ({"photos": float("nan")}, "--photos is a share from 0 to 1")],
)  # fmt: skip
def test_seed_demo_refuses_counts_it_cannot_mean(options, message):
    """--reports -5 made the fixed demo reports without a word; --photos 2 or nan ran."""
    with pytest.raises(CommandError, match=message):
        call_command("seed_demo", **options)
    assert not Department.objects.exists() and not ServiceRequest.objects.exists()
