"""Adopting, releasing, ending, logging care: the rules, the limit, who may, and privacy."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.services import account_delete, former_staff_account
from adoptions.models import Adoption, AssetType, CareLog
from adoptions.services.adoptions import adoption_end, adoption_release, adoption_start
from adoptions.services.care import care_log_add, care_photo_hide
from reports.models import OutboxMessage
from tests.adoptions.conftest import CHECKLIST, AssetFactory, local
from tests.factories import UserFactory, image_upload

pytestmark = pytest.mark.django_db


def test_adopting_sets_the_first_due_date_and_emails_the_volunteer(asset, volunteer):
    adoption = adoption_start(
        asset=asset, volunteer=volunteer, accept_terms=True, nickname=" Our  stop ",
        now=local(2026, 3, 1),
    )  # fmt: skip
    assert adoption.is_active and adoption.nickname == "Our stop"
    assert adoption.due_on == date(2026, 4, 1)  # a calendar month
    message = OutboxMessage.objects.get(kind="adoption-adopted")
    assert message.to == volunteer.email and asset.name in message.subject


def test_terms_must_be_accepted(asset, volunteer):
    with pytest.raises(ValidationError) as error:
        adoption_start(asset=asset, volunteer=volunteer, accept_terms=False)
    assert "accept_terms" in error.value.message_dict
    assert not Adoption.objects.exists()


def test_an_adopted_asset_cannot_be_adopted_again(adoption, other_volunteer):
    with pytest.raises(ValidationError, match="already adopted"):
        adoption_start(asset=adoption.asset, volunteer=other_volunteer, accept_terms=True)
    assert Adoption.objects.active().count() == 1


def test_the_constraint_refuses_a_second_active_adoption(adoption, other_volunteer):
    """Even past the service's check (as a racing transaction would be)."""
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Adoption.objects.create(
            asset=adoption.asset, volunteer=other_volunteer, started=adoption.started,
            terms_accepted_at=adoption.started, due_on=adoption.due_on,
        )  # fmt: skip


def test_per_volunteer_limit(settings, asset_type, volunteer):
    settings.ADOPTION_LIMIT_PER_VOLUNTEER = 2
    for _ in range(2):
        adoption_start(asset=AssetFactory(asset_type=asset_type), volunteer=volunteer,
                       accept_terms=True)  # fmt: skip
    with pytest.raises(ValidationError, match="the most one person may"):
        adoption_start(asset=AssetFactory(asset_type=asset_type), volunteer=volunteer,
                       accept_terms=True)  # fmt: skip
    assert Adoption.objects.active().of_volunteer(volunteer).count() == 2


def test_inactive_asset_cannot_be_adopted(asset, volunteer):
    asset.active = False
    asset.save()
    with pytest.raises(ValidationError, match="no longer offered"):
        adoption_start(asset=asset, volunteer=volunteer, accept_terms=True)


def test_release_only_by_the_adopter_and_the_asset_is_available_again(
    adoption, volunteer, other_volunteer
):
    with pytest.raises(ValidationError, match="Only the volunteer"):
        adoption_release(adoption=adoption, volunteer=other_volunteer)
    adoption_release(adoption=adoption, volunteer=volunteer)
    adoption.refresh_from_db()
    assert adoption.end_reason == "released" and adoption.ended is not None
    again = adoption_start(asset=adoption.asset, volunteer=other_volunteer, accept_terms=True)
    assert again.is_active


def test_staff_end_needs_a_reason_and_tells_the_volunteer(adoption, superuser):
    with pytest.raises(ValidationError, match="Say why"):
        adoption_end(adoption=adoption, reason="staff", by=superuser)
    adoption_end(adoption=adoption, reason="staff", by=superuser, note="Shelter is being rebuilt.")
    adoption.refresh_from_db()
    assert (adoption.end_reason, adoption.ended_by) == ("staff", superuser)
    message = OutboxMessage.objects.get(kind="adoption-staff")
    assert "Shelter is being rebuilt." in message.body
    with pytest.raises(ValidationError, match="already ended"):
        adoption_end(adoption=adoption, reason="staff", by=superuser, note="Again")


def test_care_log_moves_the_due_date(adoption, volunteer):
    log = care_log_add(
        adoption=adoption, volunteer=volunteer, day=date(2026, 3, 20),
        tasks=[CHECKLIST[2], CHECKLIST[0]], note="All clean.", now=local(2026, 3, 21),
    )  # fmt: skip
    adoption.refresh_from_db()
    assert adoption.last_cared_on == date(2026, 3, 20) and adoption.due_on == date(2026, 4, 20)
    assert log.tasks == [CHECKLIST[0], CHECKLIST[2]]  # checklist order
    # An older visit logged late does not pull the due date back.
    care_log_add(adoption=adoption, volunteer=volunteer, day=date(2026, 3, 5),
                 now=local(2026, 3, 22))  # fmt: skip
    adoption.refresh_from_db()
    assert adoption.due_on == date(2026, 4, 20)


@pytest.mark.parametrize(
    ("day", "message"),
    [(date(2026, 3, 10), "cannot be in the future"), (date(2026, 2, 27), "before the adoption")],
)
def test_care_log_date_rules(adoption, volunteer, day, message):
    with pytest.raises(ValidationError, match=message):
        care_log_add(adoption=adoption, volunteer=volunteer, day=day, now=local(2026, 3, 9))
    assert not CareLog.objects.exists()


def test_care_log_tasks_must_come_from_the_checklist(adoption, volunteer):
    with pytest.raises(ValidationError, match="Not on the checklist: Painted it"):
        care_log_add(adoption=adoption, volunteer=volunteer, day=date(2026, 3, 2),
                     tasks=["Painted it"], now=local(2026, 3, 3))  # fmt: skip


def test_only_the_adopter_logs_care(adoption, other_volunteer):
    with pytest.raises(ValidationError, match="Only the volunteer"):
        care_log_add(adoption=adoption, volunteer=other_volunteer, day=date(2026, 3, 2),
                     now=local(2026, 3, 3))  # fmt: skip
    assert not CareLog.objects.exists()


def test_no_care_on_an_ended_adoption(adoption, volunteer):
    adoption_release(adoption=adoption, volunteer=volunteer, now=local(2026, 3, 5))
    with pytest.raises(ValidationError, match="has ended"):
        care_log_add(adoption=adoption, volunteer=volunteer, day=date(2026, 3, 2),
                     now=local(2026, 3, 6))  # fmt: skip


def gps_jpeg() -> SimpleUploadedFile:
    exif = Image.Exif()
    exif[0x010E] = "secret description"
    exif[0x8825] = {2: (35.0, 46.0, 0.0)}  # GPSLatitude
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), "teal").save(buffer, "JPEG", exif=exif)
    return SimpleUploadedFile("shelter.jpg", buffer.getvalue(), content_type="image/jpeg")


def test_care_photo_goes_through_the_pipeline_without_exif(
    adoption, volunteer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        log = care_log_add(adoption=adoption, volunteer=volunteer, day=date(2026, 3, 2),
                           photo=gps_jpeg(), now=local(2026, 3, 3))  # fmt: skip
    log.refresh_from_db()  # processed after the commit
    assert log.photo_state == "processed" and log.photo_public
    assert log.image.name.startswith("photos/") and log.thumbnail.name.startswith("thumbnails/")
    with log.image.open("rb") as handle, Image.open(handle) as image:
        assert not image.getexif() and "exif" not in image.info
    with django_capture_on_commit_callbacks(execute=True):
        care_photo_hide(log=log)
    log.refresh_from_db()
    assert log.image.name.startswith("hidden/") and not log.photo_public


def test_a_broken_photo_is_refused(adoption, volunteer):
    bad = SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg")
    with pytest.raises(ValidationError) as error:
        care_log_add(adoption=adoption, volunteer=volunteer, day=date(2026, 3, 2), photo=bad,
                     now=local(2026, 3, 3))  # fmt: skip
    assert "photo" in error.value.message_dict and not CareLog.objects.exists()


def test_account_deletion_ends_adoptions_and_keeps_anonymous_care_logs(adoption, volunteer):
    care_log_add(adoption=adoption, volunteer=volunteer, day=date(2026, 3, 2),
                 photo=image_upload(), now=local(2026, 3, 3))  # fmt: skip
    account_delete(user=volunteer)
    adoption.refresh_from_db()
    assert adoption.end_reason == "account_deleted" and adoption.volunteer is None
    log = CareLog.objects.get()
    assert log.volunteer is None and log.adoption == adoption


def test_an_adoption_ended_by_former_staff_stays_ended_by_former_staff(adoption):
    clerk = UserFactory(username="shelters-clerk", is_staff=True)
    adoption_end(adoption=adoption, reason="staff", by=clerk, note="Shelter removed.")
    clerk.is_staff = False
    clerk.save(update_fields=["is_staff"])
    account_delete(user=clerk)
    adoption.refresh_from_db()
    assert adoption.ended_by == former_staff_account()


def test_the_sweep_processes_photos_whose_task_was_lost(adoption, volunteer):
    from datetime import timedelta

    from django.utils import timezone

    from adoptions.tasks import care_photos_process_pending

    # Outside captured on-commit callbacks the queued task never runs: like a broker outage.
    log = care_log_add(adoption=adoption, volunteer=volunteer, day=date(2026, 3, 2),
                       photo=image_upload(), now=local(2026, 3, 3))  # fmt: skip
    assert CareLog.objects.get().photo_state == "pending"
    CareLog.objects.filter(pk=log.pk).update(created=timezone.now() - timedelta(minutes=5))
    assert care_photos_process_pending() == 1
    assert CareLog.objects.get().photo_public


def test_a_visit_logged_while_the_cadence_changes_is_due_by_the_new_cadence(adoption, volunteer):
    """The visit's page read the asset type before staff saved a new cadence (the admin's
    reschedule then waited for nothing: the visit was not in yet): the due date the visit
    stores follows the cadence in force when it is written, as the reminders do."""
    adoption = Adoption.objects.select_related("asset__asset_type").get(pk=adoption.pk)
    AssetType.objects.filter(pk=adoption.asset.asset_type_id).update(cadence_months=3)
    care_log_add(adoption=adoption, volunteer=volunteer, day=date(2026, 3, 20),
                 now=local(2026, 3, 20, 12))  # fmt: skip
    adoption.refresh_from_db()
    assert adoption.due_on == date(2026, 6, 20)
