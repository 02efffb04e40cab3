from __future__ import annotations

import math

import pytest

from civic311.geo import EARTH_RADIUS
from places.importer import rebuild_streets
from places.models import AddressPoint
from places.search import nearest_address, search
from places.text import normalize

pytestmark = pytest.mark.django_db


def point(source_id, number, street, lat, long):
    return AddressPoint.objects.create(
        source_id=source_id,
        number=number,
        street=street,
        lat=lat,
        long=long,
        search_text=normalize(f"{number} {street}"),
    )


@pytest.fixture
def gazetteer():
    point("p1", "12", "Oak Street", 35.7800, -78.6400)
    point("p2", "14", "Oak Street", 35.7802, -78.6400)
    point("p3", "12", "Oakwood Avenue", 35.7900, -78.6300)
    point("p4", "120", "Elm Street", 35.7700, -78.6500)
    point("p5", "7", "Park Road", 35.7750, -78.6450)
    rebuild_streets()


def labels(results):
    return [p.label for p in results]


def test_normalize_spells_out_abbreviations():
    assert normalize("12 Oak St.") == "12 oak street"
    assert normalize("N. Person Ave") == "north person avenue"


def test_a_number_and_street_finds_that_address_first(gazetteer):
    results = search("12 oak st")
    assert labels(results)[0] == "12 Oak Street"
    assert results[0].address_id == "p1" and results[0].kind == "address"
    assert "14 Oak Street" not in labels(results)  # another number


def test_a_street_name_finds_streets_first(gazetteer):
    results = search("oak")
    assert results[0].kind == "street"
    assert labels(results)[:2] == ["Oak Street", "Oakwood Avenue"]
    assert "Elm Street" not in labels(results)


def test_nothing_found_and_nothing_asked_outside(gazetteer, settings):
    settings.GEOCODER_URL = ""
    assert search("maple") == []
    assert search("   ") == []


def test_reverse_finds_the_nearest_address_within_the_limit(gazetteer, settings):
    settings.PLACES_REVERSE_MAX_METRES = 100
    near_14 = nearest_address(35.78019, -78.64003)
    assert near_14 is not None and near_14.label == "14 Oak Street"
    assert nearest_address(35.7600, -78.6000) is None  # far from every address


def test_reverse_reaches_the_limit_due_north(settings):
    """An address 99.9 m due north of the point is within a 100 m limit (the candidates'
    box holds the whole circle), and one 100.1 m away is not."""
    settings.PLACES_REVERSE_MAX_METRES = 100
    point("n1", "3", "North Street", 35.78 + math.degrees(99.9 / EARTH_RADIUS), -78.64)
    near = nearest_address(35.78, -78.64, external=False)
    assert near is not None and near.label == "3 North Street"
    AddressPoint.objects.all().delete()
    point("n2", "5", "North Street", 35.78 + math.degrees(100.1 / EARTH_RADIUS), -78.64)
    assert nearest_address(35.78, -78.64, external=False) is None


def test_search_and_reverse_endpoints(client, gazetteer):
    answer = client.get("/places/search/", {"q": "12 Oak St"}).json()
    assert answer["results"][0]["label"] == "12 Oak Street"
    assert answer["results"][0]["lat"] == 35.78
    assert client.get("/places/search/", {"q": "o"}).json() == {"results": []}
    place = client.get("/places/reverse/", {"lat": "35.7800", "long": "-78.6400"}).json()
    assert place["place"]["label"] == "12 Oak Street"
    assert client.get("/places/reverse/", {"lat": "x", "long": "1"}).status_code == 400
    outside = client.get("/places/reverse/", {"lat": "10", "long": "10"}).json()
    assert outside == {"place": None}


def test_lookups_are_rate_limited_per_client(client, settings):
    settings.RATELIMIT_PLACES = "2/hour"
    codes = [client.get("/places/search/", {"q": "oak"}).status_code for _ in range(2)]
    codes.append(client.get("/places/reverse/", {"lat": "35.78", "long": "-78.64"}).status_code)
    assert codes == [200, 200, 429]
