"""A neighbourhood's address (/areas/<slug>/): every neighbourhood has its own, whatever its
name (Latin letters, another script, only digits), and the addresses of old still lead to
the right page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from departments.querysets import area_slug
from tests.factories import BoundaryFactory, ServiceRequestFactory, square

pytestmark = pytest.mark.django_db

LIST_URL = reverse("reports:list")


def _page(client, area):
    response = client.get(reverse("reports:area", args=[area_slug(area)]))
    assert response.status_code == 200
    assert response.context["area"] == area
    return response.content.decode()


def test_a_name_of_digits_and_an_area_with_that_id_have_distinct_addresses(client):
    # Before: the area with no Latin letters was /areas/12/, and so was the neighbourhood
    # named "12"; one of the two pages could not be reached.
    north = BoundaryFactory(pk=12, name="北区", geometry=square(35.77, -78.65, 35.78, -78.64))
    twelve = BoundaryFactory(name="12", geometry=square(35.78, -78.64, 35.79, -78.63))
    ServiceRequestFactory(area=north, lat=35.775, long=-78.645, description="Open in the north")
    ServiceRequestFactory(area=twelve, lat=35.785, long=-78.635, description="Open in twelve")

    addresses = {area_slug(north), area_slug(twelve)}
    assert len(addresses) == 2
    assert not any(address.isdigit() for address in addresses)  # never mistaken for an id

    html = _page(client, north)
    assert "<h1>北区</h1>" in html and "Open in the north" in html
    assert "Open in twelve" not in html
    html = _page(client, twelve)
    assert "<h1>12</h1>" in html and "Open in twelve" in html
    assert "Open in the north" not in html

    index = client.get(reverse("reports:areas")).content.decode()
    for area in (north, twelve):
        assert f'href="{reverse("reports:area", args=[area_slug(area)])}"' in index
        listed = client.get(LIST_URL, {"area": area_slug(area)})
        assert listed.status_code == 200 and not listed.context["form"].errors


def test_old_numeric_address_redirects_permanently(client):
    north = BoundaryFactory(name="北区")
    response = client.get(f"/areas/{north.pk}/")
    assert response.status_code == 301
    assert response["Location"] == reverse("reports:area", args=[f"area-{north.pk}"])
    assert client.get(response["Location"]).status_code == 200


def test_old_address_of_a_name_of_digits_redirects_to_it(client):
    seven = BoundaryFactory(name="7")
    response = client.get("/areas/7/")
    assert response.status_code == 301
    assert response["Location"] == reverse("reports:area", args=[area_slug(seven)])


def test_a_name_that_looks_like_the_id_form_cannot_take_another_areas_address(client):
    north = BoundaryFactory(name="北区")
    lookalike = BoundaryFactory(name=f"Area {north.pk}")
    assert area_slug(north) == f"area-{north.pk}"
    assert area_slug(lookalike) == f"area-{lookalike.pk}"
    assert "<h1>北区</h1>" in _page(client, north)
    assert f"<h1>Area {north.pk}</h1>" in _page(client, lookalike)


def test_an_id_form_address_of_a_renamed_area_redirects_to_its_name(client):
    area = BoundaryFactory(name="北区")
    area.name = "Northside"
    area.save()
    response = client.get(f"/areas/area-{area.pk}/")
    assert response.status_code == 301
    assert response["Location"] == "/areas/northside/"


def test_unknown_id_form_address_is_404(client):
    BoundaryFactory(name="Downtown", kind="district")
    district = BoundaryFactory(name="南区", kind="district")  # a district has no page
    assert client.get(f"/areas/area-{district.pk}/").status_code == 404
    assert client.get("/areas/area-99999/").status_code == 404
    assert client.get("/areas/99999/").status_code == 404


def test_list_filtered_by_an_old_address_shows_that_neighbourhoods_reports(client):
    north = BoundaryFactory(name="北区", geometry=square(35.77, -78.65, 35.78, -78.64))
    inside = ServiceRequestFactory(area=north, lat=35.775, long=-78.645)
    ServiceRequestFactory(lat=35.85, long=-78.55)
    response = client.get(LIST_URL, {"area": str(north.pk), "status": "open"})
    assert response.status_code == 200
    assert not response.context["form"].errors
    assert [r.pk for r in response.context["page"].reports] == [inside.pk]
