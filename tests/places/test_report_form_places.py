"""The report form with the gazetteer, without JavaScript: find, choose, see what is near,
send; and the pin's address stored on the report."""

from __future__ import annotations

import pytest
from django.urls import reverse

from places.importer import rebuild_streets
from places.models import AddressPoint
from places.text import normalize
from reports.models import ServiceRequest
from tests.factories import ServiceFactory, ServiceRequestFactory, image_upload
from tests.reports.html_support import by_id, find_all, parse

pytestmark = pytest.mark.django_db

NEW_URL = reverse("reports:new")


@pytest.fixture
def oak_street():
    for number, lat in (("12", 35.78000), ("14", 35.78030)):
        AddressPoint.objects.create(
            source_id=f"RVT-{number}",
            number=number,
            street="Oak Street",
            lat=lat,
            long=-78.64,
            search_text=normalize(f"{number} Oak Street"),
        )
    rebuild_streets()


def test_find_lists_places_as_choices_and_keeps_what_was_typed(client, oak_street):
    service = ServiceFactory()
    data = {
        "service": service.pk,
        "description": "Hole in the road.",
        "place_query": "12 oak st",
        "find_place": "1",
        "photos": [image_upload("hole.jpg")],
    }
    response = client.post(NEW_URL, data)
    assert response.status_code == 200
    page = parse(response.content.decode())
    radios = find_all(page, "input", name="place", type="radio")
    assert radios[0].attrs["value"].endswith("|RVT-12|12 Oak Street")
    assert "checked" in radios[0].attrs
    assert by_id(page, "error-summary") is None  # a search is not a failed report
    assert "Hole in the road." in response.content.decode()
    assert len(find_all(page, "input", name="kept_photos")) == 1  # the photo is kept
    assert ServiceRequest.objects.count() == 0


def test_use_this_place_sets_the_point_and_shows_whats_reported_nearby(client, oak_street):
    service = ServiceFactory()
    existing = ServiceRequestFactory(service=service, lat=35.78005, long=-78.64)
    value = "35.78|-78.64|RVT-12|12 Oak Street"
    data = {"service": service.pk, "place": value, "use_place": "1"}
    page = parse(client.post(NEW_URL, data).content.decode())
    assert by_id(page, "id_lat").attrs["value"] == "35.78"
    assert by_id(page, "id_address").attrs["value"] == "12 Oak Street"
    nearby = by_id(page, "nearby")
    assert "hidden" not in nearby.attrs
    links = [a.attrs["href"] for a in find_all(nearby, "a")]
    assert links == [f"{existing.get_absolute_url()}#support"]


def test_sending_with_a_chosen_place_locates_the_report(client, oak_street):
    service = ServiceFactory()
    data = {
        "service": service.pk,
        "description": "Hole in the road.",
        "place": "35.7803|-78.64|RVT-14|14 Oak Street",
    }
    assert client.post(NEW_URL, data).status_code == 302
    report = ServiceRequest.objects.get()
    assert (report.lat, report.long) == (35.7803, -78.64)
    assert (report.address, report.address_id) == ("14 Oak Street", "RVT-14")


def test_a_forged_place_is_an_error_next_to_the_search(client):
    service = ServiceFactory()
    data = {"service": service.pk, "description": "Hole in the road.", "place": "north|x"}
    response = client.post(NEW_URL, data)
    assert response.status_code == 400
    assert "Choose one of the places found" in " ".join(
        response.context["form"].errors["place_query"]
    )


def test_the_pins_address_is_stored_when_none_was_typed(client, oak_street):
    service = ServiceFactory()
    data = {
        "service": service.pk,
        "description": "Hole in the road.",
        "lat": "35.78028",
        "long": "-78.64001",
    }
    assert client.post(NEW_URL, data).status_code == 302
    report = ServiceRequest.objects.get()
    assert (report.address, report.address_id) == ("14 Oak Street", "RVT-14")


def test_a_typed_address_is_kept(client, oak_street):
    service = ServiceFactory()
    data = {
        "service": service.pk,
        "description": "Hole in the road.",
        "lat": "35.78028",
        "long": "-78.64001",
        "address": "Behind the library",
    }
    assert client.post(NEW_URL, data).status_code == 302
    assert ServiceRequest.objects.get().address == "Behind the library"


def test_no_place_found_says_so(client, oak_street):
    data = {"service": ServiceFactory().pk, "place_query": "Maple", "find_place": "1"}
    assert "No place found for “Maple”" in client.post(NEW_URL, data).content.decode()
