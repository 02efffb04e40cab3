"""Open311 POSTs located by the gazetteer: address_id and address_string without lat/long."""

from __future__ import annotations

import pytest

from places.models import AddressPoint
from places.text import normalize
from reports.models import ServiceRequest
from tests.factories import api_key_create
from tests.reports.open311_support import tree_service_create

pytestmark = pytest.mark.django_db

URL = "/open311/v2/requests.json"


@pytest.fixture
def posting():
    tree_service_create()
    raw_key = api_key_create()[1]

    def post(client, **fields):
        data = {
            "api_key": raw_key,
            "service_code": "tree-down",
            "description": "A tree fell across the greenway.",
            "attribute[kind]": "tree",
            **fields,
        }
        return client.post(URL, data)

    for number, lat in (("12", 35.7801), ("14", 35.7803)):
        AddressPoint.objects.create(
            source_id=f"RVT-{number}",
            number=number,
            street="Oak Street",
            lat=lat,
            long=-78.6401,
            search_text=normalize(f"{number} Oak Street"),
        )
    return post


def test_address_id_of_an_address_point_gives_the_point(client, posting):
    assert posting(client, address_id="RVT-14").status_code == 200
    report = ServiceRequest.objects.get()
    assert (report.lat, report.long) == (35.7803, -78.6401)
    assert (report.address, report.address_id) == ("14 Oak Street", "RVT-14")


def test_address_string_the_gazetteer_knows_gives_the_point(client, posting):
    response = posting(client, address_string="12 Oak St., Riverton, NC")
    assert response.status_code == 200
    report = ServiceRequest.objects.get()
    assert (report.lat, report.long) == (35.7801, -78.6401)
    assert report.address == "12 Oak St., Riverton, NC"  # what the client sent is kept


def test_an_unknown_address_is_kept_without_a_point(client, posting):
    assert posting(client, address_string="99 Nowhere Lane").status_code == 200
    report = ServiceRequest.objects.get()
    assert report.lat is None and report.address == "99 Nowhere Lane"


def test_a_point_without_an_address_gets_the_nearest_address_of_the_city(client, posting):
    """As the web form's pin does: crews and the public list read a street."""
    assert posting(client, lat="35.78025", long="-78.64012").status_code == 200
    report = ServiceRequest.objects.get()
    assert (report.address, report.address_id) == ("14 Oak Street", "RVT-14")
    assert (report.lat, report.long) == (35.78025, -78.64012)  # the point stays the app's
    listed = client.get(f"/open311/v2/requests/{report.pk}.json").json()
    assert listed[0]["address"] == "14 Oak Street"


def test_a_point_with_an_address_or_far_from_any_keeps_what_was_sent(client, posting):
    assert posting(client, lat="35.78025", long="-78.64012", address_string="By the pond")
    assert posting(client, lat="35.79", long="-78.64").status_code == 200  # 1 km away
    assert posting(client, lat="99", long="-78.64").status_code == 400
    assert set(ServiceRequest.objects.values_list("address", "address_id")) == {
        ("By the pond", ""),
        ("", ""),
    }
