"""POST requests.{fmt} with an Idempotency-Key: a retry answers the report the first
sending made; the same key with another request, a bad key, or another app's key do not."""

from __future__ import annotations

import pytest

from reports.api import views
from reports.models import Photo, RequestToken, ServiceRequest, Submission
from tests.factories import api_key_create, image_upload
from tests.reports.open311_support import assert_matches, errors_of, json_of, xml_of
from tests.reports.test_open311_post import URL, form

pytestmark = pytest.mark.django_db


@pytest.fixture
def raw_key() -> str:
    return api_key_create()[1]


@pytest.fixture(autouse=True)
def tree_service():
    from tests.reports.open311_support import tree_service_create

    return tree_service_create()


def post(client, data, key: str | None, fmt: str = "json"):
    headers = {} if key is None else {"Idempotency-Key": key}
    return client.post(f"{URL}.{fmt}", data, headers=headers)


def test_a_retry_with_the_same_key_answers_the_first_report_and_files_nothing(client, raw_key):
    first = post(client, form(raw_key), '"retry-7f3a"')
    again = post(client, form(raw_key), '"retry-7f3a"')

    report = ServiceRequest.objects.get()
    assert first.status_code == again.status_code == 200
    answer = [{"service_request_id": str(report.pk), "service_notice": ""}]
    assert json_of(first) == json_of(again) == answer
    assert_matches("posted", json_of(again))
    assert "Idempotent-Replayed" not in first
    assert again["Idempotent-Replayed"] == "true"
    # The same answer in XML, the key given bare (not quoted) this time.
    xml = post(client, form(raw_key), "retry-7f3a", fmt="xml")
    assert xml_of(xml).findtext("request/service_request_id") == str(report.pk)
    assert ServiceRequest.objects.count() == 1


def test_new_keys_and_no_key_file_new_reports(client, raw_key):
    post(client, form(raw_key), "one")
    post(client, form(raw_key), "two")
    post(client, form(raw_key), None)
    post(client, form(raw_key), None)
    assert ServiceRequest.objects.count() == 4
    assert Submission.objects.count() == 2


def test_keys_belong_to_their_api_key(client, raw_key):
    other_key = api_key_create(name="Another app")[1]
    post(client, form(raw_key), "shared-name")
    answer = post(client, form(other_key), "shared-name")
    assert answer.status_code == 200 and "Idempotent-Replayed" not in answer
    assert ServiceRequest.objects.count() == 2
    assert set(ServiceRequest.objects.values_list("api_key__name", flat=True)) == {
        "Another app",
        ServiceRequest.objects.order_by("pk").first().api_key.name,
    }


def test_the_same_key_with_another_request_is_a_422_and_files_nothing(client, raw_key):
    post(client, form(raw_key), "k-1")
    report = ServiceRequest.objects.get()

    answer = post(client, form(raw_key, description="Another tree, elsewhere."), "k-1")

    assert answer.status_code == 422
    [error] = errors_of(answer)
    assert error["code"] == 422
    assert "Idempotency-Key was sent before with another request" in error["description"]
    assert str(report.pk) in error["description"]
    assert ServiceRequest.objects.count() == 1
    # Fields in another order, or the api_key given as a header instead, are the same request.
    reordered = dict(reversed(list(form(raw_key).items())))
    reordered.pop("api_key")
    same = client.post(
        f"{URL}.json", reordered, headers={"Idempotency-Key": "k-1", "X-Api-Key": raw_key}
    )
    assert same.status_code == 200 and same["Idempotent-Replayed"] == "true"


def test_a_photo_is_part_of_the_request(client, raw_key):
    first = post(client, {**form(raw_key), "media": image_upload("a.jpg")}, "with-photo")
    again = post(client, {**form(raw_key), "media": image_upload("a.jpg")}, "with-photo")
    other = post(client, {**form(raw_key), "media": image_upload("b.png", fmt="PNG")}, "with-photo")
    assert first.status_code == again.status_code == 200
    assert json_of(again) == json_of(first)
    assert other.status_code == 422
    assert ServiceRequest.objects.count() == 1 and Photo.objects.count() == 1


@pytest.mark.parametrize("key", ['""', "   ", "x" * 256, "naïve", "tab\there"])
def test_a_bad_key_is_a_400_and_files_nothing(client, raw_key, key):
    answer = post(client, form(raw_key), key)
    assert answer.status_code == 400
    assert errors_of(answer)[0]["description"] == (
        "Idempotency-Key must be 1 to 255 visible ASCII characters."
    )
    assert not ServiceRequest.objects.exists() and not Submission.objects.exists()


def test_a_request_that_failed_is_tried_again_with_its_key(client, raw_key):
    failed = post(client, form(raw_key, lat="north"), "after-a-fix")
    assert failed.status_code == 400 and not Submission.objects.exists()
    fixed = post(client, form(raw_key), "after-a-fix")
    assert fixed.status_code == 200 and "Idempotent-Replayed" not in fixed
    assert ServiceRequest.objects.count() == 1


def test_a_batch_service_replays_its_token(client, raw_key, tree_service):
    tree_service.type = "batch"
    tree_service.save()
    first = post(client, form(raw_key), "batch-1")
    again = post(client, form(raw_key), "batch-1")
    token = RequestToken.objects.get()
    assert json_of(first) == json_of(again) == [{"token": str(token.token), "service_notice": ""}]


def test_two_sendings_at_once_make_one_report(client, raw_key, monkeypatch):
    """The other sending commits between this one's look for the key and its insert: the
    unique token refuses this one's report, and it answers with the other's."""
    create = views.report_create_via_api

    def other_sending_first(**kwargs):
        monkeypatch.setattr(views, "report_create_via_api", create)
        create(**kwargs)  # the other sending, with the same key and request
        return create(**kwargs)

    monkeypatch.setattr(views, "report_create_via_api", other_sending_first)
    answer = post(client, form(raw_key), "at-once")

    report = ServiceRequest.objects.get()
    assert answer.status_code == 200 and answer["Idempotent-Replayed"] == "true"
    assert json_of(answer) == [{"service_request_id": str(report.pk), "service_notice": ""}]
