"""The volunteers' pages: map and list, an asset's page and its actions, thanks, privacy,
and "Report a problem" (the web form prefilled, Open311 address_id)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.utils import timezone

from adoptions.models import Adoption, CareLog
from adoptions.services.adoptions import adoption_end
from adoptions.services.care import care_log_add
from reports.models import OutboxMessage, ServiceRequest
from tests.adoptions.conftest import CHECKLIST, AssetFactory, volunteer_with_profile
from tests.conftest import assert_errors_described
from tests.factories import ServiceFactory, ServiceRequestFactory, api_key_create, image_upload

pytestmark = pytest.mark.django_db


def listed(response) -> str:
    """The list below the map (the map's data names every asset)."""
    return response.content.decode().split('id="list-heading"')[1]


def test_map_page_lists_assets_and_searches_without_js(client, asset_type):
    AssetFactory(asset_type=asset_type, name="Oak Ave at 5th", external_id="OAK5")
    AssetFactory(asset_type=asset_type, name="Elm St at 2nd")
    response = client.get("/adopt/")
    assert response.status_code == 200
    assert "Oak Ave at 5th" in listed(response) and "Elm St at 2nd" in listed(response)
    assert b'id="adopt-map-data"' in response.content
    found = listed(client.get("/adopt/", {"q": "oak"}))
    assert "Oak Ave at 5th" in found and "Elm St at 2nd" not in found
    assert "Oak Ave at 5th" in listed(client.get("/adopt/", {"q": "OAK5"}))


def test_map_page_finds_a_shelter_by_the_number_on_its_sign(client, asset_type):
    # "Street, name or stop number": the number alone, or a GTFS stop's stop_code (its
    # stop_id is the feed's own), found nothing.
    AssetFactory(asset_type=asset_type, name="Oak Ave at 5th", external_id="BS-3014")
    AssetFactory(
        asset_type=asset_type, name="Elm St at 2nd", external_id="8812",
        attributes={"stop_code": "1001"},
    )  # fmt: skip
    AssetFactory(asset_type=asset_type, name="Pine St at 9th", external_id="BS-7000")
    by_number = listed(client.get("/adopt/", {"q": "3014"}))
    assert "Oak Ave at 5th" in by_number and "Pine St" not in by_number
    by_code = listed(client.get("/adopt/", {"q": "1001"}))
    assert "Elm St at 2nd" in by_code and "Oak Ave" not in by_code and "Pine St" not in by_code


def test_map_page_filters_available_and_adopted(client, adoption, asset_type):
    free = AssetFactory(asset_type=asset_type, name="Free shelter")
    available = listed(client.get("/adopt/", {"show": "available"}))
    adopted = listed(client.get("/adopt/", {"show": "adopted"}))
    assert free.name in available and adoption.asset.name not in available
    assert adoption.asset.name in adopted and free.name not in adopted


def test_map_page_queries_are_bounded(client, asset_type, django_assert_max_num_queries):
    for _ in range(60):
        AssetFactory(asset_type=asset_type)
    with django_assert_max_num_queries(8):
        assert client.get("/adopt/").status_code == 200


def test_asset_page_shows_adopter_by_display_name_never_email(client, adoption, volunteer):
    care_log_add(adoption=adoption, volunteer=volunteer, day=date(2026, 3, 2),
                 tasks=[CHECKLIST[0]], note="Swept.", now=timezone.now())  # fmt: skip
    response = client.get(adoption.asset.get_absolute_url())
    text = response.content.decode()
    assert response.status_code == 200
    assert "Maya R." in text and "Swept." in text and CHECKLIST[0] in text
    assert volunteer.email not in text and volunteer.username not in text
    assert "Pick up litter." in text  # care instructions


def test_unknown_asset_is_404(client, asset_type):
    assert client.get("/adopt/bus-shelter/NOPE/").status_code == 404


def test_adopt_needs_a_login(client, asset):
    response = client.post(f"{asset.get_absolute_url()}adopt/", {"accept_terms": "on"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not Adoption.objects.exists()


def test_adopt_through_the_page(client, asset, volunteer):
    client.force_login(volunteer)
    response = client.post(f"{asset.get_absolute_url()}adopt/", {"nickname": "Corner"})
    assert response.status_code == 400 and b"accept the care terms" in response.content
    assert_errors_described(response.content.decode())
    response = client.post(
        f"{asset.get_absolute_url()}adopt/", {"accept_terms": "on", "nickname": "Corner"}
    )
    assert response.status_code == 302
    adoption = Adoption.objects.get()
    assert adoption.volunteer == volunteer and adoption.nickname == "Corner"
    page = client.get(asset.get_absolute_url()).content.decode()
    assert "Log a care visit" in page and "Release this shelter" in page


def test_adopting_a_shelter_just_adopted_says_so(client, adoption, other_volunteer, monkeypatch):
    client.force_login(other_volunteer)
    url = f"{adoption.asset.get_absolute_url()}adopt/"
    response = client.post(url, {"accept_terms": "on"})  # from a page loaded before
    assert response.status_code == 400 and b"already adopted" in response.content
    # Both at once: the database's constraint decides, and the loser is told.
    monkeypatch.setattr("adoptions.services.adoptions._check_adoptable", lambda *args: None)
    response = client.post(url, {"accept_terms": "on"})
    assert response.status_code == 400 and b"adopted this a moment ago" in response.content
    assert b"Maya R." in response.content  # who has it
    assert Adoption.objects.active().get() == adoption


def test_a_type_not_offered_shows_no_adopt_form(client, asset, volunteer):
    asset.asset_type.active = False
    asset.asset_type.save()
    client.force_login(volunteer)
    page = client.get(asset.get_absolute_url()).content.decode()
    assert "Adopt this shelter" not in page and "badge--available" not in page
    assert "not offered for adoption" in page


def test_honeypot_refuses_adopt(client, asset, volunteer):
    client.force_login(volunteer)
    response = client.post(
        f"{asset.get_absolute_url()}adopt/", {"accept_terms": "on", "website": "spam"}
    )
    assert response.status_code == 400 and not Adoption.objects.exists()


def test_log_care_with_photo_through_the_page(
    client, adoption, volunteer, django_capture_on_commit_callbacks
):
    client.force_login(volunteer)
    url = f"{adoption.asset.get_absolute_url()}care/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {
            "date": timezone.localdate().isoformat(), "tasks": [CHECKLIST[1]],
            "note": "Bench wiped.", "photo": image_upload(),
        })  # fmt: skip
    assert response.status_code == 302
    log = CareLog.objects.get()
    assert log.photo_public and log.tasks == [CHECKLIST[1]]
    page = client.get(adoption.asset.get_absolute_url()).content.decode()
    assert log.thumbnail.url in page and "Bench wiped." in page
    assert log.original.name not in page


def test_someone_else_cannot_log_care_or_release(client, adoption, other_volunteer):
    client.force_login(other_volunteer)
    base = adoption.asset.get_absolute_url()
    care = client.post(f"{base}care/", {"date": timezone.localdate().isoformat()})
    release = client.post(f"{base}release/")
    assert care.status_code == 404 and release.status_code == 404
    assert not CareLog.objects.exists() and Adoption.objects.get().is_active
    page = client.get(base).content.decode()
    assert "Log a care visit" not in page


def test_care_date_in_the_future_is_a_form_error(client, adoption, volunteer):
    client.force_login(volunteer)
    response = client.post(f"{adoption.asset.get_absolute_url()}care/", {"date": "2999-01-01"})
    assert response.status_code == 400 and b"cannot be in the future" in response.content


def test_a_visit_sent_twice_is_logged_once(client, adoption, volunteer):
    client.force_login(volunteer)
    url = f"{adoption.asset.get_absolute_url()}care/"
    visit = {"date": timezone.localdate().isoformat(), "tasks": [CHECKLIST[0]]}
    assert client.post(url, visit).status_code == 302
    again = client.post(url, visit)  # a double tap on "Log this visit"
    assert again.status_code == 400 and b"is already logged" in again.content
    assert CareLog.objects.count() == 1


def test_a_visit_sent_after_the_adoption_ended_says_why(client, adoption, volunteer):
    adoption_end(adoption=adoption, reason="lapsed")  # while the page was open
    client.force_login(volunteer)
    url = f"{adoption.asset.get_absolute_url()}care/"
    response = client.post(url, {"date": timezone.localdate().isoformat(), "note": "Swept."})
    assert response.status_code == 409 and not CareLog.objects.exists()
    page = response.content.decode()
    assert "so this care visit was not logged" in page and "lapsed" in page
    assert "Swept." in page  # given back to copy


def test_release_through_the_page(client, adoption, volunteer):
    client.force_login(volunteer)
    response = client.post(f"{adoption.asset.get_absolute_url()}release/")
    assert response.status_code == 302
    assert Adoption.objects.get().end_reason == "released"


def test_adopt_sent_twice_keeps_one_adoption_and_tells_its_adopter(client, asset, volunteer):
    client.force_login(volunteer)
    url = f"{asset.get_absolute_url()}adopt/"
    assert client.post(url, {"accept_terms": "on"}).status_code == 302
    again = client.post(url, {"accept_terms": "on"}, follow=True)  # a double tap on "Adopt"
    page = again.content.decode()
    assert again.status_code == 200 and f"You look after {asset.name}." in page
    assert "already adopted" not in page and "Choose another" not in page
    assert Adoption.objects.get().volunteer == volunteer
    assert OutboxMessage.objects.filter(kind="adoption-adopted").count() == 1


def test_release_sent_twice_says_it_is_released_not_not_found(client, adoption, volunteer):
    client.force_login(volunteer)
    url = f"{adoption.asset.get_absolute_url()}release/"
    assert client.post(url).status_code == 302
    again = client.post(url, follow=True)  # a double tap on "Release this shelter"
    assert again.status_code == 200  # was a 404, as if the shelter did not exist
    assert f"You no longer look after {adoption.asset.name}." in again.content.decode()
    assert Adoption.objects.get().end_reason == "released"


def test_release_of_an_adoption_ended_meanwhile_says_so(client, adoption, volunteer, monkeypatch):
    client.force_login(volunteer)
    # Ended between the view's read and the service's lock (the reminder job's lapse).
    real = adoption_end

    def lapse_first(**kwargs):
        real(adoption=kwargs["adoption"], reason="lapsed")
        return real(**kwargs)

    monkeypatch.setattr("adoptions.services.adoptions.adoption_end", lapse_first)
    response = client.post(f"{adoption.asset.get_absolute_url()}release/", follow=True)
    assert response.status_code == 200  # was a 500
    assert "You no longer look after" in response.content.decode()
    assert Adoption.objects.get().end_reason == "lapsed"


def test_adopters_page_has_unique_ids_and_the_release_honeypot_still_works(
    client, adoption, volunteer
):
    # The care and release forms each carry a honeypot: both were id="id_website", so the
    # release form's label named the care form's field (WCAG 4.1.1, 1.3.1).
    client.force_login(volunteer)
    page = client.get(adoption.asset.get_absolute_url()).content.decode()
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert "Release this shelter" in page and len(ids) == len(set(ids))
    url = f"{adoption.asset.get_absolute_url()}release/"
    assert client.post(url, {"release-website": "http://spam"}).status_code == 400
    assert Adoption.objects.get().is_active


def test_actions_are_rate_limited(client, settings, asset, volunteer):
    settings.RATELIMIT_ADOPTION_FORM = "2/hour"
    client.force_login(volunteer)
    url = f"{asset.get_absolute_url()}adopt/"
    codes = [client.post(url, {}).status_code for _ in range(3)]
    assert codes == [400, 400, 429]


def test_thanks_page_respects_the_leaderboard_opt_out(client, adoption, volunteer, asset_type):
    shy = volunteer_with_profile("shy", "Shy Person")
    shy.profile.show_on_leaderboard = False
    shy.profile.save()
    from adoptions.services.adoptions import adoption_start

    theirs = adoption_start(asset=AssetFactory(asset_type=asset_type), volunteer=shy,
                            accept_terms=True, now=adoption.started)  # fmt: skip
    today = timezone.localdate()
    for who, own in ((volunteer, adoption), (shy, theirs)):
        care_log_add(adoption=own, volunteer=who, day=today, now=timezone.now())
    text = client.get("/adopt/thanks/").content.decode()
    assert "Maya R." in text and "Shy Person" not in text
    assert volunteer.email not in text
    # The shelters cared for this month are on the map and, for everyone, in a list.
    cared = text.split('class="map-text"')[1]
    assert adoption.asset.get_absolute_url() in cared and theirs.asset.name in cared


def test_report_a_problem_link_prefills_the_report_form(client, asset_type, asset):
    service = ServiceFactory(service_code="bus-shelter", name="Bus shelter damaged")
    asset_type.service = service
    asset_type.save()
    page = client.get(asset.get_absolute_url()).content.decode()
    assert f"address_id={asset.external_id}" in page
    form = client.get(
        "/reports/new/",
        {"lat": asset.lat, "long": asset.long, "service": service.pk,
         "address_id": asset.external_id},
    ).content.decode()  # fmt: skip
    assert f'value="{asset.external_id}"' in form and asset.name in form
    assert f'<option value="{service.pk}" selected>' in form


def test_web_report_about_an_asset_links_both_ways(client, settings, asset_type, asset):
    settings.REPORT_PREVIEW_MINUTES = 0  # public at once
    service = ServiceFactory(name="Bus shelter damaged")
    response = client.post("/reports/new/", {
        "service": service.pk, "lat": asset.lat, "long": asset.long,
        "address_id": asset.external_id, "description": "The glass panel is smashed.",
    })  # fmt: skip
    assert response.status_code == 302
    report = ServiceRequest.objects.get()
    assert report.address_id == asset.external_id
    assert asset.get_absolute_url() in client.get(report.get_absolute_url()).content.decode()
    assert f"#{report.pk}" in client.get(asset.get_absolute_url()).content.decode()


def test_asset_page_sign_in_link_comes_back_to_the_shelter(client, asset):
    # The site menu's own sign-in link must not replace the page's (which has ?next=).
    text = client.get(asset.get_absolute_url()).content.decode()
    assert f'href="/accounts/login/?next={asset.get_absolute_url().replace("/", "%2F")}"' in text


def test_asset_page_lists_only_open_public_reports(client, asset):
    open_one = ServiceRequestFactory(address_id=asset.external_id)
    closed = ServiceRequestFactory(address_id=asset.external_id, state="fixed")
    hidden = ServiceRequestFactory(address_id=asset.external_id, hidden=True)
    text = client.get(asset.get_absolute_url()).content.decode()
    assert f"#{open_one.pk}<" in text
    assert f"#{closed.pk}<" not in text and f"#{hidden.pk}<" not in text


def test_open311_post_with_an_asset_address_id_takes_its_place(client, asset):
    ServiceFactory(service_code="shelter")
    _, raw = api_key_create()
    far = AssetFactory(asset_type=asset.asset_type, lat=35.80, long=-78.60, address="9 Far Rd")
    response = client.post("/open311/v2/requests.json", {
        "api_key": raw, "service_code": "shelter", "address_id": far.external_id,
        "description": "Roof leaking onto the bench.",
    })  # fmt: skip
    assert response.status_code == 200, response.content
    report = ServiceRequest.objects.get()
    assert (report.lat, report.long, report.address) == (35.80, -78.60, "9 Far Rd")
    answer = client.get(f"/open311/v2/requests/{report.pk}.json").json()[0]
    assert answer["address_id"] == far.external_id and answer["lat"] == 35.80


def test_open311_unknown_address_id_is_kept_without_a_point(client, asset):
    ServiceFactory(service_code="shelter")
    _, raw = api_key_create()
    response = client.post("/open311/v2/requests.json", {
        "api_key": raw, "service_code": "shelter", "address_id": "NOT-AN-ASSET",
        "description": "Something is wrong here.",
    })  # fmt: skip
    assert response.status_code == 200
    report = ServiceRequest.objects.get()
    assert report.lat is None and report.address_id == "NOT-AN-ASSET"


def test_my_account_lists_my_adoptions(client, adoption, volunteer, other_volunteer):
    client.force_login(volunteer)
    assert adoption.asset.name in client.get("/account/").content.decode()
    client.force_login(other_volunteer)
    assert adoption.asset.name not in client.get("/account/").content.decode()


def test_a_task_taken_off_the_checklist_while_the_form_was_open_does_not_lose_the_visit(
    client, adoption, volunteer
):
    asset_type = adoption.asset.asset_type
    gone = asset_type.checklist[0]
    asset_type.checklist = asset_type.checklist[1:]  # staff edit it while the page is open
    asset_type.save()
    client.force_login(volunteer)
    url = f"{adoption.asset.get_absolute_url()}care/"
    response = client.post(url, {
        "date": timezone.localdate().isoformat(), "tasks": [gone, asset_type.checklist[0]],
        "note": "Swept.",
    }, follow=True)  # fmt: skip
    assert response.status_code == 200
    log = CareLog.objects.get()
    assert log.tasks == [asset_type.checklist[0]] and log.note == "Swept."
    page = response.content.decode()
    assert "Care visit logged" in page and f"{gone}” left the checklist" in page


def test_the_tasks_said_to_have_left_the_checklist_are_named_once_and_briefly(
    client, adoption, volunteer
):
    """The names come from the POST, not from the city: a task sent twice is named once,
    a very long one is cut short, markup is shown as text, and two take "were"."""
    client.force_login(volunteer)
    url = f"{adoption.asset.get_absolute_url()}care/"
    long_name = "<b>Scrubbed</b> " + "x" * 100_000
    response = client.post(url, {
        "date": timezone.localdate().isoformat(),
        "tasks": ["Old task", "Old task", long_name, "  "],
    }, follow=True)  # fmt: skip
    assert response.status_code == 200
    assert CareLog.objects.get().tasks == []
    page = response.content.decode()
    assert page.count("“Old task”") == 1
    assert "&lt;b&gt;Scrubbed&lt;/b&gt;" in page and "<b>Scrubbed" not in page
    assert "x" * 200 not in page and len(page) < 50_000
    assert "left the checklist while you were logging them and were not recorded" in page
